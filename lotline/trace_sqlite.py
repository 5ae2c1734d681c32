"""`lotline trace` of a lot in an SQLite file: plain SQL through ADBC, and the lists handed to
the JSON writer as each is read.

Why: the most connected lot of a 10M-edge database (35k lots, 376k shipment lines and serials,
a 213 MB document) took 3.4–4.3 s through `api.trace_lot`, over a second of it importing
SQLAlchemy, SQLModel and the models. This path imports Polars and the ADBC driver only, reads
only the columns a trace shows, and reads the shipment lines and serials (most of the rows) each
on a connection and in a thread of its own while the first connection reads the lots,
transformations and receipts, and while the document's first lists are written: ADBC and Polars
release the GIL, so on two cores reading and writing overlap (1.1 s instead of 2.1 s at 10M
edges, 1.7 s of CPU instead of 2.7 s).

The answer is `api.trace_lot`'s: the same rows are read in the same order, and the lots,
transformations and receipts are assembled by `trace.trace_lot` itself; tests compare the JSON,
CSV and table output byte for byte. It applies to a lot in an SQLite file whose schema is at this
release's head. Anything else (another database, a schema the full path must upgrade first, no
ADBC driver, a file that is not a database) gets None, and the command goes through `api`.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Literal

import polars as pl

from lotline import trace
from lotline.arrow_reads import SQLiteReader, sql_text
from lotline.database_url import sqlite_file
from lotline.lineage import Lineage

Way = Literal["backward", "forward"]

_TIME = pl.Datetime("us", "UTC")
COLUMNS: dict[str, dict[str, pl.DataType]] = {
    "lot": {
        "lot_key": pl.Int64(),
        "gtin": pl.String(),
        "lot": pl.String(),
        "product_name": pl.String(),
        "uom": pl.String(),
        "expiry_date": pl.Date(),
        "quantity_on_hand": pl.Float64(),
    },
    "lot_edge": {
        "parent_key": pl.Int64(),
        "child_key": pl.Int64(),
        "production_id": pl.String(),
        "completed_at": _TIME,
        "location_id": pl.String(),
        "input_quantity": pl.Float64(),
        "input_uom": pl.String(),
        "output_quantity": pl.Float64(),
        "output_uom": pl.String(),
        "share": pl.Float64(),
        "evidence": pl.String(),
    },
    "lot_receipt": {
        "lot_key": pl.Int64(),
        "receipt_id": pl.String(),
        "received_at": _TIME,
        "from_location_id": pl.String(),
        "to_location_id": pl.String(),
        "gtin": pl.String(),
        "lot": pl.String(),
        "serial": pl.String(),
        "quantity": pl.Float64(),
        "uom": pl.String(),
    },
    "lot_shipment": {
        "shipment_id": pl.String(),
        "shipped_at": _TIME,
        "from_location_id": pl.String(),
        "to_location_id": pl.String(),
        "gtin": pl.String(),
        "lot": pl.String(),
        "serial": pl.String(),
        "sscc": pl.String(),
        "quantity": pl.Float64(),
        "uom": pl.String(),
    },
    "serial": {"gtin": pl.String(), "serial": pl.String(), "lot": pl.String()},
    "location": {
        "location_id": pl.String(),
        "kind": pl.String(),
        "business_name": pl.String(),
        "phone": pl.String(),
        "street": pl.String(),
        "city": pl.String(),
        "region": pl.String(),
        "postal_code": pl.String(),
        "country": pl.String(),
    },
    "lot_status": {
        "gtin": pl.String(),
        "lot": pl.String(),
        "status": pl.String(),
        "status_at": _TIME,
    },
}
"""The columns read of each table, typed as `lotline.store.polars_schema` types them: what the
JSON, CSV and table output of a trace show (and the keys they are found by), nothing more."""

KEYS = "trace_keys"
"""The temporary table of a connection's lot keys: the rows of those lots are one indexed join."""

_REACHED = {"lot_key": pl.Int64(), "depth": pl.Int64(), "exposure": pl.Float64()}


def open_lot_trace(
    database_url: str,
    gtin: str,
    lot: str,
    direction: trace.Direction = "both",
    min_exposure: float = 0.0,
) -> LotTrace | None:
    """The trace of lot `lot` of GTIN `gtin` (14 digits) read from the SQLite file of
    `database_url`, its shipment lines and serials still being read; None where this path does
    not apply (see the module). Raises `trace.UnknownSubject` for a lot the file does not hold."""
    path = sqlite_file(database_url)
    if path is None or "\x00" in gtin + lot:
        return None
    try:
        reader = SQLiteReader(path)
    except ImportError:
        return None
    except Exception as exc:  # not a database: the full path says why, in its words
        if _adbc_error(exc):
            return None
        raise
    try:
        if not _schema_at_head(reader):
            return None
        return _read(reader, path, gtin, lot, direction, min_exposure)
    finally:
        reader.close()  # the shipment lines and serials have connections of their own


