"""Quantities and coordinates written as text, exactly as they appear in the CSV files."""

from __future__ import annotations

from lotline.generate.scenario import _MILLI


def _qty(milli: int) -> str:
    if milli <= 0:
        raise ValueError(f"quantity must be positive, got {milli}")
    whole, frac = divmod(milli, _MILLI)
    return str(whole) if frac == 0 else f"{whole}.{frac:03d}".rstrip("0")


def _coord(value: float) -> str:
    return f"{value:.4f}"
