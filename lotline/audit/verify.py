"""Walk the audit chains and re-hash the audited tables: what changed behind lotline's back.

Three checks, all in one read snapshot (a load committing meanwhile is not mistaken for
tampering):

1. each chain links: seq 1, 2, … with no gap, each prev_hash the entry hash before, each entry
   hash recomputed from its fields;
2. each entry's digest and row count match its rows (its audit pages);
3. each audited table's rows, re-hashed now, equal the latest hash the chain holds for their
   primary key: a different hash is an UPDATE made outside lotline, a key the chain holds as
   live but the table lacks a DELETE, a row the chain never saw (or saw deleted) an INSERT.

Reading and the canonical text are Polars, column by column; per row there is only the SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import models
from lotline import store
from lotline.audit import canonical
from lotline.audit.chain import (
    GENESIS,
    Problem,
    Verdict,
    audited_tables,
    entry_hash,
    sealed_rows,
)

CHANGED = "row changed (UPDATE outside lotline)"
MISSING = "row missing (DELETE outside lotline)"
UNKNOWN = "row not in the audit trail (INSERT outside lotline)"


def verify_chains(engine: Engine) -> Verdict:
    present = set(sa.inspect(engine).get_table_names())
    audit_tables = {store.table(models.AuditEntry).name, store.table(models.AuditPage).name}
    tables = {t for t in audited_tables() if t in present}
    with _snapshot(engine) as conn:
        if not audit_tables <= present:
            unsealed = [
                Problem(t, "(table)", "no audit trail in this database")
                for t in sorted(tables)
                if conn.execute(sa.select(sa.func.count()).select_from(store.table(t))).scalar()
            ]
            return Verdict(unsealed, missing=True)
        entries = store.read_frame(conn, models.AuditEntry)
        problems: list[Problem] = []
        heads: dict[str, tuple[int, str]] = {}
        checked = 0
        chained = set(entries["table_name"].unique().to_list())
        known = set(SQLModel.metadata.tables) & present
        tables |= chained & known  # a table some writer chains: checked like the listed ones
        for name in sorted(chained | tables):
            chain = entries.filter(pl.col("table_name") == name).sort("seq")
            problems += _links(name, chain)
            rows, unreadable = sealed_rows(conn, name)
            problems += unreadable
            problems += _digests(name, chain, rows)
            if not chain.is_empty():
                heads[name] = (int(chain["seq"][-1]), str(chain["entry_hash"][-1]))
            if name in tables:
                found, count = _table_rows(conn, name, rows)
                problems += found
                checked += count
            else:
                problems.append(Problem(name, "(table)", "chained table missing or unknown"))
    return Verdict(problems, heads, checked)


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one committed state (SQLite: one read transaction;
    PostgreSQL: REPEATABLE READ). Nothing is written: rolled back at the end."""
    if engine.dialect.name == "postgresql":
        conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        conn.begin()
    else:
        conn = engine.connect()
        conn.exec_driver_sql("BEGIN")
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _links(name: str, chain: pl.DataFrame) -> list[Problem]:
    problems = []
    prev = GENESIS
    for expected_seq, entry in enumerate(chain.iter_rows(named=True), start=1):
        where = f"entry {entry['seq']}"
        if entry["seq"] != expected_seq:
            problems.append(
                Problem(name, where, f"chain entry {expected_seq} missing (DELETE outside lotline)")
            )
        if entry["prev_hash"] != prev:
            problems.append(Problem(name, where, "chain broken: previous hash does not match"))
        recomputed = entry_hash(
            name,
            entry["seq"],
            entry["action"],
            entry["rows"],
            entry["digest"],
            entry["prev_hash"],
            entry["at"],
            entry["actor"],
        )
        if recomputed != entry["entry_hash"]:
            problems.append(Problem(name, where, "chain entry changed: its hash does not match"))
        prev = entry["entry_hash"]
    return problems


def _digests(name: str, chain: pl.DataFrame, rows: pl.DataFrame) -> list[Problem]:
    """Each entry's digest and row count against its rows; rows of no entry."""
    if rows.is_empty():
        found = pl.DataFrame(schema={"seq": pl.Int64, "n": pl.UInt32, "text": pl.String})
    else:
        found = (
            rows.sort("seq", "row_key")
            .group_by("seq", maintain_order=True)
            .agg(
                pl.len().alias("n"),
                pl.concat_str(
                    pl.col("row_key").str.len_bytes().cast(pl.String),
                    pl.lit(":"),
                    pl.col("row_key"),
                    pl.col("row_hash").fill_null(canonical.NO_HASH),
                    pl.lit("\n"),
                )
                .str.join("")
                .alias("text"),
            )
        )
    joined = chain.select("seq", "rows", "digest").join(found, on="seq", how="full", coalesce=True)
    problems = []
    for entry in joined.iter_rows(named=True):
        where = f"entry {entry['seq']}"
        if entry["digest"] is None:
            problems.append(Problem(name, where, "audit rows of no chain entry"))
            continue
        text = entry["text"] or ""
        if (entry["n"] or 0) != entry["rows"] or (
            hashlib.sha256(text.encode()).hexdigest() != entry["digest"]
        ):
            problems.append(
                Problem(name, where, "audit rows of the entry changed: digest does not match")
            )
    return problems


def _table_rows(conn: Connection, name: str, rows: pl.DataFrame) -> tuple[list[Problem], int]:
    """The table's rows now against the latest hash the chain holds per key (read in chunks:
    only keys and hashes are kept)."""
    table = store.table(name)
    parts, count = [], 0
    for chunk in store.read_chunks(conn, name):
        hashed = canonical.row_hashes(chunk, table)
        line_key = chunk["line_key"] if "line_key" in chunk.columns else pl.lit(None, pl.String)
        parts.append(hashed.with_columns(line_key.alias("line_key")))
        count += chunk.height
    hashed = (
        pl.concat(parts)
        if parts
        else pl.DataFrame(
            schema={"row_key": pl.String, "row_hash": pl.String, "line_key": pl.String}
        )
    )
    latest = (
        rows.sort("seq")
        .group_by("row_key")
        .agg(pl.col("row_hash").last().alias("sealed"))
        .filter(pl.col("row_key").is_not_null())
    )
    compared = hashed.join(latest, on="row_key", how="full", coalesce=True)
    live = pl.col("sealed").is_not_null()
    here = pl.col("row_hash").is_not_null()
    problems = []
    for what, condition in (
        (CHANGED, live & here & (pl.col("row_hash") != pl.col("sealed"))),
        (MISSING, live & ~here),
        (UNKNOWN, here & ~live),
    ):
        for row in compared.filter(condition).sort("row_key").iter_rows(named=True):
            problems.append(Problem(name, row["row_key"], what, row["line_key"]))
    return problems, count
