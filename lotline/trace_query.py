"""Traces answered straight from the database through the precomputed closure table.

Why: the lineage tables of a real company hold millions of edges; loading them all to walk a
graph (what `trace.reachable` does in memory) costs seconds per trace. The closure table holds
every (ancestor, descendant) pair with its depth and exposure, so one indexed range read answers
"what is upstream / downstream of this lot", and only the rows of the lots reached are read.
The assembled result is the same `TraceResult` the in-memory path gives (tests compare them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

import models
from lotline import arrow_reads, store
from lotline.arrow_reads import SQLiteReader
from lotline.lineage import Lineage
from lotline.trace import UnknownSubject
from lotline.trace_sqlite import reached_from

Way = Literal["backward", "forward"]


def find_lot_key(conn: Connection, gtin: str, lot: str) -> int:
    lots = store.table(models.Lot)
    key = conn.execute(
        sa.select(lots.c.lot_key).where((lots.c.gtin == gtin) & (lots.c.lot == lot))
    ).scalar()
    if key is None:
        raise UnknownSubject(f"no lot {lot!r} of GTIN {gtin} in the lineage tables")
    return int(key)


def find_serial(conn: Connection, gtin: str, serial: str) -> tuple[int, str]:
    serials = store.table(models.Serial)
    row = conn.execute(
        sa.select(serials.c.lot_key, serials.c.lot).where(
            (serials.c.gtin == gtin) & (serials.c.serial == serial)
        )
    ).first()
    if row is None:
        raise UnknownSubject(f"no serial {serial!r} of GTIN {gtin} in the lineage tables")
    return int(row[0]), str(row[1])


def reach(conn: Connection, start: list[int], way: Way) -> pl.DataFrame:
    """Lots reached from `start` (depth 0, exposure 1): one indexed read of the closure table.

    With several start lots (a serial's consumers) a lot reached from two of them keeps its
    shortest depth and its largest exposure."""
    closure = store.table(models.LotClosure)
    origin, target = (
        (closure.c.descendant_key, closure.c.ancestor_key)
        if way == "backward"
        else (closure.c.ancestor_key, closure.c.descendant_key)
    )
    if not start:
        return pl.DataFrame(schema={"lot_key": pl.Int64, "depth": pl.Int64, "exposure": pl.Float64})
    query = sa.select(target.label("lot_key"), closure.c.depth, closure.c.exposure).where(
        origin.in_(start) if len(start) > 1 else origin == start[0]
    )
    found = store.read_query(
        conn, query, {"lot_key": pl.Int64(), "depth": pl.Int64(), "exposure": pl.Float64()}
    )
    return reached_from(start, found)


TRACE_SERIAL_COLUMNS = ("gtin", "serial", "lot_key", "lot")
"""What a trace shows of a serial: on a hub lot's 10⁵ serials the other columns cost a second."""


def lineage_of(
    conn: Connection, keys: list[int], serial_columns: tuple[str, ...] | None = None
) -> Lineage:
    """The lineage tables restricted to `keys`: every row a trace over those lots can need
    (`serial_columns`: only those of the serial table).

    Edges are kept where both ends are in `keys`; a trace's reached set is closed under its own
    paths, so the walk over this small lineage equals the walk over the whole one."""
    key_table = _keys_definition()
    arrow = _sqlite_arrow(conn, key_table, keys)
    if arrow is None:  # the key table on the SQLAlchemy connection instead
        key_table = keys_table(conn, keys)
    key_set = sa.select(key_table.c.lot_key)

    def query(
        model: type, *conditions: sa.ColumnElement[bool], columns: tuple[str, ...] | None = None
    ) -> sa.Select:
        tbl = store.table(model)
        names = columns or [c.name for c in tbl.columns if c.name not in ("id", "snapshot_id")]
        return sa.select(*(tbl.c[c] for c in names)).where(*conditions)

    def count(query: sa.Select) -> int:
        if arrow is None:
            return int(conn.execute(query).scalar_one())
        return int(_read_arrow(arrow, query, conn.dialect).item())

    lot, edge = store.table(models.Lot), store.table(models.LotEdge)
    serial, shipment = store.table(models.Serial), store.table(models.LotShipment)
    receipt, on_hand = store.table(models.LotReceipt), store.table(models.LotOnHand)
    shipments = query(models.LotShipment, shipment.c.lot_key.in_(key_set))
    queries = {
        "lots": query(models.Lot, lot.c.lot_key.in_(key_set)),
        "edges": query(models.LotEdge, *_edge_conditions(conn.dialect, edge, key_set, count)),
        "serials": query(models.Serial, serial.c.lot_key.in_(key_set), columns=serial_columns),
        "receipts": query(models.LotReceipt, receipt.c.lot_key.in_(key_set)),
        "on_hand": query(models.LotOnHand, on_hand.c.lot_key.in_(key_set)),
    }
    if arrow is None:
        frames = {name: _read_sqlalchemy(conn, q) for name, q in queries.items()}
        frames["shipments"] = _read_sqlalchemy(conn, shipments)
        key_table.drop(conn)
        return Lineage(**frames)
    # the shipment lines, the largest read, on a second connection in a second thread: ADBC's
    # execute (where SQLite steps through the rows) releases the GIL, so with a free core it
    # overlaps the other reads
    second = _sqlite_arrow(conn, key_table, keys)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            shipment_lines = pool.submit(_read_arrow, second, shipments, conn.dialect)
            frames = {name: _read_arrow(arrow, q, conn.dialect) for name, q in queries.items()}
            frames["shipments"] = shipment_lines.result()
    finally:
        arrow.close()
        if second is not None:
            second.close()
    return Lineage(**frames)


def _read_sqlalchemy(conn: Connection, query: sa.Select) -> pl.DataFrame:
    return store.read_query(
        conn, query, {c.name: store._polars_type(c.type) for c in query.selected_columns}
    )


def _sqlite_arrow(conn: Connection, key_table: sa.Table, keys: list[int]) -> SQLiteReader | None:
    """An ADBC connection to the same SQLite file holding `key_table` filled with `keys`, or
    None (not an SQLite file, or no ADBC driver).

    Why: a hub lot's trace reads ~4·10⁵ shipment and serial rows; through the DB-API each value
    becomes a Python object and the frame is built from those (3 s at 10M edges), while ADBC
    hands Arrow columns straight to Polars (about half that). Every query of the trace then
    runs there, so the SQLAlchemy connection needs no key table."""
    arrow = _open_arrow(conn)
    if arrow is None:
        return None
    listed = json.dumps(sorted(set(keys)))  # integers only: safe as a literal
    arrow.execute(f"CREATE TEMPORARY TABLE {key_table.name} (lot_key INTEGER PRIMARY KEY)")
    arrow.execute(f"INSERT INTO {key_table.name} SELECT value FROM json_each('{listed}')")
    return arrow


def _open_arrow(conn: Connection) -> SQLiteReader | None:
    """A read-only ADBC connection on `conn`'s SQLite file, or None."""
    database = conn.engine.url.database
    if conn.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if not arrow_reads.enabled():  # a process that writes SQLite must not (see arrow_reads)
        return None
    try:
        return SQLiteReader(database)
    except ImportError:  # the DB-API path reads the same rows
        return None


def rows_in(
    conn: Connection, model: type, column: str, values: list[str], columns: list[str]
) -> pl.DataFrame | None:
    """`columns` of the rows of `model` whose `column` is one of `values`, read through ADBC
    with the values in a temporary table (one indexed join instead of a query per 5,000 bind
    parameters through the DB-API); None where ADBC does not apply (not an SQLite file).

    Why: a hub lot's FSMA 204 sheets need the production records of its 10⁵ transformations."""
    arrow = _open_arrow(conn)
    if arrow is None:
        return None
    listed = json.dumps(sorted(set(values))).replace("'", "''")  # an SQL string literal
    values_table = sa.Table(
        "trace_values", sa.MetaData(), sa.Column("value", sa.String, primary_key=True)
    )
    try:
        arrow.execute(f"CREATE TEMPORARY TABLE {values_table.name} (value TEXT PRIMARY KEY)")
        arrow.execute(f"INSERT INTO {values_table.name} SELECT value FROM json_each('{listed}')")
        table = store.table(model)
        query = sa.select(*(table.c[c] for c in columns)).where(
            table.c[column].in_(sa.select(values_table.c.value))
        )
        return _read_arrow(arrow, query, conn.dialect)
    finally:
        arrow.close()


def _read_arrow(arrow: SQLiteReader, query: sa.Select, dialect: sa.Dialect) -> pl.DataFrame:
    """`query`'s rows typed as `store.read_frame` types them (SQLite keeps times as text)."""
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return arrow.frame(sql, {c.name: store._polars_type(c.type) for c in query.selected_columns})


def _edge_conditions(
    dialect: sa.Dialect,
    edge: sa.Table,
    key_set: sa.Select,
    count: Callable[[sa.Select], int],
) -> tuple[sa.ColumnElement[bool], ...]:
    """Both ends in `key_set`, searched from the end with fewer index entries.

    SQLite picks one index for the two `IN`s and checks the other end row by row: from the
    children of a hub lot's 35k descendants (each with many inputs from outside) that is 466k
    table lookups and 2 s, from their parents 80k and 0.1 s. A backward set is the mirror case.
    Counting both sides reads the two indexes only (milliseconds); `key + 0` keeps SQLite
    from using the other index."""
    parent, child = edge.c.parent_key.in_(key_set), edge.c.child_key.in_(key_set)
    if dialect.name != "sqlite":
        return parent, child
    rows = sa.select(sa.func.count().label("n")).select_from(edge)
    if count(rows.where(parent)) <= count(rows.where(child)):
        return parent, (edge.c.child_key + 0).in_(key_set)
    return child, (edge.c.parent_key + 0).in_(key_set)


def _keys_definition() -> sa.Table:
    return sa.Table(
        "trace_keys",
        sa.MetaData(),
        sa.Column("lot_key", sa.BigInteger, primary_key=True),
        prefixes=["TEMPORARY"],
    )


def keys_table(conn: Connection, keys: list[int]) -> sa.Table:
    """A temporary table of lot keys: set-based joins instead of a parameter list per query.

    On SQLite the keys go in as one JSON array (`json_each`): one statement instead of 10⁵
    parameter sets through the DB-API."""
    table = _keys_definition()
    table.drop(conn, checkfirst=True)
    table.create(conn)
    unique = sorted(set(keys))
    if unique and conn.dialect.name == "sqlite":
        conn.execute(
            sa.text(f"INSERT INTO {table.name} (lot_key) SELECT value FROM json_each(:keys)"),
            {"keys": json.dumps(unique)},
        )
    elif unique:
        conn.execute(table.insert(), [{"lot_key": k} for k in unique])
    return table


def consumed_in(conn: Connection, gtin: str, serial: str) -> list[str]:
    """Production ids whose consumption names this serial."""
    consumption = store.table(models.ConsumptionRecord)
    return [
        r[0]
        for r in conn.execute(
            sa.select(consumption.c.production_id)
            .where((consumption.c.gtin == gtin) & (consumption.c.serial == serial))
            .distinct()
        )
    ]


def outputs_of(conn: Connection, production_ids: list[str]) -> list[int]:
    if not production_ids:
        return []
    edge = store.table(models.LotEdge)
    return sorted(
        {
            int(r[0])
            for r in conn.execute(
                sa.select(edge.c.child_key).where(edge.c.production_id.in_(production_ids))
            )
        }
    )
