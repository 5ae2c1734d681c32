"""Append to the audit trail: one hash chain per audited table.

Whatever lotline stores in an audited table, the same transaction appends an entry to that
table's chain (`seal_rows` after an INSERT or UPDATE, `seal_deleted` after a DELETE): the primary
key and SHA-256 (`canonical`) of every row written, *as read back from the database* in one
SELECT (the hash then describes what is stored, whatever the driver did to the values on the way
in), the digest of those, the previous entry's hash, when and who. A load's bulk inserts use
`seal_frame` instead, which hashes the frame exactly as `store.insert_frame` stores it and so
skips reading millions of records back. The (key, hash) pairs go to JSON pages of up to
`PAGE_ROWS` rows (`models.AuditPage`), not a database row each: sealing costs a fraction of
writing the records. `verify` walks the chains and re-hashes the tables, so an UPDATE, DELETE or
INSERT made behind lotline's back is named by table and key.

**One chain per table, not one global chain.** An append must read the head of its chain and
write the next entry with no other append in between, so appends to one chain are serialised.
With a global chain every writer would queue behind every other: the portal's access log, written
on each page view, would wait for the whole of a long load on PostgreSQL (which holds its lock to
its commit). Per table, a load and the portal never wait for each other, and a chain is verified
with its table alone. What is given up — one order across tables — is not needed: each record
carries its own load id and time, and each chain's entries their time.

Serialising appends: on PostgreSQL a transaction-scoped advisory lock per chain
(`pg_advisory_xact_lock(hashtext('audit:<table>'))`); on SQLite the writer already holds the
database's write lock, because the seal comes after its own INSERT/UPDATE/DELETE. The primary key
(table_name, seq) turns any append that still raced into an error, never a fork.

Limits: a chain proves the rows match what lotline wrote, not that lotline was fed the truth; and
someone able to write the database can cut a chain's tail together with the rows it covers —
compare `heads` with a copy kept elsewhere (the Dagster check shows them after each load) to
catch that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import models
from lotline import store
from lotline.audit import canonical

GENESIS = "0" * 64
"""prev_hash of a chain's first entry."""
WRITE, DELETE = "write", "delete"
DEFAULT_ACTOR = "lotline"
PAGE_ROWS = 100_000
"""Rows per audit page: bounded blobs (a first load of 10⁷ records is a hundred pages)."""
ADOPT_ACTOR = "lotline audit adopt"
"""Actor of the first entry of a table that held rows before the audit trail existed."""


def audited_tables() -> list[str]:
    """Tables whose every row must be on a chain: input records and their history, master data,
    the load log, issued documents and drills, and (when their models are present) the portal's
    accounts, tokens and access log and the e-signatures. Lineage tables are derived and rebuilt
    from the records on each load: not chained."""
    names = [store.table(m).name for m in models.RECORD_TABLES.values()]
    names += [
        "record_history",
        "product",
        "location",
        "source_file",
        "snapshot",
        "issued_document",
        "mock_recall",
        "portal_user",
        "api_token",
        "access_log",
    ]
    known = set(SQLModel.metadata.tables)
    names += sorted(n for n in known if "signature" in n)
    return [n for n in dict.fromkeys(names) if n in known]


def create_tables(engine: Engine) -> None:
    """Make sure the audit tables exist (writers that create their own table on the fly call
    this); on a database older than the audit trail, `store.create_schema` also adopts it."""
    if not sa.inspect(engine).has_table(store.table(models.AuditEntry).name):
        store.create_schema(engine)


def adopt(conn: Connection, actor: str = ADOPT_ACTOR) -> dict[str, int]:
    """Start the chain of every audited table that has rows and no chain yet: a database loaded
    before lotline kept an audit trail. A table that has a chain is never adopted, so no row
    added to it behind lotline's back is vouched for. Call with the database's write lock held
    (`store.create_schema` does, when it creates the audit tables)."""
    entries = store.table(models.AuditEntry)
    chained = set(conn.execute(sa.select(entries.c.table_name).distinct()).scalars())
    present = set(sa.inspect(conn).get_table_names())
    sealed = {}
    for name in audited_tables():
        if name in present and name not in chained:
            rows = seal_rows(conn, name, None, actor)
            if rows:
                sealed[name] = rows
    return sealed


