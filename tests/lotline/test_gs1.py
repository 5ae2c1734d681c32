import calendar
import re
from datetime import UTC, date, datetime

import polars as pl
import pytest

from lotline import gs1


@pytest.mark.parametrize("key", ["12345678901231", "1234567890128", "02345673", "00300010123455"])
def test_valid_gtins(key: str) -> None:
    assert gs1.is_gtin(key)


@pytest.mark.parametrize("key", ["12345678901232", "1234567890", "abcdefghijklm", ""])
def test_invalid_gtins(key: str) -> None:
    assert not gs1.is_gtin(key)


def test_gtin14_pads_shorter_gtins() -> None:
    assert gs1.to_gtin14("1234567890128") == "01234567890128"
    with pytest.raises(ValueError):
        gs1.to_gtin14("12345678901232")


def test_expression_agrees_with_scalar_rule() -> None:
    keys = [
        "12345678901231",
        "12345678901232",
        "02345673",
        "123456789012345675",
        "403000112345678902",
        None,
        "12a45678901231",
    ]
    frame = pl.DataFrame({"k": keys}).with_columns(
        gtin=gs1.valid_check_digit_expr(pl.col("k"), gs1.GTIN_LENGTHS),
        sscc=gs1.valid_check_digit_expr(pl.col("k"), (18,)),
    )
    for key, gtin_ok, sscc_ok in frame.iter_rows():
        assert gtin_ok == (key is not None and gs1.has_valid_check_digit(key, gs1.GTIN_LENGTHS))
        assert sscc_ok == (key is not None and gs1.has_valid_check_digit(key, (18,)))


# --- GS1 YYMMDD dates (AI 11/13/15/16/17) ----------------------------------------------------

TODAY = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("260915", date(2026, 9, 15)),
        ("240200", date(2024, 2, 29)),  # day 00 in Feb of a leap year
        ("250200", date(2025, 2, 28)),  # ... and of a common year
        ("260400", date(2026, 4, 30)),  # day 00 in a 30-day month
        ("261200", date(2026, 12, 31)),
        ("240229", date(2024, 2, 29)),
        ("000229", date(2000, 2, 29)),  # 2000 is a leap year (divisible by 400)
    ],
)
def test_parse_yymmdd(value: str, expected: date) -> None:
    assert gs1.parse_yymmdd(value, today=TODAY) == expected


@pytest.mark.parametrize(
    ("value", "today", "year"),
    [
        # current year 2026: the window is 1977…2076
        ("761231", date(2026, 1, 1), 2076),  # +50: still this century
        ("770101", date(2026, 12, 31), 1977),  # +51 → previous century (−49)
        ("000101", date(2026, 6, 1), 2000),
        ("990101", date(2026, 6, 1), 1999),
        # current year 2050: 2001…2100
        ("000101", date(2050, 6, 1), 2100),  # −50 → next century
        ("010101", date(2050, 6, 1), 2001),  # −49: this century
        # current year 2049: 2000…2099
        ("990101", date(2049, 6, 1), 2099),
        ("000101", date(2049, 6, 1), 2000),
    ],
)
def test_century_window_is_minus_49_plus_50(value: str, today: date, year: int) -> None:
    assert gs1.parse_yymmdd(value, today=today).year == year
    assert gs1.century_year(int(value[:2]), today.year) == year


