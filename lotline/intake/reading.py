"""Reading drop-folder files into contract text, with provenance, findings, or a clear error.

Every column is read as text: typing is the validator's job, so that a bad value becomes a
rejected row naming its column and value rather than a parser exception. A mapping file
(`lotline.intake.mapping`) turns a company's own export into the text a contract file would hold
(ISO dates, timestamps with offsets, dot decimals, contract column names and codes), so the
validator never needs to know where a file came from.

What can go wrong is never quiet. A file that cannot be read at all (missing, empty, wrong
encoding, duplicated or missing column, unknown name, unreadable) raises `InputError`, which
names the file, and the row and column where that is known. A row that cannot be read as written
(ragged, unclosed quote, cut short at the end, a date not in the mapping's format, a local time
that does not exist) becomes an *error* finding naming its row, and reading goes on.

An EPCIS 2.0 document (JSON-LD or XML, recognised by its content) is listed once per record type
its events feed and read by `lotline.intake.epcis_source`; its row numbers are event positions.

Row numbers are spreadsheet rows: every physical line above the header (`skip_rows`) is a row,
the header follows, and each record after it is one row (a quoted value spanning lines stays one
row, a blank line counts as a row but is not a record). In XLSX files they are the sheet's own
row numbers.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import time
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from lotline import gs1
from lotline.intake import findings as fnd
from lotline.intake.contract import FILE_PATTERN, RECORD_TYPES, RecordType, record_type_of

if TYPE_CHECKING:  # mapping.py imports InputError from here; at run time it is imported late
    from lotline.intake.epcis_source import EpcisDrop
    from lotline.intake.mapping import FileMapping, Mapping

SOURCE_ROW = "_source_row"
"""Spreadsheet row number of a record: the header is row 1, the first record row 2."""

DATA_SUFFIXES = (".csv", ".xlsx", ".parquet")
_NOT_DATA = "not a data file"
NUMBER_KINDS = ("decimal", "integer", "latitude", "longitude")
_VALUE_CHARS = 200  # of a raw line quoted in a finding


class InputError(Exception):
    """A file that cannot be loaded at all; the message is meant for the person who sent it."""

    def __init__(
        self, file: str | Path, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        self.file, self.row, self.column, self.reason = str(file), row, column, message
        where = [printable(Path(self.file).name)]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")


def printable(name: str) -> str:
    """`name` with control and format characters escaped: a file name with a newline or an escape
    sequence in it must not break or recolour the one-line message that names it."""
    out = []
    for ch in name:
        category = unicodedata.category(ch)
        if category == "Cs" and 0xDC80 <= ord(ch) <= 0xDCFF:  # undecodable byte (surrogateescape)
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif category in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(ascii(ch)[1:-1])
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class SourceFile:
    path: Path
    record_type: str
    sha256: str
    mapping: FileMapping | None = None
    """How to read it; None: the contract's own conventions."""
    epcis: EpcisDrop | None = field(default=None, compare=False, repr=False)
    """An EPCIS document (listed once per record type it feeds): the drop's EPCIS documents."""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def contract(self) -> RecordType:
        return RECORD_TYPES[self.record_type]


@dataclass(frozen=True)
class SkippedFile:
    name: str  # printable
    reason: str


@dataclass(frozen=True)
class DropScan:
    files: list[SourceFile]
    skipped: list[SkippedFile]


def scan(
    drop_dir: Path,
    record_type: str | None = None,
    mapping: Mapping | None = None,
    settle_seconds: float = 0.0,
) -> DropScan:
    """Data files of the drop folder in load order (master data first), by record type and name,
    and what was left out and why. Only files of `record_type` when given, but every data file's
    name is still checked: an export nobody can place stops the load rather than being dropped.

    Left out, each with its reason: hidden files, subfolders, other extensions, `*.ready`
    markers, dangling symbolic links and links leading out of the folder (never followed), files
    modified less than `settle_seconds` ago, and, once any `<file>.ready` marker exists, data
    files whose marker has not arrived yet.
    """
    drop_dir = Path(drop_dir)
    if not drop_dir.is_dir():
        raise InputError(drop_dir, "drop folder not found (or not a directory)")
    try:
        paths = sorted(drop_dir.iterdir())
    except PermissionError:
        raise InputError(drop_dir, "permission denied: the drop folder cannot be listed") from None
    root = drop_dir.resolve()
    markers = {p.name[: -len(".ready")] for p in paths if p.name.lower().endswith(".ready")}
    now = time.time()
    found: list[tuple[Path, str, FileMapping | None]] = []
    skipped: list[SkippedFile] = []
    epcis: list[Path] = []
    context: list[SourceFile] = []
    for path in paths:
        reason = _not_data(path, root)
        # an EPCIS 2.0 document is recognised by its content, whatever its extension
        if reason is not None and reason.startswith(_NOT_DATA) and _is_epcis(path):
            reason = None
            if markers and path.name not in markers:
                reason = f"waiting for {printable(path.name)}.ready"
            age = now - path.stat().st_mtime
            if reason is None and settle_seconds > 0 and age < settle_seconds:
                reason = f"still being written (modified {age:.1f} s ago)"
            if reason is None:
                epcis.append(path)
                continue
        elif reason and reason.startswith(_NOT_DATA) and path.suffix.lower() in _EPCIS_SUFFIXES:
            reason += "; not an EPCIS 2.0 document either"
        if reason is None:
            found_type, file_mapping = _file_type(path, mapping)  # an unknown name always fails
            if markers and path.name not in markers:
                reason = f"waiting for {printable(path.name)}.ready"
            elif settle_seconds > 0 and (age := now - path.stat().st_mtime) < settle_seconds:
                reason = f"still being written (modified {age:.1f} s ago)"
            if found_type in _EPCIS_CONTEXT and reason is None:  # what EPCIS capture looks up
                context.append(SourceFile(path, found_type, "", file_mapping))
            if record_type is not None and found_type != record_type:
                continue
        if reason is not None:
            skipped.append(SkippedFile(printable(path.name), reason))
            continue
        found.append((path, found_type, file_mapping))
    files = [SourceFile(p, t, _sha256(p), m) for p, t, m in found]
    files += _epcis_files(epcis, context, record_type)
    order = list(RECORD_TYPES)
    files.sort(key=lambda f: (order.index(f.record_type), f.name))
    return DropScan(files, skipped)


