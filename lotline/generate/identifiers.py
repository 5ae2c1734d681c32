"""GS1 identifiers of the sample world (GTIN-14, GLN), always with valid check digits."""

from __future__ import annotations

from lotline.generate.scenario import _COMPANY
from lotline.gs1 import with_check_digit


def _gtin(body: str) -> str:
    """GTIN from its digits without check digit (11, 12 or 13 digits), written as GTIN-14."""
    if not body.isdigit() or len(body) not in (11, 12, 13):
        raise ValueError(f"bad GTIN body {body!r}")
    return with_check_digit(body).zfill(14)


def _own_gtin13(item: str) -> str:
    return _gtin(_COMPANY + item)


def _own_gtin14(indicator: str, item: str) -> str:
    return _gtin(indicator + _COMPANY + item)


def _gln(body12: str) -> str:
    if not body12.isdigit() or len(body12) != 12:
        raise ValueError(f"bad GLN body {body12!r}")
    return with_check_digit(body12)
