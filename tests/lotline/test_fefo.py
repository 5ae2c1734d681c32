"""FEFO violations on a hand-made warehouse: which earlier lots count as available, and when.

The base case: at WH-1 lot OLD (expiry 2026-10-10) and lot NEW (expiry 2026-12-01) both arrive
on 1 Sep; on 10 Sep at 14:00 UTC 10 KGM of NEW ship to a customer while 40 KGM of OLD are on
hand — one violation. Each other test changes one thing about OLD.
"""

from datetime import UTC, date, datetime

import polars as pl
import pytest

from lotline.fefo import (
    VIOLATION_COLUMNS,
    earlier_lots_available,
    fefo_violations,
    stock_at,
)
from lotline.status import STATUS_SCHEMA

GTIN = "00614141000036"
SHIP_AT = datetime(2026, 9, 10, 14, tzinfo=UTC)
SEP_1 = datetime(2026, 9, 1, 8, tzinfo=UTC)

LOCATIONS = pl.DataFrame(
    {
        "location_id": ["WH-1", "WH-2", "CUST-A"],
        "kind": ["warehouse", "warehouse", "customer"],
        "business_name": ["Central Warehouse", "North Warehouse", "Corner Grocer Inc"],
        "phone": [None, None, "+1 555 0104"],
        "street": [None, None, "22 Main St"],
        "city": [None, None, "Springfield"],
        "region": [None, None, "IL"],
        "postal_code": [None, None, "62701"],
        "country": [None, None, "US"],
    }
)


def lots(**expiries: date | None) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "gtin": [GTIN] * len(expiries),
            "lot": list(expiries),
            "product_name": ["Cookie dough"] * len(expiries),
            "uom": ["KGM"] * len(expiries),
            "expiry_date": list(expiries.values()),
        },
        schema_overrides={"expiry_date": pl.Date},
    )


LOTS = lots(OLD=date(2026, 10, 10), NEW=date(2026, 12, 1))


def ledger(*rows: tuple[str, str, float, datetime, str]) -> pl.DataFrame:
    """rows: (lot, location_id, signed quantity, at, kind)."""
    return pl.DataFrame(
        {
            "gtin": [GTIN] * len(rows),
            "lot": [r[0] for r in rows],
            "location_id": [r[1] for r in rows],
            "quantity": [r[2] for r in rows],
            "at": [r[3] for r in rows],
            "kind": [r[4] for r in rows],
        },
        schema={
            "gtin": pl.String,
            "lot": pl.String,
            "location_id": pl.String,
            "quantity": pl.Float64,
            "at": pl.Datetime("us", "UTC"),
            "kind": pl.String,
        },
    )


BASE = [
    ("OLD", "WH-1", 40.0, SEP_1, "moved_in"),
    ("NEW", "WH-1", 100.0, SEP_1, "moved_in"),
    ("NEW", "WH-1", -10.0, SHIP_AT, "shipped"),
]


def shipments(*rows: tuple[str, str, str, float, datetime]) -> pl.DataFrame:
    """rows: (shipment_id, lot, from_location_id, quantity, shipped_at)."""
    return pl.DataFrame(
        {
            "shipment_id": [r[0] for r in rows],
            "shipped_at": [r[4] for r in rows],
            "tz_offset": ["-05:00"] * len(rows),
            "from_location_id": [r[2] for r in rows],
            "to_location_id": ["CUST-A"] * len(rows),
            "gtin": [GTIN] * len(rows),
            "lot": [r[1] for r in rows],
            "serial": [None] * len(rows),
            "quantity": [r[3] for r in rows],
            "uom": ["KGM"] * len(rows),
            "ref_doc_type": ["bol"] * len(rows),
            "ref_doc_number": [f"BOL-{r[0]}" for r in rows],
        },
        schema_overrides={"shipped_at": pl.Datetime("us", "UTC"), "serial": pl.String},
    )


SHIP_NEW = shipments(("SH1", "NEW", "WH-1", 10.0, SHIP_AT))


def status_events(*rows: tuple[str, str, datetime]) -> pl.DataFrame:
    """rows: (lot, status, at) — lot-level decisions."""
    return pl.DataFrame(
        {
            "status_id": [f"ST{i}" for i in range(len(rows))],
            "at": [r[2] for r in rows],
            "gtin": [GTIN] * len(rows),
            "lot": [r[0] for r in rows],
            "serial": [None] * len(rows),
            "status": [r[1] for r in rows],
            "actor": ["QA"] * len(rows),
            "reason": ["test"] * len(rows),
        },
        schema=STATUS_SCHEMA,
    )


