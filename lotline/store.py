"""The database: engine from a URL, schema creation, and moving Polars frames in and out fast.

Rows are written through the DBAPI connection underneath SQLAlchemy's transaction — `COPY` on
PostgreSQL; on SQLite a large frame goes as Arrow through ADBC into a staging file that the load's
own connection attaches and copies from with one `INSERT … SELECT` — so a load is one transaction
and runs at hundreds of thousands of rows per second without a Python tuple per row (ORM objects
manage a few thousand).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from lotline.arrow_reads import WHOLE_RESULT_ROWS, typed_column  # noqa: E402,F401
from lotline.database_url import (  # noqa: E402,F401
    DATABASE_URL_ENV,
    DEFAULT_DATABASE_URL,
    database_url,
)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        # a second load waits for the first one's write lock instead of failing at once
        engine = sa.create_engine(url, connect_args={"timeout": LOCK_WAIT_SECONDS})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA page_size={PAGE_BYTES}")  # a new file's; no-op once written
            _write_ahead_log(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB: bulk loads touch big B-trees
            cursor.close()

        @sa.event.listens_for(engine, "checkin")
        def _release_staged(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
            _detach_staged(dbapi_connection, record.info)

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


PAGE_BYTES = 16_384
"""Page size of a new SQLite database (SQLite's default is 4 KiB). A first load of 2M records
writes ~3 GB in one transaction: with 4 KiB pages that is ~700k pages through the write-ahead log,
whose lookups slow down as it grows (a full load of the 1M-edge drop took 102 s, 80 s with 16 KiB
pages; 32 and 64 KiB were no better). Existing files keep their size (`VACUUM` would change it)."""

LOCK_WAIT_SECONDS = 900
"""How long a load waits for another one to commit before giving up."""


def _write_ahead_log(cursor) -> None:  # type: ignore[no-untyped-def]
    """Switch the file to WAL (stored in the file: later connections find it set). The switch
    needs the file to itself and SQLite reports a collision with another connection as "locked"
    at once, without waiting: processes opening a fresh database together retry it."""
    for attempt in range(200):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 199:
                raise
            time.sleep(0.05)


_LOCK_KEY = 7_411_052_026
"""PostgreSQL advisory lock key of lotline loads and schema creation."""


def create_schema(engine: Engine) -> None:
    """Bring the schema to this release's (`lotline.schema`): create the tables of a new
    database, upgrade one made by an earlier release. Safe when several processes start at once.

    The work is done under the database's write lock (an advisory lock on PostgreSQL,
    `BEGIN IMMEDIATE` on SQLite, whose DDL is transactional): one process creates or upgrades,
    the others wait and then find the schema at head. A complete schema is recognised without
    taking the lock, so a step that only reads never waits for a running load."""
    if _schema_complete(engine):
        return
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            _create_tables(conn)
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        _create_tables(conn)
        conn.commit()


def _create_tables(conn: Connection) -> None:
    """Create or upgrade the tables (`lotline.schema.migrate`); a database older than the audit
    trail has its rows adopted into it once the tables have today's columns
    (`lotline.audit.chain.adopt`), so that verify starts from them."""
    from lotline import schema
    from lotline.audit import chain

    audited_before = sa.inspect(conn).has_table(table("audit_entry").name)
    schema.migrate(conn)
    _ensure_lock_row(conn)
    if not audited_before:
        chain.adopt(conn)


def _schema_complete(engine: Engine) -> bool:
    """Every table there, the schema at head, the lock row in place: one catalogue read and one
    query, no Alembic import (see `lotline.schema`)."""
    from lotline import schema

    present = set(sa.inspect(engine).get_table_names())
    if not set(SQLModel.metadata.tables) <= present or schema.VERSION_TABLE not in present:
        return False
    with engine.connect() as conn:
        if schema.current(conn) != schema.head():
            return False
        return bool(
            conn.execute(sa.select(sa.func.count()).select_from(table("load_lock"))).scalar()
        )


def _ensure_lock_row(conn: Connection) -> None:
    insert = table("load_lock").insert().values(id=1)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("INSERT INTO load_lock (id) VALUES (1) ON CONFLICT DO NOTHING"))
    else:
        conn.execute(insert.prefix_with("OR IGNORE"))


def lock_loads(conn: Connection, load_id: str) -> None:
    """Take the load lock for the rest of `conn`'s transaction (waits for a running load).

    Called first in a load's transaction, so everything the load reads after it — stored keys,
    the records lineage is rebuilt from — includes every load committed before."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        return
    from datetime import UTC, datetime

    conn.execute(
        table("load_lock")
        .update()
        .where(table("load_lock").c.id == 1)
        .values(load_id=load_id, locked_at=datetime.now(UTC))
    )


