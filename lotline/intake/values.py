"""Parsing contract values from text: one definition used by validation and by typing.

A value either parses or yields null; validation rejects the rows where a non-empty value gave
null, and typing runs only on rows that passed, so nothing is coerced silently.
"""

from __future__ import annotations

import polars as pl

NUMBER_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"
INTEGER_PATTERN = r"^[+-]?[0-9]+$"
_TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$"


def parse_timestamp(expr: pl.Expr) -> pl.Expr:
    """ISO 8601 date-time with a UTC offset -> UTC datetime; null when malformed or offset-less."""
    normalised = expr.str.replace(r"Z$", "+00:00").str.replace(
        r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})([+-])", "${1}:00${2}"
    )
    parsed = normalised.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_zone="UTC", time_unit="us"
    )
    return pl.when(expr.str.contains(_TIMESTAMP_PATTERN)).then(parsed)


def timestamp_offset(expr: pl.Expr) -> pl.Expr:
    """The UTC offset as written (`Z` becomes `+00:00`): EPCIS eventTimeZoneOffset."""
    return expr.str.extract(r"([+-]\d{2}:\d{2}|Z)$").replace("Z", "+00:00")


def parse_date(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(
        expr.str.to_date("%Y-%m-%d", strict=False)
    )


def parse_number(expr: pl.Expr) -> pl.Expr:
    """A finite number; null for text, and for digits so long they overflow to infinity."""
    number = expr.cast(pl.Float64, strict=False)
    return pl.when(expr.str.contains(NUMBER_PATTERN) & number.is_finite()).then(number)


TRUE_FLAGS = ("true", "yes", "y", "1", "x", "void", "voided", "ja", "j")
FALSE_FLAGS = ("false", "no", "n", "0", "nein")


def parse_flag(expr: pl.Expr) -> pl.Expr:
    """A yes/no column: true, false (empty is false), or null when it is neither."""
    folded = expr.str.to_lowercase().str.strip_chars()
    return (
        pl.when(expr.is_null())
        .then(False)
        .when(folded.is_in(TRUE_FLAGS))
        .then(True)
        .when(folded.is_in(FALSE_FLAGS))
        .then(False)
    )
