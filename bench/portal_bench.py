"""Portal page times: p50/p95 of the lot page for a typical lot and for the hub lot.

    uv run --frozen python bench/portal_bench.py build 1000000  # bench/data/1000000/portal.sqlite
    uv run --frozen python bench/portal_bench.py run 1000000 --samples 30

`build` generates the synthetic drop folder (`bench/synth.py`) if missing and writes the lineage,
quality and record tables without validation (`lineage_bench.child_trusted_load`, the same path
the lineage benchmark uses above its `--ingest-max`); `--lineage-only` leaves the record tables
empty (the 10M-edge database then fits this machine's time: the lot page's genealogy, diagram and
distribution are what grow with the database, the record tables are read by indexed gtin/lot).

`run` serves the real application (`lotline.portal.app.create_app`) over real HTTP (uvicorn on
127.0.0.1, httpx with a logged-in session) and times `GET /lots/{gtin}/{lot}` for random typical
lots and for the hub lot (most descendants in the closure), first request excluded; it also times
`lotline.portal.queries.lot_page` alone and `GET /tables/lot_edge` pages. Prints one JSON object;
`bench/RESULTS.md` ("Portal page times") has the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402


def database_path(n_edges: int) -> Path:
    return HERE / "data" / str(n_edges) / "portal.sqlite"


def build(n_edges: int, lineage_only: bool) -> None:
    import synth

    from lotline import store

    drop = HERE / "data" / str(n_edges) / "drop"
    if not (drop / "consumption.parquet").exists():
        print("generated", synth.write(drop, n_edges), flush=True)
    path = database_path(n_edges)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "_build", str(drop), store.sqlite_url(path), str(lineage_only)],
        check=True,
    )
    print(json.dumps({"build_seconds": time.perf_counter() - started, "database": str(path)}))


def child_build(drop: str, url: str, lineage_only: str) -> None:
    """`lineage_bench.child_trusted_load`, or (`lineage_only`) without the record tables."""
    import lineage_bench

    if lineage_only == "True":
        original = lineage_bench.write_records

        def master_only(conn, records, names, load_id):  # type: ignore[no-untyped-def]
            kept = tuple(n for n in names if n in ("products", "locations"))
            return original(conn, records, kept, load_id)

        lineage_bench.write_records = master_only
    lineage_bench.child_trusted_load(drop, url)


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def subjects(
    engine: sa.Engine, samples: int, hub: tuple[str, str] | None = None
) -> dict[str, list[tuple[str, str, int]]]:
    """Random lots and the hub lot: the most descendants in the closure, or `hub` (gtin, lot)
    when known (`lineage_bench`'s build results name it; finding it scans the whole closure)."""
    from lotline import store

    lot, closure = store.table("lot"), store.table("lot_closure")
    with engine.connect() as conn:
        if hub is None:
            hub_key, hub_reach = conn.execute(
                sa.select(closure.c.ancestor_key, sa.func.count().label("n"))
                .group_by(closure.c.ancestor_key)
                .order_by(sa.text("n DESC"))
                .limit(1)
            ).one()
        else:
            hub_key = conn.execute(
                sa.select(lot.c.lot_key).where((lot.c.gtin == hub[0]) & (lot.c.lot == hub[1]))
            ).scalar_one()
            hub_reach = conn.execute(
                sa.select(sa.func.count()).where(closure.c.ancestor_key == hub_key)
            ).scalar_one()
        n_lots = conn.execute(sa.select(sa.func.max(lot.c.lot_key))).scalar_one()
        rng = random.Random(7)
        keys = [rng.randrange(n_lots + 1) for _ in range(samples)]
        rows = conn.execute(
            sa.select(lot.c.gtin, lot.c.lot, lot.c.lot_key).where(lot.c.lot_key.in_(keys))
        ).all()
        hub = conn.execute(
            sa.select(lot.c.gtin, lot.c.lot, lot.c.lot_key).where(lot.c.lot_key == hub_key)
        ).one()
    return {"typical": [tuple(r) for r in rows], "hub": [tuple(hub)], "hub_reach": hub_reach}  # type: ignore[dict-item]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str):  # type: ignore[no-untyped-def]
    """The real app on a free port and a client holding an auditor's API token (pages take a
    Bearer token as they take a session): (client, server)."""
    import httpx
    import uvicorn

    from lotline.portal.app import create_app
    from lotline.portal.users import add_user, new_token

    app = create_app(url)
    name = "bench-" + os.urandom(3).hex()
    add_user(app.state.engine, name, "auditor", "bench-" + os.urandom(12).hex(), "portal_bench")
    token = new_token(app.state.engine, name, "portal_bench")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        timeout=300,
        headers={"Authorization": f"Bearer {token}"},
    )
    return client, server


