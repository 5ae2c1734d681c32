"""Incremental lineage: a load rewrites only the lineage rows its changed records can change.

A full rebuild reads every stored record and rewrites every lineage table, so a daily load of
2 % new records paid for the whole history. Here the changed records (new versions, and the
versions they replaced or voided) name the lots they *touch*; the lineage rows of those lots are
recomputed from the records that mention them and their direct neighbours, with the same pure
functions a full rebuild runs (`ingest.quality_tables`), and swapped in. Rows of other lots stay
as they are, with the snapshot id of the load that last wrote them.

What reaches further than a lot's own records is handled by what it depends on:
- a production links its output and input lots: touching one record of it touches all of them;
- consumption that names no lot is allocated over the stock of its (GTIN, location): a change to
  that stock touches the allocation's productions and candidate lots;
- a pallet (SSCC) shipped whole resolves through its packing to serials and lots;
- the closure and the "output outlives input" check depend on every ancestor: they are
  recomputed for the descendants of lots whose incoming edges or expiry changed, over the
  subgraph of their ancestors (the stored, already updated edges);
- a lot code shared by several GTINs is a finding on all of them.

`tests/lotline/intake/test_incremental.py` checks, table by table, that a sequence of loads
applied incrementally equals a full rebuild.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

import models
from lotline import completeness, expiry, genealogy, store
from lotline.lineage import LOT_ID, Records

STOCK_FLOWS = {
    # record type: the location columns its rows move stock at (see `lineage.stock_flows`)
    "receipts": ("to_location_id",),
    "production": ("location_id",),
    "moves": ("from_location_id", "to_location_id"),
    "shipments": ("from_location_id", "to_location_id"),
}
SUBGRAPH_CHECKS = ("output_outlives_input", "duplicate_lot_code", "unresolved_sscc")
"""Findings that depend on more than a lot's own records and neighbours: recomputed apart."""


@dataclass(frozen=True)
class Mentions:
    """What a set of records refers to, by the keys lineage joins on."""

    lots: pl.DataFrame  # gtin, lot
    productions: pl.DataFrame  # production_id
    serials: pl.DataFrame  # gtin, serial
    ssccs: pl.DataFrame  # sscc
    places: pl.DataFrame  # gtin, location_id


def _frame(schema: dict[str, pl.DataType], parts: list[pl.DataFrame]) -> pl.DataFrame:
    parts = [p.select(list(schema)).cast(schema) for p in parts if p.height]  # type: ignore[arg-type]
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).drop_nulls().unique()


LOT_SCHEMA = {"gtin": pl.String, "lot": pl.String}
PRODUCTION_SCHEMA = {"production_id": pl.String}
SERIAL_SCHEMA = {"gtin": pl.String, "serial": pl.String}
SSCC_SCHEMA = {"sscc": pl.String}
PLACE_SCHEMA = {"gtin": pl.String, "location_id": pl.String}


def mentions(frames: dict[str, pl.DataFrame]) -> Mentions:
    """Lots, productions, serials, SSCCs and stock places named by rows of each record type."""
    lots, productions, serials, ssccs, places = [], [], [], [], []
    for name, frame in frames.items():
        if frame.is_empty() or name == "products":
            continue
        cols = set(frame.columns)
        if {"gtin", "lot"} <= cols:
            lots.append(frame.select(LOT_ID))
        if {"gtin", "serial"} <= cols:
            serials.append(frame.select("gtin", "serial"))
        if "production_id" in cols:
            productions.append(frame.select("production_id"))
        for column in ("sscc", "parent_sscc", "child_sscc"):
            if column in cols:
                ssccs.append(frame.select(pl.col(column).alias("sscc")))
        for column in STOCK_FLOWS.get(name, ()):
            if column in cols and "gtin" in cols:
                places.append(frame.select("gtin", pl.col(column).alias("location_id")))
    return Mentions(
        _frame(LOT_SCHEMA, lots),
        _frame(PRODUCTION_SCHEMA, productions),
        _frame(SERIAL_SCHEMA, serials),
        _frame(SSCC_SCHEMA, ssccs),
        _frame(PLACE_SCHEMA, places),
    )


# --- reading records by what they mention -------------------------------------------------------


def _record_columns(name: str) -> list[str]:
    """What the lineage and quality tables read of a record (as a full build: `UNTRACED_COLUMNS`
    left out), and its hash, which tells two reads of one row apart. The source file's hash and
    name are a fifth of a row's bytes: on a delta's 200k scope rows, a second of reading."""
    from lotline.intake.ingest import UNTRACED_COLUMNS

    model = models.RECORD_TABLES[name]
    left_out = set(UNTRACED_COLUMNS) - {"record_hash"}
    return [c.name for c in store.table(model).columns if c.name not in left_out]


