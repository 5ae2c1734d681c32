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

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from lotline import api, store, trace
from lotline.intake.ingest import load_folder

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


PALLET1, PALLET2 = "306141410000010012", "306141410000010029"
CASE1 = "306141410000020011"
PACKING = Path(__file__).parents[1] / "data" / "packing"


@pytest.fixture
def packed_engine(small_drop: Path, sqlite_url: str):  # type: ignore[no-untyped-def]
    """The small chain plus its pallets and cases (tests/data/packing/README.md)."""
    for source in PACKING.glob("*.csv"):
        shutil.copy(source, small_drop / source.name)
    engine = store.make_engine(sqlite_url)
    assert load_folder(engine, small_drop).rejected.is_empty()
    return engine


def subject_lots(result) -> set[str]:  # type: ignore[no-untyped-def]
    return set(result.lots.filter(pl.col("direction") == "subject")["lot"])


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_sscc_trace_reaches_everything_packed_at_that_time(packed_engine) -> None:
    before = api.trace_sscc(packed_engine, PALLET1, local("2026-09-09T09:00:00-05:00"))
    assert subject_lots(before) == {"C1", "C2", "T1"}  # case 1 (T1), case 2 (C1), 5 CS of C2
    assert "2 nested SSCCs, 2 serials, 2 lot quantities in 3 lots" in before.notes[0]
    backward = set(before.lots.filter(pl.col("direction") == "backward")["lot"])
    assert {"F1", "F2", "S1", "D1", "D2"} <= backward
    assert set(before.shipments["lot"]) >= {"C1", "C2"}


def test_sscc_trace_follows_unpack_and_repack(packed_engine) -> None:
    after = local("2026-09-09T15:00:00-05:00")
    # case 2 (C1) moved from pallet 1 to pallet 2 at 13:00/14:00; T1-0003 left case 1 at 12:00
    assert subject_lots(api.trace_sscc(packed_engine, PALLET1, after)) == {"C2", "T1"}
    assert subject_lots(api.trace_sscc(packed_engine, PALLET2, after)) == {"C1"}
    case = api.trace_sscc(packed_engine, CASE1, local("2026-09-09T12:30:00-05:00"))
    assert "1 serials" in case.notes[0]
    with pytest.raises(trace.UnknownSubject, match="held nothing"):
        api.trace_sscc(packed_engine, PALLET2, local("2026-09-09T10:00:00-05:00"))


def test_cli_traces_an_sscc(packed_engine, sqlite_url: str, capsys) -> None:
    from lotline.cli import main

    args = ["trace", "--database-url", sqlite_url, "--sscc", PALLET2]
    assert main([*args, "--at", "2026-09-09T15:00:00-05:00", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["subject"]["sscc"] == PALLET2
    assert {lot["lot"] for lot in out["lots"] if lot["direction"] == "subject"} == {"C1"}
    assert main(["trace", "--database-url", sqlite_url, "--sscc", PALLET2, "--gtin", TIN]) == 2


def test_scope_balance_and_quality_tables_from_the_database(small_engine) -> None:
    result = api.trace_lot(small_engine, COOKIES, "C1", "both")
    scope = api.scope_balance(small_engine, result)
    assert set(scope["uom"]) == {"KGM", "CS", "EA"}  # flour and dough, cookies, tins
    assert scope["lots"].sum() == result.lots.height
    per_lot = api.lot_balance(small_engine)
    assert per_lot.height == 10 and set(per_lot["status"]) <= {"pass", "fail", "no_inflow"}
    findings = api.trace_exceptions(small_engine)
    assert "output_outlives_input" in set(findings["check"])
    scores = api.completeness(small_engine)
    assert scores.height == 10 and scores["score"].is_between(0, 1).all()


def test_a_misspelt_direction_is_refused(small_engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="direction 'upstream': one of backward, forward, both"):
        api.trace_lot(small_engine, "00614141000043", "C1", "upstream")  # type: ignore[arg-type]
