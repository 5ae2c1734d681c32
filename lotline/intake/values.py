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
    return pl.when(expr.str.contains(NUMBER_PATTERN)).then(expr.cast(pl.Float64, strict=False))