_EPCIS_CONTEXT = ("products", "locations", "receipts", "production")
"""CSV record types EPCIS capture reads for what is known: GTINs, GLNs, serials' lots."""
_SNIFF_BYTES = 1 << 20
_EPCIS_SUFFIXES = (".json", ".jsonld", ".xml")
"""Where a file that is not EPCIS gets a word more: its name suggests it was meant to be."""


def _is_epcis(path: Path) -> bool:
    """Whether the file is an EPCIS 2.0 document, by its first MiB (never by its name)."""
    from lotline.gs1.capture import sniff

    with _opened(path) as stream:
        return sniff(stream.read(_SNIFF_BYTES)) is not None


def _epcis_files(
    paths: list[Path], context: list[SourceFile], record_type: str | None
) -> list[SourceFile]:
    """An EPCIS document once per record type it feeds, all sharing the drop's documents and
    the drop's CSV files of `_EPCIS_CONTEXT` (read without a checksum: they are only looked
    up, and each is checked when it is loaded itself)."""
    from lotline.intake.epcis_source import EpcisDrop, read_epcis

    if not paths:
        return []
    data = {}
    for p in paths:
        with _opened(p) as stream:
            data[p] = stream.read()
    drop = EpcisDrop([(p.name, read_epcis(p, data[p])) for p in paths], context)
    parts = drop.record_types()
    return [
        SourceFile(p, t, hashlib.sha256(data[p]).hexdigest(), None, drop)
        for p in paths
        for t in parts[p.name]
        if record_type is None or t == record_type
    ]


def discover(
    drop_dir: Path, record_type: str | None = None, mapping: Mapping | None = None
) -> list[SourceFile]:
    """The files `scan` would load (see there)."""
    return scan(drop_dir, record_type, mapping).files


def _not_data(path: Path, root: Path) -> str | None:
    """Why `path` is not a data file to load, or None."""
    name = path.name
    if name.startswith("."):
        return "hidden file"
    if name.startswith("~$"):
        return "lock file of a document open in Office"
    if name.lower().endswith(".ready"):
        return "ready marker"
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        if not target.exists():
            return "dangling symbolic link"
        if not target.is_relative_to(root):
            return "symbolic link to outside the drop folder (not followed)"
    if path.is_dir():
        return "subfolder"
    if not path.is_file():
        return "not a regular file"
    if path.suffix.lower() not in DATA_SUFFIXES:
        return f"{_NOT_DATA} ({', '.join(DATA_SUFFIXES)})"
    return None


def _file_type(path: Path, mapping: Mapping | None) -> tuple[str, FileMapping | None]:
    """Record type and mapping of a data file: its `[[file]]` entry, else its contract name."""
    if mapping is not None:
        entry = mapping.for_file(path.name)
        if entry is not None:
            return entry.type, entry
    found = _contract_record_type(path.name)
    if found is None:
        hint = f" or a [[file]] in {mapping.origin} matching it" if mapping is not None else ""
        raise InputError(
            path,
            "unknown record type: a data file's name must start with one of "
            f"{', '.join(RECORD_TYPES)} (pattern {FILE_PATTERN.pattern}){hint}",
        )
    return found, None


def _contract_record_type(name: str) -> str | None:
    return record_type_of(name)


def _sha256(path: Path) -> str:
    with _opened(path) as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _opened(path: Path) -> io.BufferedReader:
    try:
        return path.open("rb")
    except PermissionError:
        raise InputError(path, "permission denied: the file cannot be read") from None
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror or exc}") from None


# --- one file -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRead:
    rows: pl.DataFrame
    """Contract columns as text (String) plus `_source_row` (Int64). Rows that could not be split
    into columns (ragged, unclosed quote, truncated) are not here, only in `findings`."""
    findings: pl.DataFrame
    """`lotline.intake.findings.FINDING_SCHEMA`: an error quarantines its row, a warning loads."""
    unused_columns: tuple[str, ...] = ()
    """Headers of the file that no contract column is read from."""


