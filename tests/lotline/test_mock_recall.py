"""Mock recall drills on the small supply chain: the stored record, its % accounted, the
history and its trend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from lotline import api, mock_recall, store
from lotline.intake.ingest import load_folder

GTIN = "00614141000043"
LOT = "C1"
START = datetime(2026, 11, 26, 9, 0, tzinfo=timezone(timedelta(hours=-5)))


def ticking(start: datetime, seconds: float) -> Iterator[datetime]:
    """A clock that advances `seconds` per reading: times to answer become exact."""
    at = start
    while True:
        yield at
        at += timedelta(seconds=seconds)


def clock_of(start: datetime, seconds: float):  # type: ignore[no-untyped-def]
    ticks = ticking(start, seconds)
    return lambda: next(ticks)


def test_drill_is_stored_with_times_scope_and_percent(small_engine: sa.Engine) -> None:
    drill = mock_recall.run_drill(
        small_engine, GTIN, LOT, "both", run_by="qa.lead", clock=clock_of(START, 42.5)
    )
    history = mock_recall.drill_history(small_engine)
    assert history.height == 1
    stored = history.row(0, named=True)
    assert stored["drill_id"] == drill.drill_id
    assert stored["drill_id"].startswith("DRL-20261126140000-")
    assert stored["started_at"] == START.astimezone(UTC)
    assert stored["finished_at"] == START.astimezone(UTC) + timedelta(seconds=42.5)
    assert stored["seconds_to_answer"] == pytest.approx(42.5)
    assert (stored["gtin"], stored["lot"], stored["direction"], stored["run_by"]) == (
        GTIN,
        LOT,
        "both",
        "qa.lead",
    )

    trace = api.trace_lot(small_engine, GTIN, LOT, "both")
    assert (
        stored["snapshot_id"]
        == trace.snapshot_id
        == api.current_snapshot(small_engine)["snapshot_id"]
    )
    assert stored["lots_reached"] == trace.lots["lot_key"].n_unique() == 8
    assert stored["shipments"] == trace.shipments["shipment_id"].n_unique() == 3
    assert stored["consignees"] == 2
    assert set(trace.consignees["to_location_id"]) == {"CUST-A", "CUST-B"}

    # The scope mixes cases, eaches and kilograms: no overall quantity; the % is the unit
    # furthest from 100 %.
    balance = api.scope_balance(small_engine, trace)
    per_unit = (balance["accounted"] / balance["inflow"] * 100).to_list()
    assert sorted(balance["uom"]) == ["CS", "EA", "KGM"]
    assert stored["quantity_inflow"] is None and stored["quantity_accounted"] is None
    assert stored["percent_accounted"] == pytest.approx(max(per_unit, key=lambda p: abs(p - 100)))
    assert drill.balance["percent_accounted"].to_list() == pytest.approx(per_unit)
    assert stored["status"] == balance["scope_status"][0] == "pass"
    assert stored["document_number"] is None and stored["pdf_path"] is None


def test_single_unit_scope_has_overall_quantities() -> None:
    balance = pl.DataFrame(
        {"uom": ["KGM", "KGM"], "inflow": [100.0, 50.0], "accounted": [90.0, 45.0]}
    )
    assert mock_recall.overall_accounted(balance) == (150.0, 135.0, pytest.approx(90.0))


def test_mixed_units_take_the_unit_furthest_from_full() -> None:
    balance = pl.DataFrame(
        {"uom": ["CS", "KGM", "EA"], "inflow": [10.0, 200.0, 0.0], "accounted": [10.0, 150.0, 2.0]}
    )
    assert mock_recall.overall_accounted(balance) == (None, None, pytest.approx(75.0))
    assert mock_recall.percent_accounted(balance)["percent_accounted"].to_list() == [
        100.0,
        75.0,
        None,
    ]


def test_two_drills_make_a_history_with_its_trend(small_engine: sa.Engine) -> None:
    first = mock_recall.run_drill(
        small_engine, GTIN, LOT, "both", run_by="a", clock=clock_of(START, 30)
    )
    second = mock_recall.run_drill(
        small_engine,
        GTIN,
        LOT,
        "forward",
        run_by="b",
        clock=clock_of(START + timedelta(days=7), 12),
    )
    trend = mock_recall.drill_trend(mock_recall.drill_history(small_engine))
    assert trend["drill_id"].to_list() == [first.drill_id, second.drill_id]
    assert trend["drill_number"].to_list() == [1, 2]
    assert trend["seconds_to_answer"].to_list() == pytest.approx([30.0, 12.0])
    assert trend["seconds_change"].to_list()[1] == pytest.approx(-18.0)
    assert trend["mean_seconds_to_date"].to_list() == pytest.approx([30.0, 21.0])
    assert trend["direction"].to_list() == ["both", "forward"]
    percents = trend["percent_accounted"].to_list()
    assert trend["mean_percent_to_date"].to_list() == pytest.approx(
        [percents[0], (percents[0] + percents[1]) / 2]
    )
    summary = mock_recall.trend_summary(trend)
    assert summary["drills"] == 2
    assert summary["mean_seconds"] == pytest.approx(21.0)
    assert second.record["lots_reached"] < first.record["lots_reached"]


def test_unknown_direction_is_refused_and_nothing_stored(small_engine: sa.Engine) -> None:
    with pytest.raises(ValueError, match="direction"):
        mock_recall.run_drill(small_engine, GTIN, LOT, "sideways")  # type: ignore[arg-type]
    assert mock_recall.drill_history(small_engine).is_empty()


def test_over_accounted_unit_sets_the_drill_percent() -> None:
    balance = pl.DataFrame(
        {"uom": ["CS", "KGM"], "inflow": [100.0, 200.0], "accounted": [104.0, 198.0]}
    )
    assert mock_recall.overall_accounted(balance) == (None, None, pytest.approx(104.0))


def test_single_unit_drill_stores_overall_quantities(small_engine: sa.Engine) -> None:
    drill = mock_recall.run_drill(small_engine, "00614141000012", "F1", "backward", run_by="qa")
    stored = mock_recall.drill_history(small_engine).row(0, named=True)
    assert stored["lots_reached"] == 1 and stored["consignees"] == 0
    assert (stored["quantity_inflow"], stored["quantity_accounted"]) == (1000.0, 1000.0)
    assert stored["percent_accounted"] == pytest.approx(100.0)
    assert drill.record["status"] == "pass"


EXTRA_SHIPMENT = (
    "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,serial,sscc,quantity,uom,"
    "ref_doc_type,ref_doc_number\n"
    "SH8,2026-09-13T07:00:00-05:00,SITE-1,CUST-A,00614141000043,C1,,,10,CS,bol,BOL-508\n"
)


def test_unbalanced_scope_is_recorded_as_failing(small_drop: Path, sqlite_url: str) -> None:
    # 10 more cases shipped from a site holding only 8: the scope is over-accounted in cases.
    (small_drop / "shipments_extra.csv").write_text(EXTRA_SHIPMENT)
    engine = store.make_engine(sqlite_url)
    load_folder(engine, small_drop)
    drill = mock_recall.run_drill(engine, GTIN, LOT, "forward", run_by="qa")
    cases = drill.balance.filter(pl.col("uom") == "CS").row(0, named=True)
    assert cases["accounted"] > cases["inflow"]
    stored = mock_recall.drill_history(engine).row(0, named=True)
    assert stored["percent_accounted"] == pytest.approx(cases["accounted"] / cases["inflow"] * 100)
    assert stored["percent_accounted"] > 100
    assert stored["status"] == "fail"