def _adbc_error(exc: Exception) -> bool:
    import adbc_driver_manager

    return isinstance(exc, adbc_driver_manager.Error)


def _schema_at_head(reader: SQLiteReader) -> bool:
    """What `store.create_schema` checks before it leaves a database alone (the version and the
    load lock's row), in one query; False where it would create or upgrade something."""
    try:
        found = reader.frame(
            "SELECT (SELECT version_num FROM alembic_version) AS version,"
            " (SELECT count(*) FROM load_lock) AS locks"
        )
    except Exception as exc:  # no such table: a new or a 0.1.0 database
        if _adbc_error(exc):
            return False
        raise
    return found["version"][0] == schema_head() and found["locks"][0] > 0


_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def schema_head() -> str:
    """This release's schema revision, as `lotline.schema.head` finds it (the newest revision
    file of `models/migrations/versions`), without importing the models (a test holds the two
    equal)."""
    spec = importlib.util.find_spec("models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the models package is not installed")
    versions = Path(next(iter(spec.submodule_search_locations))) / "migrations" / "versions"
    names = (p.name for p in versions.iterdir())
    return max(m.group(1) for m in map(_REVISION_FILE.match, names) if m)


def _read(
    reader: SQLiteReader,
    path: Path,
    gtin: str,
    lot: str,
    direction: trace.Direction,
    min_exposure: float,
) -> LotTrace:
    key = reader.value(
        f"SELECT lot_key FROM lot WHERE gtin = {sql_text(gtin)} AND lot = {sql_text(lot)}"
    )
    if key is None:
        raise trace.UnknownSubject(f"no lot {lot!r} of GTIN {gtin} in the lineage tables")
    key = int(key)
    reached = {
        way: reach(reader, [key] if direction in (way, "both") else [], way)
        for way in ("backward", "forward")
    }
    notes = []
    if min_exposure:
        forward = reached["forward"]
        reached["forward"] = forward.filter(pl.col("exposure") >= min_exposure)
        notes.append(trace.exposure_note(min_exposure, forward.height - reached["forward"].height))
    forward_keys = sorted({key, *reached["forward"]["lot_key"]})
    lines = _LineReads(path, forward_keys) if direction != "backward" else None
    try:
        keys = sorted({key, *reached["backward"]["lot_key"], *reached["forward"]["lot_key"]})
        _key_table(reader, keys)
        sub = Lineage(
            lots=reader.frame(_rows_of("lot"), COLUMNS["lot"]),
            edges=reader.frame(_edges_sql(reader), COLUMNS["lot_edge"]),
            serials=pl.DataFrame(schema={"lot_key": pl.Int64, **COLUMNS["serial"]}),
            shipments=pl.DataFrame(schema={"lot_key": pl.Int64, **COLUMNS["lot_shipment"]}),
            receipts=reader.frame(_rows_of("lot_receipt"), COLUMNS["lot_receipt"]),
            on_hand=pl.DataFrame(),
        )
        locations = reader.frame(_select("location"), COLUMNS["location"])
        in_force = reader.frame(
            _select("lot_status") + " WHERE serial IS NULL", COLUMNS["lot_status"]
        )
        snapshot = reader.value(
            "SELECT snapshot_id FROM snapshot ORDER BY created_at DESC, snapshot_id DESC LIMIT 1"
        )
        result = trace.trace_lot(
            sub, gtin, lot, direction, locations, reach=lambda _start, way: reached[way]
        )
    except BaseException:
        if lines is not None:
            lines.close()
        raise
    result = trace.with_status(result, in_force, None if snapshot is None else str(snapshot))
    return LotTrace(replace(result, notes=result.notes + notes), locations, lines)


def reach(reader: SQLiteReader, start: list[int], way: Way) -> pl.DataFrame:
    """Lots reached from `start` in one direction, from the closure table (see `reached_from`)."""
    if not start:
        return reached_from([], pl.DataFrame(schema=_REACHED))
    origin, target = (
        ("descendant_key", "ancestor_key")
        if way == "backward"
        else ("ancestor_key", "descendant_key")
    )
    listed = ", ".join(str(int(k)) for k in start)
    found = reader.frame(
        f"SELECT {target} AS lot_key, depth, exposure FROM lot_closure"
        f" WHERE {origin} IN ({listed})",
        _REACHED,
    )
    return reached_from(start, found)


