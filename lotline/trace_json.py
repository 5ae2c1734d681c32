"""A trace as JSON, written table by table from its Polars frames.

Why: the trace of a hub lot lists ~10⁵ lots, transformations, shipments and serials. Turning
them into Python dicts and through `json.dumps(indent=2)` took most of the 12 s of such a trace
and held the whole document in memory. Here each row becomes one line of text in a Polars
expression, batch by batch, and is written as it is made.

The text is byte for byte what `json.dumps(result.as_dict(), indent=2, default=str)` gives (the
form the command and the portal have always printed; tests compare them): cells are encoded as
Polars' own JSON writer encodes them, then as Python's `json` re-encodes them (strings with
`ensure_ascii`, floats as `repr`), the few values outside the fast paths through `json` itself.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from typing import IO

import polars as pl

from lotline.trace import TraceResult, output_tables

BATCH_ROWS = 50_000
"""Rows of a table turned into text at once: bounded memory, few Python calls."""

_PLAIN_TEXT = r"^[ !#-\[\]-~]*$"
"""Printable ASCII without quote or backslash: JSON-encoded by quoting alone."""


def write(result: TraceResult, out: IO, page: dict[str, object] | None = None) -> None:
    """Write the trace's JSON document to `out`, followed by a newline (as `print` did).

    `page` (offset, limit and the untruncated totals) is added as a last key when the lists
    were cut; without it the document is the historical one."""
    write_document(
        out,
        result.subject,
        result.direction,
        result.snapshot_id,
        output_tables(result).items(),
        result.notes,
        page,
    )


def write_document(
    out: IO,
    subject: dict[str, str | None],
    direction: str,
    snapshot_id: str | None,
    tables: Iterable[tuple[str, pl.DataFrame]],
    notes: list[str],
    page: dict[str, object] | None = None,
) -> None:
    """`write` of a trace whose lists (`tables`: key and frame, columns as shown) may still be
    being read: each is taken from the iterable when the document reaches it.

    A text stream with a binary buffer (stdout) is written through the buffer, rows by Polars'
    CSV writer straight from the frames: no Python string of a table is built."""
    sink = _sink(out)
    for piece in _pieces(subject, direction, snapshot_id, tables, notes, page):
        sink.put(piece)
    sink.put("\n")
    sink.flush()


def dumps(result: TraceResult, page: dict[str, object] | None = None) -> str:
    """The document as one string, without the trailing newline (the portal's body)."""
    return "".join(chunks(result, page))


def chunks(result: TraceResult, page: dict[str, object] | None = None) -> Iterator[str]:
    tables = output_tables(result).items()
    for piece in _pieces(
        result.subject, result.direction, result.snapshot_id, tables, result.notes, page
    ):
        yield piece if isinstance(piece, str) else _joined(piece)


Piece = str | pl.DataFrame
"""Text, or rows: a one-column frame of row texts, to be joined with `,\\n` between them."""


def _pieces(
    subject: dict[str, str | None],
    direction: str,
    snapshot_id: str | None,
    tables: Iterable[tuple[str, pl.DataFrame]],
    notes: list[str],
    page: dict[str, object] | None,
) -> Iterator[Piece]:
    head: dict[str, object] = {
        "subject": subject,
        "direction": direction,
        "snapshot_id": snapshot_id,
    }
    yield "{"
    first = True
    for key, value in head.items():
        yield ("\n  " if first else ",\n  ") + _key(key) + _small(value)
        first = False
    for key, frame in tables:
        yield ",\n  " + _key(key)
        if frame.is_empty():
            yield "[]"
            continue
        yield "["
        for i, rows in enumerate(_batches(frame)):
            yield "\n" if i == 0 else ",\n"
            yield rows
        yield "\n  ]"
    yield ",\n  " + _key("notes") + _small(notes)
    if page is not None:
        yield ",\n  " + _key("page") + _small(page)
    yield "\n}"


def _batches(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """The table's rows as text, `BATCH_ROWS` at a time, in order."""
    row = _row(frame)  # the odd strings and floats looked up once per table, not per batch
    for start in range(0, frame.height, BATCH_ROWS):
        yield frame.slice(start, BATCH_ROWS).select(row)


def _joined(rows: pl.DataFrame) -> str:
    return rows.to_series().str.join(",\n").item()


def _sink(out: IO) -> _TextSink | _BytesSink:
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()  # what was printed before goes first
        return _BytesSink(buffer)
    if isinstance(out, io.RawIOBase | io.BufferedIOBase):
        return _BytesSink(out)
    return _TextSink(out)


class _TextSink:
    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def put(self, piece: Piece) -> None:
        self.out.write(piece if isinstance(piece, str) else _joined(piece))

    def flush(self) -> None:
        self.out.flush()


class _BytesSink:
    """Rows go out through Polars' CSV writer (one text column, no quoting, `,\\n` after each
    row but the last): multi-threaded, and no copy of a batch as one Python string."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = _Recorded(out)

    def put(self, piece: Piece) -> None:
        if isinstance(piece, str):
            self.out.write(piece.encode())
            return
        try:
            piece.head(-1).write_csv(
                self.out, include_header=False, quote_style="never", line_terminator=",\n"
            )
        except OSError:
            if self.out.error is not None:  # Polars reports a closed pipe as a plain OSError
                raise self.out.error from None
            raise
        self.out.write(piece.item(-1, 0).encode())

    def flush(self) -> None:
        self.out.flush()


class _Recorded:
    """A binary stream that keeps the error its writes raised: Polars turns a BrokenPipeError
    into a plain OSError, and the command exits on a closed pipe by its type."""

    def __init__(self, out: IO[bytes]) -> None:
        self.stream = out
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        try:
            return self.stream.write(data)
        except OSError as exc:
            self.error = exc
            raise

    def flush(self) -> None:
        self.stream.flush()


def _key(name: str) -> str:
    return json.dumps(name) + ": "


def _small(value: object) -> str:
    """A small value nested one level deep, as `json.dumps(indent=2)` lays it out there."""
    return json.dumps(value, indent=2, default=str).replace("\n", "\n  ")


def _row(frame: pl.DataFrame) -> pl.Expr:
    parts: list[pl.Expr] = []
    for i, (name, dtype) in enumerate(frame.schema.items()):
        lead = "    {\n      " if i == 0 else ",\n      "
        parts += [pl.lit(lead + _key(name)), _cell(frame, name, dtype)]
    parts.append(pl.lit("\n    }"))
    return pl.concat_str(parts).alias("row")


def _cell(frame: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    """One column's cells as JSON text, never null."""
    column = pl.col(name)
    if dtype.is_integer():
        text = column.cast(pl.String)
    elif dtype == pl.Boolean:
        text = pl.when(column.is_null()).then(pl.lit("null"))
        text = text.when(column).then(pl.lit("true")).otherwise(pl.lit("false"))
    elif dtype.is_float():
        text = _floats(frame[name])
    elif dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        text = _strings(frame[name].cast(pl.String))
    else:  # dates, times: as Polars' JSON writer spells them (ASCII, so Python keeps them)
        prefix = len(json.dumps(name, separators=(",", ":"))) + 2  # {"name":
        encoded = pl.struct(column).struct.json_encode()
        text = encoded.str.slice(prefix, encoded.str.len_chars() - prefix - 1)
        text = pl.when(column.is_null()).then(pl.lit("null")).otherwise(text)
    return text.fill_null(pl.lit("null"))


def _strings(values: pl.Series) -> pl.Expr:
    column = pl.col(values.name).cast(pl.String)
    quoted = pl.concat_str(pl.lit('"'), column, pl.lit('"'))
    odd = values.filter(~values.str.contains(_PLAIN_TEXT)).unique().drop_nulls()
    if odd.is_empty():
        return quoted
    escaped = {v: json.dumps(v) for v in odd.to_list()}
    return (
        pl.when(column.str.contains(_PLAIN_TEXT))
        .then(quoted)
        .otherwise(column.replace_strict(escaped, default=None, return_dtype=pl.String))
    )


def _floats(values: pl.Series) -> pl.Expr:
    """Python's `repr` of each float: Polars' shortest form agrees with it between 1e-4 and
    1e16; NaN and infinities are null in Polars' JSON, hence in the document."""
    column = pl.col(values.name).cast(pl.Float64)
    size = column.abs()
    usual = (size == 0) | ((size >= 1e-4) & (size < 1e16))
    finite = values.cast(pl.Float64)
    finite = finite.filter(finite.is_finite())
    rare = finite.filter(~((finite.abs() == 0) | ((finite.abs() >= 1e-4) & (finite.abs() < 1e16))))
    text = pl.when(column.is_finite().not_()).then(pl.lit("null"))
    if rare.is_empty():
        return text.otherwise(column.cast(pl.String))
    spelled = {v: repr(v) for v in rare.unique().to_list()}
    return (
        text.when(usual)
        .then(column.cast(pl.String))
        .otherwise(column.replace_strict(spelled, default=None, return_dtype=pl.String))
    )
