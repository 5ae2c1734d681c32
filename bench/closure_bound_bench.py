"""Evidence for a bounded closure at 100M–1B edges: what a depth or exposure bound keeps, and
what an on-demand walk past the bound costs, measured on a benchmark database.

    nice -n 5 uv run --frozen python bench/closure_bound_bench.py bench/data/1000000/lineage.sqlite

Prints one JSON document (also written to bench/results/closure-bound-<lots>.json):

- storage: bytes per table and index (SQLite's `dbstat`), rows per table;
- closure: pairs per depth and the pairs a bound of depth ≤ k (and exposure ≥ e) would keep;
- time_span: how far after an ancestor lot its descendants first appear (days, quantiles): the
  window a closure partitioned by time must cover;
- walks: for the most connected lot and a sample of lots, the forward trace read from the full
  closure against the bounded closure plus a recursive CTE over `lot_edge` from the bound's
  frontier (the lots at depth k), with the two answers compared (same lots, same minimal depth).

Read-only: the database is opened with `mode=ro`.
"""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

DEPTH_BOUNDS = (1, 2, 3, 4, 6)
EXPOSURE_BOUNDS = (0.001, 0.01, 0.05)
SAMPLE_LOTS = 200


def main(database: str) -> None:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    conn.execute("PRAGMA cache_size=-262144")
    out: dict[str, object] = {"database": database}
    out["storage"] = storage(conn)
    out["closure"] = closure_shape(conn)
    out["walks"] = walks(conn)
    out["time_span"] = time_span(conn)
    lots = out["storage"]["rows"]["lot"]  # type: ignore[index]
    text = json.dumps(out, indent=2)
    print(text)
    target = Path(__file__).parent / "results" / f"closure-bound-{lots}.json"
    target.write_text(text + "\n")


def storage(conn: sqlite3.Connection) -> dict[str, object]:
    start = time.perf_counter()
    sizes = dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"))
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    rows = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    by_table: dict[str, int] = {}
    for name, tbl in conn.execute("SELECT name, tbl_name FROM sqlite_master"):
        by_table[tbl] = by_table.get(tbl, 0) + int(sizes.get(name) or 0)
    return {
        "bytes_by_object": sizes,
        "bytes_by_table_with_indexes": dict(sorted(by_table.items(), key=lambda x: -x[1])),
        "rows": rows,
        "file_bytes": sum(int(v) for v in sizes.values()),
        "seconds": time.perf_counter() - start,
    }


def closure_shape(conn: sqlite3.Connection) -> dict[str, object]:
    by_depth = dict(conn.execute("SELECT depth, COUNT(*) FROM lot_closure GROUP BY depth"))
    total = sum(by_depth.values())
    kept_by_depth = {k: sum(n for d, n in by_depth.items() if d <= k) for k in DEPTH_BOUNDS}
    kept_by_exposure = {
        e: conn.execute("SELECT COUNT(*) FROM lot_closure WHERE exposure >= ?", (e,)).fetchone()[0]
        for e in EXPOSURE_BOUNDS
    }
    edges = conn.execute("SELECT COUNT(*) FROM lot_edge").fetchone()[0]
    return {
        "pairs": total,
        "edges": edges,
        "pairs_per_edge": total / edges,
        "pairs_by_depth": by_depth,
        "pairs_kept_depth_le": {
            k: {"pairs": n, "share": n / total} for k, n in kept_by_depth.items()
        },
        "pairs_kept_exposure_ge": {
            e: {"pairs": n, "share": n / total} for e, n in kept_by_exposure.items()
        },
    }


FULL = "SELECT descendant_key, depth FROM lot_closure WHERE ancestor_key = ?"
BOUNDED_WALK = """
WITH RECURSIVE
  near(lot_key, depth) AS (
    SELECT descendant_key, depth FROM lot_closure WHERE ancestor_key = :start AND depth <= :k
  ),
  walk(lot_key, depth) AS (
    SELECT lot_key, depth FROM near WHERE depth = :k
    UNION
    SELECT e.child_key, w.depth + 1 FROM walk w JOIN lot_edge e ON e.parent_key = w.lot_key
    WHERE w.depth < 64
  )
SELECT lot_key, MIN(depth) FROM (SELECT * FROM near UNION ALL SELECT * FROM walk)
GROUP BY lot_key
"""
"""The closure up to depth k, then edges from the lots at depth k. `UNION` (not `ALL`) keeps a
(lot, depth) once; a lot reached again at a larger depth is dropped by the MIN; depth 64 stops
a rework cycle."""


def walks(conn: sqlite3.Connection) -> dict[str, object]:
    hub = conn.execute(
        "SELECT ancestor_key, COUNT(*) FROM lot_closure GROUP BY ancestor_key "
        "ORDER BY 2 DESC LIMIT 1"
    ).fetchone()[0]
    max_key = conn.execute("SELECT MAX(lot_key) FROM lot").fetchone()[0]
    rng = random.Random(13)
    sample = [rng.randint(1, max_key) for _ in range(SAMPLE_LOTS)]
    result: dict[str, object] = {"hub_lot_key": hub}
    for label, lots in (("hub", [hub]), ("sample", sample)):
        full_ms, answers = [], {}
        for lot in lots:
            start = time.perf_counter()
            answers[lot] = dict(conn.execute(FULL, (lot,)).fetchall())
            full_ms.append((time.perf_counter() - start) * 1000)
        per_bound: dict[int, object] = {}
        for k in (2, 3, 4):
            ms, equal = [], True
            for lot in lots:
                start = time.perf_counter()
                found = dict(conn.execute(BOUNDED_WALK, {"start": lot, "k": k}).fetchall())
                ms.append((time.perf_counter() - start) * 1000)
                equal &= found == answers[lot]
            per_bound[k] = {
                "median_ms": statistics.median(ms),
                "max_ms": max(ms),
                "same_answer": equal,
            }
        result[label] = {
            "lots": len(lots),
            "reached_median": statistics.median(len(a) for a in answers.values()),
            "full_closure_median_ms": statistics.median(full_ms),
            "full_closure_max_ms": max(full_ms),
            "bounded_plus_walk": per_bound,
        }
    return result


SPAN = """
SELECT (julianday(d.first_seen_at) - julianday(a.first_seen_at)) AS days
FROM lot_closure c
JOIN lot a ON a.lot_key = c.ancestor_key
JOIN lot d ON d.lot_key = c.descendant_key
WHERE a.first_seen_at IS NOT NULL AND d.first_seen_at IS NOT NULL AND c.ancestor_key % :step = 0
"""


def time_span(conn: sqlite3.Connection) -> dict[str, object]:
    """Quantiles of (descendant first seen − ancestor first seen) in days over the pairs of every
    `step`-th ancestor (about 2M pairs), and the span of the whole data."""
    start = time.perf_counter()
    pairs = conn.execute("SELECT COUNT(*) FROM lot_closure").fetchone()[0]
    step = max(1, pairs // 2_000_000)
    days = sorted(row[0] for row in conn.execute(SPAN, {"step": step}))
    first, last = conn.execute("SELECT MIN(first_seen_at), MAX(first_seen_at) FROM lot").fetchone()
    quantiles = {
        q: days[min(len(days) - 1, int(q * len(days)))] for q in (0.5, 0.9, 0.99, 0.999, 1.0)
    }
    return {
        "pairs": len(days),
        "ancestor_sample_step": step,
        "days_quantiles": quantiles,
        "data_first_seen": first,
        "data_last_seen": last,
        "seconds": time.perf_counter() - start,
    }


if __name__ == "__main__":
    main(sys.argv[1])