@dataclass
class _Cells:
    """A file as a grid of text: positional columns "0", "1", ... plus `_source_row`."""

    headers: list[str]
    frame: pl.DataFrame
    header_row: int
    typed: bool = False  # XLSX/Parquet: numbers and dates were cells, not text
    findings: list[dict[str, object]] = field(default_factory=list)


def read_source(source: SourceFile) -> SourceRead:
    """The file's records as contract text, the findings of reading them and unused headers."""
    from lotline.intake.mapping import default_file_mapping

    if source.epcis is not None:
        from lotline.intake.epcis_source import source_read

        return source_read(source)
    mapping = source.mapping or default_file_mapping(source.record_type)
    with _opened(source.path) as stream:
        try:
            data = stream.read()
        except OSError as exc:
            raise InputError(source.path, f"cannot be read: {exc.strerror or exc}") from None
    if source.sha256 and hashlib.sha256(data).hexdigest() != source.sha256:
        raise InputError(source.path, "file changed after the drop folder was scanned; load again")
    suffix = source.path.suffix.lower()
    if suffix == ".parquet":
        cells = _read_parquet(source.path, data)
    elif suffix == ".xlsx":
        cells = _read_xlsx(source.path, data, mapping)
    else:
        cells = _read_csv(source.path, data, mapping)
    return _contract_text(source, mapping, cells)


# --- CSV ------------------------------------------------------------------------------------------


def _read_csv(path: Path, data: bytes, mapping: FileMapping) -> _Cells:
    """Fast path: a vectorised byte scan proves every record has the header's field count and
    every quote is closed, then Polars parses. Only a file failing that goes through `csv`."""
    if not data or data.isspace():
        raise InputError(path, "file is empty: expected a header row naming the columns")
    text = _utf8(path, data, mapping)
    start = 0
    for _ in range(mapping.skip_rows):
        start = text.find(b"\n", start) + 1
        if start == 0:
            raise _no_header(path, mapping, mapping.skip_rows + 1)
    # where a UTF-8 error is looked for: the lines above the header are never decoded
    header_byte = start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
    header_end = text.find(b"\n", start)
    header_end = len(text) if header_end < 0 else header_end
    header_row = mapping.skip_rows + 1
    header_line = text[start:header_end]
    try:
        header_text = header_line.decode("utf-8").removesuffix("\r")
    except UnicodeDecodeError:
        raise _encoding_error(path, data, mapping, header_byte) from None
    if header_text.count('"') % 2:
        raise InputError(path, "the header row has an unclosed quote", row=header_row)
    headers = next(csv.reader([header_text], delimiter=mapping.delimiter))
    if not any(h.strip() for h in headers):
        raise _no_header(path, mapping, header_row)
    body = text[header_end + 1 :]
    width = len(headers)
    well_formed, records = _csv_shape(body, mapping.delimiter, width)
    if well_formed:
        try:
            frame = pl.read_csv(
                body,
                has_header=False,
                schema={str(i): pl.String for i in range(width)},
                separator=mapping.delimiter,
                quote_char='"',
                raise_if_empty=False,
            )
        except pl.exceptions.PolarsError as exc:
            if "utf-8" in str(exc).lower():
                raise _encoding_error(path, data, mapping, header_byte) from None
            frame = None  # the byte scan missed something: let the csv module say which row
        if frame is not None and frame.height == records:
            return _Cells(
                headers,
                frame.with_columns(
                    pl.int_range(header_row + 1, pl.len() + header_row + 1, dtype=pl.Int64).alias(
                        SOURCE_ROW
                    )
                ),
                header_row,
            )
    try:
        body_text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _encoding_error(path, data, mapping, header_byte) from None
    return _read_csv_rows(path, body_text, headers, header_row, mapping.delimiter)


_SCAN_CHUNK = 1 << 22
"""4 MiB: the scan's temporaries stay in cache instead of costing page faults per file byte."""


def _csv_shape(body: bytes, delimiter: str, width: int) -> tuple[bool, int]:
    """Whether every record of a CSV body has `width` fields (blank lines aside) and every quote
    is closed, and how many records there are: a vectorised byte scan, chunk by chunk.

    A newline or delimiter counts only outside quotes, i.e. after an even number of quote
    characters (RFC 4180 doubles a quote inside a quoted value, which keeps the parity).
    """
    raw = np.frombuffer(body, dtype=np.uint8)
    quoted = body.find(b'"') >= 0
    separator = ord(delimiter)
    parity = 0  # of the quotes seen so far
    open_fields = 1  # of the record not ended yet
    open_length = 0  # its bytes so far
    records = 0
    for start in range(0, raw.size, _SCAN_CHUNK):
        chunk = raw[start : start + _SCAN_CHUNK]
        newline = chunk == ord("\n")
        delimiters = chunk == separator
        if quoted:
            inside = np.bitwise_xor.accumulate((chunk == ord('"')).view(np.uint8)) ^ parity
            parity = int(inside[-1])
            newline &= inside == 0
            delimiters &= inside == 0
        ends = np.flatnonzero(newline)
        if not ends.size:
            open_fields += int(np.count_nonzero(delimiters))
            open_length += chunk.size
            continue
        before = np.searchsorted(np.flatnonzero(delimiters), ends)
        fields = np.diff(before, prepend=0) + 1
        fields[0] += open_fields - 1
        length = np.diff(ends, prepend=-1) - 1
        length[0] += open_length
        lone_cr = raw[np.maximum(start + ends - 1, 0)] == ord("\r")
        blank = (length == 0) | ((length == 1) & lone_cr)
        if not np.all(blank | (fields == width)):
            return False, 0
        records += ends.size
        open_fields = 1 + int(np.count_nonzero(delimiters)) - int(before[-1])
        open_length = chunk.size - int(ends[-1]) - 1
    if open_length:  # a last line without a newline
        if open_fields != width and not (open_length == 1 and raw[-1] == ord("\r")):
            return False, 0
        records += 1
    return parity == 0, records


