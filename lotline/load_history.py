"""What each load did to each file: rows read, loaded, unchanged, rejected and warned.

The data-quality view of an intake over time: a file whose share of rejected or warned rows
jumps from one load to the next points at a changed export or mapping. Pure functions over
Polars frames; `lotline.api.loads` reads them from `source_file` and `record_finding`.
"""

from __future__ import annotations

import polars as pl

LOAD_COLUMNS = [
    "load_id",
    "loaded_at",
    "file_name",
    "record_type",
    "rows_read",
    "rows_loaded",
    "rows_unchanged",
    "rows_rejected",
    "rows_warned",
    "warnings",
]
"""`rows_warned`: rows of the file that loaded with at least one warning; `warnings`: the
findings on them (a row may have several)."""


def per_file(source_files: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    """One row per load and file (oldest load first), from the stored `source_file` rows and
    the `record_finding` rows (source_sha256, row_number) of the warnings."""
    warned = findings.group_by("source_sha256").agg(
        pl.col("row_number").n_unique().cast(pl.Int64).alias("rows_warned"),
        pl.len().cast(pl.Int64).alias("warnings"),
    )
    return (
        source_files.join(warned, left_on="sha256", right_on="source_sha256", how="left")
        .with_columns(pl.col("rows_warned", "warnings").fill_null(0))
        .sort("loaded_at", "load_id", "file_name")
        .select(LOAD_COLUMNS)
    )
