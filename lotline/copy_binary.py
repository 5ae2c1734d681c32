"""PostgreSQL's binary `COPY` format written from Polars columns, no Python object per row.

A load's rows reach PostgreSQL by `COPY … FROM STDIN` on the load's own connection (inside its
transaction). As CSV, the server parses every value back from text on the same two cores the
client runs on; in the binary format a value is its length and its bytes in the type's network
form (big-endian integers and doubles, microseconds and days since 2000-01-01), so there is
nothing to parse. The tuples are assembled by Arrow, column by column: each value becomes its
length prefix and bytes (numpy for fixed-width types), and `binary_join_element_wise` joins a
row's fields; the joined array's data buffer is the rows one after the other.

Only the types lotline's tables use are written (text, integers, doubles, booleans, timestamps,
dates); `encodable` says False for a frame with any other column type, and the caller sends CSV.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
_MICROS_1970_TO_2000 = 946_684_800_000_000
_DAYS_1970_TO_2000 = 10_957

_FIXED = {
    "smallint": ">i2",
    "integer": ">i4",
    "bigint": ">i8",
    "real": ">f4",
    "double precision": ">f8",
    "boolean": "u1",
    "timestamp with time zone": ">i8",
    "timestamp without time zone": ">i8",
    "date": ">i4",
}
_TEXT = ("text", "character varying")


def column_types(conn, table_name: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each column's PostgreSQL type as `format_type` names it, without length modifiers
    (the server still checks them: `varchar_recv` applies the column's length limit)."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (f'"{table_name}"',),
        )
        return dict(cursor.fetchall())


def encodable(frame: pl.DataFrame, types: dict[str, str]) -> bool:
    """Whether every column of `frame` can be written in the binary form of its column type."""
    for name, dtype in frame.schema.items():
        kind = types.get(name)
        if kind in _TEXT:
            if dtype != pl.String:
                return False
        elif kind in ("smallint", "integer", "bigint"):
            if not dtype.is_integer():
                return False
        elif kind in ("real", "double precision"):
            if not dtype.is_float():
                return False
        elif kind == "boolean":
            if dtype != pl.Boolean:
                return False
        elif kind in ("timestamp with time zone", "timestamp without time zone"):
            if not isinstance(dtype, pl.Datetime):
                return False
        elif kind == "date":
            if dtype != pl.Date:
                return False
        else:
            return False
    return True


def rows(frame: pl.DataFrame, types: dict[str, str]) -> np.ndarray:
    """The tuples of `frame` in binary COPY form (without the stream's header and trailer),
    as one byte array. Integers out of their column type's range raise, as the server would.

    Runs of fixed-width columns without NULLs (the field count, keys, depths, sums) are laid
    side by side in one numpy block; Arrow joins the blocks and the other fields row by row."""
    n = frame.height
    parts: list[pa.Array] = []
    run = [np.full(n, frame.width, dtype=">i2").view(np.uint8).reshape(n, 2)]
    for name in frame.columns:
        series, kind = frame[name], types[name]
        if kind not in _TEXT and series.null_count() == 0:
            run.append(_cells(series, kind))
            continue
        if run:
            parts.append(_block(run, n))
            run = []
        parts.append(_field(series, kind))
    if run:
        parts.append(_block(run, n))
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, _NOTHING)
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64)
    data = np.frombuffer(joined.buffers()[2], dtype=np.uint8)
    return data[offsets[joined.offset] : offsets[joined.offset + n]]


_NOTHING = pa.scalar(b"", pa.large_binary())
_NULL = pa.scalar(b"\xff\xff\xff\xff", pa.large_binary())
"""A NULL field: length -1, no bytes."""


def _block(cells: list[np.ndarray], n: int) -> pa.Array:
    """Fixed-width fields side by side, one value of a large_binary array per row."""
    matrix = np.ascontiguousarray(np.hstack(cells))
    width = matrix.shape[1]
    array = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, pa.py_buffer(matrix)])
    return array.cast(pa.large_binary())


def _field(series: pl.Series, kind: str) -> pa.Array:
    """Each value of `series` as a field: its int32 length and its bytes (-1 alone if NULL)."""
    n = series.len()
    if kind in _TEXT:
        values = series.fill_null("").to_arrow().cast(pa.large_binary())
        sizes = series.str.len_bytes().fill_null(-1).to_numpy().astype(">i4")
        prefix = _block([sizes.view(np.uint8).reshape(n, 4)], n)
        return pc.binary_join_element_wise(prefix, values, _NOTHING)
    fields = _block([_cells(series, kind)], n)
    return pc.if_else(series.is_not_null().to_arrow(), fields, _NULL)


def _cells(series: pl.Series, kind: str) -> np.ndarray:
    """(rows, 4 + width) bytes: each value's length and its bytes (NULLs as zeros)."""
    dtype = np.dtype(_FIXED[kind])
    if isinstance(series.dtype, pl.Datetime):
        utc = series.dt.replace_time_zone(None) if series.dtype.time_zone else series
        values = utc.dt.cast_time_unit("us").cast(pl.Int64) - _MICROS_1970_TO_2000
    elif series.dtype == pl.Date:
        values = series.cast(pl.Int32) - _DAYS_1970_TO_2000
    else:
        values = series
    if dtype.kind == "i" and values.null_count() < values.len():
        low, high = values.min(), values.max()
        info = np.iinfo(dtype)
        if low < info.min or high > info.max:  # type: ignore[operator]
            raise OverflowError(f"{series.name}: {low}..{high} out of range for {kind}")
    n, width = series.len(), dtype.itemsize
    cells = np.empty((n, 4 + width), dtype=np.uint8)
    cells[:, :4] = np.array([width], dtype=">i4").view(np.uint8)
    filled = values.fill_null(False if values.dtype == pl.Boolean else 0).to_numpy()
    cells[:, 4:] = filled.astype(dtype).view(np.uint8).reshape(n, width)
    return cells
