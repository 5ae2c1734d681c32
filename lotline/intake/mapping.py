"""Mapping files: how a company's own exports become contract files, written by hand in TOML.

A mapping names, per file-name glob, the record type, the columns to rename, value maps and
constants, and how the file writes text (encoding, delimiter, decimal comma, date formats, time
zone). It is checked when it is loaded, so that a typo stops the load with one line naming the
mapping file and the key, instead of quietly reading a column as empty. Reading applies it
(`lotline.intake.reading`); the result is always contract text, so validation never changes.
"""

from __future__ import annotations

import codecs
import difflib
import fnmatch
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lotline.intake.contract import RECORD_TYPES
from lotline.intake.reading import DATA_SUFFIXES, InputError, printable

PROFILES = Path(__file__).parent / "profiles"
"""Bundled mappings for common ERP exports, loaded by name (`load_mapping("odoo")`)."""

_SETTINGS: dict[str, type] = {
    "encoding": str,
    "delimiter": str,
    "decimal": str,
    "date_format": str,
    "datetime_format": str,
    "timezone": str,
    "skip_rows": int,
}
_FILE_KEYS = ("match", "type", "sheet", "columns", "values", "constants", *_SETTINGS)


class MappingError(InputError):
    """A mistake in a mapping file: one line naming the mapping, the key and the source file."""

    def __init__(
        self,
        origin: str,
        key: str | None,
        message: str,
        *,
        source: str | Path | None = None,
        entry: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = str(source) if source is not None else origin
        self.row, self.column, self.reason = row, column, message
        self.origin, self.key, self.entry = origin, key, entry
        where = [origin]
        if entry is not None:
            where.append(f"[[file]] {entry!r}")
        if key is not None:
            where.append(f"key {key!r}")
        if source is not None:
            where.append(f"file {printable(Path(source).name)}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        Exception.__init__(self, f"{', '.join(where)}: {message}")


@dataclass(frozen=True)
class FileMapping:
    """How to read one kind of file: a `[[file]]` entry with `[defaults]` applied, or the built-in
    default (the contract itself) for files named after their record type."""

    match: str
    type: str
    sheet: str | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    decimal: str = "."
    date_format: str | None = None
    datetime_format: str | None = None
    timezone: str | None = None
    skip_rows: int = 0
    # dicts are left out of the hash so that a mapping (and a SourceFile holding it) stays hashable
    columns: dict[str, str] = field(default_factory=dict, hash=False)
    """contract column -> header in the source file"""
    values: dict[str, dict[str, str]] = field(default_factory=dict, hash=False)
    """contract column -> {source value: contract value}"""
    constants: dict[str, str] = field(default_factory=dict, hash=False)
    """contract column -> value for every row"""
    origin: str = "built-in default"
    """mapping file path or `profile <name>`, for messages"""

    def matches(self, name: str) -> bool:
        # case-insensitive like the contract's file names: `LIEFERUNGEN_1.CSV` is the same export
        return fnmatch.fnmatchcase(name.lower(), self.match.lower())


@dataclass(frozen=True)
class Mapping:
    origin: str
    files: tuple[FileMapping, ...]

    def for_file(self, name: str) -> FileMapping | None:
        """The first `[[file]]` whose glob matches the file name (order in the file decides)."""
        return next((f for f in self.files if f.matches(name)), None)


def default_file_mapping(record_type: str) -> FileMapping:
    """The contract's own conventions (UTF-8, comma, ISO dates) for `<record type>*.csv` files."""
    return FileMapping(match=f"{record_type}*", type=record_type)


def load_mapping(spec: str | Path) -> Mapping:
    """A mapping file (`*.toml` path) or a bundled profile by name; every key checked."""
    path, origin = _locate(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise MappingError(origin, None, "not UTF-8 text (TOML files are UTF-8)") from None
    except OSError as exc:
        raise MappingError(origin, None, f"cannot be read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(origin, None, f"not valid TOML: {exc}") from None
    _no_unknown_keys(data, ("defaults", "file"), origin, "")
    defaults = _table(data.get("defaults", {}), "defaults", origin)
    _no_unknown_keys(defaults, tuple(_SETTINGS), origin, "defaults.")
    settings = _settings(defaults, origin, "defaults.", None)
    entries = data.get("file", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise MappingError(origin, "file", "must be [[file]] tables")
    return Mapping(
        origin, tuple(_file_mapping(e, i, settings, origin) for i, e in enumerate(entries))
    )


def _locate(spec: str | Path) -> tuple[Path, str]:
    path = Path(spec)
    if isinstance(spec, Path) or path.suffix.lower() == ".toml" or len(path.parts) > 1:
        if not path.is_file():
            raise MappingError(str(spec), None, "mapping file not found")
        return path, str(spec)
    profile = PROFILES / f"{spec}.toml"
    if not profile.is_file():
        known = sorted(p.stem for p in PROFILES.glob("*.toml"))
        raise MappingError(
            str(spec),
            None,
            "neither a mapping file (*.toml) nor a bundled profile"
            + (f"; profiles: {', '.join(known)}" if known else ""),
        )
    return profile, f"profile {spec}"


def _file_mapping(
    entry: dict[str, Any], index: int, defaults: dict[str, Any], origin: str
) -> FileMapping:
    match = entry.get("match")
    label = match if isinstance(match, str) and match else f"#{index + 1}"
    _no_unknown_keys(entry, _FILE_KEYS, origin, "", entry=label)
    for key in ("match", "type"):
        if key not in entry:
            raise MappingError(origin, key, "required in every [[file]]", entry=label)
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise MappingError(origin, key, "must be non-empty text", entry=label)
    suffix = Path(match).suffix.lower()
    if suffix and not any(c in suffix for c in "*?[") and suffix not in DATA_SUFFIXES:
        raise MappingError(
            origin, "match", f"data files are {', '.join(DATA_SUFFIXES)}, not {suffix}", entry=label
        )
    record_type = entry["type"].strip()
    if record_type not in RECORD_TYPES:
        raise MappingError(
            origin,
            "type",
            f"unknown record type {record_type!r}{_suggest(record_type, RECORD_TYPES)}; "
            f"expected one of {', '.join(RECORD_TYPES)}",
            entry=label,
        )
    columns = RECORD_TYPES[record_type].columns
    sheet = entry.get("sheet")
    if sheet is not None and (not isinstance(sheet, str) or not sheet):
        raise MappingError(origin, "sheet", "must be the name of a sheet", entry=label)
    renames = _text_table(entry, "columns", columns, origin, label)
    constants = _text_table(entry, "constants", columns, origin, label, numbers=True)
    value_maps = _table(entry.get("values", {}), "values", origin, label)
    _contract_columns(value_maps, "values", columns, origin, label)
    values = {
        column: _text_table(value_maps, column, None, origin, label, prefix="values.")
        for column in value_maps
    }
    return FileMapping(
        match=match,
        type=record_type,
        sheet=sheet,
        columns={c: h.strip() for c, h in renames.items()},
        values=values,
        constants=constants,
        origin=origin,
        **{**defaults, **_settings(entry, origin, "", label)},
    )


def _settings(table: dict[str, Any], origin: str, prefix: str, entry: str | None) -> dict[str, Any]:
    """The reading settings of a table, checked: a codec Python knows, a zone the tz database
    knows, one delimiter character, `.` or `,` as decimal separator, lines to skip >= 0."""
    found: dict[str, Any] = {}
    for key, kind in _SETTINGS.items():
        if key not in table:
            continue
        value = table[key]
        name = prefix + key
        if not isinstance(value, kind) or isinstance(value, bool):
            raise MappingError(
                origin, name, f"must be {'a whole number' if kind is int else 'text'}", entry=entry
            )
        problem = _setting_problem(key, value)
        if problem:
            raise MappingError(origin, name, problem, entry=entry)
        found[key] = value
    return found


def _setting_problem(key: str, value: Any) -> str | None:
    if key == "encoding":
        try:
            codecs.lookup(value)
            "a".encode(value)  # rot13 and base64 are codecs, but not of text
        except LookupError:
            return f"unknown encoding {value!r} (a Python codec name, e.g. cp1252, latin-1)"
    elif key == "timezone":
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return f"unknown time zone {value!r} (an IANA name, e.g. Europe/Berlin)"
    elif key == "delimiter":
        if len(value) != 1 or not value.isascii() or value in '"\r\n':
            return f"must be one character such as ',' ';' '|' or a tab, not {value!r}"
    elif key == "decimal":
        if value not in (".", ","):
            return f"must be '.' or ',', not {value!r}"
    elif key in ("date_format", "datetime_format"):
        if "%" not in value:
            return f"must be a strptime format such as '%d.%m.%Y', not {value!r}"
    elif key == "skip_rows" and value < 0:
        return "must be 0 or more"
    return None


def _table(value: Any, key: str, origin: str, entry: str | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MappingError(origin, key, "must be a table", entry=entry)
    return value


def _text_table(
    parent: dict[str, Any],
    key: str,
    columns: list[str] | None,
    origin: str,
    entry: str,
    *,
    numbers: bool = False,
    prefix: str = "",
) -> dict[str, str]:
    """A table of text values (numbers too for constants: `quantity = 1` means "1")."""
    table = _table(parent.get(key, {}), prefix + key, origin, entry)
    if columns is not None:
        _contract_columns(table, key, columns, origin, entry)
    kinds = (str, int, float) if numbers else (str,)
    for name, value in table.items():
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise MappingError(origin, f"{prefix}{key}.{name}", "must be text", entry=entry)
    return {name: str(value) for name, value in table.items()}


def _contract_columns(
    table: dict[str, Any], key: str, columns: list[str], origin: str, entry: str
) -> None:
    for name in table:
        if name not in columns:
            raise MappingError(
                origin,
                f"{key}.{name}",
                f"{name!r} is not a contract column{_suggest(name, columns)}; "
                f"expected one of {', '.join(columns)}",
                entry=entry,
            )


def _no_unknown_keys(
    table: dict[str, Any],
    known: tuple[str, ...],
    origin: str,
    prefix: str,
    entry: str | None = None,
) -> None:
    for key in table:
        if key not in known:
            raise MappingError(
                origin,
                prefix + key,
                f"unknown key{_suggest(key, known)}; expected one of {', '.join(known)}",
                entry=entry,
            )


def _suggest(word: str, options: Any) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