def table(model: type[SQLModel] | str) -> sa.Table:
    name = model if isinstance(model, str) else model.__tablename__
    return SQLModel.metadata.tables[name]


def polars_schema(model: type[SQLModel] | str) -> dict[str, pl.DataType]:
    return {c.name: _polars_type(c.type) for c in table(model).columns}


def _polars_type(sa_type: sa.types.TypeEngine) -> pl.DataType:
    if isinstance(sa_type, sa.DateTime):
        return pl.Datetime("us", "UTC")
    if isinstance(sa_type, sa.Date):
        return pl.Date()
    if isinstance(sa_type, sa.Float):
        return pl.Float64()
    if isinstance(sa_type, sa.Integer):
        return pl.Int64()
    if isinstance(sa_type, sa.Boolean):
        return pl.Boolean()
    return pl.String()


CHUNK_ROWS = 250_000
"""Rows converted and sent per round trip: bounds memory on closures of 10⁸ pairs."""


def insert_frame(conn: Connection, model: type[SQLModel] | str, frame: pl.DataFrame) -> int:
    """Append `frame` (columns named like the table's) inside `conn`'s transaction."""
    if frame.is_empty():
        return 0
    tbl = table(model)
    columns = [c.name for c in tbl.columns if c.name in frame.columns]
    schema = polars_schema(model)
    frame = frame.select(pl.col(c).cast(schema[c]) for c in columns)
    raw = conn.connection.driver_connection
    cols = ", ".join(f'"{c}"' for c in columns)
    staged = conn.dialect.name == "sqlite" and frame.height >= STAGED_ROWS
    if staged and _insert_staged(conn, tbl.name, cols, sqlite_values(frame)):
        return frame.height
    if conn.dialect.name == "postgresql":
        _copy_frame(raw, tbl.name, cols, frame)
        return frame.height
    for start in range(0, frame.height, CHUNK_ROWS):
        _insert_chunk(raw, tbl.name, cols, frame.slice(start, CHUNK_ROWS))
    return frame.height


BINARY_COPY_ROWS = 1000
"""From this many rows PostgreSQL gets binary `COPY` (`lotline.copy_binary`); fewer go as CSV,
without the catalogue read of the column types."""


def _copy_frame(raw, name: str, cols: str, frame: pl.DataFrame) -> None:  # type: ignore[no-untyped-def]
    """One `COPY` of `frame` in chunks: binary when every column's type allows (the server
    parses nothing: a third less of its time than CSV on a load's records), else CSV."""
    if frame.height >= BINARY_COPY_ROWS:
        from lotline import copy_binary

        types = copy_binary.column_types(raw, name)
        if copy_binary.encodable(frame, types):
            chunks = [frame.slice(s, CHUNK_ROWS) for s in range(0, frame.height, CHUNK_ROWS)]
            # the next chunk is encoded (Arrow, no GIL) while the server takes this one
            with (
                ThreadPoolExecutor(max_workers=1) as encoder,
                raw.cursor() as cursor,
                cursor.copy(f'COPY "{name}" ({cols}) FROM STDIN WITH (FORMAT binary)') as copy,
            ):
                copy.write(copy_binary.HEADER)
                encoded = encoder.submit(copy_binary.rows, chunks[0], types)
                for following in [*chunks[1:], None]:
                    data = encoded.result()
                    if following is not None:
                        encoded = encoder.submit(copy_binary.rows, following, types)
                    copy.write(memoryview(data))
                    del data
                copy.write(copy_binary.TRAILER)
            return
    for start in range(0, frame.height, CHUNK_ROWS):
        _copy_chunk(raw, name, cols, frame.slice(start, CHUNK_ROWS))


def _copy_chunk(raw, name: str, cols: str, chunk: pl.DataFrame) -> None:  # type: ignore[no-untyped-def]
    text = chunk.with_columns(
        pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S%.6f+00")
        for c, t in chunk.schema.items()
        if isinstance(t, pl.Datetime)
    ).write_csv(include_header=False, null_value="")
    with (
        raw.cursor() as cursor,
        cursor.copy(f'COPY "{name}" ({cols}) FROM STDIN WITH (FORMAT csv)') as copy,
    ):
        copy.write(text)