def _sql_type(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "BIGINT"
    return "DOUBLE PRECISION" if dtype.is_float() else "TEXT"


class KeyTables:
    """Temporary key tables inside the load's transaction, so record reads are joins on the
    records' indexes rather than IN lists of thousands of values."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.made: set[str] = set()

    def put(self, name: str, frame: pl.DataFrame) -> str:
        """Fill the key table `name` with `frame`: integer columns as integers (a lot key is
        compared with integer keys), floats as doubles, every other column as text."""
        types = {c: _sql_type(t) for c, t in frame.schema.items()}
        table = f"lotline_scope_{name}" + ("_int" if "BIGINT" in types.values() else "")
        # every time, IF NOT EXISTS: a nested reader's `drop` may have dropped a table of the
        # same name (and SQLite runs the CREATE outside the transaction, so a rolled-back load
        # can leave the emptied table on its pooled connection)
        cols = ", ".join(f'"{c}" {t}' for c, t in types.items())
        suffix = " ON COMMIT DROP" if self.conn.dialect.name == "postgresql" else ""
        self.conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({cols}){suffix}")
        self.made.add(table)
        self.conn.exec_driver_sql(f"DELETE FROM {table}")
        text = frame.cast({c: pl.String for c, t in types.items() if t == "TEXT"})  # type: ignore[misc]
        if self._pg and text.height < store.BINARY_COPY_ROWS:  # text COPY: no catalogue read
            raw = self.conn.connection.driver_connection
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for row in text.rows():
                    copy.write_row(row)
        else:
            store.insert_scratch(self.conn, table, text)
        if self._pg:
            self.conn.exec_driver_sql(f"ANALYZE {table}")
        return table

    @property
    def _pg(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    def drop(self) -> None:
        for table in self.made:
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        self.made.clear()


def _term(conn: Connection, column: str, columns: list[str]) -> str:
    """`r.column = s.column`; on SQLite a GTIN beside a sharper key (lot, serial, location) is
    written `+r.gtin` so that the planner probes the sharper key's index, not the GTIN's (one
    GTIN has thousands of rows)."""
    blunt = column == "gtin" and len(columns) > 1 and conn.dialect.name == "sqlite"
    return f'{"+" if blunt else ""}r."{column}" = s."{column}"'


def read_by_keys(
    conn: Connection,
    scratch: KeyTables,
    table: str,
    keys: pl.DataFrame,
    schema: dict[str, pl.DataType],
    where: str | None = None,
    scan: bool = False,
    one_index: bool = False,
) -> pl.DataFrame:
    """The `schema` columns of `table`'s rows whose columns named as `keys`' equal one of its
    rows (and `where`, on `r`): a join of a temporary key table with `table`'s index. `scan`:
    no index leads to these keys, so `table` is read once and each row looks its key up.
    `one_index`: the key columns together are one index of `table` (its primary key), so a
    GTIN among them is not set aside (`_term`)."""
    if keys.is_empty():
        return pl.DataFrame(schema=schema)
    scratch_table = scratch.put("_".join(keys.columns), keys)
    if conn.dialect.name == "postgresql":  # as a Select, the rows come out by `COPY`
        r = store.table(table).alias("r")
        s = sa.table(scratch_table, *(sa.column(c) for c in keys.columns)).alias("s")
        on = sa.and_(*(r.c[c] == s.c[c] for c in keys.columns))
        query = sa.select(*(r.c[c] for c in schema)).select_from(
            s.join(r, on if where is None else on & sa.text(where))
        )
        return store.read_query(conn, query, schema)
    join = " AND ".join(_term(conn, c, [c] if one_index else keys.columns) for c in keys.columns)
    select = ", ".join(f'r."{c}"' for c in schema)
    condition = f" AND {where}" if where else ""
    # CROSS JOIN makes SQLite loop over the few keys and probe the table's index; the other way
    # round scans the table once
    tables = (
        f'"{table}" r CROSS JOIN {scratch_table} s'
        if scan
        else f'{scratch_table} s CROSS JOIN "{table}" r'
    )
    return store.read_query(conn, f"SELECT {select} FROM {tables} WHERE {join}{condition}", schema)


def _key_frame(column: str, values: object) -> pl.DataFrame:
    frame = pl.Series(column, values).unique().drop_nulls().to_frame()
    return frame.cast({column: pl.Int64}) if frame.schema[column].is_integer() else frame


def _read_in(
    conn: Connection,
    model: type,
    column: str,
    values: object,
    columns: list[str] | None = None,
) -> pl.DataFrame:
    """`store.read_in` as one join with a key table: thousands of values are one statement,
    not one per 500 (each a round trip, and on PostgreSQL a `COPY`)."""
    schema = store.polars_schema(model)
    wanted = {c: schema[c] for c in (columns or schema)}
    scratch = KeyTables(conn)
    try:
        keys = _key_frame(column, values)
        return read_by_keys(conn, scratch, store.table(model).name, keys, wanted)
    finally:
        scratch.drop()


def _delete_in(
    conn: Connection,
    model: type,
    column: str,
    values: object,
    where: sa.ColumnElement | None = None,
) -> None:
    """`store.delete_in` as one statement: the rows whose `column` is in a key table."""
    keys = _key_frame(column, values)
    if keys.is_empty():
        return
    scratch = KeyTables(conn)
    try:
        table = scratch.put(column, keys)
        condition = f" AND {_sql(conn, where)}" if where is not None else ""
        conn.exec_driver_sql(
            f'DELETE FROM "{store.table(model).name}" '
            f'WHERE "{column}" IN (SELECT "{column}" FROM {table}){condition}'
        )
    finally:
        scratch.drop()


def _sql(conn: Connection, condition: sa.ColumnElement) -> str:
    """A condition on a table's columns as SQL text, its values written in."""
    return str(condition.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def _read_matching(
    conn: Connection,
    scratch: KeyTables,
    name: str,
    keys: dict[str, pl.DataFrame],
    where: str | None = None,
    scratch_first: bool = True,
) -> pl.DataFrame:
    """Rows of record type `name` matching any of `keys` (label → key frame whose columns are
    record columns), once each."""
    model = models.RECORD_TABLES[name]
    tbl = store.table(model)
    schema = store.polars_schema(model)
    wanted = {c: schema[c] for c in _record_columns(name)}
    parts = [
        read_by_keys(conn, scratch, tbl.name, frame, wanted, where, scan=not scratch_first)
        for frame in keys.values()
        if not frame.is_empty() and set(frame.columns) <= set(tbl.c.keys())
    ]
    if not parts:
        return pl.DataFrame(schema=wanted)
    return pl.concat(parts).unique("record_hash", keep="first", maintain_order=True)


def _with_production_places(conn: Connection, consumption: pl.DataFrame) -> pl.DataFrame:
    """Consumption rows with the location of their production (where they move stock)."""
    if consumption.is_empty():
        return consumption.with_columns(pl.lit(None, pl.String).alias("location_id"))
    productions = _read_in(
        conn,
        models.ProductionRecord,
        "production_id",
        consumption["production_id"],
        columns=["production_id", "location_id"],
    )
    return _with_places(consumption, productions)


def _with_places(consumption: pl.DataFrame, productions: pl.DataFrame) -> pl.DataFrame:
    """`_with_production_places` given the production rows (at least those of `consumption`)."""
    places = productions.select("production_id", "location_id").unique("production_id")
    return consumption.join(places, on="production_id", how="left")


def _any_lotless(conn: Connection) -> bool:
    consumption = store.table(models.ConsumptionRecord)
    query = sa.select(consumption.c.production_id).where(consumption.c.lot.is_(None)).limit(1)
    return conn.execute(query).first() is not None


def _lotless_places(conn: Connection, scratch: KeyTables, places: pl.DataFrame) -> pl.DataFrame:
    """The (GTIN, location)s among `places` where consumption without a lot is allocated."""
    if places.is_empty():
        return places
    if not _any_lotless(conn):
        return places.clear()
    lotless = _read_matching(
        conn, scratch, "consumption", {"place_gtins": places.select("gtin")}, "r.lot IS NULL"
    )
    lotless = _with_production_places(conn, lotless)
    return places.join(lotless.select("gtin", "location_id").unique(), on=["gtin", "location_id"])


def _place_records(
    conn: Connection, scratch: KeyTables, places: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """Every record that moves stock of a GTIN at one of `places`, and every consumption of it
    there: the ledger the allocation of lot-less consumption reads."""
    out: dict[str, pl.DataFrame] = {}
    if places.is_empty():
        return out
    by_gtin = {"place_gtins": places.select("gtin").unique()}
    for name, columns in STOCK_FLOWS.items():
        rows = _read_matching(conn, scratch, name, by_gtin)
        hit = pl.lit(False)
        for column in columns:
            hit = hit | pl.struct("gtin", pl.col(column).alias("location_id")).is_in(
                places.select(pl.struct("gtin", "location_id")).to_series().implode()
            )
        out[name] = rows.filter(hit)
    consumption = _with_production_places(
        conn, _read_matching(conn, scratch, "consumption", by_gtin)
    )
    out["consumption"] = consumption.join(places, on=["gtin", "location_id"], how="semi").drop(
        "location_id"
    )
    return out


def _packing_of(conn: Connection, scratch: KeyTables, family: pl.DataFrame) -> pl.DataFrame:
    """Packing events that put something in one of `family`'s SSCCs or put one of them in."""
    return _union(
        _read_matching(
            conn, scratch, "packing", {"family_parent": family.rename({"sscc": "parent_sscc"})}
        ),
        _read_matching(
            conn, scratch, "packing", {"family_child": family.rename({"sscc": "child_sscc"})}
        ),
    )


def _sscc_family(conn: Connection, scratch: KeyTables, ssccs: pl.DataFrame) -> pl.DataFrame:
    """`ssccs` with every SSCC packed in them or they were packed in, at any depth."""
    family = ssccs
    for _ in range(16):  # nesting depth of real packaging: pallet, case, inner pack
        packing = _packing_of(conn, scratch, family)
        grown = _frame(
            SSCC_SCHEMA,
            [
                family,
                packing.select(pl.col("parent_sscc").alias("sscc")),
                packing.select(pl.col("child_sscc").alias("sscc")),
            ],
        )
        if grown.height == family.height:
            return grown
        family = grown
    return family


def _commissioned(conn: Connection, scratch: KeyTables, serials: pl.DataFrame) -> pl.DataFrame:
    """gtin, serial → lot of serials already stored, from the serial table (its key is the
    serial): the lot a pallet's or a status record's serial belongs to."""
    schema = {**SERIAL_SCHEMA, "lot": pl.String}
    if serials.is_empty():
        return pl.DataFrame(schema=schema)
    keys = scratch.put("serial_lookup", serials)
    return store.read_query(
        conn,
        f"SELECT s.gtin, s.serial, l.lot FROM {keys} s CROSS JOIN serial x "
        "JOIN lot l ON l.lot_key = x.lot_key WHERE x.gtin = s.gtin AND x.serial = s.serial",
        schema,
    )


SERIAL_ONLY_TYPES = ("consumption", "shipments", "packing", "status")
"""Record types whose rows may name a serial without its lot (the others always carry both)."""


def _serial_only_rows(
    conn: Connection, scratch: KeyTables, name: str, serials: pl.DataFrame
) -> pl.DataFrame:
    """Rows of `name` naming one of `serials` and no lot: few, so the records with a null lot
    are scanned once against the serials rather than each serial probing a GTIN's rows."""
    return _read_matching(
        conn, scratch, name, {"serials": serials}, "r.lot IS NULL", scratch_first=False
    )


def touched_lots(conn: Connection, changed: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The lots whose own lineage rows the changed records can change (gtin, lot)."""
    scratch = KeyTables(conn)
    try:
        seen = mentions(changed)
        lots = [seen.lots]
        productions = seen.productions
        places = seen.places
        ssccs = seen.ssccs
        serials = seen.serials
        for _ in range(2):  # productions → their lots' places → more productions, and back once
            members = {
                n: _read_matching(conn, scratch, n, {"productions": productions})
                for n in ("production", "consumption")
            }
            found = mentions(members)
            lots.append(found.lots)
            serials = _frame(SERIAL_SCHEMA, [serials, found.serials])
            consumed = _with_production_places(conn, members["consumption"])
            places = _frame(
                PLACE_SCHEMA,
                [places, found.places, consumed.select("gtin", "location_id")],
            )
            lotless = _lotless_places(conn, scratch, places)
            ledger = _place_records(conn, scratch, lotless)
            lots.append(mentions(ledger).lots)
            grown = _frame(
                PRODUCTION_SCHEMA,
                [
                    productions,
                    *(
                        f.select("production_id")
                        for n, f in ledger.items()
                        if n in ("production", "consumption")
                    ),
                ],
            )
            if grown.height == productions.height:  # no more productions: the same again
                break
            productions = grown
        family = _sscc_family(conn, scratch, ssccs)
        packed = {
            "packing": _packing_of(conn, scratch, family),
            "shipments": _read_matching(conn, scratch, "shipments", {"family": family}),
        }
        found = mentions(packed)
        lots.append(found.lots)
        serials = _frame(SERIAL_SCHEMA, [serials, found.serials])
        lots.append(_commissioned(conn, scratch, serials).select(LOT_ID))
        if "products" in changed:  # a product's name, unit or shelf life: all of its lots
            gtins = changed["products"]["gtin"].to_list()
            lots.append(_read_in(conn, models.Lot, "gtin", gtins, columns=LOT_ID))
        touched = _frame(LOT_SCHEMA, lots)
        return _with_same_codes(conn, touched)
    finally:
        scratch.drop()


def _with_same_codes(conn: Connection, lots: pl.DataFrame) -> pl.DataFrame:
    """`lots` and every stored lot sharing a lot code with one of them (a shared code is a
    finding on each lot that carries it)."""
    stored = _read_in(conn, models.Lot, "lot", lots["lot"], columns=LOT_ID)
    return _frame(LOT_SCHEMA, [lots, stored])


def scope_records(conn: Connection, lots: pl.DataFrame) -> Records:
    """The records lineage needs to compute the rows of `lots` exactly: every record of those
    lots, the whole of each production they are in, the serials and pallets they travel as,
    and the stock ledger where lot-less consumption is allocated over them."""
    from lotline.intake.ingest import LINEAGE_RECORD_TYPES

    scratch = KeyTables(conn)
    try:
        frames = {n: _read_matching(conn, scratch, n, {"lots": lots}) for n in LINEAGE_RECORD_TYPES}
        # the whole of every production that made one of the lots (its edges and shares); a
        # production that only consumed one needs no more than its time and place (below)
        productions = mentions({"production": frames["production"]}).productions
        for name in ("production", "consumption"):
            more = _read_matching(conn, scratch, name, {"productions": productions})
            frames[name] = _union(frames[name], more)
        serials = mentions(frames).serials
        for name in SERIAL_ONLY_TYPES:
            frames[name] = _union(frames[name], _serial_only_rows(conn, scratch, name, serials))
        family = _sscc_family(conn, scratch, mentions(frames).ssccs)
        frames["packing"] = _union(frames["packing"], _packing_of(conn, scratch, family))
        shipped = _read_matching(conn, scratch, "shipments", {"family": family})
        frames["shipments"] = _union(frames["shipments"], shipped)
        # serials packed in those pallets: their commissioning gives the exploded lines' lots
        packed = _commissioned(conn, scratch, mentions({"packing": frames["packing"]}).serials)
        for name in ("receipts", "production"):
            more = _read_matching(
                conn, scratch, name, {"packed_lots": packed.select(LOT_ID).unique()}
            )
            more = more.join(packed.select("gtin", "serial"), on=["gtin", "serial"], how="semi")
            frames[name] = _union(frames[name], more)
        # the events (time, place) of every production whose consumption is in scope: their
        # places are where that consumption moves stock
        consumed_in = frames["consumption"].select("production_id").unique()
        events = _read_matching(conn, scratch, "production", {"productions": consumed_in})
        consumed = _with_places(frames["consumption"], events)
        places = _frame(
            PLACE_SCHEMA,
            [mentions(frames).places, consumed.select("gtin", "location_id")],
        )
        ledger = _place_records(conn, scratch, _lotless_places(conn, scratch, places))
        for name, more in ledger.items():
            frames[name] = _union(frames[name], more)
        more_consumed = frames["consumption"].select("production_id").unique()
        more_consumed = more_consumed.join(consumed_in, on="production_id", how="anti")
        more_events = _read_matching(conn, scratch, "production", {"productions": more_consumed})
        frames["production"] = _union(frames["production"], _union(events, more_events))
    finally:
        scratch.drop()
    return Records(
        products=store.read_frame(conn, models.Product),
        locations=store.read_frame(conn, models.Location),
        **frames,
    )


def _union(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    if b.is_empty():
        return a
    return pl.concat([a, b.select(a.columns)]).unique(
        "record_hash", keep="first", maintain_order=True
    )


# --- the genealogy beyond a lot's neighbours ----------------------------------------------------


def _walk(conn: Connection, start: list[int], direction: str) -> list[int]:
    """`start` and every lot reachable from it over the stored edges (a set: cycles end)."""
    if not start:
        return []
    step, back = ("child_key", "parent_key") if direction == "down" else ("parent_key", "child_key")
    scratch = KeyTables(conn)
    try:
        seed = scratch.put("walk", pl.DataFrame({"lot_key": start}, schema={"lot_key": pl.Int64}))
        query = (
            f"WITH RECURSIVE reach(k) AS (SELECT lot_key FROM {seed} "
            f"UNION SELECT e.{step} FROM lot_edge e JOIN reach r ON e.{back} = r.k) "
            "SELECT k FROM reach"
        )
        # PostgreSQL plans every step for a guessed frontier and hashes all of lot_edge per
        # step (1.2 s for 28k lots at 200k edges); probing its index per lot takes 0.2 s
        with planner(conn, enable_hashjoin="off", enable_mergejoin="off"):
            found = conn.exec_driver_sql(query).fetchall()
    finally:
        scratch.drop()
    return sorted({int(row[0]) for row in found})


def _edges_into(conn: Connection, lots: list[int]) -> pl.DataFrame:
    schema = store.polars_schema(models.LotEdge)
    wanted = {c: schema[c] for c in ("parent_key", "child_key", "production_id", "share")}
    scratch = KeyTables(conn)
    try:
        keys = pl.DataFrame({"child_key": lots}, schema={"child_key": pl.Int64})
        return read_by_keys(conn, scratch, "lot_edge", keys, wanted)
    finally:
        scratch.drop()


KEY_READS = {"random_page_cost": "1.1", "jit": "off"}
"""PostgreSQL planner settings for reads and deletes by a key table of a few thousand keys.
With the default cost of a random page (4, a spinning disk's) the planner hashes a million-row
record table for 2,450 production ids (260 ms) rather than probe its index 2,450 times (8 ms);
the tables of a daily load are in memory. JIT, which the cost estimates of such a join switch
on, only adds ~20 ms to each statement."""


@contextmanager
def planner(conn: Connection, **settings: str) -> Iterator[None]:
    """PostgreSQL planner settings for the statements inside, then those before (SQLite has
    none to set)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    before = {
        name: conn.exec_driver_sql(f"SELECT current_setting('{name}')").scalar_one()
        for name in settings
    }
    for name, value in settings.items():
        conn.exec_driver_sql(f"SELECT set_config('{name}', '{value}', true)")
    try:
        yield
    finally:
        for name, value in before.items():
            conn.exec_driver_sql(f"SELECT set_config('{name}', '{value}', true)")


def closure_of(edges: pl.DataFrame, descendants: list[int]) -> pl.DataFrame:
    """Closure rows whose descendant is in `descendants`, from `edges` holding at least every
    edge into their ancestors. Keys are renumbered densely in the same order, so the sums run
    in the order a full closure runs them and give the same floats."""
    lots = (
        pl.concat(
            [
                edges.select(pl.col("parent_key").alias("lot_key")),
                edges.select(pl.col("child_key").alias("lot_key")),
                pl.DataFrame({"lot_key": descendants}, schema={"lot_key": pl.Int64}),
            ]
        )
        .cast(pl.Int64)
        .unique()
        .sort("lot_key")
        .with_row_index("local")
        .with_columns(pl.col("local").cast(pl.Int64))
    )
    local = edges.join(
        lots.rename({"lot_key": "parent_key", "local": "_parent"}), on="parent_key"
    ).join(lots.rename({"lot_key": "child_key", "local": "_child"}), on="child_key")
    local = local.drop("parent_key", "child_key").rename(
        {"_parent": "parent_key", "_child": "child_key"}
    )
    pairs = genealogy.closure(local, lots.height)
    back = lots.select(pl.col("local").cast(pl.Int32), pl.col("lot_key").cast(pl.Int32))
    wanted = pl.DataFrame({"descendant_key": descendants}, schema={"descendant_key": pl.Int32})
    return (
        pairs.join(back.rename({"local": "ancestor_key", "lot_key": "_a"}), on="ancestor_key")
        .join(back.rename({"local": "descendant_key", "lot_key": "_d"}), on="descendant_key")
        .select(
            pl.col("_a").alias("ancestor_key"),
            pl.col("_d").alias("descendant_key"),
            "depth",
            "exposure",
        )
        .join(wanted, on="descendant_key", how="semi")
    )


def _read_lots(
    conn: Connection, model: type, lots: pl.DataFrame, columns: list[str] | None = None
) -> pl.DataFrame:
    """Rows of `model` whose (gtin, lot) is in `lots`: one join on the lot index (a loop per
    GTIN was hundreds of small reads, each a round trip to PostgreSQL)."""
    schema = store.polars_schema(model)
    wanted = {c: schema[c] for c in (columns or schema)}
    scratch = KeyTables(conn)
    try:
        keys = lots.select(LOT_ID).drop_nulls().unique()
        return read_by_keys(conn, scratch, store.table(model).name, keys, wanted)
    finally:
        scratch.drop()


def _delete_lots(
    conn: Connection, model: type, lots: pl.DataFrame, where: sa.ColumnElement | None = None
) -> None:
    """Delete rows of `model` whose (gtin, lot) is in `lots` (and `where`): one statement
    joining a key table on the lot index."""
    keys = lots.select(LOT_ID).drop_nulls().unique()
    if keys.is_empty():
        return
    name = store.table(model).name
    scratch = KeyTables(conn)
    try:
        table = scratch.put("gtin_lot", keys)
        condition = f" AND {_sql(conn, where)}" if where is not None else ""
        lot = f'"{name}".lot = s.lot{condition}'
        # on SQLite the same join as `read_by_keys`: the keys probe the lot index
        _delete_joined(
            conn,
            name,
            table,
            f'"{name}".gtin = s.gtin AND {lot}',
            f'+"{name}".gtin = s.gtin AND {lot}',
        )
    finally:
        scratch.drop()


def _delete_joined(
    conn: Connection, name: str, keys: str, on: str, sqlite_on: str | None = None
) -> None:
    """Delete the rows of table `name` that join the key table `keys` (alias `s`) on `on`, its
    columns qualified by the table's name. PostgreSQL has `DELETE … USING`; SQLite deletes the
    rowids of a join that loops over the keys and probes the table's index (`sqlite_on`: the
    same condition written for SQLite's planner)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f'DELETE FROM "{name}" USING {keys} s WHERE {on}')
    else:
        conn.exec_driver_sql(
            f'DELETE FROM "{name}" WHERE rowid IN '
            f'(SELECT "{name}".rowid FROM {keys} s CROSS JOIN "{name}" WHERE {sqlite_on or on})'
        )


# --- the update ---------------------------------------------------------------------------------


def update(conn: Connection, snapshot_id: str, changed: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Bring the lineage tables up to date with the changed records, inside the load's
    transaction; returns rows written per table (only the rows rewritten)."""
    with planner(conn, **KEY_READS):
        return _update(conn, snapshot_id, changed)


def _update(conn: Connection, snapshot_id: str, changed: dict[str, pl.DataFrame]) -> dict[str, int]:
    from lotline.intake.ingest import lineage_records, quality_tables, stored_lot_keys
    from lotline.lineage import lot_keys

    touched = touched_lots(conn, changed)
    if touched.is_empty():
        return {}
    records = scope_records(conn, touched)
    known, next_key = stored_lot_keys(conn, lot_keys(lineage_records(records)))
    lineage, quality = quality_tables(records, known, next_key, with_closure=False)
    keys = lineage.lots.select("lot_key", *LOT_ID)
    stamp = pl.lit(snapshot_id).alias("snapshot_id")
    counts: dict[str, int] = {}

    old = _read_lots(conn, models.Lot, touched, ["lot_key", "gtin", "lot", "expiry_date"])
    mine = keys.join(touched, on=LOT_ID, how="semi")
    my_keys = sorted(set(mine["lot_key"].to_list()) | set(old["lot_key"].to_list()))
    old_edges = _edges_into(conn, my_keys)

    def keep(frame: pl.DataFrame, key: str = "lot_key") -> pl.DataFrame:
        return frame.filter(pl.col(key).is_in(mine["lot_key"].implode()))

    by_key = {
        "lot": (models.Lot, keep(lineage.lots)),
        "lot_edge": (models.LotEdge, keep(lineage.edges, "child_key")),
        "serial": (models.Serial, keep(lineage.serials)),
        "lot_shipment": (models.LotShipment, keep(lineage.shipments)),
        "lot_receipt": (models.LotReceipt, keep(lineage.receipts)),
        "lot_on_hand": (models.LotOnHand, keep(lineage.on_hand)),
        "lot_mass_balance": (models.LotMassBalance, keep(quality["lot_mass_balance"])),
    }
    for name, (model, rows) in by_key.items():
        _delete_in(conn, model, "child_key" if name == "lot_edge" else "lot_key", my_keys)
        counts[name] = store.insert_frame(conn, model, rows.with_columns(stamp))

    status_rows = quality["lot_status"].join(touched, on=LOT_ID, how="semi")
    _delete_lots(conn, models.LotStatus, touched)
    counts["lot_status"] = store.insert_frame(
        conn, models.LotStatus, status_rows.with_columns(stamp)
    )

    exception = store.table(models.TraceException)
    local = quality["trace_exception"].filter(~pl.col("check").is_in(SUBGRAPH_CHECKS))
    _delete_lots(conn, models.TraceException, touched, ~exception.c.check.in_(SUBGRAPH_CHECKS))
    counts["trace_exception"] = store.insert_frame(
        conn, models.TraceException, local.join(touched, on=LOT_ID, how="semi").with_columns(stamp)
    )

    # the closure and expiry propagation: descendants of lots whose inputs or expiry changed
    rewired = _rewired(old_edges, keep(lineage.edges, "child_key"))
    expiry_now = keep(lineage.lots).select("lot_key", "expiry_date")
    expiry_changed = (
        pl.concat([old.select("lot_key", "expiry_date"), expiry_now])
        .group_by("lot_key")
        .agg(pl.col("expiry_date").n_unique(), pl.len())
        .filter((pl.col("expiry_date") > 1) | (pl.col("len") == 1))
    )
    closure_scope = _walk(conn, sorted(rewired), "down")
    expiry_scope = sorted(
        set(_walk(conn, sorted(rewired | set(expiry_changed["lot_key"].to_list())), "down"))
        | set(mine["lot_key"].to_list())
    )
    # both read the ancestry of their lots, and the expiry scope holds the closure's: one walk
    # up and one read of the edges into it serve both
    ancestry = _walk(conn, expiry_scope, "up")
    edges = _edges_into(conn, ancestry)
    if closure_scope:
        pairs = closure_of(_edges_up_from(edges, closure_scope), closure_scope)
        counts["lot_closure"] = _rewrite_closure(conn, closure_scope, pairs, snapshot_id)
    counts["trace_exception"] += _rewrite_outlives(
        conn, expiry_scope, touched, stamp, ancestry, edges
    )
    written, sharing = _rewrite_shared_codes(conn, touched, stamp)
    counts["trace_exception"] += written + _rewrite_unresolved(
        conn, records, changed.get("shipments"), stamp
    )
    scored = sorted(set(expiry_scope) | set(my_keys) | set(sharing))
    counts["lot_completeness"] = _rewrite_completeness(conn, scored, stamp)
    return counts


SHARE_TOLERANCE = 1e-9
"""Shares are sums whose last bits depend on the order they were added in: a share that moved
less than this (relative) did not change the material, and its descendants' closure stands."""


def _rewired(before: pl.DataFrame, after: pl.DataFrame) -> set[int]:
    """Lots whose incoming edges gained, lost or changed a link or a share."""
    link = ["parent_key", "child_key", "production_id"]

    def links(edges: pl.DataFrame) -> pl.DataFrame:
        return (
            edges.select(*link, pl.col("share").fill_null(0.0))
            .cast({"parent_key": pl.Int64, "child_key": pl.Int64, "share": pl.Float64})
            .group_by(link)
            .agg(pl.col("share").sum())
        )

    old, new = pl.col("share"), pl.col("share_new")
    both = links(before).join(links(after), on=link, how="full", coalesce=True, suffix="_new")
    changed = both.filter(
        old.is_null()
        | new.is_null()
        | ((old - new).abs() > SHARE_TOLERANCE * pl.max_horizontal(old.abs(), new.abs()))
    )
    return set(changed["child_key"].to_list())


def _rewrite_closure(
    conn: Connection, descendants: list[int], pairs: pl.DataFrame, snapshot_id: str
) -> int:
    """Make the closure rows of `descendants` the `pairs`, writing only what changed; returns
    the rows written. A rewired lot's descendants keep most of their ancestors at the same depth
    and exposure (337k of the 540k rows of the 1M benchmark's delta), and those rows stay as
    they are, with the snapshot id of the load that wrote them, like the rows of other lots."""
    compared = {
        "ancestor_key": pl.Int64,
        "descendant_key": pl.Int64,
        "depth": pl.Int64,
        "exposure": pl.Float64,
    }
    scratch = KeyTables(conn)
    try:  # compared in the database: the stored pairs never travel to Python and back
        scope = scratch.put("descendant_key", _key_frame("descendant_key", descendants))
        new = scratch.put("closure_pairs", pairs.select(list(compared)).cast(compared))
        if conn.dialect.name == "sqlite":  # the stale rows probe the new pairs by their key
            conn.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {new}_key ON {new} (descendant_key, ancestor_key)"
            )
        same = " AND ".join(f"n.{c} = lot_closure.{c}" for c in compared)
        _delete_joined(  # stored pairs of the descendants with no identical new pair
            conn,
            "lot_closure",
            scope,
            "lot_closure.descendant_key = s.descendant_key "
            f"AND NOT EXISTS (SELECT 1 FROM {new} n WHERE {same})",
        )
        # what is left of the stored pairs is identical to its new pair: only the rest goes in
        written = conn.execute(
            sa.text(
                "INSERT INTO lot_closure (ancestor_key, descendant_key, depth, exposure, "
                "snapshot_id) SELECT n.ancestor_key, n.descendant_key, n.depth, n.exposure, "
                f":snapshot FROM {new} n WHERE NOT EXISTS (SELECT 1 FROM lot_closure c "
                "WHERE c.ancestor_key = n.ancestor_key AND c.descendant_key = n.descendant_key)"
            ),
            {"snapshot": snapshot_id},
        )
        return written.rowcount
    finally:
        scratch.drop()


def _edges_up_from(edges: pl.DataFrame, lots: list[int]) -> pl.DataFrame:
    """The edges into `lots` and into their ancestors, from `edges` holding at least those."""
    reached = pl.DataFrame({"child_key": lots}, schema={"child_key": edges.schema["child_key"]})
    frontier = reached
    while not frontier.is_empty():
        parents = edges.join(frontier, on="child_key", how="semi").select(
            pl.col("parent_key").cast(reached.schema["child_key"]).alias("child_key")
        )
        frontier = parents.unique().join(reached, on="child_key", how="anti")
        reached = pl.concat([reached, frontier])
    return edges.join(reached, on="child_key", how="semi")


def _rewrite_outlives(
    conn: Connection,
    scope: list[int],
    touched: pl.DataFrame,
    stamp: pl.Expr,
    ancestry: list[int],
    edges: pl.DataFrame,
) -> int:
    """Rewrite the "output outlives input" findings of the lots of `scope`, given the keys of
    their ancestry and the edges into it."""
    if not scope:
        return 0
    lots = _read_in(conn, models.Lot, "lot_key", ancestry)
    from lotline.lineage import Lineage

    empty = pl.DataFrame()
    findings = completeness.output_outlives_input(
        Lineage(
            lots=lots, edges=edges, serials=empty, shipments=empty, receipts=empty, on_hand=empty
        )
    )
    mine = lots.filter(pl.col("lot_key").is_in(scope)).select(LOT_ID)
    exception = store.table(models.TraceException)
    gone = pl.concat([mine, touched.select(LOT_ID)]).unique()
    _delete_lots(conn, models.TraceException, gone, exception.c.check == "output_outlives_input")
    return store.insert_frame(
        conn, models.TraceException, findings.join(mine, on=LOT_ID, how="semi").with_columns(stamp)
    )


def _rewrite_shared_codes(
    conn: Connection, touched: pl.DataFrame, stamp: pl.Expr
) -> tuple[int, list[int]]:
    """Rewrite the shared-lot-code findings of the codes of `touched`; returns rows written and
    the keys of the lots carrying those codes (their completeness counts the finding)."""
    lots = _read_in(conn, models.Lot, "lot", touched["lot"])
    from lotline.lineage import Lineage

    empty = pl.DataFrame()
    findings = completeness.duplicate_lot_codes(
        Lineage(
            lots=lots, edges=empty, serials=empty, shipments=empty, receipts=empty, on_hand=empty
        )
    )
    exception = store.table(models.TraceException)
    gone = pl.concat([lots.select(LOT_ID), touched.select(LOT_ID)]).unique()
    _delete_lots(conn, models.TraceException, gone, exception.c.check == "duplicate_lot_code")
    written = store.insert_frame(conn, models.TraceException, findings.with_columns(stamp))
    return written, lots["lot_key"].to_list()


def _rewrite_unresolved(
    conn: Connection, records: Records, changed: pl.DataFrame | None, stamp: pl.Expr
) -> int:
    """Pallet shipments that resolve to nothing carry no lot: rewrite the findings of the
    pallets in scope, and drop those of pallet lines this load corrected or voided (their
    reference names shipment and SSCC)."""
    from lotline import aggregation

    def pallet_lines(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(
            pl.col("gtin").is_null() & pl.col("lot").is_null() & pl.col("sscc").is_not_null()
        )

    pallets = pallet_lines(records.shipments)
    before = (
        pallet_lines(changed)
        if changed is not None and {"shipment_id", "sscc"} <= set(changed.columns)
        else pl.DataFrame(schema={"shipment_id": pl.String, "sscc": pl.String})
    )
    references = (
        pl.concat([pallets.select("shipment_id", "sscc"), before.select("shipment_id", "sscc")])
        .select(pl.format("shipment {} SSCC {}", "shipment_id", "sscc"))
        .to_series()
        .unique()
        .to_list()
    )
    exception = store.table(models.TraceException)
    unresolved = exception.c.check == "unresolved_sscc"
    store.delete_in(conn, models.TraceException, "reference", references, unresolved)
    if pallets.is_empty():
        return 0
    found = completeness.unresolved_sscc(aggregation.unresolved_shipments(pallets, records.packing))
    return store.insert_frame(conn, models.TraceException, found.with_columns(stamp))


def _rewrite_completeness(conn: Connection, keys: list[int], stamp: pl.Expr) -> int:
    lots = _read_in(conn, models.Lot, "lot_key", keys)
    if lots.is_empty():
        _delete_in(conn, models.LotCompleteness, "lot_key", keys)
        return 0
    found = _read_lots(conn, models.TraceException, lots, completeness.EXCEPTION_COLUMNS)
    scores = completeness.completeness_score(lots, found).with_columns(
        pl.col("checks_failed").list.join(", ")
    )
    _delete_in(conn, models.LotCompleteness, "lot_key", keys)
    return store.insert_frame(conn, models.LotCompleteness, scores.with_columns(stamp))


__all__ = [
    "Mentions",
    "closure_of",
    "expiry",
    "mentions",
    "scope_records",
    "touched_lots",
    "update",
]
