"""The canonical text of a stored row and of its primary key, and their SHA-256.

A row hash must come out the same on SQLite and PostgreSQL for the same logical values, and the
same when the chain is written and when it is verified years later, so the text is defined here
and nowhere else, simply enough to reproduce by hand:

- columns in name order; a NULL column is left out (so adding a nullable column later leaves
  every existing row hash valid);
- each present column as ``name=<UTF-8 byte length of text>:<text>\\n`` (length-prefixed: no
  escaping, and no value can pass for two);
- text of a value: strings as they are; integers in decimal; booleans ``true``/``false``;
  datetimes in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; dates ``YYYY-MM-DD``; floats as Python's
  ``repr`` (shortest text that reads back as the same double; -0.0 as 0.0; NaN, which SQLite
  stores as NULL, as NULL).

The row hash is the SHA-256 (hex) of that text. Rows are read with `lotline.store.read_frame`,
which types values by the table's column types on both databases, and serialised by Polars
column by column (`row_hashes`); only the SHA-256 itself is per-row Python. `row_hash` is the
plain-Python reference of the same form (the tests hold the two equal).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

import polars as pl
import sqlalchemy as sa

KEY_SEPARATOR = "\x1f"
"""Between the values of a composite primary key (the record tables' line_key uses it too)."""
NO_HASH = "-"
"""Stands for the row hash of a deleted row in an entry's digest."""


def value_text(value: object) -> str:
    """The canonical text of one non-null value (reference implementation)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value + 0.0)  # -0.0 + 0.0 is 0.0 (NaN is left out like NULL: row_text)
    return str(value)


def row_text(row: Mapping[str, object]) -> str:
    """The canonical text of a row given as {column: value} (reference implementation)."""
    parts = []
    for name in sorted(row):
        value = row[name]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        text = value_text(value)
        parts.append(f"{name}={len(text.encode())}:{text}\n")
    return "".join(parts)


def row_hash(row: Mapping[str, object]) -> str:
    return hashlib.sha256(row_text(row).encode()).hexdigest()


def key_text(values: Iterable[object]) -> str:
    """The canonical text of a primary key (its values in the table's key order)."""
    return KEY_SEPARATOR.join(value_text(v) for v in values)


def shown_key(key: str) -> str:
    """A row key as people read it."""
    return key.replace(KEY_SEPARATOR, " / ")


def _text_column(series: pl.Series) -> pl.Series:
    """Polars' form of `value_text` for a column: the canonical text of each value, or null."""
    dtype = series.dtype
    if isinstance(dtype, pl.Datetime):
        utc = (
            series.dt.convert_time_zone("UTC")
            if dtype.time_zone
            else series.dt.replace_time_zone("UTC")
        )
        return utc.dt.cast_time_unit("us").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
    if dtype == pl.Date:
        return series.dt.strftime("%Y-%m-%d")
    if dtype.is_float():
        # repr's digits and notation exactly, computed once per distinct value (quantities
        # repeat): Polars' own float text switches to exponents at other magnitudes
        numbers = series.cast(pl.Float64).fill_nan(None)
        distinct = numbers.drop_nulls().unique().to_list()
        return numbers.replace_strict(
            distinct, [repr(x + 0.0) for x in distinct], default=None, return_dtype=pl.String
        )
    return series.cast(pl.String)


def key_columns(table: sa.Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def row_hashes(frame: pl.DataFrame, table: sa.Table) -> pl.DataFrame:
    """`row_key` and `row_hash` of each row of `frame` (the table's columns as `read_frame`
    types them)."""
    keys = key_columns(table)
    if frame.is_empty():
        return pl.DataFrame(schema={"row_key": pl.String, "row_hash": pl.String})
    text = pl.DataFrame([_text_column(frame[c]).alias(c) for c in frame.columns])
    texts = text.select(
        pl.concat_str(keys, separator=KEY_SEPARATOR).alias("row_key"),
        pl.concat_str(_row_text_parts(text), ignore_nulls=True).cast(pl.Binary).alias("_text"),
    )
    sha256 = hashlib.sha256
    hashes = [sha256(text).hexdigest() for text in texts["_text"].to_list()]
    return texts.select("row_key").with_columns(pl.Series("row_hash", hashes, dtype=pl.String))


def _row_text_parts(text: pl.DataFrame) -> list[pl.Expr]:
    """The pieces of `row_text`, every column's `name=<bytes>:<text>\\n` flat in one
    `concat_str` (one pass, no intermediate column per part); a null value drops its column's
    pieces: the literals of a column that has nulls are null where the value is."""
    parts: list[pl.Expr] = []
    for name in sorted(text.columns):
        value = pl.col(name)
        if text[name].null_count() == 0:
            parts += [pl.lit(f"{name}="), value.str.len_bytes(), pl.lit(":"), value, pl.lit("\n")]
            continue
        present = value.is_not_null()
        parts += [
            pl.when(present).then(pl.lit(f"{name}=")),
            value.str.len_bytes(),
            pl.when(present).then(pl.lit(":")),
            value,
            pl.when(present).then(pl.lit("\n")),
        ]
    return parts


DIGEST_CHUNK = 200_000
"""Rows joined into one text per `update` of an entry's digest: bounded memory."""


def digest(rows: pl.DataFrame) -> str:
    """SHA-256 over an entry's rows (`row_key`, `row_hash` null for a deleted row) in key order:
    ``<byte length of key>:<key><row hash or ->\\n`` per row."""
    sha = hashlib.sha256()
    if rows.is_empty():
        return sha.hexdigest()
    lines = rows.sort("row_key").select(
        pl.concat_str(
            pl.col("row_key").str.len_bytes().cast(pl.String),
            pl.lit(":"),
            pl.col("row_key"),
            pl.col("row_hash").fill_null(NO_HASH),
            pl.lit("\n"),
        ).alias("line")
    )["line"]
    for start in range(0, lines.len(), DIGEST_CHUNK):
        sha.update(lines.slice(start, DIGEST_CHUNK).str.join("").item().encode())
    return sha.hexdigest()


def framed(*fields: object) -> str:
    """SHA-256 of fields written one after another, each length-prefixed."""
    text = "".join(f"{len(str(f).encode())}:{f}" for f in fields)
    return hashlib.sha256(text.encode()).hexdigest()