def _read_csv_rows(
    path: Path, body: str, headers: list[str], header_row: int, delimiter: str
) -> _Cells:
    """Slow path, record by record, for a file with a ragged row or a quote problem: each bad
    row becomes an error finding and reading goes on with the next line.

    A line with an odd number of quotes opens a value that may span lines; it is one record when
    the lines up to the closing quote parse into the header's field count. Otherwise the quote
    was never closed: that line alone is the bad row and the next line is read as usual.
    """
    width = len(headers)
    lines = [line.removesuffix("\r") for line in body.split("\n")]
    ends_with_newline = lines[-1] == ""
    if ends_with_newline:
        lines.pop()
    records: list[tuple[int, list[str]]] = []
    bad: list[dict[str, object]] = []
    row, i = header_row, 0
    while i < len(lines):
        row += 1
        line, last = lines[i], i == len(lines) - 1
        if not line.strip():
            i += 1
            continue
        # a quote inside an unquoted value (5" pipe) is a character, not an opening quote
        opens = line.startswith('"') or f'{delimiter}"' in line
        j, odd = i, opens and line.count('"') % 2 == 1
        if not odd:
            fields = next(csv.reader([line], delimiter=delimiter))
            if len(fields) == width:
                records.append((row, fields))
            else:
                cut = last and not ends_with_newline and len(fields) < width
                bad.append(
                    _row_finding(
                        row,
                        "truncated_row" if cut else "ragged_row",
                        line,
                        f"{'the last row is cut short: ' if cut else ''}{len(fields)} field(s), "
                        f"the header has {width}",
                    )
                )
            i += 1
            continue
        while odd and j + 1 < len(lines):
            j += 1
            odd ^= lines[j].count('"') % 2 == 1
        fields = None
        if not odd:
            try:
                fields = next(csv.reader(["\n".join(lines[i : j + 1])], delimiter=delimiter))
            except csv.Error:
                fields = None
        if fields is not None and len(fields) == width:
            records.append((row, fields))
            i = j + 1
            continue
        cut = last and not ends_with_newline
        bad.append(
            _row_finding(
                row,
                "truncated_row" if cut else "unclosed_quote",
                line,
                "the last row is cut short inside a quoted value"
                if cut
                else "a quote opened in this row is never closed",
            )
        )
        i += 1
    if bad and not records:
        first = bad[0]
        raise InputError(
            path,
            f"no row could be read with the header's {width} columns ({first['message']}); "
            "check the delimiter and quoting",
            row=int(first["row_number"]),  # type: ignore[call-overload]
        )
    frame = pl.DataFrame(
        {
            SOURCE_ROW: pl.Series([r for r, _ in records], dtype=pl.Int64),
            **{
                str(k): pl.Series([f[k] for _, f in records], dtype=pl.String) for k in range(width)
            },
        }
    )
    return _Cells(headers, frame, header_row, findings=bad)


def _row_finding(row: int, rule: str, line: str, message: str) -> dict[str, object]:
    value = line if len(line) <= _VALUE_CHARS else line[:_VALUE_CHARS] + "…"
    return {
        "row_number": row,
        "rule": rule,
        "severity": fnd.ERROR,
        "value": value,
        "message": message,
    }


