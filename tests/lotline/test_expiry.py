"""Expiry rules on hand-made frames: the boundaries a regulator or a customer would argue about."""

import random
from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl
import pytest

from lotline.expiry import (
    BEST_BEFORE,
    BEST_BEFORE_SOON,
    BUCKET_SUMMARY_COLUMNS,
    BUCKETS,
    ERROR,
    EXPIRED,
    EXPIRING,
    INFO,
    PAST_BEST_BEFORE,
    SHORT_DATED_COLUMNS,
    USE_BY,
    WARNING,
    bucket_summary,
    expiry_bucket,
    expiry_positions,
    local_date,
    location_as_of_dates,
    offset_minutes,
    propagated_expiry,
    shipped_at_or_after_expiry,
    short_dated_at_customers,
    with_expiry_kind,
    with_hold_status,
)
from lotline.intake.contract import EXPIRY_KINDS

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


# --- use-by vs best-before ---------------------------------------------------------------------


def kinds_products(kind: str | None) -> pl.DataFrame:
    return pl.DataFrame(
        {"gtin": [GTIN], "expiry_kind": [kind]}, schema_overrides={"expiry_kind": pl.String}
    )


@pytest.mark.parametrize(
    ("kind", "expiry", "status", "severity", "days"),
    [
        # use-by: usable through its expiry day, expired from the next day
        ("use_by", date(2026, 9, 16), EXPIRING, INFO, 1),
        ("use_by", AS_OF, EXPIRING, INFO, 0),
        ("use_by", date(2026, 9, 14), EXPIRED, ERROR, -1),
        # best-before: the same boundary, but past it is a warning, never "expired"
        ("best_before", date(2026, 9, 16), BEST_BEFORE_SOON, INFO, 1),
        ("best_before", AS_OF, BEST_BEFORE_SOON, INFO, 0),
        ("best_before", date(2026, 9, 14), PAST_BEST_BEFORE, WARNING, -1),
        # no kind recorded: the stricter use-by reading
        (None, date(2026, 9, 14), EXPIRED, ERROR, -1),
    ],
)
def test_status_by_expiry_kind_around_the_day(
    kind: str | None, expiry: date, status: str, severity: str, days: int
):
    lots = lots_frame({"A": expiry})
    result = expiry_positions(
        lots,
        on_hand_frame([(0, "SITE-1", 1.0)]),
        LOCATIONS,
        AS_OF,
        30,
        products=kinds_products(kind),
    )
    assert result.select("status", "severity", "days_to_expiry", "expiry_kind").rows() == [
        (status, severity, days, kind or "use_by")
    ]


def test_best_before_past_is_listed_after_expired_and_before_expiring():
    lots = pl.concat(
        [
            lots_frame({"UB_PAST": date(2026, 9, 1), "UB_SOON": date(2026, 9, 20)}).with_columns(
                expiry_kind=pl.lit("use_by")
            ),
            lots_frame({"BB_PAST": date(2026, 8, 1), "BB_SOON": date(2026, 9, 16)})
            .with_columns(pl.col("lot_key") + 2)
            .with_columns(expiry_kind=pl.lit("best_before")),
        ]
    )
    stock = on_hand_frame([(i, "SITE-1", 1.0) for i in range(4)])
    result = expiry_positions(lots, stock, LOCATIONS, AS_OF, 30)
    assert result.select("lot", "status", "severity").rows() == [
        ("UB_PAST", EXPIRED, ERROR),
        ("BB_PAST", PAST_BEST_BEFORE, WARNING),
        ("UB_SOON", EXPIRING, INFO),
        ("BB_SOON", BEST_BEFORE_SOON, INFO),
    ]


def test_lot_kind_wins_over_product_kind_and_unknown_kinds_are_refused():
    lots = lots_frame({"A": date(2026, 9, 1)}).with_columns(expiry_kind=pl.lit("best_before"))
    assert with_expiry_kind(lots, kinds_products("use_by"))["expiry_kind"].to_list() == [
        "best_before"
    ]
    assert with_expiry_kind(lots.drop("expiry_kind"))["expiry_kind"].to_list() == ["use_by"]
    with pytest.raises(ValueError, match="bestbefore"):
        with_expiry_kind(lots.drop("expiry_kind"), kinds_products("bestbefore"))


