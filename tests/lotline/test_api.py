"""The Python API over a loaded database: exposure on traces and recall scoping by exposure.

Exposures on the small chain, by hand (share = input used / inputs of the run, times the run's
part of the output lot):
- P1 makes D1 from F1 400 + S1 200: D1 is 2/3 F1, 1/3 S1.
- P2 makes 500 of D2 from F1 300 + F2 200 + S1 100; P6 reworks 5 CS of C2 back into D2 (5 of
  D2's 505). C2 is all D2, so in steady state D2 is 300/600 = 1/2 F1, 1/3 F2, 1/6 S1.
- P3 makes C1 from D1 300 + D2 100: C1 = 3/4·D1 + 1/4·D2, so F1 = 3/4·2/3 + 1/4·1/2 = 5/8,
  S1 = 3/4·1/3 + 1/4·1/6 = 7/24, F2 = 1/4·1/3 = 1/12 (they sum to 1). T1 is made of C1 only.
"""

from __future__ import annotations

import polars as pl
import pytest

from lotline import api

FLOUR, SUGAR, DOUGH, COOKIES, TIN = (
    "00614141000012",
    "00614141000029",
    "00614141000036",
    "00614141000043",
    "00614141000050",
)


def exposures(result, direction: str) -> dict[tuple[str, str], float]:  # type: ignore[no-untyped-def]
    chosen = result.lots.filter(pl.col("direction") == direction)
    return {(g, lot): e for g, lot, e in chosen.select("gtin", "lot", "exposure").iter_rows()}


def test_forward_exposure_to_a_raw_lot(small_engine) -> None:
    got = exposures(api.trace_lot(small_engine, FLOUR, "F1", "forward"), "forward")
    expected = {
        (DOUGH, "D1"): 2 / 3,
        (DOUGH, "D2"): 1 / 2,
        (COOKIES, "C1"): 5 / 8,
        (COOKIES, "C2"): 1 / 2,
        (TIN, "T1"): 5 / 8,
    }
    assert got.keys() == expected.keys()
    for lot, share in expected.items():
        assert got[lot] == pytest.approx(share, abs=1e-9), lot


def test_backward_exposure_sums_to_one_over_raw_materials(small_engine) -> None:
    got = exposures(api.trace_lot(small_engine, COOKIES, "C1", "backward"), "backward")
    assert got[(FLOUR, "F1")] == pytest.approx(5 / 8)
    assert got[(SUGAR, "S1")] == pytest.approx(7 / 24)
    assert got[(FLOUR, "F2")] == pytest.approx(1 / 12)
    assert got[(DOUGH, "D1")] == pytest.approx(3 / 4)
    assert got[(DOUGH, "D2")] == pytest.approx(1 / 4)
    raw = [got[(FLOUR, "F1")], got[(SUGAR, "S1")], got[(FLOUR, "F2")]]
    assert sum(raw) == pytest.approx(1.0)


def test_subject_has_full_exposure_and_edges_carry_shares(small_engine) -> None:
    result = api.trace_lot(small_engine, DOUGH, "D1", "both")
    assert exposures(result, "subject") == {(DOUGH, "D1"): 1.0}
    p1 = result.edges.filter(pl.col("production_id") == "P1")
    shares = dict(zip(p1["input_lot"], p1["share"], strict=True))
    assert shares == pytest.approx({"F1": 2 / 3, "S1": 1 / 3})


def test_recall_scoped_by_exposure_keeps_connected_lots_and_their_shipments(small_engine) -> None:
    full = api.trace_lot(small_engine, FLOUR, "F1", "forward")
    scoped = api.trace_lot(small_engine, FLOUR, "F1", "forward", min_exposure=0.6)
    assert set(exposures(scoped, "forward")) == {(DOUGH, "D1"), (COOKIES, "C1"), (TIN, "T1")}
    kept = {("C1",), ("T1",)}
    assert {(lot,) for lot in scoped.shipments["lot"]} <= kept | {("D1",)}
    assert scoped.shipments.height < full.shipments.height
    assert "exposure ≥ 60.0000%" in scoped.notes[0] and "2 less exposed" in scoped.notes[0]


def test_exposure_threshold_needs_the_database(small_engine) -> None:
    lineage = api.load_lineage(small_engine)
    with pytest.raises(ValueError, match="closure table"):
        api.trace_lot(small_engine, FLOUR, "F1", "forward", lineage=lineage, min_exposure=0.5)
