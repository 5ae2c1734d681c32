"""Reading drop-folder files into raw frames, with provenance, or a clear error.

Every column is read as text: typing is the validator's job, so that a bad value becomes a
rejected row naming its column and value rather than a parser exception. A file that cannot be
read at all (missing, empty, wrong encoding, missing column, unknown name) raises `InputError`,
which names the file, and the row and column where that is known.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from lotline.intake.contract import FILE_PATTERN, RECORD_TYPES, RecordType, record_type_of

SOURCE_ROW = "_source_row"
"""Spreadsheet row number of a record: the header is row 1, the first record row 2."""


class InputError(Exception):
    """A file that cannot be loaded at all; the message is meant for the person who sent it."""

    def __init__(
        self, file: str | Path, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        self.file, self.row, self.column, self.reason = str(file), row, column, message
        where = [Path(self.file).name]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")


@dataclass(frozen=True)
class SourceFile:
    path: Path
    record_type: str
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def contract(self) -> RecordType:
        return RECORD_TYPES[self.record_type]


def discover(drop_dir: Path, record_type: str | None = None) -> list[SourceFile]:
    """Data files of the drop folder in load order (master data first), by record type and name;
    only those of `record_type` when given (every file name is still checked)."""
    drop_dir = Path(drop_dir)
    if not drop_dir.is_dir():
        raise InputError(drop_dir, "drop folder not found (or not a directory)")
    files: list[SourceFile] = []
    for path in sorted(drop_dir.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix.lower() not in (".csv", ".parquet"):
            continue
        found = record_type_of(path.name)
        if found is None:
            raise InputError(
                path,
                "unknown record type: a data file's name must start with one of "
                f"{', '.join(RECORD_TYPES)} (pattern {FILE_PATTERN.pattern})",
            )
        if record_type is not None and found != record_type:
            continue
        files.append(SourceFile(path, found, hashlib.sha256(path.read_bytes()).hexdigest()))
    order = list(RECORD_TYPES)
    return sorted(files, key=lambda f: (order.index(f.record_type), f.name))


def read_source(source: SourceFile) -> pl.DataFrame:
    """The file's records as text columns named by the contract, plus `_source_row`."""
    if source.path.suffix.lower() == ".parquet":
        frame = _read_parquet(source.path)
    else:
        frame = _read_csv(source.path)
    contract = source.contract
    missing = [c for c in contract.required_columns if c not in frame.columns]
    if missing:
        raise InputError(
            source.path,
            f"missing required column(s) {', '.join(missing)}; "
            f"expected columns for {contract.name}: {', '.join(contract.columns)}",
            row=1,
            column=missing[0],
        )
    absent = [pl.lit(None, dtype=pl.String).alias(c) for c in contract.columns if c not in frame]
    return (
        frame.with_columns(absent)
        .select(
            pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias(SOURCE_ROW),
            *[pl.col(c).str.strip_chars().replace("", None).alias(c) for c in contract.columns],
        )
        # a blank line is not a record (row numbers above are counted before it is dropped)
        .filter(~pl.all_horizontal(pl.col(contract.columns).is_null()))
    )


def _read_csv(path: Path) -> pl.DataFrame:
    if not path.exists():
        raise InputError(path, "file not found")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(path, "file is empty: expected a header row naming the columns")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, data, exc) from None
    try:
        frame = pl.read_csv(
            io.StringIO(text),
            infer_schema=False,
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(path, f"not a readable CSV file: {_first_line(exc)}") from None
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    return frame


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(path, f"not a readable Parquet file: {_first_line(exc)}") from None
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    as_text = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            col = pl.col(name)
            if dtype.time_zone is None:
                col = col.dt.replace_time_zone("UTC")
            as_text.append(col.dt.to_string("%Y-%m-%dT%H:%M:%S%.f%:z").alias(name))
        elif isinstance(dtype, pl.Date):
            as_text.append(pl.col(name).dt.to_string("%Y-%m-%d").alias(name))
        else:
            as_text.append(pl.col(name).cast(pl.String).alias(name))
    return frame.select(as_text)


def _encoding_error(path: Path, data: bytes, exc: UnicodeDecodeError) -> InputError:
    """Locate the first undecodable byte by row and column so the sender can find it."""
    head = data[: exc.start]
    row = head.count(b"\n") + 1
    line_start = head.rfind(b"\n") + 1
    field_index = head[line_start:].count(b",")
    header = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").split(",")
    column = header[field_index].strip() if field_index < len(header) else None
    return InputError(
        path,
        f"not UTF-8 text (byte 0x{data[exc.start]:02X} cannot be decoded); "
        "save the file as UTF-8 and send it again",
        row=row,
        column=column,
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