def add_new_columns(engine: sa.Engine) -> list[str]:
    """Columns the models gained after the benchmark database was built (no migrations yet),
    added as nullable, so the app's queries run on an older database."""
    from sqlmodel import SQLModel

    import models  # noqa: F401  (registers every table)

    added = []
    inspector = sa.inspect(engine)
    existing = set(inspector.get_table_names())
    with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in existing:
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have:
                    kind = column.type.compile(dialect=engine.dialect)
                    conn.execute(
                        sa.text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')
                    )
                    added.append(f"{table.name}.{column.name}")
    return added


def run(n_edges: int, samples: int, url: str | None, hub: tuple[str, str] | None = None) -> dict:
    from urllib.parse import quote

    from lotline import api, store
    from lotline.portal import queries

    url = url or f"sqlite:///{database_path(n_edges)}"
    added = add_new_columns(store.make_engine(url))
    engine = api.connect(url)
    chosen = subjects(engine, samples, hub)
    result: dict = {"database": url, "hub_reach": chosen["hub_reach"], "columns_added": added}
    for kind in ("typical", "hub"):
        lots = chosen[kind]
        repeat = 1 if kind == "typical" else samples
        queries.lot_page(engine, lots[0][0], lots[0][1])  # warm caches and imports
        times = []
        for gtin, code, _key in lots * repeat:
            began = time.perf_counter()
            queries.lot_page(engine, gtin, code)
            times.append(time.perf_counter() - began)
        result[f"{kind}_lot_page_function"] = percentiles(times)
    result["hub_lot"] = {"gtin": chosen["hub"][0][0], "lot": chosen["hub"][0][1]}
    client, server = serve(url)
    try:
        for kind in ("typical", "hub"):
            lots = chosen[kind]
            repeat = 1 if kind == "typical" else samples
            first = client.get(f"/lots/{lots[0][0]}/{quote(lots[0][1], safe='')}")
            assert first.status_code == 200, (first.status_code, first.text[:300])
            times = []
            for gtin, code, _key in lots * repeat:
                began = time.perf_counter()
                response = client.get(f"/lots/{gtin}/{quote(code, safe='')}")
                times.append(time.perf_counter() - began)
                assert response.status_code == 200 and "<svg" in response.text
            result[f"{kind}_lot_page_http"] = percentiles(times)
        times, after = [], None
        for _ in range(samples):
            began = time.perf_counter()
            response = client.get("/tables/lot_edge", params={"after": after} if after else {})
            times.append(time.perf_counter() - began)
            assert response.status_code == 200
            after = _next_cursor(response.text)
        result["lot_edge_table_page_http"] = percentiles(times)
        client.get("/search", params={"q": "warm-up"})  # first use imports the scan parser
        times = []
        for gtin, code, _key in chosen["typical"] + chosen["hub"]:
            for q in (code, gtin, f"https://id.gs1.org/01/{gtin}/10/{code}"):
                began = time.perf_counter()
                assert client.get("/search", params={"q": q}).status_code == 200
                times.append(time.perf_counter() - began)
        result["search_http"] = percentiles(times)
    finally:
        server.should_exit = True
    return result


def _next_cursor(html: str) -> str | None:
    import html as html_lib
    import re

    match = re.search(r'href="[^"]*[?&;]after=([^"&]+)[^"]*"[^>]*rel="next"', html) or re.search(
        r'rel="next"[^>]*href="[^"]*[?&;]after=([^"&]+)', html
    )
    return html_lib.unescape(match.group(1)) if match else None


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build")
    p.add_argument("edges", type=int)
    p.add_argument("--lineage-only", action="store_true")
    p = sub.add_parser("run")
    p.add_argument("edges", type=int)
    p.add_argument("--samples", type=int, default=30)
    p.add_argument("--database-url", help="default: bench/data/<edges>/portal.sqlite")
    p.add_argument("--hub", nargs=2, metavar=("GTIN", "LOT"), help="the hub lot, if known")
    args = parser.parse_args()
    if args.command == "build":
        build(args.edges, args.lineage_only)
    else:
        os.environ.setdefault("LOTLINE_DOCUMENTS_DIR", tempfile.mkdtemp(prefix="portal-bench-"))
        out = run(args.edges, args.samples, args.database_url, args.hub)
        out["edges"] = args.edges
        print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        child_build(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