def sqlite_values(frame: pl.DataFrame) -> pl.DataFrame:
    """Times and dates as the text SQLAlchemy's SQLite types store and read back."""
    return frame.with_columns(
        pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
        for c, t in frame.schema.items()
        if isinstance(t, pl.Datetime)
    ).with_columns(
        pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date
    )


STAGED_ROWS = 50_000
"""From this many rows an SQLite insert goes through ADBC (`_insert_staged`); below it
`executemany` costs less than a staging file."""
LARGE_ROWS = 1_000_000
"""Frames this large get the last staging slots of a transaction (a closure of 10⁷ pairs)."""
_STAGED_KEY = "lotline_staged"
_MAX_STAGED = 8
"""Staging files one transaction may attach: SQLite allows 10 attached databases, and one in use
cannot be detached before the transaction ends. The last `_RESERVED` are kept for frames of
`LARGE_ROWS`; a frame that finds no slot goes by `executemany`."""
_RESERVED = 2


def _insert_staged(
    conn: Connection, name: str, cols: str, frame: pl.DataFrame, into: str = "main"
) -> bool:
    """Append `frame` to SQLite table `name` inside `conn`'s transaction, the rows never Python
    objects: ADBC writes the Arrow data into a new staging file (its own connection),
    the load's connection attaches it and copies with one `INSERT … SELECT`, so the rows commit
    or roll back with the load. The file is detached and deleted once the connection goes back
    to the pool (SQLite refuses to detach a database a transaction has read). False if this
    transaction has no staging slot left."""
    import pyarrow as pa

    raw = conn.connection.driver_connection
    info = conn.connection.info
    if not raw.in_transaction:
        _detach_staged(raw, info)
    staged: list[tuple[str, str]] = info.setdefault(_STAGED_KEY, [])
    if len(staged) >= _MAX_STAGED or (
        len(staged) >= _MAX_STAGED - _RESERVED and frame.height < LARGE_ROWS
    ):
        return False
    # next to the database: the disk that holds it has room for its rows (/tmp may be memory)
    database = conn.engine.url.database
    folder = Path(database).resolve().parent if database and database != ":memory:" else None
    handle, path = tempfile.mkstemp(prefix="lotline-staged-", suffix=".sqlite", dir=folder)
    os.close(handle)
    alias = f"lotline_staged_{len(staged)}"
    staged.append((alias, path))
    table = frame.to_arrow()
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(CHUNK_ROWS))
    with staging_connection(path) as staging, staging.cursor() as cursor:
        cursor.adbc_ingest("rows", reader, mode="create")
    del table, reader
    cursor = raw.cursor()
    try:
        cursor.execute("ATTACH DATABASE ? AS " + alias, (path,))
        cursor.execute(f'INSERT INTO {into}."{name}" ({cols}) SELECT {cols} FROM {alias}."rows"')
    finally:
        cursor.close()
    return True


def staging_connection(path: str | Path):  # type: ignore[no-untyped-def]
    """An ADBC connection to a new staging file: the load's pages, no journal and no sync (the
    file is read once by the load's own transaction and deleted; a crash leaves only garbage)."""
    import adbc_driver_sqlite.dbapi as adbc

    # autocommit: a pragma of safety may not change inside a transaction; each ingest is one
    staging = adbc.connect(str(path), autocommit=True)
    with staging.cursor() as cursor:
        for pragma in (f"page_size={PAGE_BYTES}", "journal_mode=OFF", "synchronous=OFF"):
            cursor.execute(f"PRAGMA {pragma}")
    return staging


