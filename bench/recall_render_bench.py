"""Recall report render time and memory for one lot of a benchmark database.

    uv run --frozen python bench/recall_render_bench.py \
        sqlite:///bench/data/10000000/lineage.sqlite 08719320000035 L0-00000300

Run after `lineage_bench.py` has built the database; prints one JSON line (seconds, peak RSS,
pages, embedded files and their sizes) for bench/RESULTS.md.
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
    start = time.perf_counter()
    path = render_recall_report(engine, gtin, lot, out, direction="both")
    seconds = time.perf_counter() - start
    reader = pypdf.PdfReader(path)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "pages": len(reader.pages),
                "attachments": {name: len(data[0]) for name, data in reader.attachments.items()},
                "pdf_bytes": path.stat().st_size,
                "pdf": str(path),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
