"""The Python API analysts, reports and the CLI share: lineage tables and traces from a database.

from lotline import api
db = api.connect()                      # LOTLINE_DATABASE_URL or ./lotline.sqlite
result = api.trace_lot(db, "00614141000043", "C1", "both")
result.shipments, result.consignees, result.lots
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import models
from lotline import store, trace
from lotline.lineage import Lineage


def connect(database_url: str | None = None) -> Engine:
    """An engine on the configured database, with the schema in place."""
    engine = store.make_engine(database_url)
    store.create_schema(engine)
    return engine


def load_lineage(engine: Engine) -> Lineage:
    with engine.connect() as conn:
        return Lineage(
            lots=store.read_frame(conn, models.Lot).drop("snapshot_id"),
            edges=store.read_frame(conn, models.LotEdge).drop("id", "snapshot_id"),
            serials=store.read_frame(conn, models.Serial).drop("snapshot_id"),
            shipments=store.read_frame(conn, models.LotShipment).drop("id", "snapshot_id"),
            receipts=store.read_frame(conn, models.LotReceipt).drop("id", "snapshot_id"),
            on_hand=store.read_frame(conn, models.LotOnHand).drop("snapshot_id"),
        )


def locations(engine: Engine) -> pl.DataFrame:
    return store.read_frame(engine, models.Location)


def products(engine: Engine) -> pl.DataFrame:
    return store.read_frame(engine, models.Product)


def rejected_records(engine: Engine) -> pl.DataFrame:
    return store.read_frame(engine, models.RejectedRecord)


def current_snapshot(engine: Engine) -> dict[str, object] | None:
    """The snapshot the lineage tables were built from (the newest one), or None before a load."""
    with engine.connect() as conn:
        snapshot_id = conn.execute(sa.select(models.Lot.snapshot_id).limit(1)).scalar()
        if snapshot_id is None:
            return None
        row = (
            conn.execute(
                sa.select(store.table(models.Snapshot)).where(
                    store.table(models.Snapshot).c.snapshot_id == snapshot_id
                )
            )
            .mappings()
            .first()
        )
    return dict(row) if row else {"snapshot_id": snapshot_id}


def trace_lot(
    engine: Engine,
    gtin: str,
    lot: str,
    direction: trace.Direction = "both",
    lineage: Lineage | None = None,
) -> trace.TraceResult:
    lineage = lineage or load_lineage(engine)
    result = trace.trace_lot(lineage, _gtin14(gtin), lot, direction, locations(engine))
    return _with_snapshot(engine, result)


def trace_serial(
    engine: Engine,
    gtin: str,
    serial: str,
    direction: trace.Direction = "both",
    lineage: Lineage | None = None,
) -> trace.TraceResult:
    lineage = lineage or load_lineage(engine)
    gtin = _gtin14(gtin)
    consumption = store.table(models.ConsumptionRecord)
    consumed_in = (
        store.read_frame(
            engine,
            models.ConsumptionRecord,
            where=(consumption.c.gtin == gtin) & (consumption.c.serial == serial),
            columns=["production_id"],
        )["production_id"]
        .unique()
        .to_list()
    )
    result = trace.trace_serial(lineage, gtin, serial, consumed_in, direction, locations(engine))
    return _with_snapshot(engine, result)


def _with_snapshot(engine: Engine, result: trace.TraceResult) -> trace.TraceResult:
    snapshot = current_snapshot(engine)
    from dataclasses import replace

    return replace(result, snapshot_id=str(snapshot["snapshot_id"]) if snapshot else None)


def _gtin14(gtin: str) -> str:
    return gtin.strip().zfill(14)
