"""Serials written as ranges: "SN-0001…SN-0040 (40)" instead of forty lines of 1 EA.

Why: a serialised product ships as one shipment line per unit, so a printed shipment table is
mostly single-unit rows of the same shipment, lot and pallet, and the reader cannot see what
left in which shipment. Serials that differ only by a running number (same prefix, same number
width, consecutive values) form one run; anything else stays a run of its own. The complete
rows stay in the embedded CSV: this is only how the PDF prints them.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

RANGE_MARK = "…"
RUNS_LISTED = 4
"""Runs printed in one table cell; the rest are counted (every serial is in the CSV)."""

_SPLIT = r"^(.*?)(\d+)$"


def serial_runs(serials: pl.Expr) -> pl.Expr:
    """Per element, an id that is equal for serials of the same run, for a column sorted by
    `run_order`: consecutive numbers with the same prefix and width share it."""
    prefix = serials.str.extract(_SPLIT, 1)
    digits = serials.str.extract(_SPLIT, 2)
    number = digits.cast(pl.Int64, strict=False)
    width = digits.str.len_chars()
    breaks = (
        number.is_null()
        | (prefix != prefix.shift(1)).fill_null(True)
        | (width != width.shift(1)).fill_null(True)
        | (number != number.shift(1) + 1).fill_null(True)
    )
    return breaks.cum_sum()


def run_order(serials: pl.Expr) -> list[pl.Expr]:
    """Sort keys that put a run's serials next to each other: prefix, width, number, text."""
    digits = serials.str.extract(_SPLIT, 2)
    return [
        serials.str.extract(_SPLIT, 1).fill_null(serials),
        digits.str.len_chars(),
        digits.cast(pl.Int64, strict=False),
        serials,
    ]


def _run_texts(serial: pl.DataFrame, runs_listed: int) -> pl.DataFrame:
    """Per `_grp` of `serial` (columns `_grp`, `serial`), the ranges text: runs computed over the
    whole frame at once (one sort, one pass), so a hub lot's 10⁵ serial lines cost one Polars
    query and not one per shipment line."""
    runs = (
        serial.sort("_grp", *run_order(pl.col("serial")))
        .with_columns(
            (
                serial_runs(pl.col("serial"))
                + (pl.col("_grp") != pl.col("_grp").shift(1)).fill_null(True).cum_sum()
            ).alias("_run")
        )
        .group_by("_grp", "_run", maintain_order=True)
        .agg(
            pl.col("serial").first().alias("first"),
            pl.col("serial").last().alias("last"),
            pl.len().alias("n"),
        )
        .with_columns(
            pl.when(pl.col("n") == 1)
            .then(pl.col("first"))
            .otherwise(pl.format("{}" + RANGE_MARK + "{} ({})", "first", "last", "n"))
            .alias("text")
        )
    )
    return (
        runs.group_by("_grp", maintain_order=True)
        .agg(
            pl.col("text").head(runs_listed).str.join(", "),
            pl.len().alias("runs"),
            pl.col("n").slice(runs_listed).sum().alias("rest"),
        )
        .select(
            "_grp",
            pl.when(pl.col("runs") > runs_listed)
            .then(pl.format("{} … (+{} more)", "text", "rest"))
            .otherwise(pl.col("text"))
            .alias("serial"),
        )
    )


def ranges(serials: Sequence[str]) -> list[tuple[str, str, int]]:
    """The serials as (first, last, count) runs, in serial order; duplicates count once."""
    frame = pl.DataFrame({"serial": sorted(set(serials))}, schema={"serial": pl.String})
    runs = (
        frame.sort(run_order(pl.col("serial")))
        .with_columns(serial_runs(pl.col("serial")).alias("run"))
        .group_by("run", maintain_order=True)
        .agg(
            pl.col("serial").first().alias("first"), pl.col("serial").last().alias("last"), pl.len()
        )
    )
    return [(r["first"], r["last"], r["len"]) for r in runs.iter_rows(named=True)]


def describe(serials: Sequence[str], runs_listed: int = RUNS_LISTED) -> str:
    """'SN-0001…SN-0040 (40)', runs joined by ', ', the first `runs_listed` named."""
    frame = pl.DataFrame(
        {"_grp": 0, "serial": sorted(set(serials))}, schema={"_grp": pl.UInt32, "serial": pl.String}
    )
    texts = _run_texts(frame, runs_listed)
    return texts["serial"][0] if texts.height else ""


def collapse_serial_lines(
    lines: pl.DataFrame, keys: Sequence[str], runs_listed: int = RUNS_LISTED
) -> pl.DataFrame:
    """Serial lines with the same `keys` (a shipment line: shipment, lot, pallet, …) as one row
    whose `serial` names the ranges and whose `quantity` is their sum; lot-quantity lines (no
    serial) pass unchanged. Each collapsed row takes the place of its group's first line."""
    if lines.is_empty() or "serial" not in lines.columns:
        return lines
    columns = lines.columns
    indexed = lines.with_row_index("_row")
    serial = indexed.filter(pl.col("serial").is_not_null())
    if serial.is_empty():
        return lines
    keys = [k for k in keys if k in columns and k not in ("serial", "quantity")]
    other = [c for c in columns if c not in keys and c not in ("serial", "quantity")]
    groups = (
        serial.group_by(keys, maintain_order=True)
        .agg(
            pl.col("_row").min(),
            pl.col("quantity").sum(),
            *[pl.col(c).first() for c in other],
        )
        .with_row_index("_grp")
    )
    members = serial.select(*keys, "serial").join(
        groups.select("_grp", *keys), on=keys, nulls_equal=True
    )
    collapsed = groups.join(_run_texts(members.select("_grp", "serial"), runs_listed), on="_grp")
    plain = indexed.filter(pl.col("serial").is_null()).select("_row", *columns)
    collapsed = collapsed.select("_row", *columns).cast(dict(plain.schema))
    return pl.concat([plain, collapsed]).sort("_row").drop("_row")
