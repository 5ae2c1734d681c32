"""Traces answered straight from the database through the precomputed closure table.

Why: the lineage tables of a real company hold millions of edges; loading them all to walk a
graph (what `trace.reachable` does in memory) costs seconds per trace. The closure table holds
every (ancestor, descendant) pair with its depth and exposure, so one indexed range read answers
"what is upstream / downstream of this lot", and only the rows of the lots reached are read.
The assembled result is the same `TraceResult` the in-memory path gives (tests compare them).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

import models
from lotline import store
from lotline.lineage import Lineage
from lotline.trace import UnknownSubject

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
    starts = pl.DataFrame(
        {"lot_key": start, "depth": [0] * len(start), "exposure": [1.0] * len(start)},
        schema={"lot_key": pl.Int64, "depth": pl.Int64, "exposure": pl.Float64},
    )
    return (
        pl.concat([starts, found])
        .group_by("lot_key")
        .agg(pl.col("depth").min(), pl.col("exposure").max().clip(upper_bound=1.0))
        .sort("depth", "lot_key")
    )


def lineage_of(conn: Connection, keys: list[int]) -> Lineage:
    """The lineage tables restricted to `keys`: every row a trace over those lots can need.

    Edges are kept where both ends are in `keys`; a trace's reached set is closed under its own
    paths, so the walk over this small lineage equals the walk over the whole one."""
    key_table = keys_table(conn, keys)
    key_set = sa.select(key_table.c.lot_key)

    def rows(model: type, *conditions: sa.ColumnElement[bool]) -> pl.DataFrame:
        frame = store.read_frame(conn, model, where=sa.and_(*conditions))
        return frame.drop("id", "snapshot_id", strict=False)

    lot, edge = store.table(models.Lot), store.table(models.LotEdge)
    serial, shipment = store.table(models.Serial), store.table(models.LotShipment)
    receipt, on_hand = store.table(models.LotReceipt), store.table(models.LotOnHand)
    result = Lineage(
        lots=rows(models.Lot, lot.c.lot_key.in_(key_set)),
        edges=rows(models.LotEdge, edge.c.parent_key.in_(key_set), edge.c.child_key.in_(key_set)),
        serials=rows(models.Serial, serial.c.lot_key.in_(key_set)),
        shipments=rows(models.LotShipment, shipment.c.lot_key.in_(key_set)),
        receipts=rows(models.LotReceipt, receipt.c.lot_key.in_(key_set)),
        on_hand=rows(models.LotOnHand, on_hand.c.lot_key.in_(key_set)),
    )
    key_table.drop(conn)
    return result


def keys_table(conn: Connection, keys: list[int]) -> sa.Table:
    """A temporary table of lot keys: set-based joins instead of a parameter list per query."""
    metadata = sa.MetaData()
    table = sa.Table(
        "trace_keys",
        metadata,
        sa.Column("lot_key", sa.BigInteger, primary_key=True),
        prefixes=["TEMPORARY"],
    )
    table.drop(conn, checkfirst=True)
    table.create(conn)
    if keys:
        conn.execute(table.insert(), [{"lot_key": k} for k in sorted(set(keys))])
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
