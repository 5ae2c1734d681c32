"""Mock recall drills as first-class records.

A drill traces a lot the way a real recall would, times the answer, measures how much of the
scope's quantity is accounted for (the scope mass balance) and stores all of it as a
`models.MockRecall` row, so a recall plan can show its drills and their trend over time.

    from lotline import api, mock_recall
    drill = mock_recall.run_drill(api.connect(), "00614141000043", "C1", run_by="qa")
    mock_recall.drill_trend(mock_recall.drill_history(engine))
"""

from __future__ import annotations

import getpass
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import models
from lotline import api, store
from lotline.audit import chain
from lotline.trace import DIRECTIONS, Direction, TraceResult

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DrillResult:
    """The stored drill record plus the trace and scope balance it was computed from."""

    record: dict[str, object]
    trace: TraceResult
    balance: pl.DataFrame  # per unit: inflow, accounted, percent_accounted, status

    @property
    def drill_id(self) -> str:
        return str(self.record["drill_id"])


def utc_now() -> datetime:
    return datetime.now(UTC)


def drill_id(at: datetime) -> str:
    """`DRL-<UTC yyyymmddHHMMSS>-<6 hex>`: sortable by start, unique within a second."""
    return f"DRL-{at.astimezone(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


def percent_accounted(balance: pl.DataFrame) -> pl.DataFrame:
    """Per unit of measure: accounted / inflow × 100 (null without inflow)."""
    return balance.with_columns(
        pl.when(pl.col("inflow") > 0)
        .then(pl.col("accounted") / pl.col("inflow") * 100)
        .otherwise(None)
        .alias("percent_accounted")
    )


def overall_accounted(balance: pl.DataFrame) -> tuple[float | None, float | None, float | None]:
    """(inflow, accounted, percent) over the whole scope.

    Cases and kilograms are never added up: when the scope has several units, inflow and
    accounted are None and the percent is that of the unit furthest from 100 % (short or
    over-accounted), because that unit is what a recall coordinator could not answer for, and
    the trend needs one figure per drill."""
    units = balance["uom"].unique()
    if balance.is_empty() or units.null_count():
        return None, None, None
    if units.len() == 1:
        inflow = float(balance["inflow"].sum())
        accounted = float(balance["accounted"].sum())
        return inflow, accounted, (accounted / inflow * 100 if inflow > 0 else None)
    percents = percent_accounted(balance)["percent_accounted"].drop_nulls()
    if percents.is_empty():
        return None, None, None
    worst = percents[int((percents - 100).abs().arg_max())]  # type: ignore[arg-type]
    return None, None, float(worst)


def run_drill(
    engine: Engine,
    gtin: str,
    lot: str,
    direction: Direction = "both",
    run_by: str | None = None,
    clock: Clock = utc_now,
) -> DrillResult:
    """Run a mock recall of one lot and store it. The clock runs from before the trace to after
    the scope balance: time to answer covers everything a coordinator would wait for."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    started = _utc(clock())
    result = api.trace_lot(engine, gtin, lot, direction)
    balance = percent_accounted(api.scope_balance(engine, result))
    finished = _utc(clock())
    inflow, accounted, percent = overall_accounted(balance)
    status = str(balance["scope_status"][0]) if not balance.is_empty() else "fail"
    record: dict[str, object] = {
        "drill_id": drill_id(started),
        "started_at": started,
        "finished_at": finished,
        "seconds_to_answer": (finished - started).total_seconds(),
        "gtin": str(result.subject.get("gtin") or gtin),
        "lot": lot,
        "direction": direction,
        "run_by": run_by or getpass.getuser(),
        "snapshot_id": result.snapshot_id,
        "lots_reached": result.lots["lot_key"].n_unique(),
        "shipments": result.shipments["shipment_id"].n_unique(),
        "consignees": result.consignees["to_location_id"].n_unique(),
        "quantity_inflow": inflow,
        "quantity_accounted": accounted,
        "percent_accounted": percent,
        "status": status,
        "document_number": None,
        "pdf_path": None,
    }
    table = store.table(models.MockRecall)
    table.create(engine, checkfirst=True)
    chain.create_tables(engine)
    with engine.begin() as conn:
        store.insert_frame(conn, models.MockRecall, pl.DataFrame([record]))
        chain.seal_rows(conn, table.name, table.c.drill_id == record["drill_id"])
    return DrillResult(record, result, balance)


def record_evidence(engine: Engine, drill_id: str, document_number: str, pdf_path: str) -> None:
    """Link a stored drill to its evidence PDF."""
    table = store.table(models.MockRecall)
    with engine.begin() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c.drill_id == drill_id)
            .values(document_number=document_number, pdf_path=pdf_path)
        )
        chain.seal_rows(conn, table.name, table.c.drill_id == drill_id)


def drill_history(engine: Engine) -> pl.DataFrame:
    """Every stored drill, oldest first."""
    store.table(models.MockRecall).create(engine, checkfirst=True)
    return store.read_frame(engine, models.MockRecall).sort("started_at", "drill_id")


def drill_trend(history: pl.DataFrame) -> pl.DataFrame:
    """The history with its trend: drill number, change in time to answer and % accounted
    against the previous drill, and running means (is the recall plan getting faster and more
    complete?)."""
    ordered = history.sort("started_at", "drill_id")
    return ordered.with_columns(
        pl.int_range(1, pl.len() + 1).alias("drill_number"),
        pl.col("seconds_to_answer").diff().alias("seconds_change"),
        pl.col("percent_accounted").diff().alias("percent_change"),
        pl.col("seconds_to_answer")
        .cum_sum()
        .truediv(pl.int_range(1, pl.len() + 1))
        .alias("mean_seconds_to_date"),
        (
            pl.col("percent_accounted").cum_sum()
            / pl.col("percent_accounted").is_not_null().cum_sum()
        ).alias("mean_percent_to_date"),
    )


def trend_summary(trend: pl.DataFrame) -> dict[str, object]:
    """Headline figures of the trend for the evidence PDF."""
    if trend.is_empty():
        return {
            "drills": 0,
            "first": None,
            "last": None,
            "mean_seconds": None,
            "mean_percent": None,
        }
    return {
        "drills": trend.height,
        "first": trend["started_at"].min(),
        "last": trend["started_at"].max(),
        "mean_seconds": trend["seconds_to_answer"].mean(),
        "mean_percent": trend["percent_accounted"].mean(),
    }


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
