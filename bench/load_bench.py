"""Validated load throughput (issue 13): a full load of the synthetic drop, then a 2 % delta.

The drop of `bench/synth.py` (`--edges`, default 1M: ~2.08M rows) is split by event time: the
*base* holds everything up to the 98th percentile instant, the *delta* — a second drop, "a day
later" — the rest, plus a few corrections of base records (a changed quantity of a stored
shipment line, with a `correction_reason`) and a few late-arriving records dated inside the base
period. Consumption rows follow their production's time, so every reference stays valid (a delta
row may name base lots and productions).

Each backend gets a new database; base then delta are loaded by `lotline.intake.ingest.load_folder`
(the path `lotline ingest` takes), each in a fresh child interpreter (never a fork after Polars is
imported), timing the load, its stages (the `progress` callback) and the child's peak RSS.

    uv run --frozen python bench/load_bench.py                      # SQLite, 1M edges
    uv run --frozen python bench/load_bench.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    uv run --frozen python bench/load_bench.py --edges 100000 --sqlite --postgres URL

Writes `bench/results/load-<edges>.json` and prints a markdown table. `--profile` also writes a
cProfile of each child (`bench/results/load-<edges>-<backend>-<part>.prof`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

EVENT_TIME = {
    "receipts": "received_at",
    "production": "completed_at",
    "shipments": "shipped_at",
    "status": "at",
}
"""The instant of each event record type; consumption takes its production's."""
DELTA_SHARE = 0.02
CORRECTIONS = 12
LATE_RECORDS = 20


# --- the drops ----------------------------------------------------------------------------------


def _instant(column: str) -> pl.Expr:
    return pl.col(column).str.to_datetime("%Y-%m-%dT%H:%M:%S%z", time_unit="us")


def split(records: dict[str, pl.DataFrame]) -> tuple[dict, dict, dict]:
    """(base, delta, facts): the records up to the 98th percentile instant, and the rest with
    corrections and late arrivals."""
    instants = pl.concat(
        [records[n].select(_instant(c).alias("t")) for n, c in EVENT_TIME.items()]
    )["t"]
    cutoff = instants.quantile(1 - DELTA_SHARE, interpolation="lower")
    timed = {n: records[n].with_columns(_instant(c).alias("_t")) for n, c in EVENT_TIME.items()}
    production_time = timed["production"].group_by("production_id").agg(pl.col("_t").min())
    timed["consumption"] = records["consumption"].join(
        production_time, on="production_id", how="left", maintain_order="left"
    )
    base = {n: records[n] for n in ("products", "locations")}
    delta: dict[str, pl.DataFrame] = {}
    for name, frame in timed.items():
        late = pl.col("_t") > cutoff
        base[name] = frame.filter(~late)
        delta[name] = frame.filter(late)
    # late arrivals: lot-quantity shipment lines dated inside the base period, sent only now
    lot_lines = base["shipments"].filter(pl.col("serial").is_null() & pl.col("sscc").is_null())
    late_keys = lot_lines.select("shipment_id").unique(maintain_order=True).tail(LATE_RECORDS)
    late_rows = base["shipments"].join(late_keys, on="shipment_id", how="semi")
    base["shipments"] = base["shipments"].join(late_keys, on="shipment_id", how="anti")
    # corrections: stored shipment lines re-sent with another quantity and a reason
    corrected = (
        base["shipments"]
        .filter(pl.col("serial").is_null() & pl.col("sscc").is_null())
        .head(CORRECTIONS)
        .with_columns(
            (pl.col("quantity").cast(pl.Float64) * 0.5).round(3).cast(pl.String).alias("quantity"),
            pl.lit("quantity keyed twice by mistake").alias("correction_reason"),
        )
    )
    delta["shipments"] = pl.concat(
        [delta["shipments"], late_rows, corrected], how="diagonal_relaxed"
    )
    base = {n: f.drop("_t", strict=False) for n, f in base.items()}
    delta = {n: f.drop("_t", strict=False) for n, f in delta.items() if not f.is_empty()}
    facts = {
        "cutoff": str(cutoff),
        "corrections": corrected.height,
        "late_records": late_rows.height,
        "base_rows": sum(f.height for f in base.values()),
        "delta_rows": sum(f.height for f in delta.values()),
    }
    return base, delta, facts


def build_drops(edges: int, data: Path) -> dict:
    """bench/data/load-<edges>/{base,delta}/ (kept between runs)."""
    import synth

    root = data / f"load-{edges}"
    facts_file = root / "facts.json"
    if facts_file.exists():
        return json.loads(facts_file.read_text())
    base, delta, facts = split(synth.records(edges))
    for part, frames in (("base", base), ("delta", delta)):
        (root / part).mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            frame.write_parquet(root / part / f"{name}.parquet")
    facts_file.write_text(json.dumps(facts, indent=2))
    return facts


# --- the child: one load ------------------------------------------------------------------------