# --- the as-of date at the location --------------------------------------------------------------

ZONED = LOCATIONS.with_columns(
    tz_offset=pl.Series([None, "+14:00", "-05:00"], dtype=pl.String),
    time_zone=pl.Series([None, None, "Pacific/Honolulu"], dtype=pl.String),
)


def zoned_positions(as_of: date | datetime, expiry: date) -> list[tuple[str, date, int, str]]:
    lots = lots_frame({"A": expiry})
    stock = on_hand_frame([(0, "SITE-1", 1.0), (0, "WH-1", 1.0), (0, "CUST-A", 1.0)])
    result = expiry_positions(lots, stock, ZONED, as_of, 30)
    return result.select("location_id", "as_of_date", "days_to_expiry", "status").rows()


def test_as_of_instant_is_the_local_date_at_utc_plus_14():
    # 11:00 UTC on the 15th = 01:00 on the 16th at UTC+14 (WH-1), 01:00 on the 15th in Honolulu
    # (CUST-A, UTC−10; its IANA zone wins over the stale -05:00 offset), 11:00 at UTC (SITE-1).
    rows = zoned_positions(datetime(2026, 9, 15, 11, tzinfo=UTC), date(2026, 9, 15))
    assert rows == [
        ("CUST-A", date(2026, 9, 15), 0, EXPIRING),
        ("SITE-1", date(2026, 9, 15), 0, EXPIRING),
        ("WH-1", date(2026, 9, 16), -1, EXPIRED),
    ]


def test_as_of_instant_is_the_local_date_at_utc_minus_10():
    # 05:00 UTC on the 15th is still 19:00 on the 14th in Honolulu: a lot with use-by the 14th
    # is expired at UTC and at UTC+14 but still usable (0 days) in Honolulu.
    rows = zoned_positions(datetime(2026, 9, 15, 5, tzinfo=UTC), date(2026, 9, 14))
    assert rows == [
        ("CUST-A", date(2026, 9, 14), 0, EXPIRING),
        ("SITE-1", date(2026, 9, 15), -1, EXPIRED),
        ("WH-1", date(2026, 9, 15), -1, EXPIRED),
    ]


def test_as_of_date_is_the_same_day_everywhere_and_naive_instants_are_utc():
    assert location_as_of_dates(ZONED, AS_OF)["as_of_date"].to_list() == [AS_OF] * 3
    naive = location_as_of_dates(ZONED, datetime(2026, 9, 15, 11))
    assert naive["as_of_date"].to_list() == [AS_OF, date(2026, 9, 16), AS_OF]
    aware = datetime(2026, 9, 15, 6, tzinfo=timezone(timedelta(hours=-5)))  # 11:00 UTC
    assert location_as_of_dates(ZONED, aware).equals(naive)


def test_unknown_time_zone_is_refused():
    locations = ZONED.with_columns(time_zone=pl.lit("Mars/Olympus_Mons"))
    with pytest.raises(ValueError, match="Mars/Olympus_Mons"):
        location_as_of_dates(locations, datetime(2026, 9, 15, 11, tzinfo=UTC))


def test_stock_at_a_location_missing_from_the_master_uses_the_utc_date():
    lots = lots_frame({"A": AS_OF})
    stock = on_hand_frame([(0, "ELSEWHERE", 1.0)])
    result = expiry_positions(lots, stock, ZONED, datetime(2026, 9, 15, 23, tzinfo=UTC), 30)
    assert result.select("location_name", "as_of_date", "days_to_expiry").rows() == [
        (None, AS_OF, 0)
    ]


# --- shipments of best-before lots -------------------------------------------------------------