def seal_rows(
    conn: Connection,
    table_name: str,
    where: sa.ColumnElement | None = None,
    actor: str = DEFAULT_ACTOR,
) -> int:
    """Append the rows of `table_name` matching `where` (all rows when None) to its chain, inside
    the writer's transaction and after its INSERT/UPDATE. Returns the rows sealed (0: no entry)."""
    table = store.table(table_name)
    if where is None:  # a whole table (adopting one): read in chunks, keep keys and hashes
        parts = [canonical.row_hashes(c, table) for c in store.read_chunks(conn, table_name)]
        rows = pl.concat(parts) if parts else canonical.row_hashes(pl.DataFrame(), table)
    else:
        rows = canonical.row_hashes(store.read_frame(conn, table_name, where=where), table)
    if rows.is_empty():
        return 0
    return _append(conn, table_name, WRITE, seal_of(rows), actor)


def seal_deleted(
    conn: Connection, table_name: str, keys: Iterable[tuple], actor: str = DEFAULT_ACTOR
) -> int:
    """Record that lotline deleted (or replaced) the rows with these primary keys (value tuples
    in the table's key order), inside the transaction that deleted them."""
    row_keys = sorted({canonical.key_text(k) for k in keys})
    if not row_keys:
        return 0
    rows = pl.DataFrame(
        {"row_key": row_keys, "row_hash": [None] * len(row_keys)},
        schema={"row_key": pl.String, "row_hash": pl.String},
    )
    return _append(conn, table_name, DELETE, seal_of(rows), actor)


def seal_frame(
    conn: Connection,
    table_name: str,
    frame: pl.DataFrame,
    actor: str = DEFAULT_ACTOR,
    sealed: Seal | None = None,
) -> int:
    """Seal the rows `store.insert_frame(conn, table_name, frame)` has just written, hashed from
    `frame` as insert_frame stores it: the table's columns cast to the table's types, the
    columns it leaves out NULL. That is the stored row exactly (insert_frame writes the cast
    values; datetimes to the microsecond, floats as doubles, text as is), so a load's records
    are not read back a second time; `verify` re-hashes what is stored and the tests hold the
    two equal on SQLite and PostgreSQL. A left-out column the database fills in itself (a
    server default, a generated key) makes it read the rows back by key instead.

    `sealed`: `frame_seal(table_name, frame)` computed beforehand — a load hashes a table's
    records on another thread while the database inserts them."""
    if frame.is_empty():
        return 0
    if sealed is None:
        sealed = frame_seal(table_name, frame)
    if sealed is None:
        return seal_frame_keys(conn, table_name, frame, actor)
    return _append(conn, table_name, WRITE, sealed, actor)


def frame_seal(table_name: str, frame: pl.DataFrame) -> Seal | None:
    """What `seal_frame` appends for `frame`, computed without the database (so on any thread);
    None when the database fills in a left-out column and the rows must be read back."""
    table = store.table(table_name)
    absent = [c for c in table.columns if c.name not in frame.columns]
    if any(c.server_default is not None or c.primary_key for c in absent):
        return None
    schema = store.polars_schema(table_name)
    stored = frame.select(
        *(pl.col(c).cast(t) for c, t in schema.items() if c in frame.columns),
        *(pl.lit(None, dtype=schema[c.name]).alias(c.name) for c in absent),
    )
    return seal_of(canonical.row_hashes(stored, table))


