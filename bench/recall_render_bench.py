"""Recall report render time and memory for one lot of a benchmark database.

    uv run --frozen python bench/recall_render_bench.py \
        sqlite:///bench/data/10000000/lineage.sqlite 08719320000035 L0-00000300

The database it needs (bench/data/ is git-ignored), built in one command (at 10M edges about an
hour on 2 shared vCPUs — synthesis 2 min, lineage and quality tables 16 min, SQLite writes 33 min
plus 9 min for the receipt, consumption and shipment records; 16.4 GB peak; 17.3 GB database):

    nice -n 10 uv run --frozen python bench/lineage_bench.py --sizes 10000000 --build-only

That writes `bench/data/10000000/lineage.sqlite` with the lineage tables (lot, edge, closure,
serial, shipment, receipt, on hand), the quality tables (lot_mass_balance, trace_exception,
lot_completeness, lot_status), a snapshot row and every record table the report, its audit
extract and the FSMA 204 export read (products, locations, receipts, production, consumption,
shipments, status; moves and packing empty in the synthetic data; no rejected rows). The most
connected lots (gtin and lot code) are in `bench/results/10000000-build.json` under
`most_connected`. Other sizes the same way (`--sizes 100000`: under a minute). A database built
before the record tables were written gets them with
`--records-only receipts consumption moves shipments packing`.

Prints one JSON line (seconds, peak RSS, pages, embedded files and their sizes) for
bench/RESULTS.md. A hub's EPCIS attachment is built by a second process while this one builds
the rest (`lotline.gs1.epcis_export.start_written_for_lot`): its CPU seconds and peak RSS are
given apart (`…_epcis_process`), as are this process's CPU seconds.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import pypdf

from lotline import api
from reports.recall import render_recall_report


def main(database_url: str, gtin: str, lot: str) -> None:
    engine = api.connect(database_url)
    out = Path(tempfile.mkdtemp(prefix="lotline-render-"))
    start, cpu = time.perf_counter(), time.process_time()
    path = render_recall_report(engine, gtin, lot, out, direction="both")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    itself, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )  # the children: the EPCIS process, waited for
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "cpu_seconds_epcis_process": children.ru_utime + children.ru_stime,
                "peak_rss_mb": itself.ru_maxrss / 1024,
                "peak_rss_mb_epcis_process": children.ru_maxrss / 1024,
                **pdf_facts(path),
                "pdf": str(path),
            }
        )
    )


def pdf_facts(path: Path) -> dict[str, object]:
    """Pages, file size and each embedded file's size as its file specification records it
    (`/Params /Size`): decoding them would hit pypdf's decompression limit on a hub lot."""
    reader = pypdf.PdfReader(path)
    sizes = {}
    for spec in reader.trailer["/Root"].get("/AF", []):
        spec = spec.get_object()
        stream = spec["/EF"]["/F"].get_object()
        sizes[str(spec["/F"])] = int(stream["/Params"]["/Size"])
    return {"pages": len(reader.pages), "attachments": sizes, "pdf_bytes": path.stat().st_size}


if __name__ == "__main__":
    main(*sys.argv[1:4])