def _detach_staged(raw, info: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Detach and delete the staging files of a finished transaction."""
    for alias, path in info.pop(_STAGED_KEY, []):
        with contextlib.suppress(sqlite3.OperationalError):  # never attached, or already gone
            raw.execute(f"DETACH DATABASE {alias}")
        Path(path).unlink(missing_ok=True)


def insert_scratch(conn: Connection, name: str, frame: pl.DataFrame) -> None:
    """Append `frame` to the temporary table `name` of `conn`'s transaction (its columns, in
    its types): a large frame by a staging file (SQLite) or binary `COPY` (PostgreSQL), never
    as Python rows — an incremental load puts hundreds of thousands of closure pairs there."""
    if frame.is_empty():
        return
    raw = conn.connection.driver_connection
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    if conn.dialect.name == "postgresql":
        _copy_frame(raw, name, cols, frame)
    elif not (frame.height >= STAGED_ROWS and _insert_staged(conn, name, cols, frame, "temp")):
        for start in range(0, frame.height, CHUNK_ROWS):
            _insert_chunk(raw, name, cols, frame.slice(start, CHUNK_ROWS))


def _insert_chunk(raw, name: str, cols: str, chunk: pl.DataFrame) -> None:  # type: ignore[no-untyped-def]
    rows = sqlite_values(chunk).rows()
    placeholders = ", ".join("?" for _ in chunk.columns)
    cursor = raw.cursor()
    try:
        cursor.executemany(f'INSERT INTO "{name}" ({cols}) VALUES ({placeholders})', rows)
    finally:
        cursor.close()


def read_frame(
    conn: Connection | Engine,
    model: type[SQLModel] | str,
    where: sa.ColumnElement | None = None,
    columns: Iterable[str] | None = None,
) -> pl.DataFrame:
    """Rows of a table as a frame with the table's types, on SQLite and PostgreSQL alike."""
    tbl = table(model)
    cols = [tbl.c[c] for c in columns] if columns else list(tbl.columns)
    query = sa.select(*cols)
    if where is not None:
        query = query.where(where)
    return read_query(conn, query, {c.name: _polars_type(c.type) for c in cols})


IN_CHUNK = 500
"""Values per `IN (...)` list: bounded bind parameters on either database."""


def read_in(
    conn: Connection | Engine,
    model: type[SQLModel] | str,
    column: str,
    values: Iterable[object],
    columns: Iterable[str] | None = None,
    where: sa.ColumnElement | None = None,
) -> pl.DataFrame:
    """Rows whose `column` is one of `values` (and `where`), as `read_frame` types them, read in
    chunks of `IN_CHUNK` values."""
    tbl = table(model)
    keys = list(dict.fromkeys(values))
    columns = list(columns) if columns is not None else None
    parts = [
        read_frame(
            conn,
            model,
            where=tbl.c[column].in_(keys[i : i + IN_CHUNK])
            if where is None
            else (tbl.c[column].in_(keys[i : i + IN_CHUNK]) & where),
            columns=columns,
        )
        for i in range(0, len(keys), IN_CHUNK)
    ]
    if parts:
        return pl.concat(parts)
    schema = polars_schema(model)
    return pl.DataFrame(schema={c: schema[c] for c in (columns or schema)})


def delete_in(
    conn: Connection,
    model: type[SQLModel] | str,
    column: str,
    values: Iterable[object],
    where: sa.ColumnElement | None = None,
) -> None:
    """Delete the rows whose `column` is one of `values` (and `where`), in chunks."""
    tbl = table(model)
    keys = list(dict.fromkeys(values))
    for i in range(0, len(keys), IN_CHUNK):
        condition = tbl.c[column].in_(keys[i : i + IN_CHUNK])
        conn.execute(tbl.delete().where(condition if where is None else condition & where))


def read_query(
    conn: Connection | Engine, query: sa.Select | str, schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    """`query`'s rows as a frame typed by `schema`. Without Python row tuples where the driver
    allows: PostgreSQL streams the rows out with `COPY … TO STDOUT` (inside `conn`'s transaction)
    and Polars parses them; an SQLite file read outside a transaction goes through ADBC as
    Arrow. Otherwise (SQLite inside a transaction, which must see its own writes) the DB-API's
    rows are turned into columns."""
    if not isinstance(query, str):
        for fast_read in (_read_postgres, _read_sqlite_arrow):
            if (fast := fast_read(conn, query, schema)) is not None:
                return fast
    owned = isinstance(conn, Engine)
    connection = conn.connect() if owned else conn
    try:
        result = connection.execute(sa.text(query) if isinstance(query, str) else query)
        names = list(result.keys())
        # the driver's own rows: SQLAlchemy's per-row processing costs more than the read
        # itself on traces of 10⁵ rows; `_series` types the raw values
        rows = result.cursor.fetchall() if result.cursor is not None else result.fetchall()
    finally:
        if owned:
            connection.close()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    series = [
        _series(n, list(values), schema.get(n, pl.String()))
        for n, values in zip(names, columns, strict=True)
    ]
    return pl.DataFrame(series) if series else pl.DataFrame()


def _literal_sql(query: sa.Select, dialect: sa.Dialect) -> str | None:
    """`query` with its parameters written in (SQLAlchemy quotes them), or None if it cannot."""
    try:
        return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    except (sa.exc.CompileError, NotImplementedError):
        return None


def _read_postgres(
    conn: Connection | Engine, query: sa.Select, schema: dict[str, pl.DataType]
) -> pl.DataFrame | None:
    if conn.dialect.name != "postgresql" or (sql := _literal_sql(query, conn.dialect)) is None:
        return None
    names = [c.name for c in query.selected_columns]
    if len(set(names)) < len(names):
        return None
    with conn.connect() if isinstance(conn, Engine) else _borrowed(conn) as connection:
        raw = connection.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)") as copy,
        ):
            data = b"".join(bytes(block) for block in copy)
    # every value quoted: an unquoted empty field is NULL, a quoted one the empty string
    text = (
        pl.read_csv(data, has_header=False, schema={n: pl.String for n in names})
        if data
        else pl.DataFrame(schema={n: pl.String for n in names})
    )
    return text.select(_from_text(text[n], schema.get(n, pl.String())) for n in names)