def test_best_before_shipments_are_warnings_use_by_shipments_errors():
    lots = SHIP_LOTS.with_columns(
        expiry_kind=pl.when(pl.col("lot") == "B").then(pl.lit("best_before"))
    ).with_columns(
        pl.when(pl.col("lot") == "B").then(EXPIRY).otherwise("expiry_date").alias("expiry_date")
    )
    shipments = shipments_frame(
        [
            ("UB_ON", datetime(2026, 9, 15, 17, tzinfo=UTC), "-05:00", "A"),
            ("BB_BEFORE", datetime(2026, 9, 14, 17, tzinfo=UTC), "-05:00", "B"),
            ("BB_ON", datetime(2026, 9, 15, 17, tzinfo=UTC), "-05:00", "B"),
            ("BB_AFTER", datetime(2026, 9, 16, 17, tzinfo=UTC), "-05:00", "B"),
        ]
    )
    result = shipped_at_or_after_expiry(lots, shipments, LOCATIONS)
    assert result.select("shipment_id", "days_after_expiry", "expiry_kind", "severity").rows() == [
        ("BB_ON", 0, "best_before", WARNING),
        ("UB_ON", 0, "use_by", ERROR),
        ("BB_AFTER", 1, "best_before", WARNING),
    ]


# --- propagation through transformations -----------------------------------------------------


def genealogy(expiries: dict[int, date | None], links: list[tuple[int, int]]):
    lots = pl.DataFrame(
        {"lot_key": list(expiries), "expiry_date": list(expiries.values())},
        schema={"lot_key": pl.Int64, "expiry_date": pl.Date},
    )
    edges = pl.DataFrame(
        {"parent_key": [p for p, _ in links], "child_key": [c for _, c in links]},
        schema={"parent_key": pl.Int64, "child_key": pl.Int64},
    )
    return propagated_expiry(lots, edges)


def test_propagation_through_a_three_level_chain():
    # cream (0) → filling (1) → undated base (2) → cake (3); flour (4) also goes into the cake
    result = genealogy(
        {
            0: date(2026, 9, 10),
            1: date(2026, 9, 30),
            2: None,
            3: date(2026, 10, 1),
            4: date(2027, 3, 1),
            5: date(2026, 9, 10),
        },
        [(0, 1), (1, 2), (2, 3), (4, 3), (0, 5), (0, 5)],
    )
    assert result.columns == [
        "lot_key",
        "expiry_date",
        "earliest_input_expiry",
        "earliest_input_key",
        "outlives_input",
    ]
    assert result.rows() == [
        (0, date(2026, 9, 10), None, None, False),  # no inputs
        (1, date(2026, 9, 30), date(2026, 9, 10), 0, True),
        (2, None, date(2026, 9, 10), 0, False),  # no own date: nothing to compare
        # the cream three levels up, through the undated base, not the flour next to it
        (3, date(2026, 10, 1), date(2026, 9, 10), 0, True),
        (4, date(2027, 3, 1), None, None, False),
        (5, date(2026, 9, 10), date(2026, 9, 10), 0, False),  # same day is not later
    ]


def test_propagation_terminates_on_cycles_and_never_names_a_lot_its_own_input():
    # rework loop 1 → 2 → 3 → 1 fed by 0; 4 is its own input (self-loop); 5 and 6 tie
    result = genealogy(
        {
            0: date(2026, 9, 20),
            1: date(2026, 9, 5),
            2: date(2026, 9, 25),
            3: None,
            4: date(2026, 9, 1),
            5: date(2026, 9, 8),
            6: date(2026, 9, 8),
            7: date(2026, 9, 9),
        },
        [(0, 1), (1, 2), (2, 3), (3, 1), (4, 4), (6, 7), (5, 7)],
    )
    assert result.rows() == [
        (0, date(2026, 9, 20), None, None, False),
        # 1's ancestors are 0, 3, 2 and itself: the earliest other than itself is 0
        (1, date(2026, 9, 5), date(2026, 9, 20), 0, False),
        (2, date(2026, 9, 25), date(2026, 9, 5), 1, True),
        (3, None, date(2026, 9, 5), 1, False),
        (4, date(2026, 9, 1), None, None, False),
        (5, date(2026, 9, 8), None, None, False),
        (6, date(2026, 9, 8), None, None, False),
        (7, date(2026, 9, 9), date(2026, 9, 8), 5, True),  # tie → lowest key
    ]