def seal_frame_keys(
    conn: Connection, table_name: str, frame: pl.DataFrame, actor: str = DEFAULT_ACTOR
) -> int:
    """`seal_rows` of the rows whose primary keys are in `frame` (columns named like the key),
    in chunks of bounded SQL size."""
    keys = canonical.key_columns(store.table(table_name))
    tbl = store.table(table_name)
    values = frame.select(keys).unique().rows()
    if not values:
        return 0
    frames = []
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        where = (
            tbl.c[keys[0]].in_([v[0] for v in chunk])
            if len(keys) == 1
            else sa.tuple_(*(tbl.c[k] for k in keys)).in_(chunk)
        )
        frames.append(store.read_frame(conn, table_name, where=where))
    frame = pl.concat(frames)
    if frame.is_empty():
        return 0
    return _append(conn, table_name, WRITE, seal_of(canonical.row_hashes(frame, tbl)), actor)


def entry_hash(
    table_name: str,
    seq: int,
    action: str,
    rows: int,
    digest: str,
    prev_hash: str,
    at: datetime,
    actor: str,
) -> str:
    return canonical.framed(
        table_name, seq, action, rows, digest, prev_hash, canonical.value_text(at), actor
    )


class Seal(NamedTuple):
    """An entry's rows as the chain stores them: how many, their digest, their JSON pages."""

    rows: int
    digest: str
    pages: list[str]


def seal_of(rows: pl.DataFrame) -> Seal:
    """`rows` (row_key, row_hash) in key order: their count, digest and audit pages."""
    rows = rows.sort("row_key")
    pages = [_page_json(rows.slice(start, PAGE_ROWS)) for start in range(0, rows.height, PAGE_ROWS)]
    return Seal(rows.height, canonical.digest(rows), pages)


_JSON_ESCAPED = r'["\\\x00-\x1f]'
"""Characters JSON writes escaped: a page with a key holding one is written by `json.dumps`."""


def _page_json(rows: pl.DataFrame) -> str:
    """`json.dumps(rows.rows(), ensure_ascii=False, separators=(",", ":"))`, byte for byte,
    written by Polars when no key needs escaping (row hashes are hex): a load's millions of
    rows are not Python lists."""
    if rows["row_key"].str.contains(_JSON_ESCAPED).any():
        return json.dumps(rows.rows(), ensure_ascii=False, separators=(",", ":"))
    row_hash = pl.col("row_hash")
    pairs = rows.select(
        pl.concat_str(
            pl.lit('["'),
            pl.col("row_key"),
            pl.lit('",'),
            pl.when(row_hash.is_null())
            .then(pl.lit("null"))
            .otherwise(pl.concat_str(pl.lit('"'), row_hash, pl.lit('"'))),
            pl.lit("]"),
        )
        .str.join(",")
        .alias("pairs")
    )
    return f"[{pairs.item()}]"