def test_february_follows_the_resolved_century() -> None:
    # "00" read in 2050 is 2100, which is not a leap year (divisible by 100, not by 400)
    assert gs1.parse_yymmdd("000200", today=date(2050, 1, 1)) == date(2100, 2, 28)
    assert gs1.parse_yymmdd("000200", today=date(2026, 1, 1)) == date(2000, 2, 29)
    with pytest.raises(ValueError, match="does not exist in 2100-02"):
        gs1.parse_yymmdd("000229", today=date(2050, 1, 1))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("260230", "day 30 does not exist in 2026-02 (28 days)"),
        ("250229", "day 29 does not exist in 2025-02 (28 days)"),
        ("260431", "day 31 does not exist in 2026-04 (30 days)"),
        ("260932", "day 32 does not exist in 2026-09 (30 days)"),
        ("261301", "month 13 is not 01-12"),
        ("260015", "month 00 is not 01-12"),
        ("26091", "not six digits"),
        ("2609150", "not six digits"),
        ("26O915", "not six digits"),
        (" 60915", "not six digits"),
        ("２６０９１５", "not six digits"),  # full-width digits are not GS1 digits
        ("", "not six digits"),
    ],
)
def test_invalid_yymmdd_is_rejected_with_a_reason(value: str, reason: str) -> None:
    assert gs1.yymmdd_problem(value, today=TODAY) == reason
    with pytest.raises(ValueError, match=re.escape(reason)):
        gs1.parse_yymmdd(value, today=TODAY)
    frame = pl.DataFrame({"v": [value]}).select(
        d=gs1.parse_yymmdd_expr(pl.col("v"), current_year=2026),
        why=gs1.yymmdd_problem_expr(pl.col("v"), current_year=2026),
    )
    assert frame.row(0) == (None, reason)


def test_day_00_can_be_refused_for_regulated_healthcare() -> None:
    with pytest.raises(ValueError, match="day 00"):
        gs1.parse_yymmdd("260400", today=TODAY, allow_day_00=False)
    assert gs1.parse_yymmdd("260430", today=TODAY, allow_day_00=False) == date(2026, 4, 30)
    frame = pl.DataFrame({"v": ["260400", "260430"]}).select(
        d=gs1.parse_yymmdd_expr(pl.col("v"), current_year=2026, allow_day_00=False),
        why=gs1.yymmdd_problem_expr(pl.col("v"), current_year=2026, allow_day_00=False),
    )
    assert frame.rows() == [
        (None, "day 00 (end of month) is not allowed"),
        (date(2026, 4, 30), None),
    ]


def test_expression_takes_the_current_year_per_row() -> None:
    frame = pl.DataFrame({"v": ["000200", "000200", None], "year": [2026, 2050, 2026]})
    result = frame.select(
        d=gs1.parse_yymmdd_expr(pl.col("v"), current_year=pl.col("year")),
        why=gs1.yymmdd_problem_expr(pl.col("v"), current_year=pl.col("year")),
    )
    # a missing date is not a syntax problem: required-ness is the contract's business
    assert result.rows() == [(date(2000, 2, 29), None), (date(2100, 2, 28), None), (None, None)]


def test_default_current_year_is_this_year_in_utc() -> None:
    today = datetime.now(UTC).date()
    value = f"{today.year % 100:02d}0100"
    assert gs1.parse_yymmdd(value) == date(today.year, 1, 31)
    frame = pl.DataFrame({"v": [value]}).select(gs1.parse_yymmdd_expr(pl.col("v")).alias("d"))
    assert frame["d"].to_list() == [date(today.year, 1, 31)]


@pytest.mark.parametrize("current_year", [2026, 2050])
def test_expression_agrees_with_scalar_on_every_yymm_and_day(current_year: int) -> None:
    values = [
        f"{yy:02d}{mm:02d}{dd:02d}" for yy in range(100) for mm in range(14) for dd in range(33)
    ]
    frame = pl.DataFrame({"v": values}).select(
        "v",
        d=gs1.parse_yymmdd_expr(pl.col("v"), current_year=current_year),
        why=gs1.yymmdd_problem_expr(pl.col("v"), current_year=current_year),
    )
    today = date(current_year, 7, 1)
    expected = []
    for value in values:
        reason = gs1.yymmdd_problem(value, today=today)
        expected.append((value, None if reason else gs1.parse_yymmdd(value, today=today), reason))
    assert frame.rows() == expected
    valid = frame.filter(pl.col("d").is_not_null())
    # 100 years × 12 months × (days + day 00): the only rejections are months and impossible days
    assert valid.height == sum(
        calendar.monthrange(gs1.century_year(yy, current_year), mm)[1] + 1
        for yy in range(100)
        for mm in range(1, 13)
    )
