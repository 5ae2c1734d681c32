"""EPCIS export of one lot's trace (the document a recall report embeds), step by step.

    uv run --frozen python bench/epcis_export_bench.py \
        sqlite:///bench/data/1000000/lineage.sqlite 08719320000226 L0-00001632 \
        [--reference] [--adbc]

Prints one JSON line: wall and CPU seconds of `epcis_export.for_traces` and of its steps
(selection, events, event hashes, master data), of `serialise`, the document's size and the
sha-256 of its bytes. `--reference` turns the native event hashes off (`event_prehash`), so
every hash comes from GS1's reference implementation as before issue 13: the bytes must be equal.
`--adbc` reads SQLite through ADBC, as the second process of a recall report does
(`epcis_export.start_written`): the bytes must be equal too.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
import time
from typing import Any

from lotline import api
from lotline.gs1 import epcis_export, event_hash, event_prehash

STEPS = ("select_trace", "read_master", "events", "master_data")


def timed(owner: Any, name: str, into: dict[str, list[float]]) -> None:
    """Wrap `owner.name` to add its wall and CPU seconds to `into[name]`."""
    fn = getattr(owner, name)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent = into.setdefault(name, [0.0, 0.0])
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu

    setattr(owner, name, wrapper)


def main(database_url: str, gtin: str, lot: str, reference: bool, adbc: bool = False) -> None:
    if adbc:
        from lotline import arrow_reads

        arrow_reads.enable()  # this process only reads
    if reference:
        event_prehash.hashes = lambda events, context: None  # type: ignore[assignment]
    steps: dict[str, list[float]] = {}
    for name in STEPS:
        timed(epcis_export, name, steps)
    timed(event_hash, "with_event_ids", steps)
    epcis_export.with_event_ids = event_hash.with_event_ids  # the wrapped one
    engine = api.connect(database_url)
    traced = api.trace_lot(engine, gtin, lot, "both")
    wall, cpu = time.perf_counter(), time.process_time()
    doc = epcis_export.for_traces(engine, [traced])
    export = [time.perf_counter() - wall, time.process_time() - cpu]
    wall, cpu = time.perf_counter(), time.process_time()
    data = epcis_export.serialise(doc)
    serialise = [time.perf_counter() - wall, time.process_time() - cpu]
    print(
        json.dumps(
            {
                "hashes": "reference" if reference else "native",
                "reads": "adbc" if adbc else "sqlite3",
                "events": len(doc["epcisBody"]["eventList"]),
                "for_traces_wall_cpu": [round(s, 1) for s in export],
                "steps_wall_cpu": {k: [round(s, 1) for s in v] for k, v in steps.items()},
                "serialise_wall_cpu": [round(s, 1) for s in serialise],
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a not in ("--reference", "--adbc")]
    main(*args[:3], reference="--reference" in sys.argv, adbc="--adbc" in sys.argv)