NO_EVENTS = pl.DataFrame(schema=STATUS_SCHEMA)


def violations(
    flows: list[tuple[str, str, float, datetime, str]] = BASE,
    shipped: pl.DataFrame = SHIP_NEW,
    events: pl.DataFrame = NO_EVENTS,
    lot_frame: pl.DataFrame = LOTS,
) -> pl.DataFrame:
    return fefo_violations(shipped, lot_frame, ledger(*flows), LOCATIONS, events)


def test_later_lot_shipped_while_an_earlier_one_is_on_hand_is_a_violation():
    result = violations()
    assert result.columns == VIOLATION_COLUMNS
    assert result.select(
        "shipment_id",
        "ship_date",
        "lot",
        "expiry_date",
        "quantity",
        "earlier_lot_count",
        "earliest_expiry_date",
        "days_earlier",
        "earlier_on_hand",
        "earlier_lots",
        "consignee_name",
        "from_location_name",
    ).rows() == [
        (
            "SH1",
            date(2026, 9, 10),
            "NEW",
            date(2026, 12, 1),
            10.0,
            1,
            date(2026, 10, 10),
            52,
            40.0,
            "OLD (expiry 2026-10-10, 40 on hand)",
            "Corner Grocer Inc",
            "Central Warehouse",
        )
    ]


def test_shipping_the_earliest_lot_is_not_a_violation():
    flows = [*BASE[:2], ("OLD", "WH-1", -10.0, SHIP_AT, "shipped")]
    assert violations(flows, shipments(("SH1", "OLD", "WH-1", 10.0, SHIP_AT))).is_empty()


def test_earlier_lot_on_hold_is_not_available():
    events = status_events(("OLD", "hold", datetime(2026, 9, 5, tzinfo=UTC)))
    assert violations(events=events).is_empty()


def test_earlier_lot_released_before_the_shipment_is_available_again():
    events = status_events(
        ("OLD", "quarantine", datetime(2026, 9, 5, tzinfo=UTC)),
        ("OLD", "release", datetime(2026, 9, 9, tzinfo=UTC)),
    )
    assert violations(events=events)["lot"].to_list() == ["NEW"]


def test_a_hold_decided_after_the_shipment_does_not_count():
    events = status_events(("OLD", "recall", datetime(2026, 9, 11, tzinfo=UTC)))
    assert violations(events=events).height == 1


def test_earlier_lot_already_expired_is_not_available():
    expired = lots(OLD=date(2026, 9, 9), NEW=date(2026, 12, 1))
    assert violations(lot_frame=expired).is_empty()


def test_earlier_lot_on_its_expiry_day_is_not_available():
    # local ship date is 10 Sep (14:00 UTC is 09:00 at -05:00): OLD's last day
    last_day = lots(OLD=date(2026, 9, 10), NEW=date(2026, 12, 1))
    assert violations(lot_frame=last_day).is_empty()
    day_after = lots(OLD=date(2026, 9, 11), NEW=date(2026, 12, 1))
    assert violations(lot_frame=day_after).height == 1


def test_earlier_lot_at_another_location_is_not_available():
    flows = [("OLD", "WH-2", 40.0, SEP_1, "moved_in"), *BASE[1:]]
    assert violations(flows).is_empty()


def test_earlier_lot_received_after_the_shipment_is_not_available():
    later = datetime(2026, 9, 11, 8, tzinfo=UTC)
    flows = [("OLD", "WH-1", 40.0, later, "moved_in"), *BASE[1:]]
    assert violations(flows).is_empty()


def test_earlier_lot_emptied_before_or_by_the_same_shipment_is_not_available():
    gone = [*BASE, ("OLD", "WH-1", -40.0, datetime(2026, 9, 9, tzinfo=UTC), "moved_out")]
    assert violations(gone).is_empty()
    both = shipments(("SH1", "OLD", "WH-1", 40.0, SHIP_AT), ("SH1", "NEW", "WH-1", 10.0, SHIP_AT))
    same = [*BASE, ("OLD", "WH-1", -40.0, SHIP_AT, "shipped")]
    assert violations(same, both).is_empty()