class _borrowed:
    """The caller's connection as a context manager that leaves it open."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *_exc: object) -> None:
        return None


def _from_text(values: pl.Series, want: pl.DataType) -> pl.Series:
    """A column PostgreSQL wrote as text, typed (times in ISO with their offset)."""
    if isinstance(want, pl.Datetime):
        return (
            values.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%#z", time_unit="us")
            .dt.convert_time_zone("UTC")
            .dt.cast_time_unit("us")
        )
    if isinstance(want, pl.Date):
        return values.str.to_date("%Y-%m-%d")
    if isinstance(want, pl.Boolean):
        return values.replace_strict({"t": True, "f": False}, default=None, return_dtype=pl.Boolean)
    return values.cast(want)


def _read_sqlite_arrow(
    conn: Connection | Engine, query: sa.Select, schema: dict[str, pl.DataType]
) -> pl.DataFrame | None:
    """An SQLite file's rows through ADBC, for a read outside any transaction (an Engine)."""
    database = conn.url.database if isinstance(conn, Engine) else None
    if conn.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    from lotline import arrow_reads

    if not arrow_reads.enabled():  # a process that writes SQLite must not (see arrow_reads)
        return None
    if (sql := _literal_sql(query, conn.dialect)) is None:
        return None
    names = [c.name for c in query.selected_columns]
    if len(set(names)) < len(names):
        return None
    try:
        import adbc_driver_manager
        import adbc_driver_sqlite
    except ImportError:
        return None
    handle = adbc_driver_manager.AdbcDatabase(
        driver=adbc_driver_sqlite._driver_path(), uri=f"file:{database}?mode=ro"
    )
    arrow = adbc_driver_manager.AdbcConnection(handle)
    statement = adbc_driver_manager.AdbcStatement(arrow)
    try:
        statement.set_options(**{"adbc.sqlite.query.batch_rows": WHOLE_RESULT_ROWS})
        statement.set_sql_query(sql)
        stream, _ = statement.execute_query()
        frame = pl.DataFrame(stream)  # the Arrow C stream: no Python object per value
    finally:
        statement.close()
        arrow.close()
        handle.close()
    if not frame.columns:
        frame = pl.DataFrame(schema={n: pl.Null for n in names})
    frame.columns = names
    return frame.select(typed_column(frame[n], schema.get(n, pl.String())) for n in names)


def read_chunks(
    conn: Connection, model: type[SQLModel] | str, rows: int = CHUNK_ROWS
) -> Iterator[pl.DataFrame]:
    """A whole table as frames of at most `rows` rows, typed like `read_frame`'s, inside
    `conn`'s transaction: memory stays bounded on tables of 10⁷ rows (the driver's cursor, a
    server-side one on PostgreSQL)."""
    tbl = table(model)
    schema = {c.name: _polars_type(c.type) for c in tbl.columns}
    names = [c.name for c in tbl.columns]
    raw = conn.connection.driver_connection
    postgres = conn.dialect.name == "postgresql"
    cursor = raw.cursor(name=f"lotline_read_{tbl.name}") if postgres else raw.cursor()
    try:
        cursor.execute(str(sa.select(tbl).compile(dialect=conn.dialect)))
        while batch := cursor.fetchmany(rows):
            columns = list(zip(*batch, strict=True))
            yield pl.DataFrame(
                [_series(n, list(v), schema[n]) for n, v in zip(names, columns, strict=True)]
            )
    finally:
        cursor.close()


