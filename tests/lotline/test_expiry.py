"""Expiry rules on hand-made frames: the boundaries a regulator or a customer would argue about."""

from datetime import UTC, date, datetime

import polars as pl
import pytest

from lotline.expiry import (
    EXPIRED,
    EXPIRING,
    expiry_positions,
    local_date,
    offset_minutes,
    shipped_at_or_after_expiry,
)

AS_OF = date(2026, 9, 15)
GTIN = "00614141000036"


def lots_frame(expiries: dict[str, date | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lot_key": list(range(len(expiries))),
            "gtin": [GTIN] * len(expiries),
            "lot": list(expiries),
            "product_name": ["Cookie dough"] * len(expiries),
            "uom": ["KGM"] * len(expiries),
            "expiry_date": list(expiries.values()),
        },
        schema={
            "lot_key": pl.Int64,
            "gtin": pl.String,
            "lot": pl.String,
            "product_name": pl.String,
            "uom": pl.String,
            "expiry_date": pl.Date,
        },
    )


def on_hand_frame(rows: list[tuple[int, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lot_key": [r[0] for r in rows],
            "location_id": [r[1] for r in rows],
            "quantity": [r[2] for r in rows],
            "uom": ["KGM"] * len(rows),
            "last_movement_at": [datetime(2026, 9, 1, 12, tzinfo=UTC)] * len(rows),
        },
        schema={
            "lot_key": pl.Int64,
            "location_id": pl.String,
            "quantity": pl.Float64,
            "uom": pl.String,
            "last_movement_at": pl.Datetime("us", "UTC"),
        },
    )


LOCATIONS = pl.DataFrame(
    {
        "location_id": ["SITE-1", "WH-1", "CUST-A"],
        "kind": ["site", "warehouse", "customer"],
        "business_name": [
            "Lotline Bakery Plant 1",
            "Lotline Central Warehouse",
            "Corner Grocer Inc",
        ],
        "phone": ["+1 555 0102", "+1 555 0103", "+1 555 0104"],
        "street": ["100 Oven Ave", "7 Dock Lane", "22 Main St"],
        "city": ["Chicago", "Joliet", "Springfield"],
        "region": ["IL", "IL", "IL"],
        "postal_code": ["60607", "60431", "62701"],
        "country": ["US", "US", "US"],
    }
)


def positions_for(
    expiries: dict[str, date | None],
    within_days: int = 30,
    stock: list[tuple[int, str, float]] | None = None,
) -> pl.DataFrame:
    lots = lots_frame(expiries)
    stock = stock if stock is not None else [(i, "SITE-1", 10.0) for i in range(lots.height)]
    return expiry_positions(lots, on_hand_frame(stock), LOCATIONS, AS_OF, within_days)


def test_expiry_on_the_as_of_day_is_expiring_with_zero_days():
    result = positions_for({"A": AS_OF})
    assert result.select("lot", "status", "days_to_expiry").rows() == [("A", EXPIRING, 0)]


def test_expiry_the_day_before_is_expired():
    result = positions_for({"A": date(2026, 9, 14)})
    assert result.select("lot", "status", "days_to_expiry").rows() == [("A", EXPIRED, -1)]


def test_window_includes_its_last_day_and_excludes_the_day_after():
    result = positions_for(
        {"LAST": date(2026, 10, 15), "BEYOND": date(2026, 10, 16)}, within_days=30
    )
    assert result.select("lot", "status", "days_to_expiry").rows() == [("LAST", EXPIRING, 30)]


def test_zero_day_window_keeps_only_expired_and_today():
    result = positions_for(
        {"OLD": date(2026, 1, 1), "TODAY": AS_OF, "TOMORROW": date(2026, 9, 16)}, within_days=0
    )
    assert result.select("lot", "status").rows() == [("OLD", EXPIRED), ("TODAY", EXPIRING)]


def test_lots_without_expiry_and_empty_or_negative_stock_are_left_out():
    result = positions_for(
        {"NO_DATE": None, "ZERO": date(2026, 9, 1), "NEGATIVE": date(2026, 9, 1), "OK": AS_OF},
        stock=[(0, "SITE-1", 5.0), (1, "SITE-1", 0.0), (2, "WH-1", -3.0), (3, "WH-1", 4.0)],
    )
    assert result["lot"].to_list() == ["OK"]


def test_one_row_per_lot_and_location_with_location_name_and_columns():
    result = positions_for(
        {"A": date(2026, 9, 10), "B": date(2026, 9, 20)},
        stock=[(0, "WH-1", 7.0), (0, "SITE-1", 3.0), (1, "SITE-1", 2.5)],
    )
    assert result.select("location_id", "location_name", "lot", "status", "quantity").rows() == [
        ("SITE-1", "Lotline Bakery Plant 1", "A", EXPIRED, 3.0),
        ("SITE-1", "Lotline Bakery Plant 1", "B", EXPIRING, 2.5),
        ("WH-1", "Lotline Central Warehouse", "A", EXPIRED, 7.0),
    ]
    for column in (
        "gtin",
        "lot",
        "product_name",
        "location_id",
        "location_name",
        "quantity",
        "uom",
        "expiry_date",
        "days_to_expiry",
        "status",
    ):
        assert column in result.columns
    assert result["uom"].to_list() == ["KGM"] * 3
    assert result["days_to_expiry"].to_list() == [-5, 5, -5]


def test_frames_without_lot_key_join_on_gtin_and_lot():
    lots = lots_frame({"A": AS_OF}).drop("lot_key")
    stock = pl.DataFrame({"gtin": [GTIN], "lot": ["A"], "location_id": ["WH-1"], "quantity": [1.0]})
    result = expiry_positions(lots, stock, LOCATIONS, AS_OF, 30)
    assert result.select("lot", "location_name", "uom", "days_to_expiry").rows() == [
        ("A", "Lotline Central Warehouse", "KGM", 0)
    ]


def test_negative_window_is_refused():
    with pytest.raises(ValueError):
        positions_for({"A": AS_OF}, within_days=-1)


# --- shipments at or after expiry ------------------------------------------------------------


def shipments_frame(rows: list[tuple[str, datetime, str | None, str]]) -> pl.DataFrame:
    """rows: (shipment_id, shipped_at UTC, tz_offset, lot)."""
    lots = {"A": 0, "B": 1, "NO_DATE": 2}
    return pl.DataFrame(
        {
            "lot_key": [lots[r[3]] for r in rows],
            "shipment_id": [r[0] for r in rows],
            "shipped_at": [r[1] for r in rows],
            "tz_offset": [r[2] for r in rows],
            "from_location_id": ["WH-1"] * len(rows),
            "to_location_id": ["CUST-A"] * len(rows),
            "gtin": [GTIN] * len(rows),
            "lot": [r[3] for r in rows],
            "serial": [None] * len(rows),
            "sscc": [None] * len(rows),
            "quantity": [5.0] * len(rows),
            "uom": ["KGM"] * len(rows),
            "ref_doc_type": ["bol"] * len(rows),
            "ref_doc_number": [f"BOL-{r[0]}" for r in rows],
        },
        schema_overrides={
            "shipped_at": pl.Datetime("us", "UTC"),
            "tz_offset": pl.String,
            "serial": pl.String,
            "sscc": pl.String,
        },
    )


EXPIRY = date(2026, 9, 15)
SHIP_LOTS = lots_frame({"A": EXPIRY, "B": date(2026, 12, 31), "NO_DATE": None})


def late(rows: list[tuple[str, datetime, str | None, str]]) -> pl.DataFrame:
    return shipped_at_or_after_expiry(SHIP_LOTS, shipments_frame(rows), LOCATIONS)


def test_shipment_on_the_expiry_day_and_after_are_flagged_before_is_not():
    result = late(
        [
            ("BEFORE", datetime(2026, 9, 14, 17, tzinfo=UTC), "-05:00", "A"),
            ("ON", datetime(2026, 9, 15, 17, tzinfo=UTC), "-05:00", "A"),
            ("AFTER", datetime(2026, 9, 20, 17, tzinfo=UTC), "-05:00", "A"),
            ("OTHER_LOT", datetime(2026, 9, 20, 17, tzinfo=UTC), "-05:00", "B"),
            ("NO_EXPIRY", datetime(2027, 9, 20, 17, tzinfo=UTC), "-05:00", "NO_DATE"),
        ]
    )
    assert result.select("shipment_id", "ship_date", "days_after_expiry").rows() == [
        ("ON", EXPIRY, 0),
        ("AFTER", date(2026, 9, 20), 5),
    ]


def test_ship_date_is_the_local_date_of_the_shipment_not_the_utc_date():
    result = late(
        [
            # 20:00 on the 14th in Chicago is 01:00 UTC on the 15th: shipped before expiry.
            ("EVENING_CHICAGO", datetime(2026, 9, 15, 1, tzinfo=UTC), "-05:00", "A"),
            # 01:00 on the 15th in Berlin is 23:00 UTC on the 14th: shipped on the expiry day.
            ("NIGHT_BERLIN", datetime(2026, 9, 14, 23, tzinfo=UTC), "+02:00", "A"),
            # 23:30 on the 14th in Kolkata (+05:30) is 18:00 UTC on the 14th: before.
            ("KOLKATA", datetime(2026, 9, 14, 18, tzinfo=UTC), "+05:30", "A"),
        ]
    )
    assert result.select("shipment_id", "ship_date", "days_after_expiry").rows() == [
        ("NIGHT_BERLIN", EXPIRY, 0)
    ]


def test_missing_or_z_offset_means_utc():
    result = late(
        [
            ("NULL_OFFSET", datetime(2026, 9, 15, 0, 30, tzinfo=UTC), None, "A"),
            ("Z_OFFSET", datetime(2026, 9, 14, 23, 30, tzinfo=UTC), "Z", "A"),
        ]
    )
    assert result.select("shipment_id", "ship_date").rows() == [("NULL_OFFSET", EXPIRY)]


def test_late_shipments_name_the_consignee():
    result = late([("ON", datetime(2026, 9, 15, 17, tzinfo=UTC), "-05:00", "A")])
    row = result.row(0, named=True)
    assert row["consignee_name"] == "Corner Grocer Inc"
    assert row["consignee_address"] == "22 Main St, Springfield, IL 62701, US"
    assert row["consignee_phone"] == "+1 555 0104"
    assert row["product_name"] == "Cookie dough"
    assert row["expiry_date"] == EXPIRY
    assert row["quantity"] == 5.0 and row["uom"] == "KGM"


def test_offset_parsing():
    frame = pl.DataFrame({"o": ["+00:00", "-05:00", "+05:30", "Z", None, "garbage", "+0930"]})
    assert frame.select(offset_minutes(pl.col("o")).alias("m"))["m"].to_list() == [
        0,
        -300,
        330,
        0,
        0,
        0,
        570,
    ]


def test_local_date_accepts_naive_utc_instants():
    frame = pl.DataFrame({"t": [datetime(2026, 9, 15, 1)], "o": ["-05:00"]})
    assert frame.select(local_date(pl.col("t"), pl.col("o")).alias("d"))["d"].to_list() == [
        date(2026, 9, 14)
    ]