CHILD = """
import cProfile, json, os, resource, sys, time
from pathlib import Path
from lotline import store
from lotline.intake.ingest import load_folder

drop, url, profile, analyze = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
engine = store.make_engine(url)
store.create_schema(engine)
stages, began = [], time.perf_counter()
def progress(stage):
    stages.append([stage, time.perf_counter() - began])
profiler = cProfile.Profile() if profile else None
if profiler:
    profiler.enable()
report = load_folder(engine, Path(drop), progress=progress)
seconds = time.perf_counter() - began
usage = resource.getrusage(resource.RUSAGE_SELF)
if profiler:
    profiler.disable()
    profiler.dump_stats(profile)
marks = stages + [["end", seconds]]
analyzed = None
if analyze:  # what `store.analyze` costs after the load (not counted in its time)
    from sqlmodel import SQLModel
    began = time.perf_counter()
    with engine.begin() as conn:
        store.analyze(conn, list(SQLModel.metadata.tables))
    analyzed = time.perf_counter() - began
print(json.dumps({
    "seconds": seconds,
    "cpu_seconds": usage.ru_utime + usage.ru_stime,  # the child's, imports included
    "load_average": os.getloadavg()[0],
    "rows_read": sum(f.rows_read for f in report.files),
    "rows_loaded": sum(f.rows_loaded for f in report.files),
    "rows_corrected": sum(f.rows_corrected for f in report.files),
    "rows_rejected": sum(f.rows_rejected for f in report.files),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "stages": {a[0]: round(b[1] - a[1], 3) for a, b in zip(marks, marks[1:])},
    "lineage_rows": report.lineage_counts,
    "analyze_seconds": analyzed,
}))
"""


def load(drop: Path, url: str, profile: Path | None, analyze: bool = False) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(drop), url, str(profile or ""), "1" if analyze else "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if done.returncode:
        raise SystemExit(f"load of {drop} failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["rows_per_second"] = result["rows_read"] / result["seconds"]
    return result


def _postgres_database(url: str, name: str, create: bool) -> str:
    import sqlalchemy as sa

    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def run_backend(
    backend: str, url: str | None, root: Path, edges: int, profile: bool, analyze: bool
) -> dict:
    results = {}
    if backend == "sqlite":
        db = root / "bench.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        target = f"sqlite:///{db}"
    else:
        assert url is not None
        target = _postgres_database(url, f"lotline_bench_{os.getpid()}", create=True)
    try:
        for part in ("base", "delta"):
            prof = HERE / "results" / f"load-{edges}-{backend}-{part}.prof" if profile else None
            results[part] = load(root / part, target, prof, analyze)
            print(f"{backend} {part}: {json.dumps(results[part])}", file=sys.stderr)
    finally:
        if backend == "postgres" and url is not None:
            _postgres_database(url, f"lotline_bench_{os.getpid()}", create=False)
    return results


def table(results: dict, facts: dict) -> str:
    backends = list(results)
    lines = [
        "| | " + " | ".join(backends) + " |",
        "|---|" + "---|" * len(backends),
    ]

    def row(label: str, cell) -> None:  # type: ignore[no-untyped-def]
        lines.append(f"| {label} | " + " | ".join(cell(results[b]) for b in backends) + " |")

    row("full load: rows", lambda r: f"{r['base']['rows_read']:,}")
    row("full load: time", lambda r: f"{r['base']['seconds']:.1f} s")
    row("full load: validated rows/s", lambda r: f"{r['base']['rows_per_second'] / 1000:.1f}k")
    row("full load: peak memory", lambda r: f"{r['base']['peak_rss_mb'] / 1024:.2f} GB")
    row(
        f"delta: rows ({facts['corrections']} corrections, {facts['late_records']} late)",
        lambda r: f"{r['delta']['rows_read']:,}",
    )
    row("delta: time", lambda r: f"{r['delta']['seconds']:.1f} s")
    row(
        "delta: % of the full load's time",
        lambda r: f"{100 * r['delta']['seconds'] / r['base']['seconds']:.0f} %",
    )
    row("delta: peak memory", lambda r: f"{r['delta']['peak_rss_mb'] / 1024:.2f} GB")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--sqlite", action="store_true", help="SQLite (the default backend)")
    parser.add_argument("--postgres", metavar="URL", help="server URL: a new database per run")
    parser.add_argument("--profile", action="store_true", help="cProfile each child")
    parser.add_argument(
        "--analyze", action="store_true", help="time store.analyze of every table after a load"
    )
    parser.add_argument("--data", type=Path, default=HERE / "data")
    args = parser.parse_args()
    backends = (["sqlite"] if args.sqlite or not args.postgres else []) + (
        ["postgres"] if args.postgres else []
    )
    began = time.perf_counter()
    facts = build_drops(args.edges, args.data)
    print(f"drops ready ({time.perf_counter() - began:.0f} s): {facts}", file=sys.stderr)
    root = args.data / f"load-{args.edges}"
    results = {
        b: run_backend(b, args.postgres, root, args.edges, args.profile, args.analyze)
        for b in backends
    }
    out = HERE / "results" / f"load-{args.edges}.json"
    out.parent.mkdir(exist_ok=True)
    previous = json.loads(out.read_text()) if out.exists() else {}
    out.write_text(json.dumps({**previous, "facts": facts, **results}, indent=2))
    print(table(results, facts))


if __name__ == "__main__":
    main()
