"""Lineage benchmark: raw files → lineage tables, closure, and trace latency, three ways.

    uv run --frozen python bench/lineage_bench.py --sizes 100000 1000000 10000000 \
        --postgres postgresql://postgres@127.0.0.1:5432/postgres

Per size (genealogy edges) it generates a drop folder (`bench/synth.py`), then measures:
- the real load (`lotline.intake.ingest.load_folder`: read, GX validation, lineage, closure,
  commit) into SQLite in a child process: rows per second and peak memory; above `--ingest-max`
  the full build without validation (`child_trusted_load`): each record type read, typed and
  written to its record table in turn, then the product's full lineage build
  (`lotline.intake.ingest.rebuild_lineage`, every lineage and quality table written as soon as
  it is built), each step timed with its peak memory;
- closure build time and size (`lotline.genealogy.closure`);
- trace latency from the Python API with warm structures (`lotline.trace_index.TraceIndex`);
- cold traces straight from SQLite and PostgreSQL through the closure table (`trace_query.reach`);
- the two ways others do it, in the same run: a recursive SQL CTE over `lot_edge`, and a
  hop-by-hop ORM loop issuing one query per lot (the ERP way);
- `lotline trace` wall time, process start included.
Results go to `bench/results/<size>.json`; `--report` prints the tables of `bench/RESULTS.md`
from them.

`--build-only` stops after the load: it builds `bench/data/<size>/lineage.sqlite` (the database
`bench/recall_render_bench.py` renders from), finds the most connected lots and writes
`bench/results/<size>-build.json` (step times, peak memory, rows, database size), e.g.

    nice -n 10 uv run --frozen python bench/lineage_bench.py --sizes 10000000 --build-only

`--out DIR` builds the database in another folder (the drop folder stays bench/data/<size>/drop)
and `--tag T` names the results `<size>-build-T.json`, so a measurement never overwrites the
database other benchmarks read.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402
import sqlalchemy as sa  # noqa: E402

SAMPLE = 1000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "p50_ms": statistics.median(ms),
        "p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
        "max_ms": ms[-1],
        "n": len(ms),
    }


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


# --- child process: the real load ----------------------------------------------------------------


def child_ingest(drop: str, url: str) -> None:
    from lotline import store
    from lotline.intake.ingest import load_folder

    engine = store.make_engine(url)
    seconds, report = timed(lambda: load_folder(engine, Path(drop)))
    rows = sum(f.rows_read for f in report.files)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows_read": rows,
                "rows_rejected": sum(f.rows_rejected for f in report.files),
                "rows_per_second": rows / seconds,
                "peak_rss_mb": peak_rss_mb(),
                "lineage_rows": report.lineage_counts,
            }
        )
    )


RECORDS_WRITTEN = (
    "products",
    "locations",
    "receipts",
    "production",
    "consumption",
    "moves",
    "shipments",
    "packing",
    "status",
)
"""Record tables the trusted load stores, every one: the recall report reads products and
locations, the FSMA 204 export (`fsma204.master_data`) production, the report's audit extract
(`lotline.scope.scope_details`) the records of every type naming a traced lot, and the status
history is the evidence behind `lot_status`. The synthetic data has no moves nor packing: those
tables stay empty."""


def read_drop(drop: str, names: tuple[str, ...] | None = None):  # type: ignore[no-untyped-def]
    """The drop folder's files typed as the load types them (no validation), as `Records`;
    record types without a file (or not in `names`) are empty."""
    import dataclasses

    import models
    from lotline import store
    from lotline.intake.contract import RECORD_TYPES
    from lotline.intake.ingest import MASTER_TABLES
    from lotline.intake.validation import typed
    from lotline.lineage import Records

    taken = [n for n in RECORD_TYPES if n in {f.name for f in dataclasses.fields(Records)}]
    frames = {}
    for name in taken:  # the record types the lineage is built from
        path = Path(drop) / f"{name}.parquet"
        if path.exists() and (names is None or name in names):
            frame = pl.read_parquet(path).with_row_index("_source_row", offset=2)
            frames[name] = typed(name, _with_provenance(frame, name))
    empty = {
        name: pl.DataFrame(
            schema=store.polars_schema(MASTER_TABLES.get(name) or models.RECORD_TABLES[name])
        )
        for name in taken
        if name not in frames
    }
    return Records(**{**empty, **frames}), sum(f.height for f in frames.values())


SLICE_ROWS = 3_500_000
"""Rows of a drop file read, typed and written at a time by the trusted load: its strings,
hashes and insert copies exist for one slice only (at 10⁷ edges production alone took 6 GB
at once). 3.5M rows: the 10M drop's three large files make 7 slices, within the 8 ADBC
staging files one SQLite transaction may attach (`store._MAX_STAGED`)."""


def read_slices(drop: str, name: str, rows: int | None = None):  # type: ignore[no-untyped-def]
    """The drop file of record type `name` typed as `read_drop` types it, `rows` rows at a time
    (default `SLICE_ROWS`; `LINEAGE_BENCH_SLICE_ROWS` in the environment overrides it), with
    their seconds to read and type: (frame, seconds) pairs, one empty frame without a file."""
    import os

    from lotline.intake.validation import typed

    rows = rows or int(os.environ.get("LINEAGE_BENCH_SLICE_ROWS", SLICE_ROWS))
    path = Path(drop) / f"{name}.parquet"
    if not path.exists():
        began = time.perf_counter()
        records, _ = read_drop(drop, (name,))
        yield getattr(records, name), time.perf_counter() - began
        return
    height = pl.scan_parquet(path).select(pl.len()).collect().item()
    for start in range(0, max(height, 1), rows):
        began = time.perf_counter()
        raw = pl.scan_parquet(path).with_row_index("_source_row", offset=2).slice(start, rows)
        frame = typed(name, _with_provenance(raw.collect(), name))
        yield frame, time.perf_counter() - began


def _stamped(frame: pl.DataFrame, name: str, load_id: str) -> pl.DataFrame:
    """A record frame as `write_records` stores it: its load and first version."""
    from lotline.intake.ingest import MASTER_TABLES

    if name in MASTER_TABLES:
        return frame
    frame = frame.with_columns(pl.lit(load_id).alias("load_id"))
    if "version" not in frame.columns:  # every record is its first version
        frame = frame.with_columns(pl.lit(1, pl.Int64).alias("version"))
    return frame


def write_records(
    conn: sa.Connection, records: object, names: tuple[str, ...], load_id: str
) -> tuple[dict[str, int], dict[str, float]]:
    """Replace the record tables of `names` with the rows of `records` (a `Records`, or frames
    by record type): rows and seconds per table."""
    import models
    from lotline import store
    from lotline.intake.ingest import MASTER_TABLES

    counts, seconds = {}, {}
    for name in names:
        began = time.perf_counter()
        frame = records[name] if isinstance(records, dict) else getattr(records, name)
        model = MASTER_TABLES.get(name) or models.RECORD_TABLES[name]
        if name not in MASTER_TABLES:
            frame = frame.with_columns(pl.lit(load_id).alias("load_id"))
            if "version" not in frame.columns:  # every record is its first version
                frame = frame.with_columns(pl.lit(1, pl.Int64).alias("version"))
        counts[store.table(model).name] = store.replace_frame(conn, model, frame)
        seconds[store.table(model).name] = time.perf_counter() - began
    return counts, seconds


def child_records(drop: str, url: str, names: str) -> None:
    """Only the record tables `names` (comma-separated) of an existing benchmark database
    rewritten from the drop folder, as the trusted load writes them (`--records-only`)."""
    from lotline import store  # noqa: F401  (imported before the clock starts)
    from lotline.intake import ingest  # noqa: F401

    wanted = tuple(names.split(","))
    engine = store.make_engine(url)
    store.create_schema(engine)
    start = time.perf_counter()
    records, rows = read_drop(drop, wanted)
    read_seconds = time.perf_counter() - start
    read_peak = peak_rss_mb()
    with engine.begin() as conn:
        counts, write_steps = write_records(conn, records, wanted, "bench")
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - start,
                "rows_read": rows,
                "read_and_type_seconds": read_seconds,
                "read_and_type_peak_rss_mb": read_peak,
                "write_seconds_by_table": write_steps,
                "peak_rss_mb": peak_rss_mb(),
                "rows": counts,
            }
        )
    )


def rss_mb() -> tuple[float, float]:
    """(resident now, peak since the last `reset_peak`) in MB, from /proc (Linux)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def reset_peak() -> None:
    """Start a new peak: writing 5 to clear_refs resets the process's VmHWM (Linux ≥ 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def child_trusted_load(drop: str, url: str) -> None:
    """The full build a first load or `lotline rebuild` runs, from the files without validation:
    each record type read and typed in slices (`read_slices`), each slice written to its record
    table and only the columns lineage reads kept (`ingest.UNTRACED_COLUMNS` left out) before
    the next slice is read; then the product's full lineage build, `ingest.rebuild_lineage`,
    with those frames as a first load passes what it wrote (no read-back): every lineage and
    quality table written as soon as it is built. Two transactions, records then lineage (a
    first load makes them one; apart, the 10M build needs one write-ahead log of ~20 GB less
    disk). For sizes where the validated load does not fit this machine's time. Each step's
    seconds, resident memory after it and peak during it (VmHWM, reset per step)."""
    import gc

    import models
    from lotline import store
    from lotline.intake import ingest
    from lotline.intake.contract import LINEAGE_RECORD_TYPES
    from lotline.table_stage import TableStage, TableWritten

    steps: dict[str, dict[str, float]] = {}

    def step(name: str, began: float, **extra: float) -> float:
        now = time.perf_counter()
        resident, peak = rss_mb()
        steps[name] = {"seconds": now - began, "rss_mb": resident, "peak_rss_mb": peak, **extra}
        reset_peak()
        return now

    class MeasuredStage(TableStage):
        """Seconds building each table (since the previous one was written) and writing it."""

        def __init__(self, conn: sa.Connection, snapshot_id: str) -> None:
            super().__init__(conn, snapshot_id)
            self.mark = time.perf_counter()

        def put(self, name, frames):  # type: ignore[no-untyped-def]
            built = time.perf_counter() - self.mark
            done: TableWritten = super().put(name, frames)
            self.mark = step(f"lineage:{name}", self.mark, build_seconds=built, rows=done.rows)
            return done

    engine = store.make_engine(url)
    store.create_schema(engine)
    gc.collect()
    reset_peak()
    start = mark = time.perf_counter()
    rows_read, read_seconds, record_seconds, counts, in_force = 0, 0.0, 0.0, {}, 0
    load_id = "bench"
    with engine.begin() as conn:
        kept: dict[str, pl.DataFrame] = {}
        for name in RECORDS_WRITTEN:
            began = time.perf_counter()
            model = ingest.MASTER_TABLES.get(name) or models.RECORD_TABLES[name]
            read, rows, slim = 0.0, 0, []
            with store.indexes_rebuilt(conn, model):
                conn.execute(store.table(model).delete())
                for frame, slice_seconds in read_slices(drop, name):
                    read += slice_seconds
                    rows += frame.height
                    store.insert_frame(conn, model, _stamped(frame, name, load_id))
                    if name in LINEAGE_RECORD_TYPES:
                        slim.append(frame.drop(*ingest.UNTRACED_COLUMNS, strict=False))
                    del frame
            counts[store.table(model).name] = rows
            rows_read, read_seconds = rows_read + rows, read_seconds + read
            in_force += rows if name in models.RECORD_TABLES else 0
            if name in LINEAGE_RECORD_TYPES:
                kept[name] = slim[0] if len(slim) == 1 else pl.concat(slim)
            del slim
            gc.collect()
            now = step(f"records:{name}", mark, read_and_type_seconds=read, rows=rows)
            record_seconds += now - began - read
            mark = now
        store.insert_frame(conn, models.Snapshot, _snapshot_row(load_id, in_force))
    mark = step("records:commit", mark)
    with engine.begin() as conn:
        stage = MeasuredStage(conn, load_id)
        began = time.perf_counter()
        held = [kept]  # handed over: the build may let each record type go when done with it
        del kept
        counts.update(ingest.rebuild_lineage(conn, load_id, written=held.pop(), stage=stage))
        lineage_seconds = time.perf_counter() - began
        swap = {w.name: w.seconds for w in stage.swapped}
        mark = step("lineage:swap_in", stage.mark, seconds_by_table=sum(swap.values()))
        steps["lineage:swap_in"]["seconds_by_table"] = swap  # type: ignore[assignment]
    step("commit", mark)
    seconds = time.perf_counter() - start
    built = {
        n.split(":", 1)[1]: d["build_seconds"] for n, d in steps.items() if "build_seconds" in d
    }
    written_seconds = {
        n.split(":", 1)[1]: d["seconds"] - d["build_seconds"]
        for n, d in steps.items()
        if "build_seconds" in d
    }
    lineage_build = sum(built[n] for n in ("lot_edge", "lot", "lot_on_hand", "serial"))
    lineage_build += sum(built[n] for n in ("lot_shipment", "lot_receipt"))
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows_read": rows_read,
                "read_and_type_seconds": read_seconds,
                "record_write_seconds": record_seconds,
                "lineage_seconds": lineage_seconds,
                "lineage_build_seconds": lineage_build,
                "quality_build_seconds": sum(built.values()) - lineage_build,
                "write_seconds": record_seconds
                + sum(written_seconds.values())
                + steps["lineage:swap_in"]["seconds"],
                "build_seconds_by_table": built,
                "stage_seconds_by_table": written_seconds,
                "files_to_lineage_frames_rows_per_second": rows_read
                / (read_seconds + lineage_build),
                "steps": steps,
                # clear_refs resets ru_maxrss too: the process's peak is the highest step's
                "peak_rss_mb": max(d["peak_rss_mb"] for d in steps.values()),
                "lineage_rows": counts,
                "validated": False,
                "quality_tables": True,
                "streamed": True,
            },
            default=str,
        )
    )


def _snapshot_row(snapshot_id: str, count: int) -> pl.DataFrame:
    """The snapshot the tables are stamped with, so reports print its creation time."""
    from datetime import UTC, datetime

    import models
    from lotline import store

    return pl.DataFrame(
        [
            {
                "snapshot_id": snapshot_id,
                "created_at": datetime.now(UTC),
                "load_id": snapshot_id,
                "input_sha256": json.dumps(["bench"]),
                "record_count": count,
            }
        ],
        schema=store.polars_schema(models.Snapshot),
    )


def _with_provenance(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    from lotline.intake.contract import RECORD_TYPES
    from lotline.intake.validation import SOURCE_FILE, SOURCE_SHA256, with_record_hash

    rt = RECORD_TYPES[name]
    missing = [c for c in rt.columns if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in missing)
    return with_record_hash(rt, frame).with_columns(
        pl.lit(f"{name}.parquet").alias(SOURCE_FILE), pl.lit("bench").alias(SOURCE_SHA256)
    )


def run_child(*args: str) -> dict:
    """A build in a new interpreter, with Polars' allocator set as `lotline ingest` and
    `lotline rebuild` set it (`lotline.cli.release_freed_memory`)."""
    from lotline.cli import RELEASE_FREED_MEMORY

    env = {**os.environ, "_RJEM_MALLOC_CONF": RELEASE_FREED_MEMORY}  # Polars set its own here
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- trace approaches ----------------------------------------------------------------------------


def cte_query(dialect: str) -> str:
    """The recursive CTE others use: set semantics (UNION) so cycles terminate."""
    return (
        "WITH RECURSIVE reach(lot_key) AS (SELECT CAST(:k AS BIGINT) UNION "
        "SELECT e.{next} FROM lot_edge e JOIN reach r ON e.{this} = r.lot_key) "
        "SELECT count(*) FROM reach"
    )


def cte_trace(conn: sa.Connection, key: int, way: str) -> int:
    this, nxt = ("child_key", "parent_key") if way == "backward" else ("parent_key", "child_key")
    sql = cte_query(conn.dialect.name).format(this=this, next=nxt)
    return int(conn.execute(sa.text(sql), {"k": key}).scalar_one())


def hop_by_hop(session, key: int, way: str) -> int:  # type: ignore[no-untyped-def]
    """The ERP way: walk level by level, one ORM query per lot."""
    from sqlmodel import select

    from models import LotEdge

    this, nxt = (
        (LotEdge.child_key, LotEdge.parent_key)
        if way == "backward"
        else (LotEdge.parent_key, LotEdge.child_key)
    )
    seen, frontier = {key}, [key]
    while frontier:
        following = []
        for lot in frontier:
            for found in session.exec(select(nxt).where(this == lot)).all():
                if found not in seen:
                    seen.add(found)
                    following.append(found)
        frontier = following
    return len(seen)


def closure_reach(conn: sa.Connection, key: int, way: str) -> int:
    from lotline import trace_query

    return trace_query.reach(conn, [key], way).height  # type: ignore[arg-type]


def raw_closure_reach(conn: sa.Connection, key: int, way: str) -> int:
    """The closure lookup alone, without building a frame: what the index read costs."""
    column, other = (
        ("descendant_key", "ancestor_key")
        if way == "backward"
        else ("ancestor_key", "descendant_key")
    )
    rows = conn.execute(
        sa.text(f"SELECT {other}, depth, exposure FROM lot_closure WHERE {column} = :k"), {"k": key}
    ).fetchall()
    return len(rows) + 1


def measure(fn: Callable[[int, str], int], keys: list[int], way: str) -> dict[str, float]:
    seconds = []
    for key in keys:
        start = time.perf_counter()
        fn(key, way)
        seconds.append(time.perf_counter() - start)
    return percentiles(seconds)


def once(fn: Callable[[int, str], int], key: int, way: str) -> dict[str, float]:
    seconds, reached = timed(lambda: fn(key, way))
    return {"ms": seconds * 1000, "lots": reached}


# --- one size ------------------------------------------------------------------------------------


def bench_size(n_edges: int, args: argparse.Namespace) -> dict:
    import synth

    from lotline import genealogy, store
    from lotline.trace_index import TraceIndex

    work = HERE / "data" / str(n_edges)
    drop, sqlite_path = work / "drop", (args.out or work) / "lineage.sqlite"
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    result: dict = {"edges_target": n_edges}
    if not (drop / "consumption.parquet").exists():
        seconds, counts = timed(lambda: synth.write(drop, n_edges))
        result["generate_seconds"] = seconds
        result["generate_peak_rss_mb"] = peak_rss_mb()
        print(n_edges, "generated", f"{seconds:.0f} s", counts, flush=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    url = store.sqlite_url(sqlite_path)
    result["input_rows"] = {
        p.stem: pl.scan_parquet(p).select(pl.len()).collect().item() for p in drop.glob("*.parquet")
    }
    mode = "_ingest" if n_edges <= args.ingest_max else "_trusted"
    result["load"] = run_child(mode, str(drop), url)
    print(n_edges, "load", result["load"], flush=True)

    engine = store.make_engine(url)
    if args.build_only:
        return built(result, engine, sqlite_path)
    with engine.connect() as conn:
        edges = store.read_frame(conn, "lot_edge", columns=["parent_key", "child_key", "share"])
        n_lots = int(conn.execute(sa.text("SELECT count(*) FROM lot")).scalar_one())
        result["most_connected"] = most_connected(conn)
    result["edges"], result["lots"] = edges.height, n_lots
    hub_forward = result["most_connected"]["forward_lot"]
    hub_backward = result["most_connected"]["backward_lot"]

    shares = edges.with_columns(pl.col("share").fill_null(0.0))
    gc_seconds, closure = timed(lambda: genealogy.closure(shares, n_lots))
    result["closure"] = {"seconds": gc_seconds, "pairs": closure.height}
    del closure
    index_seconds, index = timed(lambda: TraceIndex.from_edges(shares, n_lots))
    result["trace_index"] = {"build_seconds": index_seconds, "bytes": index.nbytes}
    rng = random.Random(7)
    keys = [rng.randrange(n_lots) for _ in range(SAMPLE)]
    index.forward([keys[0]])  # compile / warm
    api = {}
    for way, hub in (("backward", hub_backward), ("forward", hub_forward)):
        walk = getattr(index, way)
        api[way] = measure(lambda k, _w, walk=walk: len(walk([k]).lot_key), keys, way)
        api[way]["most_connected"] = once(lambda k, _w, walk=walk: len(walk([k]).lot_key), hub, way)
        expo = measure(lambda k, w: len(index.exposure([k], w).lot_key), keys[:200], way)
        api[way]["with_exposure"] = expo
    result["api_warm"] = api

    databases = {"sqlite": engine}
    if args.postgres:
        databases["postgresql"] = copy_to_postgres(engine, args.postgres, n_edges)
    from sqlmodel import Session

    for name, db in databases.items():
        out: dict = {}
        with db.connect() as conn:
            for way, hub in (("backward", hub_backward), ("forward", hub_forward)):
                out[way] = {
                    "closure_index_read": measure(
                        lambda k, w: raw_closure_reach(conn, k, w), keys, way
                    ),
                    "closure_frame": measure(lambda k, w: closure_reach(conn, k, w), keys, way),
                    "recursive_cte": measure(
                        lambda k, w: cte_trace(conn, k, w), keys[: args.cte_sample], way
                    ),
                }
                out[way]["closure_index_read"]["most_connected"] = once(
                    lambda k, w: raw_closure_reach(conn, k, w), hub, way
                )
                out[way]["recursive_cte"]["most_connected"] = once(
                    lambda k, w: cte_trace(conn, k, w), hub, way
                )
        with Session(db) as session:
            for way, hub in (("backward", hub_backward), ("forward", hub_forward)):
                out[way]["hop_by_hop_orm"] = measure(
                    lambda k, w: hop_by_hop(session, k, w), keys[: args.hop_sample], way
                )
                out[way]["hop_by_hop_orm"]["most_connected"] = once(
                    lambda k, w: hop_by_hop(session, k, w), hub, way
                )
        result[name] = out
        print(n_edges, name, json.dumps(out)[:300], flush=True)

    result["cli"] = cli_wall(url, engine, keys[0], hub_forward)
    result["peak_rss_mb_bench_process"] = peak_rss_mb()
    return result


def most_connected(conn: sa.Connection) -> dict[str, int]:
    """The lot with the most descendant pairs in the closure (forward hub) and the one with the
    most ancestors (backward hub), with their counts (the subject itself not included)."""
    from lotline import store

    out = {}
    for way, column, label in (
        ("forward", "ancestor_key", "descendants"),
        ("backward", "descendant_key", "ancestors"),
    ):
        top = store.read_query(
            conn,
            f"SELECT {column}, count(*) AS n FROM lot_closure GROUP BY {column} "
            "ORDER BY n DESC LIMIT 1",
            {column: pl.Int64(), "n": pl.Int64()},
        )
        out[f"{way}_lot"], out[f"{way}_{label}"] = int(top[0, 0]), int(top[0, 1])
    return out


def built(result: dict, engine: sa.Engine, sqlite_path: Path) -> dict:
    """`--build-only`: the database and what a render benchmark needs to know about it."""
    from lotline import store

    lot = store.table("lot")
    with engine.connect() as conn:
        seconds, result["most_connected"] = timed(lambda: most_connected(conn))
        result["most_connected"]["seconds"] = seconds
        for way in ("forward", "backward"):
            key = result["most_connected"][f"{way}_lot"]
            gtin, code = conn.execute(
                sa.select(lot.c.gtin, lot.c.lot).where(lot.c.lot_key == key)
            ).one()
            result["most_connected"][f"{way}_gtin"] = gtin
            result["most_connected"][f"{way}_lot_code"] = code
        result["rows"] = {
            name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one())
            for name in sorted(sa.inspect(conn).get_table_names())
        }
    engine.dispose()
    result["database_bytes"] = sum(
        Path(f"{sqlite_path}{suffix}").stat().st_size
        for suffix in ("", "-wal", "-shm")
        if Path(f"{sqlite_path}{suffix}").exists()
    )
    result["database"] = store.sqlite_url(sqlite_path)
    result["peak_rss_mb_bench_process"] = peak_rss_mb()
    return result


def rewrite_records(n_edges: int, names: list[str]) -> dict:
    """`--records-only`: record tables of an existing database rewritten in a child process."""
    from lotline import store
    from lotline.intake.contract import RECORD_TYPES

    unknown = sorted(set(names) - set(RECORD_TYPES))
    if unknown:
        raise SystemExit(f"unknown record types: {', '.join(unknown)}")
    work = HERE / "data" / str(n_edges)
    sqlite_path = work / "lineage.sqlite"
    if not sqlite_path.exists():
        raise SystemExit(f"{sqlite_path} does not exist: build it with --build-only first")
    out = run_child("_records", str(work / "drop"), store.sqlite_url(sqlite_path), ",".join(names))
    saved = HERE / "results" / f"{n_edges}-build.json"
    result = json.loads(saved.read_text()) if saved.exists() else {"edges_target": n_edges}
    result.setdefault("records_rewritten", []).append(out)
    engine = store.make_engine(store.sqlite_url(sqlite_path))
    with engine.connect() as conn:
        result["rows"] = {
            name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one())
            for name in sorted(sa.inspect(conn).get_table_names())
        }
    engine.dispose()
    result["database_bytes"] = sqlite_path.stat().st_size
    saved.write_text(json.dumps(result, indent=2, default=str))
    return out


def copy_to_postgres(sqlite_engine: sa.Engine, url: str, n_edges: int) -> sa.Engine:
    """The lineage tables moved into a fresh PostgreSQL database with COPY, in chunks."""
    from lotline import store

    name = f"lotline_bench_{n_edges}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    target = store.make_engine(url.rsplit("/", 1)[0] + "/" + name)
    store.create_schema(target)
    with sqlite_engine.connect() as source, target.begin() as conn:
        for table in ("lot", "lot_edge", "lot_closure"):
            total = source.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for offset in range(0, total, 2_000_000):
                frame = store.read_query(
                    source,
                    f"SELECT * FROM {table} LIMIT 2000000 OFFSET {offset}",
                    store.polars_schema(table),
                )
                store.insert_frame(conn, table, frame)
    with target.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
        conn.commit()
    return target


def cli_wall(url: str, engine: sa.Engine, typical: int, hub: int) -> dict:
    from lotline import store

    out = {}
    for label, key in (("typical_lot", typical), ("most_connected_lot", hub)):
        with engine.connect() as conn:
            gtin, lot = conn.execute(
                sa.select(store.table("lot").c.gtin, store.table("lot").c.lot).where(
                    store.table("lot").c.lot_key == key
                )
            ).one()
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "lotline"),
                    "trace",
                    "--database-url",
                    url,
                    "--gtin",
                    gtin,
                    "--lot",
                    lot,
                    "--format",
                    "json",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            runs.append(time.perf_counter() - start)
        out[label] = {"gtin": gtin, "lot": lot, "median_s": statistics.median(runs)}
    return out


def unvalidated(load: dict) -> str:
    if "lineage_build_seconds" not in load:
        return "–"
    seconds = load["read_and_type_seconds"] + load["lineage_build_seconds"]
    if load.get("quality_tables"):
        return (
            f"{seconds:.1f} s, {load['files_to_lineage_frames_rows_per_second']:,.0f} rows/s "
            f"(then {load['quality_build_seconds']:.0f} s building the quality tables and "
            f"{load['write_seconds']:.0f} s writing lineage, quality and record tables)"
        )
    return (
        f"{seconds:.1f} s, {load['files_to_lineage_frames_rows_per_second']:,.0f} rows/s (then "
        f"{load['write_seconds']:.0f} s writing lot, edge, closure, shipment tables)"
    )


def report(results: list[dict]) -> str:
    """The results as the Markdown tables of bench/RESULTS.md."""

    def ms(d: dict) -> str:
        return f"{d['p50_ms']:.3f} / {d['p99_ms']:.3f}"

    def hub(d: dict) -> str:
        return f"{d['most_connected']['ms']:.2f} ({d['most_connected']['lots']:,} lots)"

    head = ["| | " + " | ".join(f"{r['edges']:,} edges" for r in results) + " |"]
    head.append("|---" * (len(results) + 1) + "|")
    rows = [
        (
            "lots / serials",
            lambda r: f"{r['lots']:,} / {r['load']['lineage_rows'].get('serial', 0):,}",
        ),
        ("input rows", lambda r: f"{sum(r['input_rows'].values()):,}"),
        (
            "raw files → lineage tables (validated load, SQLite)",
            lambda r: (
                f"{r['load']['seconds']:.1f} s, {r['load']['rows_per_second']:,.0f} rows/s"
                if "rows_per_second" in r["load"]
                else "not run (see notes)"
            ),
        ),
        (
            "raw files → lineage frames in memory, unvalidated",
            lambda r: unvalidated(r["load"]),
        ),
        ("peak memory of the load", lambda r: f"{r['load']['peak_rss_mb']:,.0f} MB"),
        (
            "closure build (in memory)",
            lambda r: f"{r['closure']['seconds']:.1f} s, {r['closure']['pairs']:,} pairs",
        ),
        (
            "trace index build / size",
            lambda r: (
                f"{r['trace_index']['build_seconds']:.1f} s / "
                f"{r['trace_index']['bytes'] / 1e6:,.0f} MB"
            ),
        ),
    ]
    for way in ("backward", "forward"):
        rows += [
            (f"{way}: Python API warm, p50 / p99 ms", lambda r, w=way: ms(r["api_warm"][w])),
            (f"{way}: Python API warm, most connected ms", lambda r, w=way: hub(r["api_warm"][w])),
            (
                f"{way}: API warm with exposure, p50 / p99 ms",
                lambda r, w=way: ms(r["api_warm"][w]["with_exposure"]),
            ),
        ]
        for db in ("sqlite", "postgresql"):
            rows += [
                (
                    f"{way}: {db} closure read, p50 / p99 ms",
                    lambda r, w=way, d=db: ms(r[d][w]["closure_index_read"]) if d in r else "–",
                ),
                (
                    f"{way}: {db} closure read, most connected ms",
                    lambda r, w=way, d=db: hub(r[d][w]["closure_index_read"]) if d in r else "–",
                ),
                (
                    f"{way}: {db} recursive CTE, p50 / p99 ms",
                    lambda r, w=way, d=db: ms(r[d][w]["recursive_cte"]) if d in r else "–",
                ),
                (
                    f"{way}: {db} recursive CTE, most connected ms",
                    lambda r, w=way, d=db: hub(r[d][w]["recursive_cte"]) if d in r else "–",
                ),
                (
                    f"{way}: {db} hop-by-hop ORM, p50 / p99 ms",
                    lambda r, w=way, d=db: ms(r[d][w]["hop_by_hop_orm"]) if d in r else "–",
                ),
                (
                    f"{way}: {db} hop-by-hop ORM, most connected ms",
                    lambda r, w=way, d=db: hub(r[d][w]["hop_by_hop_orm"]) if d in r else "–",
                ),
            ]
    rows += [
        (
            "`lotline trace` wall, typical lot",
            lambda r: f"{r['cli']['typical_lot']['median_s']:.2f} s",
        ),
        (
            "`lotline trace` wall, most connected lot",
            lambda r: f"{r['cli']['most_connected_lot']['median_s']:.2f} s",
        ),
    ]
    lines = head + [
        f"| {label} | " + " | ".join(fn(r) for r in results) + " |" for label, fn in rows
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--postgres")
    parser.add_argument("--ingest-max", type=int, default=1_000_000)
    parser.add_argument("--cte-sample", type=int, default=200)
    parser.add_argument("--hop-sample", type=int, default=50)
    parser.add_argument("--report", action="store_true", help="print the tables of saved results")
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="generate the drop folder (if missing) and build the SQLite database, then stop: no "
        "trace measurements, no PostgreSQL copy; results in bench/results/<size>-build.json",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="folder of the SQLite database to build (default bench/data/<size>; the drop "
        "folder stays bench/data/<size>/drop)",
    )
    parser.add_argument(
        "--tag",
        help="results go to bench/results/<size>-build-<tag>.json (or <size>-<tag>.json)",
    )
    parser.add_argument(
        "--records-only",
        nargs="+",
        metavar="RECORD_TYPE",
        help="rewrite only these record tables (e.g. receipts consumption shipments) of an "
        "existing bench/data/<size>/lineage.sqlite from its drop folder, without rebuilding the "
        "lineage; timings go into bench/results/<size>-build.json under records_rewritten",
    )
    args = parser.parse_args()
    if args.report:
        saved = [json.loads((HERE / "results" / f"{n}.json").read_text()) for n in args.sizes]
        print(report(saved))
        return
    if args.records_only:
        for n in args.sizes:
            print(json.dumps(rewrite_records(n, args.records_only), indent=2, default=str))
        return
    (HERE / "results").mkdir(exist_ok=True)
    for n in args.sizes:
        result = bench_size(n, args)
        result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
        name = f"{n}-build" if args.build_only else str(n)
        name = f"{name}-{args.tag}.json" if args.tag else f"{name}.json"
        (HERE / "results" / name).write_text(json.dumps(result, indent=2, default=str))
        print(json.dumps(result, indent=2, default=str), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_ingest":
        child_ingest(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "_trusted":
        child_trusted_load(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "_records":
        child_records(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
