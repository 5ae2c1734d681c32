"""What intake found wrong with a row, at one of two severities.

An *error* means the row cannot be placed in the lineage: it is quarantined (`rejected_record`).
A *warning* means the row is suspicious but traceable: it loads, and the finding is stored with it
(`record_finding`). Reading, mapping and validation all report in this one shape, so the CLI
summary, the Dagster checks and the recall report's data-quality section read one table.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"

FINDING_SCHEMA: dict[str, pl.DataType] = {
    "source_sha256": pl.String(),
    "source_file": pl.String(),
    "record_type": pl.String(),
    "row_number": pl.Int64(),  # spreadsheet row number (header = row 1); null: the whole file
    "column": pl.String(),  # contract column(s), comma-separated
    "rule": pl.String(),
    "severity": pl.String(),
    "value": pl.String(),
    "message": pl.String(),
}


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=FINDING_SCHEMA)


def frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """Findings from plain dicts (missing keys are null)."""
    return pl.DataFrame(
        [{name: row.get(name) for name in FINDING_SCHEMA} for row in rows], schema=FINDING_SCHEMA
    )


SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "record_type": pl.String(),
    "rule": pl.String(),
    "column": pl.String(),
    "severity": pl.String(),
    "rows": pl.Int64(),
    "top_values": pl.List(pl.String()),
}


def summary(rejected: pl.DataFrame, warned: pl.DataFrame, top: int = 3) -> pl.DataFrame:
    """One line per file × rule × column: rows hit, severity and the most frequent values.

    Fifty lines of the same message hide the one line that matters; a count with its commonest
    values shows at once whether a file, a mapping or a single row is wrong."""
    parts = []
    if rejected is not None and not rejected.is_empty():
        parts.append(rejected.with_columns(pl.lit(ERROR).alias("severity")))
    if warned is not None and not warned.is_empty():
        parts.append(warned)
    if not parts:
        return pl.DataFrame(schema=SUMMARY_SCHEMA)
    columns = ["source_file", "record_type", "rule", "column", "severity", "row_number", "value"]
    frame = pl.concat([p.select(columns) for p in parts], how="vertical_relaxed")
    values = (
        frame.group_by("source_file", "record_type", "rule", "column", "severity", "value")
        .agg(pl.len().alias("n"))
        .sort("n", pl.col("value").fill_null(""), descending=[True, False])
        .group_by("source_file", "record_type", "rule", "column", "severity", maintain_order=True)
        .agg(pl.col("value").fill_null("(empty)").head(top).alias("top_values"))
    )
    rows = frame.group_by("source_file", "record_type", "rule", "column", "severity").agg(
        pl.col("row_number").n_unique().alias("rows")
    )
    return (
        rows.join(values, on=["source_file", "record_type", "rule", "column", "severity"])
        .select(list(SUMMARY_SCHEMA))
        .cast(SUMMARY_SCHEMA)
        .sort("source_file", "severity", "rows", descending=[False, False, True])
    )