def _append(conn: Connection, table_name: str, action: str, sealed: Seal, actor: str) -> int:
    _lock_chain(conn, table_name)
    entries = store.table(models.AuditEntry)
    head = conn.execute(
        sa.select(entries.c.seq, entries.c.entry_hash)
        .where(entries.c.table_name == table_name)
        .order_by(entries.c.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (head.seq + 1, head.entry_hash) if head else (1, GENESIS)
    at = datetime.now(UTC)
    conn.execute(
        entries.insert().values(
            table_name=table_name,
            seq=seq,
            action=action,
            rows=sealed.rows,
            digest=sealed.digest,
            prev_hash=prev,
            entry_hash=entry_hash(
                table_name, seq, action, sealed.rows, sealed.digest, prev, at, actor
            ),
            at=at,
            actor=actor,
        )
    )
    pages = store.table(models.AuditPage)
    with _fast_compression(conn, sealed.rows >= FAST_COMPRESSION_ROWS):
        for page, text in enumerate(sealed.pages):
            conn.execute(
                pages.insert().values(
                    table_name=table_name,
                    seq=seq,
                    page=page,
                    rows=min(PAGE_ROWS, sealed.rows - page * PAGE_ROWS),
                    rows_json=text,
                )
            )
    return sealed.rows


FAST_COMPRESSION_ROWS = 10_000
"""From this many rows an entry's pages are compressed with lz4 on PostgreSQL (see below)."""


@contextmanager
def _fast_compression(conn: Connection, wanted: bool) -> Iterator[None]:
    """PostgreSQL compresses a large text value (TOAST) with pglz by default, ~20 MB/s: a first
    load's pages (14 MB per 100,000 rows) took longer to store than to hash. lz4, where the
    server has it, is four times faster; the value read back is the same text. Set for these
    inserts only, within the transaction."""
    if not wanted or conn.dialect.name != "postgresql":
        yield
        return
    before = conn.execute(
        sa.text(
            "SELECT setting FROM pg_settings WHERE name = 'default_toast_compression' "
            "AND 'lz4' = ANY(enumvals)"
        )
    ).scalar()
    if before is None:  # a server built without lz4
        yield
        return
    conn.execute(sa.text("SELECT set_config('default_toast_compression', 'lz4', true)"))
    yield  # (after an error the transaction rolls back, and the setting with it)
    conn.execute(sa.text("SELECT set_config('default_toast_compression', :v, true)"), {"v": before})


def sealed_rows(conn: Connection, table_name: str) -> tuple[pl.DataFrame, list[Problem]]:
    """Every row of every entry of a table's chain: seq, page, row_key, row_hash (null: deleted);
    and the pages that cannot be read or hold another number of rows than they say."""
    table = store.table(models.AuditPage)
    pages = store.read_frame(conn, models.AuditPage, where=table.c.table_name == table_name).sort(
        "seq", "page"
    )
    problems = []
    pair = pl.List(pl.List(pl.String))
    try:
        decoded = pages.with_columns(pl.col("rows_json").str.json_decode(pair))
    except pl.exceptions.ComputeError:  # find the damaged pages one by one
        readable = []
        for page in pages.iter_rows(named=True):
            try:
                pl.Series([page["rows_json"]]).str.json_decode(pair)
                readable.append(True)
            except pl.exceptions.ComputeError:
                readable.append(False)
                where = f"entry {page['seq']}"
                problems.append(Problem(table_name, where, f"audit page {page['page']} unreadable"))
        pages = pages.filter(pl.Series(readable, dtype=pl.Boolean))
        decoded = pages.with_columns(pl.col("rows_json").str.json_decode(pair))
    counted = decoded.filter(pl.col("rows_json").list.len() != pl.col("rows"))
    for page in counted.iter_rows(named=True):
        where = f"entry {page['seq']}"
        problems.append(Problem(table_name, where, f"audit page {page['page']} changed: row count"))
    rows = (
        decoded.select("seq", "page", "rows_json")
        .explode("rows_json")
        .filter(pl.col("rows_json").is_not_null())
        .select(
            pl.col("seq").cast(pl.Int64),
            pl.col("page").cast(pl.Int64),
            pl.col("rows_json").list.get(0, null_on_oob=True).alias("row_key"),
            pl.col("rows_json").list.get(1, null_on_oob=True).alias("row_hash"),
        )
    )
    return rows, problems


def _lock_chain(conn: Connection, table_name: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"audit:{table_name}"}
        )


class Problem(NamedTuple):
    """Something `verify` found: in which table, at which row (or chain entry), what."""

    table: str
    row_key: str
    what: str
    line_key: str | None = None
    """The record's business key, for tables that have one."""

    def line(self) -> str:
        business = f" (line {canonical.shown_key(self.line_key)})" if self.line_key else ""
        return f"{self.table} {canonical.shown_key(self.row_key)}{business}: {self.what}"


@dataclass(frozen=True)
class Verdict:
    problems: list[Problem]
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Per chain: (last seq, its entry hash) — worth keeping elsewhere to detect a cut tail."""
    rows_checked: int = 0
    missing: bool = False
    """The database has no audit trail tables at all."""

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(engine: Engine) -> Verdict:
    """Walk every chain and re-hash every audited table (`lotline.audit.verify`)."""
    from lotline.audit.verify import verify_chains

    return verify_chains(engine)


__all__ = [
    "GENESIS",
    "Problem",
    "Seal",
    "Verdict",
    "audited_tables",
    "entry_hash",
    "frame_seal",
    "seal_deleted",
    "seal_frame_keys",
    "seal_rows",
    "verify",
]