def test_returned_stock_awaiting_evaluation_is_not_available_until_the_lot_leaves_again():
    emptied = datetime(2026, 9, 3, tzinfo=UTC)
    back = datetime(2026, 9, 8, tzinfo=UTC)
    flows = [
        *BASE[:2],
        ("OLD", "WH-1", -40.0, emptied, "shipped"),
        ("OLD", "WH-1", 5.0, back, "returned"),
        BASE[2],
    ]
    assert violations(flows).is_empty()
    # 40 more of OLD arrive after the return: 40 available, the 5 returned still pending
    refill = [*flows, ("OLD", "WH-1", 40.0, datetime(2026, 9, 9, tzinfo=UTC), "moved_in")]
    assert violations(refill)["earlier_on_hand"].to_list() == [40.0]
    # once some of OLD leaves again the returned units count as stock again
    moved = [*refill, ("OLD", "WH-1", -1.0, datetime(2026, 9, 9, 12, tzinfo=UTC), "moved_out")]
    assert violations(moved)["earlier_on_hand"].to_list() == [44.0]


def test_shipments_from_a_customer_location_and_undated_lots_are_ignored():
    from_customer = shipments(("SH9", "NEW", "CUST-A", 10.0, SHIP_AT))
    assert violations(shipped=from_customer).is_empty()
    undated = lots(OLD=date(2026, 10, 10), NEW=None)
    assert violations(lot_frame=undated).is_empty()


def test_every_available_earlier_lot_is_listed_earliest_first():
    three = lots(OLDER=date(2026, 10, 1), OLD=date(2026, 10, 10), NEW=date(2026, 12, 1))
    flows = [("OLDER", "WH-1", 2.5, SEP_1, "moved_in"), *BASE]
    result = violations(flows, lot_frame=three)
    assert result.select("earlier_lot_count", "earlier_on_hand", "earlier_lots").rows() == [
        (2, 42.5, "OLDER (expiry 2026-10-01, 2.5 on hand); OLD (expiry 2026-10-10, 40 on hand)")
    ]
    detail = earlier_lots_available(SHIP_NEW, three, ledger(*flows), LOCATIONS, NO_EVENTS)
    assert detail.select("earlier_lot", "earlier_on_hand").rows() == [
        ("OLDER", 2.5),
        ("OLD", 40.0),
    ]


def test_serial_lines_of_one_lot_are_one_shipment_line():
    lines = shipments(
        ("SH1", "NEW", "WH-1", 1.0, SHIP_AT), ("SH1", "NEW", "WH-1", 1.0, SHIP_AT)
    ).with_columns(pl.Series("serial", ["S1", "S2"]))
    assert violations(shipped=lines).select("shipment_id", "quantity").rows() == [("SH1", 2.0)]


def test_stock_at_counts_every_movement_up_to_and_including_the_time():
    flows = ledger(
        ("OLD", "WH-1", 40.0, SEP_1, "moved_in"),
        ("OLD", "WH-1", -15.0, SHIP_AT, "shipped"),
        ("OLD", "WH-2", 7.0, SEP_1, "moved_in"),
    )
    asked = pl.DataFrame(
        {
            "gtin": [GTIN] * 4,
            "lot": ["OLD"] * 4,
            "location_id": ["WH-1", "WH-1", "WH-1", "WH-2"],
            "when": [
                datetime(2026, 8, 31, tzinfo=UTC),
                datetime(2026, 9, 5, tzinfo=UTC),
                SHIP_AT,
                SHIP_AT,
            ],
        },
        schema_overrides={"when": pl.Datetime("us", "UTC")},
    )
    result = stock_at(flows, asked, "when")
    assert result.select("location_id", "on_hand", "available").rows() == [
        ("WH-1", 0.0, 0.0),
        ("WH-1", 40.0, 40.0),
        ("WH-1", 25.0, 25.0),
        ("WH-2", 7.0, 7.0),
    ]


@pytest.mark.parametrize("kind", [None, "moved_in"])
def test_a_ledger_without_kinds_has_no_returns(kind: str | None):
    flows = ledger(("OLD", "WH-1", 5.0, SEP_1, "returned"))
    flows = flows.drop("kind") if kind is None else flows.with_columns(pl.lit(kind).alias("kind"))
    asked = pl.DataFrame(
        {"gtin": [GTIN], "lot": ["OLD"], "location_id": ["WH-1"], "when": [SHIP_AT]},
        schema_overrides={"when": pl.Datetime("us", "UTC")},
    )
    assert stock_at(flows, asked, "when")["available"].to_list() == [5.0]
