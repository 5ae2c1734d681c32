"""Mass balance on hand-made chains: exact balances, unit conversion, the tolerance edges."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

import models
from lotline import store
from lotline.lineage import Records, build_lineage
from lotline.mass_balance import (
    FAIL,
    NO_INFLOW,
    PASS,
    UNCONVERTIBLE,
    lot_balance,
    scope_balance,
)

FLOUR, COOKIES = "00614141000012", "00614141000043"
MODELS = {"products": models.Product, "locations": models.Location, **models.RECORD_TABLES}
PRODUCTS = [
    {"gtin": FLOUR, "name": "Wheat flour", "tracking": "lot", "uom": "KGM"},
    {
        "gtin": COOKIES,
        "name": "Butter cookies 12x200g",
        "tracking": "lot",
        "uom": "CS",
        "pack_size": 2.4,
        "pack_uom": "KGM",
        "pack_style": "case",
    },
]
LOCATIONS = [
    {"location_id": loc, "kind": kind, "business_name": loc}
    for loc, kind in [
        ("SUP", "supplier"),
        ("SITE", "site"),
        ("WH", "warehouse"),
        ("CUST", "customer"),
    ]
]


def at(day: int) -> datetime:
    return datetime(2026, 9, day, 12, tzinfo=UTC)


def frame(name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = store.polars_schema(MODELS[name])
    defaults = {"tz_offset": "+00:00"}
    return pl.DataFrame(
        [{c: row.get(c, defaults.get(c)) for c in schema} for row in rows], schema=schema
    )


def chain(**rows: list[dict[str, Any]]) -> Records:
    """Records of the given rows (columns and types as stored), master data by default."""
    given = {"products": PRODUCTS, "locations": LOCATIONS, **rows}
    return Records(**{f.name: frame(f.name, given.get(f.name, [])) for f in fields(Records)})


def receipt(lot: str, qty: float, uom: str = "KGM", gtin: str = FLOUR, to: str = "SITE") -> dict:
    return {
        "receipt_id": f"R-{lot}",
        "received_at": at(1),
        "from_location_id": "SUP",
        "to_location_id": to,
        "gtin": gtin,
        "lot": lot,
        "quantity": qty,
        "uom": uom,
    }


def produced(lot: str, qty: float, uom: str = "CS", gtin: str = COOKIES) -> dict:
    return {
        "production_id": f"P-{lot}",
        "completed_at": at(2),
        "location_id": "SITE",
        "gtin": gtin,
        "lot": lot,
        "quantity": qty,
        "uom": uom,
    }


def consumed(production_id: str, lot: str, qty: float, uom: str = "KGM", gtin: str = FLOUR) -> dict:
    return {"production_id": production_id, "gtin": gtin, "lot": lot, "quantity": qty, "uom": uom}


def moved(
    move_id: str, lot: str, qty: float, uom: str, src: str | None, dst: str | None, reason: str
) -> dict:
    return {
        "move_id": move_id,
        "moved_at": at(3),
        "gtin": COOKIES if lot.startswith("C") else FLOUR,
        "lot": lot,
        "quantity": qty,
        "uom": uom,
        "from_location_id": src,
        "to_location_id": dst,
        "reason": reason,
    }


def shipped(
    shipment_id: str, lot: str, qty: float, uom: str = "CS", src: str = "WH", dst: str = "CUST"
) -> dict:
    return {
        "shipment_id": shipment_id,
        "shipped_at": at(4),
        "from_location_id": src,
        "to_location_id": dst,
        "gtin": COOKIES if lot.startswith("C") else FLOUR,
        "lot": lot,
        "quantity": qty,
        "uom": uom,
    }


def balance_of(records: Records, **kwargs: Any) -> dict[str, dict[str, Any]]:
    result = lot_balance(records, build_lineage(records), **kwargs)
    return {row["lot"]: row for row in result.iter_rows(named=True)}


def test_received_lot_consumed_and_on_hand_balances_exactly() -> None:
    records = chain(
        receipts=[receipt("F1", 1000)],
        production=[produced("C1", 100)],
        consumption=[consumed("P-C1", "F1", 240)],
    )
    flour = balance_of(records)["F1"]
    assert (flour["quantity_received"], flour["quantity_consumed"]) == (1000, 240)
    assert flour["quantity_on_hand"] == 760
    assert (flour["inflow"], flour["accounted"], flour["difference"]) == (1000, 1000, 0)
    assert flour["balance_ratio"] == 1.0 and flour["status"] == PASS


def test_records_in_other_units_are_converted_before_summing() -> None:
    # 100 CS made; 90 CS to WH; 48 KGM (= 20 CS of 2.4 kg) shipped; 2400 GRM (= 1 CS) scrapped.
    records = chain(
        production=[produced("C1", 100)],
        moves=[
            moved("M1", "C1", 90, "CS", "SITE", "WH", "transfer"),
            moved("M2", "C1", 2400, "GRM", "SITE", None, "scrap"),
        ],
        shipments=[shipped("S1", "C1", 48, "KGM")],
    )
    lineage = build_lineage(records)
    assert lineage.lots["quantity_shipped"].to_list() == [48]  # lineage sums recorded numbers
    cookies = balance_of(records)["C1"]
    assert cookies["uom"] == "CS"
    assert cookies["quantity_shipped"] == pytest.approx(20)
    assert cookies["quantity_destroyed"] == pytest.approx(1)
    assert cookies["quantity_on_hand"] == pytest.approx(9 + 70)
    assert cookies["balance_ratio"] == pytest.approx(1.0)
    assert cookies["status"] == PASS


def test_transfers_and_returns_and_adjustments() -> None:
    # a shipment between own locations is a transfer, not an outflow; a return and a positive
    # adjustment are inflow: 100 + 5 + 1 in, 30 shipped + 76 on hand accounted
    records = chain(
        production=[produced("C1", 100)],
        moves=[
            moved("M1", "C1", 5, "CS", "CUST", "WH", "return"),
            moved("M2", "C1", 1, "CS", None, "WH", "adjustment"),
        ],
        shipments=[shipped("S1", "C1", 60, src="SITE", dst="WH"), shipped("S2", "C1", 30)],
    )
    cookies = balance_of(records)["C1"]
    assert cookies["quantity_shipped"] == 30
    assert (cookies["quantity_returned"], cookies["quantity_adjusted_in"]) == (5, 1)
    assert cookies["quantity_on_hand"] == 40 + (60 + 5 + 1 - 30)
    assert (cookies["inflow"], cookies["accounted"]) == (106, 106)
    assert cookies["status"] == PASS


def test_shipping_stock_a_location_never_had_fails() -> None:
    # made at SITE, shipped from WH without a transfer: WH would be at -50, which cannot be
    # counted, so 100 on hand + 50 shipped = 150 % of what was made
    records = chain(production=[produced("C1", 100)], shipments=[shipped("S1", "C1", 50)])
    cookies = balance_of(records)["C1"]
    assert cookies["quantity_on_hand"] == 100
    assert cookies["balance_ratio"] == pytest.approx(1.5)
    assert cookies["difference"] == 50
    assert cookies["status"] == FAIL


@pytest.mark.parametrize(
    ("leaked", "over", "status"),
    [
        (5, 0, PASS),  # 995 / 1000 = 99.5 %: on the lower edge
        (6, 0, FAIL),  # 99.4 %
        (0, 15, PASS),  # 1015 / 1000 = 101.5 %: on the upper edge
        (0, 16, FAIL),  # 101.6 %
    ],
)
def test_tolerance_edges_are_inclusive(leaked: float, over: float, status: str) -> None:
    # leaked: moved to a supplier without a shipment (leaves the books, accounted nowhere);
    # over: shipped from WH, where the lot never was (negative position counts as zero)
    moves = [moved("M1", "F1", leaked, "KGM", "SITE", "SUP", "transfer")] if leaked else []
    shipments = [shipped("S1", "F1", over, "KGM")] if over else []
    records = chain(receipts=[receipt("F1", 1000)], moves=moves, shipments=shipments)
    flour = balance_of(records)["F1"]
    assert flour["balance_ratio"] == pytest.approx((1000 - leaked + over) / 1000)
    assert flour["status"] == status


def test_tolerance_is_configurable_and_checked() -> None:
    records = chain(
        receipts=[receipt("F1", 1000)],
        moves=[moved("M1", "F1", 20, "KGM", "SITE", "SUP", "transfer")],
    )
    assert balance_of(records)["F1"]["status"] == FAIL
    assert balance_of(records, tolerance=(0.98, 1.02))["F1"]["status"] == PASS
    with pytest.raises(ValueError, match="tolerance"):
        balance_of(records, tolerance=(1.01, 1.02))


def test_unconvertible_and_no_inflow_lots_are_not_judged() -> None:
    records = chain(
        production=[produced("C1", 100)],
        moves=[moved("M1", "C9", 4, "CS", None, "WH", "adjustment")],
        shipments=[shipped("S1", "C1", 12, "EA", src="SITE")],  # cookies per case unknown
    )
    lots = balance_of(records)
    assert lots["C1"]["status"] == UNCONVERTIBLE and lots["C1"]["unconvertible_rows"] == 1
    assert lots["C9"]["status"] == NO_INFLOW and lots["C9"]["balance_ratio"] == 1.0


def test_scope_balance_sums_per_unit_and_fails_on_any_failing_lot() -> None:
    records = chain(
        receipts=[receipt("F1", 1000), receipt("F2", 500)],
        production=[produced("C1", 100), produced("C2", 80)],
        consumption=[consumed("P-C1", "F1", 240), consumed("P-C2", "F2", 192)],
        moves=[moved("M1", "F2", 10, "KGM", "SITE", "SUP", "transfer")],  # F2 at 98 %
    )
    lots = lot_balance(records, build_lineage(records))
    keys = dict(zip(lots["lot"], lots["lot_key"], strict=True))
    scope = scope_balance(lots, [keys["F1"], keys["F2"], keys["C1"]])
    by_uom = {row["uom"]: row for row in scope.iter_rows(named=True)}
    assert set(by_uom) == {"KGM", "CS"}
    kgm = by_uom["KGM"]
    assert (kgm["lots"], kgm["failing_lots"]) == (2, 1)
    assert (kgm["inflow"], kgm["accounted"], kgm["difference"]) == (1500, 1490, -10)
    assert kgm["balance_ratio"] == pytest.approx(1490 / 1500)
    assert kgm["status"] == FAIL
    assert by_uom["CS"]["inflow"] == 100 and by_uom["CS"]["status"] == PASS
    assert set(scope["scope_status"]) == {FAIL}  # a failing lot fails the scope

    clean = scope_balance(lots, pl.DataFrame({"gtin": [FLOUR], "lot": ["F1"]}))
    assert clean["lots"].to_list() == [1]
    assert clean["scope_status"].to_list() == [PASS]
