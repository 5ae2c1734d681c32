"""Derived tables replaced inside a transaction, each written as soon as it is built.

Why: a full lineage build of 10⁷ edges makes tables of 10⁶–10⁸ rows one after the other. Held
until the end they add up to many gigabytes; written and let go one by one, the build holds only
what the next table still needs. On SQLite each table is streamed (a frame, or blocks such as the
closure's) into one staging file through ADBC, the rows never Python objects, and `finish` swaps
every table in with one `INSERT … SELECT` each, inside the caller's transaction: one attached
file, however many tables (SQLite attaches at most ten databases at once). On PostgreSQL each
table is copied in as it comes. Either way the rows commit or roll back with the caller.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy.engine import Connection

from lotline import store


@dataclass(frozen=True)
class TableWritten:
    """One table put: rows, and the seconds spent writing it (the blocks of a stream are built
    while it is written: `seconds` then includes building them)."""

    name: str
    rows: int
    seconds: float


class TableStage:
    """Replace tables of `conn`'s database with frames stamped with `snapshot_id`: `put` each
    (a frame or an iterable of blocks), then `finish` once. Call nothing else on the staged
    tables in between."""

    def __init__(self, conn: Connection, snapshot_id: str) -> None:
        self.conn = conn
        self.snapshot_id = snapshot_id
        self.written: list[TableWritten] = []
        self.swapped: list[TableWritten] = []
        """SQLite: seconds each staged table took to swap in (its indexes rebuilt)."""
        self._staging: Path | None = None
        self._adbc = None
        self._staged: dict[str, int] = {}
        self._apart: Future[None] | None = None
        self._held: list[tuple[str, list[pl.DataFrame]]] = []

    def put(self, name: str, frames: pl.DataFrame | Iterable[pl.DataFrame]) -> TableWritten:
        began = time.perf_counter()
        blocks = [frames] if isinstance(frames, pl.DataFrame) else frames
        if self.conn.dialect.name == "sqlite":
            rows = self._stage(name, blocks)
        else:
            rows = self._copy(name, blocks)
        done = TableWritten(name, rows, time.perf_counter() - began)
        self.written.append(done)
        return done

    def put_apart(
        self, tables: Iterator[tuple[str, pl.DataFrame | Iterable[pl.DataFrame]]]
    ) -> None:
        """Build `tables` on a thread while the caller goes on with its connection: a first
        load's lineage is built while its records are written (Polars and the database each
        release the GIL, so the two take both cores). SQLite stages each table into the staging
        file as it is built (its own connection, not the caller's); PostgreSQL holds the rows
        until `finish` copies them on the caller's connection, the only one inside its
        transaction. `finish` waits for the thread; nothing else may be put meanwhile."""
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lineage-ahead")
        self._apart = pool.submit(self._put_all, tables)
        pool.shutdown(wait=False)

    def _put_all(self, tables: Iterator[tuple[str, pl.DataFrame | Iterable[pl.DataFrame]]]) -> None:
        for name, rows in tables:
            if self.conn.dialect.name == "sqlite":
                self.put(name, rows)
            else:
                self._held.append((name, [rows] if isinstance(rows, pl.DataFrame) else list(rows)))
            del rows

    def finish(self, snapshot_id: str | None = None) -> dict[str, int]:
        """Swap the staged tables in (SQLite); rows per table. `snapshot_id`: the rows' stamp,
        when it was not known as the stage began (`put_apart`)."""
        if snapshot_id is not None:
            self.snapshot_id = snapshot_id
        self._wait_apart()
        while self._held:
            name, blocks = self._held.pop(0)
            self.put(name, blocks)
            del blocks
        self._close_staging()
        if self._staged:
            self._swap()
        return {w.name: w.rows for w in self.written}

    def close(self) -> None:
        """Let go of the staging file if `finish` did not hand it to the transaction (a build
        that failed half way): it may hold gigabytes."""
        with contextlib.suppress(Exception):  # the caller's own failure is what it reports
            self._wait_apart()
        self._held.clear()
        self._close_staging()
        if self._staging is not None:
            self._staging.unlink(missing_ok=True)
            self._staging = None

    def _wait_apart(self) -> None:
        if self._apart is not None:
            apart, self._apart = self._apart, None
            apart.result()

    def _close_staging(self) -> None:
        if self._adbc is not None:
            self._adbc.close()
            self._adbc = None

    # --- PostgreSQL: COPY as it comes ------------------------------------------------------------

    def _copy(self, name: str, blocks: Iterable[pl.DataFrame]) -> int:
        self.conn.execute(store.table(name).delete())
        rows = 0
        with store.indexes_rebuilt(self.conn, name):  # one sort each, not a descent per row
            for block in blocks:
                rows += store.insert_frame(self.conn, name, self._stamped(name, block))
        return rows

    # --- SQLite: one staging file, swapped in by `finish` ----------------------------------------

    def _stage(self, name: str, blocks: Iterable[pl.DataFrame]) -> int:
        if self._adbc is None:
            database = self.conn.engine.url.database
            folder = (
                Path(database).resolve().parent if database and database != ":memory:" else None
            )
            handle, path = tempfile.mkstemp(prefix="lotline-staged-", suffix=".sqlite", dir=folder)
            os.close(handle)
            self._staging = Path(path)
            self._adbc = store.staging_connection(path)
        rows, mode = 0, "create"
        with self._adbc.cursor() as cursor:
            for block in blocks:
                if block.is_empty() and mode == "append":
                    continue
                rows += block.height
                arrow = store.sqlite_values(self._typed(name, block)).to_arrow()
                cursor.adbc_ingest(name, arrow, mode=mode)
                mode = "append"
                del arrow, block
        if mode == "create":  # no block at all: the table is only emptied
            rows = -1
        self._staged[name] = rows
        return max(rows, 0)

    def _swap(self) -> None:
        raw = self.conn.connection.driver_connection
        info = self.conn.connection.info
        if not raw.in_transaction:
            store._detach_staged(raw, info)
        # registered with the store's staging files: detached and deleted when the connection
        # goes back to the pool (SQLite refuses to detach what an open transaction has read)
        staged = info.setdefault(store._STAGED_KEY, [])
        alias = f"lotline_staged_{len(staged)}"
        staged.append((alias, str(self._staging)))
        raw.execute("ATTACH DATABASE ? AS " + alias, (str(self._staging),))
        self._staging = None  # the store's now
        for name, rows in self._staged.items():
            began = time.perf_counter()
            tbl = store.table(name)
            self.conn.execute(tbl.delete())
            if rows < 0:
                continue
            staged_columns = {
                row[1] for row in raw.execute(f'PRAGMA {alias}.table_info("{name}")').fetchall()
            }
            columns = ", ".join(f'"{c.name}"' for c in tbl.columns if c.name in staged_columns)
            with store.indexes_rebuilt(self.conn, name):
                raw.execute(  # the snapshot id is one value: stamped here, not staged per row
                    f'INSERT INTO main."{name}" ({columns}, snapshot_id) '
                    f'SELECT {columns}, ? FROM {alias}."{name}"',
                    (self.snapshot_id,),
                )
            self.swapped.append(TableWritten(name, rows, time.perf_counter() - began))

    def _stamped(self, name: str, block: pl.DataFrame) -> pl.DataFrame:
        """The block as the table stores it, this snapshot's id included."""
        stamp = pl.lit(self.snapshot_id).alias("snapshot_id")
        return self._typed(name, block).with_columns(stamp)

    @staticmethod
    def _typed(name: str, block: pl.DataFrame) -> pl.DataFrame:
        """The block's columns the table has, in the table's types; the snapshot id is the
        stage's, not the block's."""
        schema = store.polars_schema(name)
        kept = [c for c in schema if c in block.columns and c != "snapshot_id"]
        return block.select(pl.col(c).cast(schema[c]) for c in kept)