def _utf8(path: Path, data: bytes, mapping: FileMapping) -> bytes:
    """The file as UTF-8 without a BOM. A BOM always wins over `encoding` (it says what the file
    is); UTF-8 itself is validated by Polars on the fast path, not decoded twice."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = codecs.lookup(mapping.encoding).name
        if encoding == "utf-8":
            return data
    try:
        return data.decode(encoding).encode("utf-8")
    except UnicodeDecodeError:
        raise _encoding_error(path, data, mapping) from None


def _encoding_error(
    path: Path, data: bytes, mapping: FileMapping, from_byte: int = 0
) -> InputError:
    """Locate the first undecodable byte (from `from_byte` on) by row and column so the sender
    can find it."""
    encoding = codecs.lookup(mapping.encoding).name
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8"
        from_byte = max(from_byte, len(codecs.BOM_UTF8))
    try:
        data[from_byte:].decode(encoding)
    except UnicodeDecodeError as exc:
        start = from_byte + exc.start
    else:
        start = from_byte
    head = data[:start]
    row = head.count(b"\n") + 1
    line_start = head.rfind(b"\n") + 1
    sep = mapping.delimiter.encode()
    field_index = head[line_start:].count(sep)
    lines = data.split(b"\n", mapping.skip_rows + 1)
    header_line = lines[mapping.skip_rows] if len(lines) > mapping.skip_rows else b""
    header = header_line.decode("utf-8", errors="replace").lstrip("\ufeff").split(mapping.delimiter)
    column = header[field_index].strip() if field_index < len(header) else None
    if encoding.startswith("utf-8"):
        advice = "save the file as UTF-8 and send it again (or name its encoding in a mapping)"
        what = "UTF-8"
    else:
        advice = "check `encoding` in the mapping"
        what = mapping.encoding
    return InputError(
        path,
        f"not {what} text (byte 0x{data[start]:02X} cannot be decoded); {advice}",
        row=row,
        column=column,
    )


def _no_header(path: Path, mapping: FileMapping, row: int) -> InputError:
    """The row where the header should be is missing or empty: with `skip_rows`, the mapping is
    the likelier mistake."""
    from lotline.intake.mapping import MappingError

    message = f"row {row} should be the header row, but the file has no such row or it is empty"
    if mapping.skip_rows:
        return MappingError(mapping.origin, "skip_rows", message, source=path, entry=mapping.match)
    return InputError(path, "the header row is empty: expected the names of the columns", row=row)


# --- XLSX -----------------------------------------------------------------------------------------


def _read_xlsx(path: Path, data: bytes, mapping: FileMapping) -> _Cells:
    """Every cell as text via calamine (fastexcel): a number without its `.0`, at most nine
    decimals; a date or time as `YYYY-MM-DD hh:mm:ss`; text cells exactly as typed."""
    import fastexcel

    from lotline.intake.mapping import MappingError

    try:
        workbook = fastexcel.read_excel(data)
        names = list(workbook.sheet_names)
    except Exception as exc:  # fastexcel raises its own hierarchy and plain errors alike
        raise InputError(path, f"not a readable XLSX file: {_first_line(exc)}") from None
    if mapping.sheet is not None and mapping.sheet not in names:
        raise MappingError(
            mapping.origin,
            "sheet",
            f"no sheet {mapping.sheet!r}; the workbook has {', '.join(map(repr, names))}",
            source=path,
            entry=mapping.match,
        )
    if not names:
        raise InputError(path, "the workbook has no sheets")
    sheet = mapping.sheet or names[0]
    try:
        grid = workbook.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
    except Exception as exc:
        raise InputError(path, f"sheet {sheet!r} cannot be read: {_first_line(exc)}") from None
    if grid.height <= mapping.skip_rows:
        if mapping.skip_rows:
            raise _no_header(path, mapping, mapping.skip_rows + 1)
        raise InputError(path, f"sheet {sheet!r} is empty: expected a header row")
    first_row = _first_used_row(data, sheet)
    header_row = first_row + mapping.skip_rows
    headers = ["" if h is None else str(h) for h in grid.row(mapping.skip_rows)]
    body = grid.slice(mapping.skip_rows + 1)
    body = body.rename({old: str(k) for k, old in enumerate(body.columns)})
    return _Cells(
        headers,
        body.with_columns(
            pl.int_range(header_row + 1, pl.len() + header_row + 1, dtype=pl.Int64).alias(
                SOURCE_ROW
            )
        ),
        header_row,
        typed=True,
    )


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_FIRST_CELL = re.compile(
    r'<(?:\w+:)?c\b[^>]*?\br="[A-Z]+(\d+)"[^>]*?(?<!/)>\s*<(?:\w+:)?(?:v|is)\b'
)


def _first_used_row(data: bytes, sheet: str) -> int:
    """Sheet row of the first cell holding a value. Calamine's grid starts there, so without it
    a sheet with empty rows on top would number its rows wrongly; 1 when it cannot be told."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            book = ET.fromstring(archive.read("xl/workbook.xml"))
            rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            rid = next(
                s.get(f"{_REL_NS}id")
                for s in book.iter(f"{_SHEET_NS}sheet")
                if s.get("name") == sheet
            )
            target = next(r.get("Target", "") for r in rels if r.get("Id") == rid)
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            with archive.open(part) as stream:
                head = stream.read(1 << 20).decode("utf-8", errors="replace")
    except (KeyError, StopIteration, zipfile.BadZipFile, ET.ParseError, OSError):
        return 1
    match = _FIRST_CELL.search(head)
    return int(match.group(1)) if match else 1


# --- Parquet --------------------------------------------------------------------------------------


