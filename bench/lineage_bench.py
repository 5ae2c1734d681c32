"""Lineage benchmark: raw files → lineage tables, closure, and trace latency, three ways.

    uv run --frozen python bench/lineage_bench.py --sizes 100000 1000000 10000000 \
        --postgres postgresql://postgres@127.0.0.1:5432/postgres

Per size (genealogy edges) it generates a drop folder (`bench/synth.py`), then measures:
- the real load (`lotline.ingest.load_folder`: read, GX validation, lineage, closure, commit) into
  SQLite in a child process: rows per second and peak memory; above `--ingest-max` the lineage
  tables are built from the synthetic records without validation and the load is not timed;
- closure build time and size (`lotline.genealogy.closure`);
- trace latency from the Python API with warm structures (`lotline.trace_index.TraceIndex`);
- cold traces straight from SQLite and PostgreSQL through the closure table (`trace_query.reach`);
- the two ways others do it, in the same run: a recursive SQL CTE over `lot_edge`, and a
  hop-by-hop ORM loop issuing one query per lot (the ERP way);
- `lotline trace` wall time, process start included.
Results go to `bench/results/<size>.json`; `--report` rewrites `bench/RESULTS.md` from them.
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
    from lotline.ingest import load_folder

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


def child_trusted_load(drop: str, url: str) -> None:
    """Lineage built in memory from the files without validation, then only the tables a trace
    reads written: for sizes where the validated load does not fit this machine's time."""
    import models
    from lotline import store
    from lotline.contract import RECORD_TYPES
    from lotline.ingest import lineage_records
    from lotline.lineage import Records, build_lineage
    from lotline.validation import typed

    engine = store.make_engine(url)
    store.create_schema(engine)
    start = time.perf_counter()
    frames = {}
    for name in RECORD_TYPES:
        path = Path(drop) / f"{name}.parquet"
        if path.exists():
            frame = pl.read_parquet(path).with_row_index("_source_row", offset=2)
            frames[name] = typed(name, _with_provenance(frame, name))
    empty = {
        name: pl.DataFrame(schema=store.polars_schema(models.RECORD_TABLES[name]))
        for name in ("moves", "packing", "status")
    }
    records = Records(**{**empty, **frames})
    read_seconds = time.perf_counter() - start
    lineage = build_lineage(lineage_records(records))
    build_seconds = time.perf_counter() - start - read_seconds
    counts = {}
    with engine.begin() as conn:
        for name, frame in lineage.tables().items():
            if name in ("lot", "lot_edge", "lot_closure", "lot_shipment", "lot_receipt", "serial"):
                frame = frame.with_columns(pl.lit("bench").alias("snapshot_id"))
                counts[name] = store.replace_frame(conn, name, frame)
    rows = sum(f.height for f in frames.values())
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows_read": rows,
                "read_and_type_seconds": read_seconds,
                "lineage_build_seconds": build_seconds,
                "write_seconds": seconds - read_seconds - build_seconds,
                "files_to_lineage_frames_rows_per_second": rows / (read_seconds + build_seconds),
                "peak_rss_mb": peak_rss_mb(),
                "lineage_rows": counts,
                "validated": False,
            }
        )
    )


def _with_provenance(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    from lotline.contract import RECORD_TYPES
    from lotline.validation import SOURCE_FILE, SOURCE_SHA256, with_record_hash

    rt = RECORD_TYPES[name]
    missing = [c for c in rt.columns if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in missing)
    return with_record_hash(rt, frame).with_columns(
        pl.lit(f"{name}.parquet").alias(SOURCE_FILE), pl.lit("bench").alias(SOURCE_SHA256)
    )


def run_child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
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
    drop, sqlite_path = work / "drop", work / "lineage.sqlite"
    result: dict = {"edges_target": n_edges}
    if not (drop / "consumption.parquet").exists():
        seconds, counts = timed(lambda: synth.write(drop, n_edges))
        result["generate_seconds"] = seconds
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
    with engine.connect() as conn:
        edges = store.read_frame(conn, "lot_edge", columns=["parent_key", "child_key", "share"])
        n_lots = int(conn.execute(sa.text("SELECT count(*) FROM lot")).scalar_one())
        per_ancestor = store.read_query(
            conn,
            "SELECT ancestor_key, count(*) AS n FROM lot_closure GROUP BY ancestor_key "
            "ORDER BY n DESC LIMIT 1",
            {"ancestor_key": pl.Int64(), "n": pl.Int64()},
        )
        per_descendant = store.read_query(
            conn,
            "SELECT descendant_key, count(*) AS n FROM lot_closure GROUP BY descendant_key "
            "ORDER BY n DESC LIMIT 1",
            {"descendant_key": pl.Int64(), "n": pl.Int64()},
        )
    result["edges"], result["lots"] = edges.height, n_lots
    hub_forward, hub_backward = int(per_ancestor[0, 0]), int(per_descendant[0, 0])
    result["most_connected"] = {
        "forward_lot": hub_forward,
        "forward_descendants": int(per_ancestor[0, 1]),
        "backward_lot": hub_backward,
        "backward_ancestors": int(per_descendant[0, 1]),
    }

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
    args = parser.parse_args()
    if args.report:
        saved = [json.loads((HERE / "results" / f"{n}.json").read_text()) for n in args.sizes]
        print(report(saved))
        return
    (HERE / "results").mkdir(exist_ok=True)
    for n in args.sizes:
        result = bench_size(n, args)
        result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
        (HERE / "results" / f"{n}.json").write_text(json.dumps(result, indent=2, default=str))
        print(json.dumps(result, indent=2, default=str), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_ingest":
        child_ingest(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "_trusted":
        child_trusted_load(sys.argv[2], sys.argv[3])
    else:
        main()