def test_propagation_agrees_with_a_brute_force_ancestor_walk():
    rng = random.Random(204)
    expiries = {
        k: None if rng.random() < 0.2 else date(2026, 9, 1) + timedelta(days=rng.randrange(60))
        for k in range(60)
    }
    links = [(rng.randrange(60), rng.randrange(60)) for _ in range(120)]  # cycles included
    result = {row[0]: row for row in genealogy(expiries, links).rows()}
    parents: dict[int, set[int]] = {k: set() for k in expiries}
    for parent, child in links:
        parents[child].add(parent)
    for lot, own in expiries.items():
        seen: set[int] = set()
        todo = [lot]
        while todo:
            for parent in parents[todo.pop()] - seen:
                seen.add(parent)
                todo.append(parent)
        dated = sorted((expiries[a], a) for a in seen - {lot} if expiries[a] is not None)
        earliest, key = dated[0] if dated else (None, None)
        outlives = own is not None and earliest is not None and own > earliest
        assert result[lot] == (lot, own, earliest, key, outlives)


def test_time_zone_names_follow_daylight_saving():
    berlin = pl.DataFrame({"location_id": ["DC-BER"], "time_zone": ["Europe/Berlin"]})
    # 22:30 UTC is 00:30 next day in summer (CEST, +02:00) but 23:30 same day in winter (+01:00)
    summer = location_as_of_dates(berlin, datetime(2026, 9, 15, 22, 30, tzinfo=UTC))
    winter = location_as_of_dates(berlin, datetime(2026, 12, 15, 22, 30, tzinfo=UTC))
    assert summer["as_of_date"].to_list() == [date(2026, 9, 16)]
    assert winter["as_of_date"].to_list() == [date(2026, 12, 15)]


def test_expiry_kinds_are_the_contracts():
    assert set(EXPIRY_KINDS) == {USE_BY, BEST_BEFORE}


# --- buckets, hold status, bucket summary ----------------------------------------------------


@pytest.mark.parametrize(
    ("days", "kind", "bucket"),
    [
        (-1, USE_BY, "expired"),
        (-1, BEST_BEFORE, "past best-before"),
        (0, USE_BY, "0-30 d"),
        (30, USE_BY, "0-30 d"),
        (31, USE_BY, "31-90 d"),
        (90, BEST_BEFORE, "31-90 d"),
        (91, USE_BY, "91-180 d"),
        (180, USE_BY, "91-180 d"),
        (181, USE_BY, "over 180 d"),
        (None, USE_BY, None),
        (5, None, "0-30 d"),
    ],
)
def test_bucket_boundaries(days: int | None, kind: str | None, bucket: str | None):
    frame = pl.DataFrame({"d": [days], "k": [kind]}, schema={"d": pl.Int64, "k": pl.String})
    result = frame.select(expiry_bucket(pl.col("d"), pl.col("k")).alias("bucket"))
    assert result["bucket"].to_list() == [bucket]
    assert bucket is None or bucket in BUCKETS


def test_positions_carry_their_bucket():
    result = positions_for(
        {"A": date(2026, 9, 14), "B": AS_OF, "C": date(2026, 12, 1), "D": date(2027, 6, 1)},
        within_days=400,
    )
    assert result.select("lot", "bucket").rows() == [
        ("A", "expired"),
        ("B", "0-30 d"),
        ("C", "31-90 d"),
        ("D", "over 180 d"),
    ]


