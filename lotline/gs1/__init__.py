"""GS1 identifiers: check digits and normalisation, as scalar functions and Polars expressions.

The check digit rule is the same for GTIN-8/12/13/14, GLN and SSCC: weights 3,1,3,1… from the
right, excluding the check digit; check = (10 − sum mod 10) mod 10. Leading zeros do not change
the sum, so every key is left-padded to 18 digits and checked by one expression.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime

import polars as pl

GTIN_LENGTHS = (8, 12, 13, 14)
_WIDTH = 18


def check_digit(body: str) -> int:
    """Check digit for the digits `body` (the key without its check digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def has_valid_check_digit(key: str, lengths: tuple[int, ...]) -> bool:
    return key.isdigit() and len(key) in lengths and check_digit(key[:-1]) == int(key[-1])


def is_gtin(value: str) -> bool:
    return has_valid_check_digit(value, GTIN_LENGTHS)


def to_gtin14(value: str) -> str:
    """GTIN-8/12/13/14 as the 14-digit form stored everywhere (raises on an invalid GTIN)."""
    if not is_gtin(value):
        raise ValueError(f"not a valid GTIN: {value!r}")
    return value.zfill(14)


def with_check_digit(body: str) -> str:
    return body + str(check_digit(body))


def valid_check_digit_expr(expr: pl.Expr, lengths: tuple[int, ...]) -> pl.Expr:
    """True where `expr` is an all-digit key of an allowed length with a correct check digit."""
    # the key as one integer (18 digits fit an Int64): digits by integer arithmetic, which is
    # several times faster on millions of rows than slicing the text digit by digit
    number = pl.when(expr.str.contains(r"^[0-9]+$")).then(expr.cast(pl.Int64, strict=False))
    # the last digit is the check digit; weight 3 for the digit right before it, then 1, 3…
    weighted = pl.sum_horizontal(
        ((number // 10**power) % 10) * (3 if power % 2 == 1 else 1) for power in range(1, _WIDTH)
    )
    return (
        expr.str.len_chars().is_in(list(lengths)) & ((10 - weighted % 10) % 10 == number % 10)
    ).fill_null(False)


def gtin14_expr(expr: pl.Expr) -> pl.Expr:
    return expr.str.zfill(14)


# --- GS1 dates: AI (11) production, (13) packaging, (15) best before, (16) sell by, (17) expiry --

DATE_AIS = {
    "11": "production date",
    "13": "packaging date",
    "15": "best before date",
    "16": "sell by date",
    "17": "expiration date",
}


def century_year(yy: int, current_year: int) -> int:
    """The four-digit year of a two-digit GS1 year: the one within −49/+50 of `current_year`.

    GS1 General Specifications §7.12 ("Determination of century in dates"): with d = YY − the
    last two digits of the current year, d in 51…99 is the previous century, d in −99…−50 the
    next, anything else the current century — i.e. the year lies in [current − 49, current + 50].
    Why a window and not a fixed pivot: a label read in 2026 saying "77" is a 1977 production
    date, never 2077, while "76" is a (long) 2076 expiry.
    """
    if not 0 <= yy <= 99:
        raise ValueError(f"two-digit year out of range: {yy}")
    return current_year + (yy - current_year % 100 + 149) % 100 - 49


def parse_yymmdd(value: str, *, today: date | None = None, allow_day_00: bool = True) -> date:
    """A GS1 `YYMMDD` date element (AI 11/13/15/16/17) as a calendar date.

    Rules: exactly six digits; century by `century_year` relative to `today`'s year (default:
    today in UTC); month 01–12; day `00` means the last day of that month (leap years included,
    GenSpecs §3.4.7) unless `allow_day_00` is False — regulated healthcare labels SHALL NOT use
    `00` from 1 Jan 2025; any other day must exist in that month of the resolved year. Raises
    ValueError saying why, because a silently wrong expiry is worse than a rejected record.
    """
    reason = yymmdd_problem(value, today=today, allow_day_00=allow_day_00)
    if reason is not None:
        raise ValueError(f"invalid GS1 YYMMDD date {value!r}: {reason}")
    year = century_year(int(value[:2]), _current_year(today))
    month, day = int(value[2:4]), int(value[4:6])
    return date(year, month, day or calendar.monthrange(year, month)[1])


def yymmdd_problem(
    value: str, *, today: date | None = None, allow_day_00: bool = True
) -> str | None:
    """Why `value` is not a valid GS1 `YYMMDD` date (as `parse_yymmdd` reads it), or None."""
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        return "not six digits"
    month, day = int(value[2:4]), int(value[4:6])
    if not 1 <= month <= 12:
        return f"month {value[2:4]} is not 01-12"
    if day == 0:
        return None if allow_day_00 else "day 00 (end of month) is not allowed"
    year = century_year(int(value[:2]), _current_year(today))
    days = calendar.monthrange(year, month)[1]
    if day > days:
        return f"day {value[4:6]} does not exist in {year}-{value[2:4]} ({days} days)"
    return None


def _current_year(today: date | None) -> int:
    return (today or datetime.now(UTC).date()).year


def parse_yymmdd_expr(
    expr: pl.Expr, *, current_year: int | pl.Expr | None = None, allow_day_00: bool = True
) -> pl.Expr:
    """`parse_yymmdd` as a Polars expression: a Date, null where the value is not a valid date.

    `current_year` may be a column (e.g. the year a historical record was made); default: this
    year in UTC. `yymmdd_problem_expr` gives the reason a value was rejected.
    """
    parts = _yymmdd_parts(expr, current_year)
    yyyymm = pl.concat_str([parts["year"].cast(pl.String), parts["mm"]])
    month_start = pl.concat_str([yyyymm, pl.lit("01")]).str.to_date("%Y%m%d", strict=False)
    exact = pl.concat_str([yyyymm, parts["dd"]]).str.to_date("%Y%m%d", strict=False)
    end_of_month = month_start.dt.month_end() if allow_day_00 else pl.lit(None, pl.Date)
    return pl.when(parts["dd"] == "00").then(end_of_month).otherwise(exact)


def yymmdd_problem_expr(
    expr: pl.Expr, *, current_year: int | pl.Expr | None = None, allow_day_00: bool = True
) -> pl.Expr:
    """`yymmdd_problem` as a Polars expression: the reason text, null for a valid date.

    A null value has no problem here (null reason): whether the date is required is the data
    contract's question, not the date syntax's.
    """
    parts = _yymmdd_parts(expr, current_year)
    month = parts["mm"].cast(pl.Int32)
    day = parts["dd"].cast(pl.Int32)
    month_ok = month.is_between(1, 12)
    safe_month = pl.when(month_ok).then(month).otherwise(1)
    days = pl.date(parts["year"], safe_month, 1).dt.month_end().dt.day().cast(pl.Int32)
    day_00_reason = None if allow_day_00 else pl.lit("day 00 (end of month) is not allowed")
    return (
        pl.when(expr.is_null())
        .then(None)
        .when(~parts["well_formed"])
        .then(pl.lit("not six digits"))
        .when(~month_ok)
        .then(pl.format("month {} is not 01-12", parts["mm"]))
        .when(day == 0)
        .then(day_00_reason)
        .when(day > days)
        .then(
            pl.format(
                "day {} does not exist in {}-{} ({} days)",
                parts["dd"],
                parts["year"],
                parts["mm"],
                days,
            )
        )
        .otherwise(None)
    )


def _yymmdd_parts(expr: pl.Expr, current_year: int | pl.Expr | None) -> dict[str, pl.Expr]:
    """Resolved year and the MM / DD digit pairs of well-formed values (null otherwise)."""
    if current_year is None:
        current_year = _current_year(None)
    current = current_year if isinstance(current_year, pl.Expr) else pl.lit(current_year)
    current = current.cast(pl.Int32)
    well_formed = expr.str.contains(r"^[0-9]{6}$").fill_null(False)
    digits = pl.when(well_formed).then(expr)
    yy = digits.str.slice(0, 2).cast(pl.Int32)
    return {
        "well_formed": well_formed,
        # same arithmetic as `century_year`
        "year": current + (yy - current % 100 + 149) % 100 - 49,
        "mm": digits.str.slice(2, 2),
        "dd": digits.str.slice(4, 2),
    }