def _series(name: str, values: list, want: pl.DataType) -> pl.Series:  # type: ignore[type-arg]
    """SQLite hands temporal values back as text, PostgreSQL as aware datetimes: normalise both."""
    if isinstance(want, pl.Datetime | pl.Date) and any(isinstance(v, str) for v in values):
        text = pl.Series(name, values, dtype=pl.String)
        if isinstance(want, pl.Date):
            return text.str.slice(0, 10).str.to_date("%Y-%m-%d")
        return (
            text.str.replace("T", " ")
            .str.slice(0, 26)
            .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us")
            .dt.replace_time_zone("UTC")
        )
    series = pl.Series(name, values, strict=False)
    if isinstance(want, pl.Datetime) and isinstance(series.dtype, pl.Datetime):
        tz = series.dtype.time_zone
        series = series.dt.convert_time_zone("UTC") if tz else series.dt.replace_time_zone("UTC")
        return series.dt.cast_time_unit("us")
    return series.cast(want, strict=False)


ANALYZE_ROWS = 1000
"""Rows SQLite's ANALYZE samples per index (`PRAGMA analysis_limit`): enough for the planner to
tell a selective index from a poor one, without reading a closure of 10⁸ pairs in full."""


def analyze(conn: Connection, tables: Iterable[type[SQLModel] | str]) -> None:
    """Refresh the planner's statistics of `tables` inside `conn`'s transaction, after a bulk
    load changed them a lot: without them SQLite picks indexes by guesswork and PostgreSQL plans
    a table it thinks empty (both sample, so this costs little on big tables)."""
    names = list(dict.fromkeys(table(t).name for t in tables))
    if not names:
        return
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA analysis_limit={ANALYZE_ROWS}")
    for name in names:
        conn.exec_driver_sql(f'ANALYZE "{name}"')


BULK_ROWS = 200_000
"""Above this many rows a derived table's secondary indexes are rebuilt after the insert (one
sort) instead of being updated row by row: the closure of a large genealogy holds 10⁸ pairs."""


def replace_frame(conn: Connection, model: type[SQLModel] | str, frame: pl.DataFrame) -> int:
    """Swap a derived table's contents for `frame` inside the caller's transaction."""
    conn.execute(table(model).delete())
    return bulk_insert(conn, model, frame, empty=True)


def bulk_insert(
    conn: Connection, model: type[SQLModel] | str, frame: pl.DataFrame, empty: bool
) -> int:
    """Append `frame`; into an `empty` table (or one the caller knows `frame` at least doubles:
    rebuilding costs a sort of what is there, inserting a B-tree descent per row and index) a
    large frame goes in with the indexes rebuilt afterwards (`indexes_rebuilt`)."""
    if not (empty and frame.height > BULK_ROWS):
        return insert_frame(conn, model, frame)
    with indexes_rebuilt(conn, model):
        return insert_frame(conn, model, frame)


@contextlib.contextmanager
def indexes_rebuilt(conn: Connection, model: type[SQLModel] | str) -> Iterator[None]:
    """Drop the table's secondary (and unique) indexes — on PostgreSQL its primary key too —
    for the inserts of the block, and build them after it: one sort each instead of a B-tree
    insert per row (`COPY` into a keyed table took twice as long: record keys are hashes, each
    row a random descent). A unique index or key built afterwards still refuses duplicates: the
    build fails and so does the transaction. DDL is transactional on SQLite and PostgreSQL
    alike; on PostgreSQL it locks the table until the transaction ends."""
    tbl = table(model)
    indexes = list(tbl.indexes)
    key = _primary_key_constraint(conn, tbl.name)
    for index in indexes:
        index.drop(conn)
    if key:
        conn.exec_driver_sql(f'ALTER TABLE "{tbl.name}" DROP CONSTRAINT "{key}"')
    yield
    if key:
        columns = ", ".join(f'"{c.name}"' for c in tbl.primary_key.columns)
        conn.exec_driver_sql(
            f'ALTER TABLE "{tbl.name}" ADD CONSTRAINT "{key}" PRIMARY KEY ({columns})'
        )
    for index in indexes:
        index.create(conn)


def _primary_key_constraint(conn: Connection, name: str) -> str | None:
    """The name of a PostgreSQL table's primary key constraint (None on SQLite, whose key of a
    table with a text key is an index that cannot be dropped)."""
    if conn.dialect.name != "postgresql":
        return None
    return conn.execute(
        sa.text(
            "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
            "AND contype = 'p'"
        ),
        {"t": f'"{name}"'},
    ).scalar()