def lot_status(rows: list[tuple[str, str | None, str]]) -> pl.DataFrame:
    """rows: (lot, serial, status) in force."""
    return pl.DataFrame(
        {
            "gtin": [GTIN] * len(rows),
            "lot": [r[0] for r in rows],
            "serial": [r[1] for r in rows],
            "status": [r[2] for r in rows],
            "status_at": [datetime(2026, 9, 10, 8, tzinfo=UTC)] * len(rows),
            "status_reason": ["moisture"] * len(rows),
        },
        schema_overrides={"serial": pl.String, "status_at": pl.Datetime("us", "UTC")},
    )


def test_hold_status_is_the_restricting_status_in_force_on_the_lot():
    positions = positions_for({"H": AS_OF, "R": AS_OF, "S": AS_OF, "N": AS_OF})
    status = lot_status(
        [
            ("H", None, "hold"),
            ("R", None, "release"),
            ("S", None, "release"),
            ("S", "S-1", "quarantine"),
            ("S", "S-2", "quarantine"),
            ("S", "S-3", "release"),
        ]
    )
    result = with_hold_status(positions, status)
    assert result.height == positions.height
    assert result.select("lot", "hold_status", "hold_reason", "serials_restricted").rows() == [
        ("H", "hold", "moisture", 0),
        ("N", None, None, 0),
        ("R", None, None, 0),
        ("S", None, None, 2),
    ]
    assert result.filter(pl.col("lot") == "H")["hold_since"].to_list() == [
        datetime(2026, 9, 10, 8, tzinfo=UTC)
    ]


def test_bucket_summary_counts_lots_and_held_stock_per_unit_never_across_units():
    lots = lots_frame(
        {"A": date(2026, 9, 1), "B": date(2026, 9, 2), "C": AS_OF, "E": date(2026, 9, 20)}
    ).with_columns(pl.Series("uom", ["KGM", "KGM", "KGM", "EA"]))
    stock = on_hand_frame(
        [(0, "SITE-1", 10.0), (1, "SITE-1", 2.5), (2, "SITE-1", 4.0), (3, "SITE-1", 3.0)]
    ).with_columns(pl.Series("uom", ["KGM", "KGM", "KGM", "EA"]))
    positions = with_hold_status(
        expiry_positions(lots, stock, LOCATIONS, AS_OF, 30), lot_status([("B", None, "hold")])
    )
    summary = bucket_summary(positions)
    assert summary.columns == BUCKET_SUMMARY_COLUMNS
    assert summary.drop("location_name").rows() == [
        ("SITE-1", USE_BY, "expired", "KGM", 2, 12.5, 1, 2.5),
        ("SITE-1", USE_BY, "0-30 d", "EA", 1, 3.0, 0, 0.0),
        ("SITE-1", USE_BY, "0-30 d", "KGM", 1, 4.0, 0, 0.0),
    ]


def test_bucket_summary_keeps_best_before_apart_after_use_by():
    lots = lots_frame({"U": date(2026, 9, 1), "B": date(2026, 9, 1)}).with_columns(
        pl.Series("expiry_kind", [USE_BY, BEST_BEFORE])
    )
    positions = expiry_positions(
        lots, on_hand_frame([(0, "SITE-1", 1.0), (1, "SITE-1", 2.0)]), LOCATIONS, AS_OF, 30
    )
    assert bucket_summary(positions).select("expiry_kind", "bucket", "quantity").rows() == [
        (USE_BY, "expired", 1.0),
        (BEST_BEFORE, "past best-before", 2.0),
    ]


# --- customers holding short-dated stock -----------------------------------------------------

CUSTOMER_LOTS = lots_frame(
    {
        "GONE": date(2026, 9, 10),  # expired 5 days before as-of
        "SOON": date(2026, 10, 15),  # 30 days left: short-dated
        "LATER": date(2026, 10, 16),  # 31 days left: not
    }
)


