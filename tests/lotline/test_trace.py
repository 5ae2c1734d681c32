"""Traces: hand-checked answers on the small chain, and agreement with a brute-force walk."""

from __future__ import annotations

from collections import deque

import polars as pl
import pytest
from sqlalchemy.engine import Engine

from lotline import api, trace, trace_query
from lotline.lineage import Lineage

FLOUR, DOUGH, COOKIES, TIN = (
    "00614141000012",
    "00614141000036",
    "00614141000043",
    "00614141000050",
)


def lots_of(result: trace.TraceResult, direction: str) -> dict[tuple[str, str], int]:
    chosen = result.lots.filter(pl.col("direction") == direction)
    return {(g, lot): d for g, lot, d in chosen.select("gtin", "lot", "depth").iter_rows()}


def test_backward_reaches_every_input_through_the_rework_cycle(small_engine) -> None:
    result = api.trace_lot(small_engine, COOKIES, "C1", "backward")
    assert lots_of(result, "subject") == {(COOKIES, "C1"): 0}
    assert lots_of(result, "backward") == {
        (DOUGH, "D1"): 1,
        (DOUGH, "D2"): 1,
        (FLOUR, "F1"): 2,
        (FLOUR, "F2"): 2,
        ("00614141000029", "S1"): 2,
        (COOKIES, "C2"): 2,  # reworked into D2
    }
    assert sorted(result.receipts["receipt_id"]) == ["R1", "R2", "R3"]
    assert result.shipments.is_empty()
    used = {
        (r["production_id"], r["input_lot"], r["output_lot"]): r["input_quantity"]
        for r in result.edges.iter_rows(named=True)
    }
    assert used[("P3", "D1", "C1")] == 300 and used[("P2", "F1", "D2")] == 300
    assert used[("P6", "C2", "D2")] == 5


def test_forward_reaches_shipments_serials_and_consignees(small_engine) -> None:
    result = api.trace_lot(small_engine, FLOUR, "F1", "forward")
    assert lots_of(result, "forward") == {
        (DOUGH, "D1"): 1,
        (DOUGH, "D2"): 1,
        (COOKIES, "C1"): 2,
        (COOKIES, "C2"): 2,
        (TIN, "T1"): 3,
    }
    assert (DOUGH, "D3") not in lots_of(result, "forward")  # made from F2 only
    assert sorted(result.shipments["shipment_id"]) == ["SH1", "SH2", "SH2", "SH3"]
    assert sorted(result.serials["serial"]) == ["T1-0001", "T1-0002", "T1-0003"]
    by_customer = {
        (r["business_name"], r["uom"]): r["quantity"]
        for r in result.consignees.iter_rows(named=True)
    }
    assert by_customer == {
        ("Corner Grocer Inc", "CS"): 50,
        ("MegaMart Distribution", "CS"): 70,
        ("MegaMart Distribution", "EA"): 1,
    }
    assert result.snapshot_id


def test_serial_trace(small_engine) -> None:
    result = api.trace_serial(small_engine, TIN, "T1-0001", "both")
    assert result.subject == {"gtin": TIN, "lot": "T1", "serial": "T1-0001"}
    assert result.shipments["shipment_id"].to_list() == ["SH3"]
    assert (FLOUR, "F1") in lots_of(result, "backward")
    with pytest.raises(trace.UnknownSubject):
        api.trace_serial(small_engine, TIN, "T1-9999")


def test_json_lists_lots_shipments_and_receipts(small_engine) -> None:
    data = api.trace_lot(small_engine, COOKIES, "C1", "both").as_dict()
    assert {"gtin", "lot", "depth"} <= set(data["lots"][0])
    assert {"shipment_id", "to_location_id", "gtin", "lot", "quantity"} <= set(data["shipments"][0])
    assert {"receipt_id", "from_location_id", "gtin", "lot", "quantity"} <= set(data["receipts"][0])


def brute_force(lineage: Lineage, start: int, direction: str) -> dict[int, int]:
    """Plain breadth-first search over Python dicts: the reference the engine must equal."""
    neighbours: dict[int, set[int]] = {}
    for parent, child in lineage.edges.select("parent_key", "child_key").iter_rows():
        a, b = (child, parent) if direction == "backward" else (parent, child)
        neighbours.setdefault(a, set()).add(b)
    depth = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in neighbours.get(node, ()):
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
    return depth


def assert_engine_matches_brute_force(lineage: Lineage, engine: Engine) -> None:
    """The in-memory walk, the closure table and the assembled database trace all agree with a
    plain breadth-first search, for every lot in both directions."""
    with engine.connect() as conn:
        for key in lineage.lots["lot_key"].to_list():
            for direction in ("backward", "forward"):
                expected = brute_force(lineage, key, direction)
                got = dict(trace.reachable(lineage.edges, [key], direction).iter_rows())
                assert got == expected, (key, direction)
                closure = trace_query.reach(conn, [key], direction).select("lot_key", "depth")
                assert dict(closure.iter_rows()) == expected, (key, direction, "closure")
            _assert_one_lot(lineage, engine, key)


def _assert_one_lot(lineage: Lineage, engine: Engine, key: int) -> None:
    gtin, lot = lineage.lots.filter(pl.col("lot_key") == key).select("gtin", "lot").row(0)
    result = trace.trace_lot(lineage, gtin, lot, "both")
    from_db = api.trace_lot(engine, gtin, lot, "both")
    columns = ["direction", "lot_key", "depth"]
    assert (
        from_db.lots.select(columns).sort(columns).equals(result.lots.select(columns).sort(columns))
    )
    assert from_db.shipments.height == result.shipments.height
    assert from_db.receipts.height == result.receipts.height
    assert from_db.edges.height == result.edges.height
    reached_forward = set(brute_force(lineage, key, "forward"))
    expected_shipments = lineage.shipments.filter(
        pl.col("lot_key").is_in(list(reached_forward))
    ).height
    assert result.shipments.height == expected_shipments
    reached_backward = set(brute_force(lineage, key, "backward"))
    assert (
        result.receipts.height
        == lineage.receipts.filter(pl.col("lot_key").is_in(list(reached_backward))).height
    )


def test_engine_matches_brute_force_on_the_small_chain(small_engine) -> None:
    assert_engine_matches_brute_force(api.load_lineage(small_engine), small_engine)


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_engine_matches_brute_force_on_generated_data(seed: int, tmp_path) -> None:
    from lotline import store
    from lotline.generate import generate
    from lotline.intake.ingest import load_folder

    generate(tmp_path / "drop", seed=seed, scale=0.3)
    engine = store.make_engine(store.sqlite_url(tmp_path / "db.sqlite"))
    report = load_folder(engine, tmp_path / "drop")
    assert sum(f.rows_rejected for f in report.files) == 0
    lineage = api.load_lineage(engine)
    assert lineage.edges.height > 50
    assert_engine_matches_brute_force(lineage, engine)
