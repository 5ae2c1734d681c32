"""Reading SQLite files through ADBC (Arrow columns, no Python rows), and when a process may.

ADBC's SQLite driver carries its own copy of the SQLite library. SQLite locks a database with
POSIX advisory locks, and those belong to the process, not to the library: when one copy closes
its file descriptor, every lock the other copy holds on that file is gone (the SQLite authors
list two SQLite copies in one process among the ways to corrupt a database). A process that
writes through Python's `sqlite3` — a load, the portal with its access log and sessions, a
report that registers its document — must therefore never read through ADBC. A loader that did
crashed with SIGBUS under a concurrent load in our tests. Processes that only read (`lotline
trace`, the benchmarks) switch it on once, before their first read.

This module imports neither SQLAlchemy nor the models: `lotline trace` reads through it without
paying their import (most of a second).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import polars as pl

_enabled = False


def enable() -> None:
    """Allow ADBC reads of SQLite files for the rest of this process (read-only processes)."""
    global _enabled
    _enabled = True


def enabled() -> bool:
    return _enabled


WHOLE_RESULT_ROWS = str(2**30)
"""ADBC's SQLite driver infers a column's type from its first batch and fails when a later
batch disagrees (a column null at first, text later): one batch for the whole result."""


class SQLiteReader:
    """A read-only ADBC connection to an SQLite file: SQL in, typed Polars frames out.

    Raises ImportError where the ADBC driver is not installed (callers read through the DB-API
    then). One reader is used by one thread at a time; ADBC releases the GIL while SQLite steps
    through the rows, so readers in two threads read in parallel."""

    def __init__(self, path: str | Path) -> None:
        import adbc_driver_manager
        import adbc_driver_sqlite

        self._adbc = adbc_driver_manager
        uri = f"file:{quote(str(path))}?mode=ro"  # %-escaped: a '?' or '#' in a path is a path
        self._database = adbc_driver_manager.AdbcDatabase(
            driver=adbc_driver_sqlite._driver_path(), uri=uri
        )
        try:
            self._connection = adbc_driver_manager.AdbcConnection(self._database)
        except BaseException:
            self._database.close()
            raise

    def execute(self, sql: str) -> None:
        """A statement without a result (a temporary table: a read-only file allows those)."""
        statement = self._adbc.AdbcStatement(self._connection)
        try:
            statement.set_sql_query(sql)
            statement.execute_update()
        finally:
            statement.close()

    def frame(self, sql: str, schema: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
        """The query's rows, each column typed as `schema` says (SQLite keeps times and dates as
        text); columns `schema` does not name keep the type the driver gave."""
        statement = self._adbc.AdbcStatement(self._connection)
        try:
            statement.set_options(**{"adbc.sqlite.query.batch_rows": WHOLE_RESULT_ROWS})
            statement.set_sql_query(sql)
            stream, _ = statement.execute_query()
            frame = pl.DataFrame(stream)  # the Arrow C stream, no pyarrow needed
        finally:
            statement.close()
        if schema is None:
            return frame
        if not frame.columns:  # no rows: the driver may not name the columns
            frame = pl.DataFrame(schema={name: pl.Null for name in schema})
        return frame.select(
            typed_column(frame[name], schema[name]) if name in schema else frame[name]
            for name in frame.columns
        )

    def value(self, sql: str) -> Any:
        """The first column of the first row, or None without rows."""
        frame = self.frame(sql)
        return frame.item(0, 0) if frame.height else None

    def close(self) -> None:
        self._connection.close()
        self._database.close()

    def __enter__(self) -> SQLiteReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def typed_column(values: pl.Series, want: pl.DataType) -> pl.Series:
    """A column read as Arrow (SQLite hands dates and times back as text), typed."""
    if values.dtype == pl.String and isinstance(want, pl.Date):
        return values.str.slice(0, 10).str.to_date("%Y-%m-%d")
    if values.dtype == pl.String and isinstance(want, pl.Datetime):
        return (
            values.str.replace("T", " ")
            .str.slice(0, 26)
            .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us")
            .dt.replace_time_zone("UTC")
        )
    if values.dtype == pl.Null and isinstance(want, pl.Datetime | pl.Date):
        return values.cast(want)
    return values.cast(want, strict=False)


def sql_text(value: str) -> str:
    """`value` as an SQL string literal (ADBC's low-level statements bind Arrow arrays only)."""
    if "\x00" in value:
        raise ValueError("a text with a NUL character cannot be looked up")
    return "'" + value.replace("'", "''") + "'"