def customer_shipments(rows: list[tuple[str, datetime, str, str, float]]) -> pl.DataFrame:
    """rows: (shipment_id, shipped_at UTC, to_location_id, lot, quantity); ship-from WH-1."""
    keys = {"GONE": 0, "SOON": 1, "LATER": 2}
    return pl.DataFrame(
        {
            "lot_key": [keys[r[3]] for r in rows],
            "shipment_id": [r[0] for r in rows],
            "shipped_at": [r[1] for r in rows],
            "tz_offset": ["-05:00"] * len(rows),
            "from_location_id": ["WH-1"] * len(rows),
            "to_location_id": [r[2] for r in rows],
            "gtin": [GTIN] * len(rows),
            "lot": [r[3] for r in rows],
            "quantity": [r[4] for r in rows],
            "uom": ["KGM"] * len(rows),
        },
        schema_overrides={"shipped_at": pl.Datetime("us", "UTC")},
    )


def at_noon(day: int, month: int = 9) -> datetime:
    return datetime(2026, month, day, 17, tzinfo=UTC)  # 12:00 at -05:00


def short_dated(rows, **kwargs) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    return short_dated_at_customers(
        CUSTOMER_LOTS, customer_shipments(rows), LOCATIONS, AS_OF, **kwargs
    )


def test_customers_holding_expired_or_nearly_expired_lots():
    result = short_dated(
        [
            ("S1", at_noon(1), "CUST-A", "GONE", 5.0),
            ("S2", at_noon(3), "CUST-A", "GONE", 2.0),
            ("S3", at_noon(2), "CUST-A", "SOON", 4.0),
            ("S4", at_noon(2), "CUST-A", "LATER", 9.0),
        ]
    )
    assert result.columns == SHORT_DATED_COLUMNS
    assert result.select(
        "lot", "days_to_expiry", "status", "quantity_received", "shipments", "last_ship_date"
    ).rows() == [
        ("GONE", -5, EXPIRED, 7.0, 2, date(2026, 9, 3)),
        ("SOON", 30, EXPIRING, 4.0, 1, date(2026, 9, 2)),
    ]
    assert result.select("consignee_name", "consignee_address", "consignee_phone").row(0) == (
        "Corner Grocer Inc",
        "22 Main St, Springfield, IL 62701, US",
        "+1 555 0104",
    )


def test_lines_on_or_after_expiry_after_the_as_of_date_or_to_own_sites_do_not_count():
    result = short_dated(
        [
            ("S1", at_noon(10), "CUST-A", "GONE", 5.0),  # on the expiry day: a late shipment
            ("S2", at_noon(16), "CUST-A", "SOON", 4.0),  # after the as-of date
            ("S3", at_noon(2), "WH-1", "SOON", 4.0),  # a transfer to an own warehouse
        ]
    )
    assert result.is_empty()


def test_returns_from_the_consignee_are_subtracted():
    returns = pl.DataFrame(
        {
            "gtin": [GTIN, GTIN],
            "lot": ["SOON", "SOON"],
            "quantity": [1.5, 9.0],
            "uom": ["KGM", "KGM"],
            "from_location_id": ["CUST-A", "SITE-1"],
            "reason": ["return", "transfer"],
        }
    )
    result = short_dated([("S1", at_noon(2), "CUST-A", "SOON", 4.0)], returns=returns)
    assert result.select("quantity_received", "quantity_returned", "quantity_net").row(0) == (
        4.0,
        1.5,
        2.5,
    )


def test_best_before_lots_at_customers_are_never_expired():
    lots = CUSTOMER_LOTS.with_columns(pl.lit(BEST_BEFORE).alias("expiry_kind"))
    result = short_dated_at_customers(
        lots, customer_shipments([("S1", at_noon(1), "CUST-A", "GONE", 5.0)]), LOCATIONS, AS_OF
    )
    assert result.select("status", "severity").rows() == [(PAST_BEST_BEFORE, WARNING)]


def test_the_short_dated_threshold_is_a_parameter():
    rows = [("S1", at_noon(2), "CUST-A", "SOON", 4.0)]
    assert short_dated(rows, days=29).is_empty()
    with pytest.raises(ValueError):
        short_dated(rows, days=-1)
