"""Record-retention end dates on hand-made lots, each date computed by hand in the test."""

from datetime import UTC, date, datetime

import polars as pl

from lotline.retention import DSCSA, EU, FSMA, RETENTION_COLUMNS, retention_dates, years_after

GTIN = "00614141000036"
LOCATIONS = pl.DataFrame(
    {
        "location_id": ["SUP", "SITE", "WH", "CUST"],
        "kind": ["supplier", "site", "warehouse", "customer"],
    }
)


def lots(rows: list[tuple[str, date | None, datetime]]) -> pl.DataFrame:
    """rows: (lot, expiry_date, first_seen_at)."""
    return pl.DataFrame(
        {
            "gtin": [GTIN] * len(rows),
            "lot": [r[0] for r in rows],
            "product_name": ["Cookie dough"] * len(rows),
            "expiry_date": [r[1] for r in rows],
            "first_seen_at": [r[2] for r in rows],
        },
        schema_overrides={"expiry_date": pl.Date, "first_seen_at": pl.Datetime("us", "UTC")},
    )


def ledger(rows: list[tuple[str, str, datetime, str]]) -> pl.DataFrame:
    """rows: (lot, location_id, at, kind)."""
    return pl.DataFrame(
        {
            "gtin": [GTIN] * len(rows),
            "lot": [r[0] for r in rows],
            "location_id": [r[1] for r in rows],
            "quantity": [1.0] * len(rows),
            "at": [r[2] for r in rows],
            "kind": [r[3] for r in rows],
        },
        schema_overrides={"at": pl.Datetime("us", "UTC")},
    )


def at(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def test_each_rule_and_the_latest_of_them():
    frame = retention_dates(
        lots([("A", date(2027, 3, 31), at(2026, 3, 31))]),
        ledger(
            [
                ("A", "SITE", at(2026, 4, 1), "received"),
                ("A", "CUST", at(2026, 9, 1), "delivered"),
                ("A", "WH", at(2026, 9, 10), "moved_in"),
            ]
        ),
        LOCATIONS,
    )
    assert frame.columns == RETENTION_COLUMNS
    assert frame.row(0, named=True) == {
        "gtin": GTIN,
        "lot": "A",
        "product_name": "Cookie dough",
        "expiry_date": date(2027, 3, 31),
        "release_date": date(2026, 3, 31),
        "last_record_date": date(2026, 9, 10),
        "last_transaction_date": date(2026, 9, 1),
        "fsma_until": date(2028, 9, 10),  # last record + 2 y
        "dscsa_until": date(2032, 9, 1),  # last transaction + 6 y
        "eu_until": date(2031, 3, 31),  # max(2028-03-31, release + 5 y = 2031-03-31)
        "keep_until": date(2032, 9, 1),
        "keep_until_rule": DSCSA,
    }


def test_a_lot_that_never_changed_hands_has_no_dscsa_date():
    # made at the site, moved to the warehouse (a transfer) and shipped to it: no transaction
    frame = retention_dates(
        lots([("W", date(2026, 10, 1), at(2026, 9, 1))]),
        ledger(
            [
                ("W", "SITE", at(2026, 9, 1), "produced"),
                ("W", "WH", at(2026, 9, 2), "delivered"),
            ]
        ),
        LOCATIONS,
    )
    row = frame.row(0, named=True)
    assert row["last_transaction_date"] is None and row["dscsa_until"] is None
    assert row["fsma_until"] == date(2028, 9, 2)
    assert row["eu_until"] == date(2031, 9, 1)  # release + 5 y beats expiry + 1 y
    assert (row["keep_until"], row["keep_until_rule"]) == (date(2031, 9, 1), EU)


def test_a_long_dated_lot_is_kept_for_a_year_after_expiry():
    frame = retention_dates(
        lots([("L", date(2034, 5, 1), at(2026, 1, 10))]),
        ledger([("L", "SITE", at(2026, 1, 10), "produced")]),
        LOCATIONS,
    )
    assert frame.select("eu_until", "keep_until", "keep_until_rule").row(0) == (
        date(2035, 5, 1),
        date(2035, 5, 1),
        EU,
    )


def test_without_an_expiry_date_only_the_release_term_applies_and_fsma_can_win():
    frame = retention_dates(
        lots([("N", None, at(2020, 6, 1))]),
        ledger(
            [("N", "SITE", at(2020, 6, 1), "produced"), ("N", "WH", at(2024, 2, 1), "moved_in")]
        ),
        LOCATIONS,
    )
    assert frame.select("eu_until", "fsma_until", "keep_until", "keep_until_rule").row(0) == (
        date(2025, 6, 1),
        date(2026, 2, 1),
        date(2026, 2, 1),
        FSMA,
    )


def test_a_returned_lot_counts_the_return_as_a_transaction():
    frame = retention_dates(
        lots([("R", date(2027, 1, 1), at(2026, 1, 1))]),
        ledger(
            [
                ("R", "CUST", at(2026, 2, 1), "delivered"),
                ("R", "WH", at(2026, 3, 1), "returned"),
            ]
        ),
        LOCATIONS,
    )
    assert frame["last_transaction_date"].to_list() == [date(2026, 3, 1)]


def test_dates_are_utc_calendar_dates():
    # 23:30 at -05:00 on 31 Dec is 04:30 UTC on 1 Jan
    late = datetime(2027, 1, 1, 4, 30, tzinfo=UTC)
    frame = retention_dates(
        lots([("U", None, late)]), ledger([("U", "SITE", late, "produced")]), LOCATIONS
    )
    assert frame["last_record_date"].to_list() == [date(2027, 1, 1)]


def test_years_after_moves_a_missing_29_february_to_1_march():
    days = pl.Series([date(2028, 2, 29), date(2028, 2, 28), date(2026, 1, 31), None])
    assert pl.select(years_after(pl.lit(days), 1)).to_series().to_list() == [
        date(2029, 3, 1),
        date(2029, 2, 28),
        date(2027, 1, 31),
        None,
    ]
    assert pl.select(years_after(pl.lit(days), 4)).to_series().to_list()[0] == date(2032, 2, 29)
