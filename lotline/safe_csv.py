"""CSV files a spreadsheet can open without running anything.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
Excel, LibreOffice and Google Sheets (CSV injection, OWASP). Lot codes, names and free text come
from partners' exports, so every CSV we write goes through `neutralise`: such a text cell gets a
leading apostrophe, which spreadsheets show as text and hide. Numbers, dates and times are typed
columns and never touched (a negative quantity stays `-5`); the XLSX we write is typed too and
needs none of this.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_text(column: str | pl.Expr) -> pl.Expr:
    """A text column with formula-like cells prefixed by an apostrophe."""
    expr = pl.col(column) if isinstance(column, str) else column
    return pl.when(expr.str.contains(FORMULA_START)).then(pl.lit("'") + expr).otherwise(expr)


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of `frame` made safe to open in a spreadsheet."""
    return frame.with_columns(
        neutralise_text(name).alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def write_csv(frame: pl.DataFrame, path: str | Path | None = None, **options: object) -> str | None:
    """`DataFrame.write_csv` after `neutralise`; returns the text when `path` is None."""
    return neutralise(frame).write_csv(path, **options)  # type: ignore[arg-type]