def reached_from(start: list[int], found: pl.DataFrame) -> pl.DataFrame:
    """The closure's rows (`lot_key`, `depth`, `exposure`) of lots reached from `start`, with the
    start lots themselves (depth 0, exposure 1): a lot reached from two start lots (a serial's
    consumers) keeps its shortest depth and its largest exposure."""
    if not start:
        return pl.DataFrame(schema=_REACHED)
    starts = pl.DataFrame(
        {"lot_key": start, "depth": [0] * len(start), "exposure": [1.0] * len(start)},
        schema=_REACHED,
    )
    return (
        pl.concat([starts, found.select(pl.col(n).cast(t) for n, t in _REACHED.items())])
        .group_by("lot_key")
        .agg(pl.col("depth").min(), pl.col("exposure").max().clip(upper_bound=1.0))
        .sort("depth", "lot_key")
    )


def _key_table(reader: SQLiteReader, keys: list[int]) -> None:
    listed = json.dumps([int(k) for k in keys])  # integers only: safe as a literal
    reader.execute(f"CREATE TEMPORARY TABLE {KEYS} (lot_key INTEGER PRIMARY KEY)")
    reader.execute(f"INSERT INTO {KEYS} SELECT value FROM json_each('{listed}')")


def _select(table: str) -> str:
    return f"SELECT {', '.join(COLUMNS[table])} FROM {table}"


def _rows_of(table: str) -> str:
    """The rows of the keyed lots: SQLite walks the key table in key order and the table's
    `lot_key` index, so rows come in (lot_key, rowid) order, as `api.trace_lot` reads them."""
    return f"{_select(table)} WHERE lot_key IN (SELECT lot_key FROM {KEYS})"


def _edges_sql(reader: SQLiteReader) -> str:
    """The edges with both ends among the keyed lots, searched from the end with fewer index
    entries (`trace_query._edge_conditions` says why; `key + 0` keeps SQLite off the other
    index)."""
    keyed = f"IN (SELECT lot_key FROM {KEYS})"

    def count(column: str) -> int:
        return int(reader.value(f"SELECT count(*) FROM lot_edge WHERE {column} {keyed}"))

    first, second = (
        ("parent_key", "child_key")
        if count("parent_key") <= count("child_key")
        else ("child_key", "parent_key")
    )
    return f"{_select('lot_edge')} WHERE {first} {keyed} AND ({second} + 0) {keyed}"


class _LineReads:
    """The shipment lines and serials of the forward lots, each read on a connection and in a
    thread of its own: on two cores they are read side by side while the first connection
    reads the rest, and the document, which lists them last, is written meanwhile."""

    def __init__(self, path: Path, keys: list[int]) -> None:
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lotline-trace")
        self.shipments: Future[pl.DataFrame] = self._pool.submit(
            _read_keyed, path, keys, "lot_shipment"
        )
        self.serials: Future[pl.DataFrame] = self._pool.submit(_read_keyed, path, keys, "serial")

    def close(self) -> None:
        """Drop what has not started, wait for what has (SQLite cannot be interrupted)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _read_keyed(path: Path, keys: list[int], table: str) -> pl.DataFrame:
    with SQLiteReader(path) as reader:
        _key_table(reader, keys)
        return reader.frame(_select(table) + _keyed(), COLUMNS[table])


def _keyed() -> str:
    return f" WHERE lot_key IN (SELECT lot_key FROM {KEYS})"


class LotTrace:
    """A lot's trace whose shipment lines and serials may still be being read.

    `result` holds everything else (shipments, serials and consignees empty); `tables` hands
    out the document's lists in order, each once read; `whole` waits for all. Close it (or use
    it as a context manager) to end the reading thread."""

    def __init__(
        self, result: trace.TraceResult, locations: pl.DataFrame, lines: _LineReads | None
    ):
        self.result = result
        self._locations = locations
        self._lines = lines
        self._read: dict[str, pl.DataFrame] = {}

    def frame(self, attribute: str) -> pl.DataFrame:
        """One of the `TraceResult`'s frames, waiting for it if it is still being read."""
        if self._lines is None or attribute not in ("shipments", "serials", "consignees"):
            return getattr(self.result, attribute)
        if attribute not in self._read:
            if attribute == "shipments":
                self._read[attribute] = self._lines.shipments.result().sort(*trace.SHIPMENT_ORDER)
            elif attribute == "serials":
                self._read[attribute] = self._lines.serials.result()
            else:
                shipments = self.frame("shipments")
                self._read[attribute] = trace.consignees(shipments, self._locations)
        return self._read[attribute]

    def tables(self) -> Iterator[tuple[str, pl.DataFrame]]:
        """The JSON document's lists (key, frame as shown), each when it has been read."""
        for key, (attribute, _) in trace.OUTPUT_COLUMNS.items():
            yield key, trace.output_table(key, self.frame(attribute))

    def whole(self) -> trace.TraceResult:
        return replace(
            self.result, **{a: self.frame(a) for a in ("shipments", "serials", "consignees")}
        )

    def close(self) -> None:
        if self._lines is not None:
            self._lines.close()

    def __enter__(self) -> LotTrace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
