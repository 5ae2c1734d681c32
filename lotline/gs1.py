"""GS1 identifiers: check digits and normalisation, as scalar functions and Polars expressions.

The check digit rule is the same for GTIN-8/12/13/14, GLN and SSCC: weights 3,1,3,1… from the
right, excluding the check digit; check = (10 − sum mod 10) mod 10. Leading zeros do not change
the sum, so every key is left-padded to 18 digits and checked by one expression.
"""

from __future__ import annotations

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
    padded = expr.str.zfill(_WIDTH)
    digits = [padded.str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(_WIDTH)]
    # position _WIDTH-1 is the check digit; weight 3 for the digit right before it, then 1, 3…
    weighted = pl.sum_horizontal(
        digits[i] * (3 if (_WIDTH - 2 - i) % 2 == 0 else 1) for i in range(_WIDTH - 1)
    )
    return (
        expr.str.contains(r"^[0-9]+$")
        & expr.str.len_chars().is_in(list(lengths))
        & ((10 - weighted % 10) % 10 == digits[_WIDTH - 1])
    ).fill_null(False)


def gtin14_expr(expr: pl.Expr) -> pl.Expr:
    return expr.str.zfill(14)
