"""What the database knows about a trace's lots besides their lineage: mass balance, completeness
findings, hold/recall status and where their records came from.

A recall report prints these for exactly the lots it traced. They are read set-based through a
temporary table of the lots' keys (one join per table, never a query per lot), so a hub lot
reaching 10⁵ lots costs a handful of indexed joins.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

import models
from lotline import store, trace_query

EVENT_ID = {
    "receipts": "receipt_id",
    "production": "production_id",
    "consumption": "production_id",
    "moves": "move_id",
    "shipments": "shipment_id",
    "packing": "packing_id",
    "status": "status_id",
    "associations": "association_id",
    "transactions": "transaction_id",
}
"""The business event a record belongs to (a shipment has several line records)."""

SOURCE_SCHEMA = {
    "record_type": pl.String(),
    "source_sha256": pl.String(),
    "records": pl.Int64(),
    "events": pl.Int64(),
}
EVENT_FILES_SCHEMA = {
    "record_type": pl.String(),
    "event_id": pl.String(),
    "files": pl.Int64(),
    "records": pl.Int64(),
}


@dataclass(frozen=True)
class ScopeDetails:
    """Per traced lot: its balance, the findings against it, the statuses in force, and the
    input files and events its records came from (the audit extract)."""

    mass_balance: pl.DataFrame
    exceptions: pl.DataFrame
    statuses: pl.DataFrame
    record_sources: pl.DataFrame
    events_in_several_files: pl.DataFrame
    source_files: pl.DataFrame


def scope_details(engine: Engine, lot_keys: list[int]) -> ScopeDetails:
    with engine.connect() as conn:
        keys = trace_query.keys_table(conn, lot_keys)
        scope = _scope_lots(conn, keys)
        balance_table = store.table(models.LotMassBalance)
        balance = store.read_frame(
            conn,
            models.LotMassBalance,
            where=balance_table.c.lot_key.in_(sa.select(keys.c.lot_key)),
        ).drop("snapshot_id")
        exceptions = _for_scope(conn, models.TraceException, scope).drop("id", "snapshot_id")
        statuses = _for_scope(conn, models.LotStatus, scope).drop("id", "snapshot_id")
        sources, several = _record_sources(conn, scope)
        files = store.read_frame(
            conn,
            models.SourceFile,
            where=store.table(models.SourceFile).c.sha256.in_(
                sources["source_sha256"].unique().to_list() or [""]
            ),
        )
        scope.drop(conn)
        keys.drop(conn)
    return ScopeDetails(balance, exceptions, statuses, sources, several, files)


def _scope_lots(conn: Connection, keys: sa.Table) -> sa.Table:
    """The scope's (gtin, lot) pairs as a temporary table."""
    lot = store.table(models.Lot)
    table = sa.Table(
        "scope_lots",
        sa.MetaData(),
        sa.Column("gtin", sa.String, primary_key=True),
        sa.Column("lot", sa.String, primary_key=True),
        prefixes=["TEMPORARY"],
    )
    table.drop(conn, checkfirst=True)
    table.create(conn)
    conn.execute(
        table.insert().from_select(
            ["gtin", "lot"],
            sa.select(lot.c.gtin, lot.c.lot).join(keys, keys.c.lot_key == lot.c.lot_key),
        )
    )
    return table


def _in_scope(table: sa.Table, scope: sa.Table) -> sa.ColumnElement[bool]:
    """Rows whose (gtin, lot) is in the scope. Written as `lot IN (scope lots)` first so that
    SQLite probes the lot index once per scope lot instead of scanning a table of millions of
    records (its planner picks the scan for a plain join), then checked exactly."""
    return sa.and_(
        table.c.lot.in_(sa.select(scope.c.lot)),
        sa.exists().where((scope.c.gtin == table.c.gtin) & (scope.c.lot == table.c.lot)),
    )


def _for_scope(conn: Connection, model: type, scope: sa.Table) -> pl.DataFrame:
    """Rows of a table keyed by (gtin, lot) whose lot is in the scope."""
    table = store.table(model)
    return store.read_frame(conn, model, where=_in_scope(table, scope))


def _record_sources(conn: Connection, scope: sa.Table) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per record type and input file: records and events of the scope's lots; and the events
    recorded in more than one input file — a later file repeated or changed them, which is
    what an auditor checks first. Counted in SQL: a hub lot's scope has 10⁶ records."""
    by_file, by_event = [], []
    for record_type, model in models.RECORD_TABLES.items():
        table = store.table(model)
        event = table.c[EVENT_ID[record_type]]
        in_scope = _in_scope(table, scope)
        by_file.append(
            sa.select(
                sa.literal(record_type).label("record_type"),
                table.c.source_sha256,
                sa.func.count().label("records"),
                sa.func.count(sa.distinct(event)).label("events"),
            )
            .where(in_scope)
            .group_by(table.c.source_sha256)
        )
        by_event.append(
            sa.select(
                sa.literal(record_type).label("record_type"),
                event.label("event_id"),
                sa.func.count(sa.distinct(table.c.source_sha256)).label("files"),
                sa.func.count().label("records"),
            )
            .where(in_scope)
            .group_by(event)
            .having(sa.func.count(sa.distinct(table.c.source_sha256)) > 1)
        )
    sources = pl.concat(
        [store.read_query(conn, query, SOURCE_SCHEMA) for query in by_file]  # type: ignore[arg-type]
    )
    several = pl.concat(
        [store.read_query(conn, query, EVENT_FILES_SCHEMA) for query in by_event]  # type: ignore[arg-type]
    )
    return (
        sources.sort("record_type", "source_sha256"),
        several.sort("record_type", "event_id"),
    )


def audit_sources(details: ScopeDetails) -> pl.DataFrame:
    """One row per input file behind the scope's records: name, type, content hash, the load
    that brought it and when, and how many of the scope's records and events it holds."""
    files = details.source_files.select(
        pl.col("sha256").alias("source_sha256"), "file_name", "load_id", "loaded_at"
    )
    return (
        details.record_sources.join(files, on="source_sha256", how="left")
        .select(
            "file_name",
            "record_type",
            "source_sha256",
            "load_id",
            "loaded_at",
            "records",
            "events",
        )
        .sort("loaded_at", "file_name", "record_type", nulls_last=True)
    )