def _read_parquet(path: Path, data: bytes) -> _Cells:
    """Typed columns as the text a CSV would hold. A timestamp without a time zone stays without
    an offset: it is localised by the mapping's `timezone` or rejected, never assumed UTC."""
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(path, f"not a readable Parquet file: {_first_line(exc)}") from None
    as_text = []
    for k, (name, dtype) in enumerate(frame.schema.items()):
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            fmt = "%Y-%m-%dT%H:%M:%S%.f" + ("%:z" if dtype.time_zone else "")
            col = col.dt.to_string(fmt)
        elif isinstance(dtype, pl.Date):
            col = col.dt.to_string("%Y-%m-%d")
        elif dtype.is_float():
            col = col.cast(pl.String).str.replace(r"^(-?\d+)\.0$", "${1}")
        elif dtype.is_nested():
            raise InputError(path, "nested values (lists or structs) cannot be read", column=name)
        else:
            col = col.cast(pl.String)
        as_text.append(col.alias(str(k)))
    try:
        text = frame.select(
            *as_text, pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias(SOURCE_ROW)
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(path, f"a column cannot be read as text: {_first_line(exc)}") from None
    return _Cells([str(c) for c in frame.columns], text, 1, typed=True)


# --- cells -> contract text -----------------------------------------------------------------------


def _contract_text(source: SourceFile, mapping: FileMapping, cells: _Cells) -> SourceRead:
    """Renames, value maps, constants and the mapping's text conventions, as Polars expressions."""
    contract = source.contract
    picks = _pick_columns(source, mapping, cells)
    missing = [
        c for c in contract.required_columns if c not in picks and c not in mapping.constants
    ]
    if missing:
        raise InputError(
            source.path,
            f"missing required column(s) {', '.join(missing)}; "
            f"expected columns for {contract.name}: {', '.join(contract.columns)}",
            row=cells.header_row,
            column=missing[0],
        )
    used = set(picks.values())
    unused = tuple(h for k, h in enumerate(cells.headers) if k not in used and h.strip())
    columns = contract.columns
    sources = {c: str(picks[c]) for c in columns if c in picks}
    # ASCII is already NFC: normalising costs ~0.2 s per column per million rows, so only the
    # columns holding anything else are normalised
    non_ascii = (
        cells.frame.select(
            pl.col(k).str.contains(r"[^\x00-\x7F]").any().fill_null(False)
            for k in set(sources.values())
        ).row(0, named=True)
        if sources
        else {}
    )
    frame = (
        cells.frame.lazy()
        .select(
            pl.col(SOURCE_ROW),
            *[
                _clean(pl.col(sources[c]), non_ascii[sources[c]]).alias(c)
                if c in sources
                else pl.lit(None, dtype=pl.String).alias(c)
                for c in columns
            ],
        )
        .filter(~pl.all_horizontal(pl.col(columns).is_null()))  # a blank line is not a record
        .with_columns(
            pl.col(c).replace({_norm(k): _norm(v) for k, v in table.items()})
            for c, table in mapping.values.items()
        )
        .collect()
    )
    read_from_file = [
        f for f in contract.fields if f.name in picks and f.name not in mapping.constants
    ]
    frame = _with_gtins(frame, [f.name for f in read_from_file if f.kind == "gtin"])
    found: list[pl.DataFrame] = []
    numbers: list[pl.Expr] = []
    for f in read_from_file:
        if f.kind in NUMBER_KINDS:
            number = _number_text(pl.col(f.name), mapping.decimal, cells.typed)
            found.append(_overflow(frame, f.name, number))
            numbers.append(number.alias(f.name))
        elif f.kind == "date":
            frame, problems = _with_dates(source, mapping, frame, f.name, cells.typed)
            found.extend(problems)
        elif f.kind == "timestamp":
            frame, problems = _with_timestamps(source, mapping, frame, f.name)
            found.extend(problems)
    frame = frame.with_columns(numbers).with_columns(
        pl.lit(_norm(v), dtype=pl.String).alias(c) for c, v in mapping.constants.items()
    )
    rows = frame.select(SOURCE_ROW, *columns)
    return SourceRead(rows, _findings(source, cells.findings, found), unused)


def _pick_columns(source: SourceFile, mapping: FileMapping, cells: _Cells) -> dict[str, int]:
    """Contract column -> position in the file: mapped headers first, then headers named like the
    contract column. A header that is itself named like a mapped contract column (an export with
    both `Quantity` and `Quantity in Product UoM`) is left unused: the mapping says which one is
    meant. Two identical headers are refused, never resolved by position."""
    from lotline.intake.mapping import MappingError

    keys = [_header_key(h) for h in cells.headers]
    position: dict[str, int] = {}
    for k, key in enumerate(keys):
        if not key:
            continue
        if key in position:
            raise InputError(
                source.path,
                f"column {cells.headers[k].strip()!r} appears twice in the header "
                f"(columns {position[key] + 1} and {k + 1}); rename or remove one",
                row=cells.header_row,
                column=cells.headers[k].strip(),
            )
        position[key] = k
    picks: dict[str, int] = {}
    for column, header in mapping.columns.items():
        if _header_key(header) not in position:
            raise MappingError(
                mapping.origin,
                f"columns.{column}",
                f"the file has no column {header!r}; its columns: "
                + ", ".join(repr(h.strip()) for h in cells.headers if h.strip()),
                source=source.path,
                entry=mapping.match,
            )
        picks[column] = position[_header_key(header)]
    mapped = set(picks.values())
    for column in source.contract.columns:
        if column not in picks and column in position and position[column] not in mapped:
            picks[column] = position[column]
    return picks


def _header_key(header: str) -> str:
    return unicodedata.normalize("NFC", header).strip().lower()


def _norm(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _clean(expr: pl.Expr, non_ascii: bool) -> pl.Expr:
    """NFC (so the NFC and NFD spellings of a lot are one lot), stripped, empty -> null."""
    if non_ascii:
        expr = expr.str.normalize("NFC")
    return expr.str.strip_chars().replace("", None)


# one decimal-comma number: 1.234.567,5 (dots group thousands) or 1234,5
_GROUPED = r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d*)?$"
_COMMA = r"^[+-]?\d*,\d*$"


def _number_text(expr: pl.Expr, decimal: str, typed: bool) -> pl.Expr:
    """Decimal comma -> dot, thousands dots dropped. An XLSX number cell is already a dot
    decimal (`1.234` may be one and a quarter), so there only text cells with a comma change."""
    if decimal != ",":
        return expr
    grouped = expr.str.contains(_GROUPED)
    if typed:
        grouped = grouped & expr.str.contains(",", literal=True)
    return (
        pl.when(grouped)
        .then(expr.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
        .when(expr.str.contains(_COMMA))
        .then(expr.str.replace(",", ".", literal=True))
        .otherwise(expr)
    )


def _overflow(frame: pl.DataFrame, column: str, expr: pl.Expr) -> pl.DataFrame:
    """`1e999` is a float to Polars (infinity): an error here, before anything sums it."""
    return _problems(
        frame,
        expr.cast(pl.Float64, strict=False).is_infinite(),
        column,
        "number",
        fnd.ERROR,
        pl.format("{} is not a finite number (it overflows to infinity)", pl.col(column)),
    )


_SCIENTIFIC = r"^(\d)\.?(\d*)[eE]\+?(\d+)$"


def _with_gtins(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """GTINs a spreadsheet turned into numbers, back to their digits: `614141000043.0` and
    `1.2345600012E10` (only when every digit is written: `6.14141E+11` lost digits and stays as
    written, to be rejected), then left-padded to 14 digits when the check digit is valid.

    Each step runs only on a column that needs it (one cheap pass tells): a file of GTIN-14s
    pays nothing, a file of EAN-13s ~0.3 s per million rows.
    """
    if not columns:
        return frame
    facts = frame.select(
        *[pl.col(c).str.contains(r"[.eE]").any().alias(f"{c}.") for c in columns],
        *[pl.col(c).str.contains(r"^\d{7,13}$").any().alias(f"{c}#") for c in columns],
    ).row(0, named=True)
    numeric = [c for c in columns if facts[f"{c}."]]
    short = [c for c in columns if facts[f"{c}#"] or c in numeric]
    return (  # lazily: the optimiser evaluates a subexpression used many times once
        frame.lazy()
        .with_columns(_gtin_digits(pl.col(c)).alias(c) for c in numeric)
        .with_columns(_gtin_padded(pl.col(c)).alias(c) for c in short)
        .collect()
    )


def _gtin_digits(expr: pl.Expr) -> pl.Expr:
    parts = expr.str.extract_groups(_SCIENTIFIC)
    lead, rest, exponent = (parts.struct.field(k) for k in ("1", "2", "3"))
    exact = rest.str.len_chars() == exponent.cast(pl.Int64, strict=False)
    return (
        pl.when(expr.str.contains(r"^\d+\.0+$"))
        .then(expr.str.replace(r"\.0+$", ""))
        .when(exact.fill_null(False))
        .then(lead + rest)
        .otherwise(expr)
    )


def _gtin_padded(expr: pl.Expr) -> pl.Expr:
    return pl.when(_short_gtin(expr)).then(expr.str.zfill(14)).otherwise(expr)


_SHORT_GTIN_LENGTHS = tuple(range(7, 14))
"""A GTIN that lost leading zeros in a spreadsheet: 7 to 13 digits left (leading zeros do not
change the check digit)."""


def _short_gtin(expr: pl.Expr) -> pl.Expr:
    return gs1.valid_check_digit_expr(expr, _SHORT_GTIN_LENGTHS)


_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _with_dates(
    source: SourceFile, mapping: FileMapping, frame: pl.DataFrame, column: str, typed: bool
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """`date_format` -> `YYYY-MM-DD`; a value already ISO is kept. Rows that do not parse keep
    their text and get an error finding; if none parses, the format is wrong (MappingError)."""
    value = pl.col(column)
    if typed:  # an XLSX date cell or a Parquet datetime at midnight
        frame = frame.with_columns(value.str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00$", "${1}"))
    fmt = mapping.date_format
    if fmt is None:
        return frame, []
    parsed = frame.select(SOURCE_ROW, column, value.str.to_date(fmt, strict=False).alias("_date"))
    date = pl.col("_date")
    failed = value.is_not_null() & date.is_null() & ~value.str.contains(_ISO_DATE)
    problems = _format_problems(source, mapping, parsed, column, failed, "date_format", fmt)
    text = parsed.select(
        pl.when(date.is_not_null()).then(date.dt.to_string("%Y-%m-%d")).otherwise(value)
    )
    return frame.with_columns(text.to_series().alias(column)), [problems]


_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$"
_NAIVE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$"
_TIMESTAMP_OUT = "%Y-%m-%dT%H:%M:%S%.f%:z"


def _with_timestamps(
    source: SourceFile, mapping: FileMapping, frame: pl.DataFrame, column: str
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """`datetime_format` and `timezone` -> ISO 8601 with the offset in force at that instant.

    A value already written with an offset is kept. A local time is localised in `timezone`:
    in the autumn fold it is read as the first occurrence (warning `dst_fold`), in the spring gap
    it does not exist (error `dst_gap`, text kept). Without `timezone` a local time stays as
    written, and the validator rejects it for want of an offset. The parsed forms are computed
    once into temporary columns, from which the text and every finding are read.
    """
    fmt, zone = mapping.datetime_format, mapping.timezone
    if fmt is None and zone is None:
        return frame, []
    value = pl.col(column)
    iso = value.str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T").str.replace(
        r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})$", "${1}:00"
    )
    naive = pl.when(value.str.contains(_NAIVE)).then(
        iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
    )
    aware_text = pl.lit(None, dtype=pl.String)
    if fmt is not None and re.search(r"%[#:]?z", fmt):  # the format carries the offset
        aware_text = (
            value.str.to_datetime(fmt, strict=False, time_unit="us")
            .dt.convert_time_zone(zone or "UTC")
            .dt.to_string(_TIMESTAMP_OUT)
        )
    elif fmt is not None:
        naive = pl.coalesce(value.str.to_datetime(fmt, strict=False, time_unit="us"), naive)
    steps = (
        frame.lazy()
        .select(
            SOURCE_ROW,
            column,
            value.str.contains(_WITH_OFFSET).alias("_offset"),
            aware_text.alias("_aware"),
            naive.alias("_naive"),
        )
        .with_columns(
            (pl.col("_offset") | pl.col("_aware").is_not_null()).alias("_kept"),
            *(
                pl.col("_naive")
                .dt.replace_time_zone(zone, ambiguous=which, non_existent="null")
                .alias(f"_{which}")
                for which in ("earliest", "latest")
                if zone is not None
            ),
        )
    )
    local = pl.lit(None, dtype=pl.String)
    found: list[pl.DataFrame] = []
    if zone is not None:
        steps = steps.with_columns(pl.col("_earliest").dt.to_string(_TIMESTAMP_OUT).alias("_local"))
        local = pl.col("_local")
    parsed = steps.collect()
    if zone is not None:
        plain = ~pl.col("_kept") & pl.col("_naive").is_not_null()
        fold = pl.format(
            "{} occurs twice in {} (clocks go back); read as the first, {}",
            value,
            pl.lit(zone),
            local,
        )
        gap = pl.format("{} does not exist in {} (clocks go forward over it)", value, pl.lit(zone))
        found += [
            _problems(
                parsed,
                plain & (pl.col("_earliest") != pl.col("_latest")),
                column,
                "dst_fold",
                fnd.WARNING,
                fold,
            ),
            _problems(
                parsed, plain & pl.col("_earliest").is_null(), column, "dst_gap", fnd.ERROR, gap
            ),
        ]
    if fmt is not None:
        failed = value.is_not_null() & ~pl.col("_kept") & pl.col("_naive").is_null()
        found.append(
            _format_problems(source, mapping, parsed, column, failed, "datetime_format", fmt)
        )
    text = parsed.select(
        pl.when(pl.col("_offset")).then(value).otherwise(pl.coalesce("_aware", local, value))
    )
    return frame.with_columns(text.to_series().alias(column)), found


def _format_problems(
    source: SourceFile,
    mapping: FileMapping,
    frame: pl.DataFrame,
    column: str,
    failed: pl.Expr,
    key: str,
    fmt: str,
) -> pl.DataFrame:
    """Rows whose value does not parse with the mapping's format; none parsing at all is a
    mistake in the mapping, not in the data."""
    from lotline.intake.mapping import MappingError

    value = pl.col(column)
    counts = frame.select(
        failed=failed.sum(), filled=value.is_not_null().sum(), first=value.filter(failed).first()
    ).row(0, named=True)
    if counts["failed"] and counts["failed"] == counts["filled"]:
        raise MappingError(
            mapping.origin,
            key,
            f"no value of the column matches {fmt!r} (first: {counts['first']!r})",
            source=source.path,
            entry=mapping.match,
            column=column,
        )
    return _problems(
        frame,
        failed,
        column,
        key,
        fnd.ERROR,
        pl.format("{} does not match {} {}", value, pl.lit(key), pl.lit(repr(fmt))),
    )


def _problems(
    frame: pl.DataFrame, mask: pl.Expr, column: str, rule: str, severity: str, message: pl.Expr
) -> pl.DataFrame:
    return frame.filter(mask.fill_null(False)).select(
        pl.col(SOURCE_ROW).alias("row_number"),
        pl.lit(column).alias("column"),
        pl.lit(rule).alias("rule"),
        pl.lit(severity).alias("severity"),
        pl.col(column).alias("value"),
        message.alias("message"),
    )


def _findings(
    source: SourceFile, rows: list[dict[str, object]], frames: list[pl.DataFrame]
) -> pl.DataFrame:
    """Reading's findings in the one shape validation reports in too, with their provenance."""
    provenance = {
        "source_sha256": source.sha256,
        "source_file": source.name,
        "record_type": source.record_type,
    }
    parts = [fnd.frame([{**provenance, **row} for row in rows])]
    parts += [
        frame.with_columns(
            pl.lit(v, dtype=pl.String).alias(k) for k, v in provenance.items()
        ).select(pl.col(name).cast(dtype) for name, dtype in fnd.FINDING_SCHEMA.items())
        for frame in frames
        if not frame.is_empty()
    ]
    return pl.concat(parts).sort("row_number", nulls_last=False, maintain_order=True)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
