"""Mock recall drill evidence: one stored drill and the drill history as a PDF/A-3b.

An auditor of a recall plan asks: was the drill run, by whom, from which data, how long did the
answer take, how complete was it, and are drills getting better? The PDF answers in that order
from page 1: the drill record, the trend chart of every drill and the last drills, then the scope
(with a bounded consignee list), mass balance by unit, terms, document control and sign-off.
Drill history and scope balance are embedded as CSV.
Page furniture, document numbers and PDF/A rendering are those of `reports.render`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
from markupsafe import Markup
from sqlalchemy.engine import Engine

from lotline import api, mock_recall
from lotline.mass_balance import TOLERANCE
from lotline.mock_recall import DrillResult
from reports import barcodes, register
from reports.charts import drill_trend_chart
from reports.render import (
    AttachedFile,
    Column,
    DocumentControl,
    csv_bytes,
    fmt_qty,
    fmt_qty_uom,
    fmt_utc,
    generated_now,
    render_html,
    safe_name,
    table,
    write_pdf,
)

TITLE = "Mock Recall Drill Evidence"
MAX_CONSIGNEES = 50
HISTORY_ROWS = 10
TERMS = [
    ("Times", "All times are UTC (offset +00:00)."),
    (
        "Time to answer",
        "From the start of the trace to the end of the scope mass balance, measured by the "
        "drill; rendering this document is not included.",
    ),
    (
        "% accounted",
        "Accounted quantity (consumed, shipped, destroyed, negative adjustments) over inflow "
        "(received, produced, returned, positive adjustments) of the lots in scope, per unit of "
        "measure; when the units differ, the drill's figure is the unit furthest from 100 %.",
    ),
    (
        "Tolerance",
        f"{100 * TOLERANCE[0]:g}–{100 * TOLERANCE[1]:g} % accounted: the mass balance of a "
        "scope passes inside it (shaded in the trend chart).",
    ),
    ("Drill number", "Position of a drill in the history of stored drills, oldest first."),
]


def fmt_percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def consignee_list(result_consignees: pl.DataFrame) -> pl.DataFrame:
    """One row per consignee with its quantities per unit joined in text (units never summed)."""
    if result_consignees.is_empty():
        return pl.DataFrame(
            schema={
                "to_location_id": pl.String,
                "business_name": pl.String,
                "shipments": pl.Int64,
                "quantity": pl.String,
            }
        )
    parts = result_consignees.sort("uom").with_columns(
        pl.struct("quantity", "uom")
        .map_elements(lambda p: fmt_qty_uom(p["quantity"], p["uom"]), return_dtype=pl.String)
        .alias("part")
    )
    return (
        parts.group_by("to_location_id")
        .agg(
            pl.col("business_name").first(),
            pl.col("shipments").sum().cast(pl.Int64),
            pl.col("part").str.join("; ").alias("quantity"),
        )
        .sort("business_name", "to_location_id", nulls_last=True)
    )


def render_mock_recall_report(
    engine: Engine,
    drill: DrillResult,
    out_dir: Path,
    *,
    generated_at: datetime | None = None,
    history_rows: int = HISTORY_ROWS,
    max_consignees: int = MAX_CONSIGNEES,
) -> Path:
    """Write `out_dir/mock_recall_<drill id>_<document number>.pdf`, link it to the stored drill
    and return its path. Rendering is outside the drill's time to answer: the clock measures the
    trace, not the paperwork."""
    generated = generated_now(generated_at)
    snapshot = _answered_snapshot(engine, drill)
    with register.number_for_document(
        engine,
        "mock_recall",
        "MRD",
        generated,
        TITLE,
        snapshot_id=str(snapshot["snapshot_id"]) if snapshot else None,
        request_reference=drill.drill_id,
    ) as number:
        doc = DocumentControl(
            number=number,
            title=TITLE,
            generated_at=generated,
            snapshot=snapshot,
            request_reference=drill.drill_id,
        )
        trend = mock_recall.drill_trend(mock_recall.drill_history(engine))
        files = [
            AttachedFile(
                "drill_history.csv",
                csv_bytes(trend),
                "text/csv",
                trend.height,
                "every stored drill",
            ),
            AttachedFile(
                "scope_balance.csv",
                csv_bytes(drill.balance),
                "text/csv",
                drill.balance.height,
                "mass balance of the drill's scope per unit",
            ),
        ]
        name = f"mock_recall_{safe_name(drill.drill_id)}_{doc.number}.pdf"
        html = render_html(
            "mock_recall.html.j2",
            doc=doc,
            doc_qr=barcodes.document_code(doc, name),
            attachments=files,
            **_context(drill, trend, history_rows, max_consignees),
        )
        path = write_pdf(
            html,
            Path(out_dir) / name,
            files,
            f"{TITLE} — {drill.record['gtin']} / {drill.record['lot']} — {drill.drill_id}",
            generated_at=generated,
            doc=doc,
        )
        register.record_file(engine, doc.number, path)
    mock_recall.record_evidence(engine, drill.drill_id, doc.number, str(path))
    return path


def _answered_snapshot(engine: Engine, drill: DrillResult) -> dict[str, object] | None:
    """The snapshot the drill answered from, which the header must name even if data was
    reloaded between the drill and this rendering."""
    answered = drill.record["snapshot_id"]
    current = api.current_snapshot(engine)
    if current and current["snapshot_id"] == answered:
        return current
    return {"snapshot_id": answered} if answered else None


def _context(
    drill: DrillResult, trend: pl.DataFrame, history_rows: int, max_consignees: int
) -> dict[str, object]:
    r = drill.record
    consignees = consignee_list(drill.trace.consignees)
    balance = drill.balance.with_columns(
        pl.col("percent_accounted").map_elements(fmt_percent, return_dtype=pl.String)
    )
    last = (
        trend.tail(history_rows)
        .sort("drill_number", descending=True)
        .with_columns(
            pl.col("percent_accounted").map_elements(fmt_percent, return_dtype=pl.String),
            pl.col("mean_percent_to_date").map_elements(fmt_percent, return_dtype=pl.String),
        )
    )
    summary = mock_recall.trend_summary(trend)
    overall = (
        f"{fmt_qty(r['quantity_accounted'])} of {fmt_qty(r['quantity_inflow'])} "  # type: ignore[arg-type]
        "(one unit of measure)"
        if r["quantity_inflow"] is not None
        else "units differ: the unit furthest from 100 %, see section 4"
    )
    chart = drill_trend_chart(trend, current=str(r["drill_id"]))
    return {
        "record": r,
        "trend_chart": None if chart is None else Markup(chart),
        "terms": TERMS,
        "record_rows": [
            ("Drill id", r["drill_id"]),
            ("Subject", f"lot {r['lot']} of GTIN {r['gtin']}"),
            ("Direction", r["direction"]),
            ("Run by", r["run_by"]),
            ("Started", fmt_utc(r["started_at"], seconds=True)),  # type: ignore[arg-type]
            ("Finished", fmt_utc(r["finished_at"], seconds=True)),  # type: ignore[arg-type]
            ("Time to answer", f"{r['seconds_to_answer']:.3f} s"),
            ("Answered from snapshot", r["snapshot_id"] or "—"),
            ("Quantity accounted", f"{fmt_percent(r['percent_accounted'])} — {overall}"),  # type: ignore[arg-type]
            ("Scope mass balance", r["status"]),
        ],
        "scope_rows": [
            ("Lots reached", f"{r['lots_reached']} (subject lot included)"),
            ("Shipments", r["shipments"]),
            ("Consignees (direct accounts)", r["consignees"]),
        ],
        "notes": drill.trace.notes,
        "consignees": table(
            consignees,
            [
                Column("business_name", "Consignee", 38),
                Column("to_location_id", "Location", 18),
                Column("shipments", "Shipments", 12, "right", "int"),
                Column("quantity", "Quantity received", 32, "right"),
            ],
            csv_name=None,
            limit=max_consignees,
            empty_text="No shipments in scope.",
        ),
        "balance": table(
            balance,
            [
                Column("uom", "Unit", 10),
                Column("lots", "Lots", 10, "right", "int"),
                Column("inflow", "Inflow", 18, "right", "qty"),
                Column("accounted", "Accounted", 18, "right", "qty"),
                Column("difference", "Difference", 16, "right", "qty"),
                Column("percent_accounted", "% accounted", 14, "right"),
                Column("status", "Status", 14),
            ],
            empty_text="No lots in scope.",
        ),
        "trend": summary,
        "trend_rows": [
            ("Drills on record", summary["drills"]),
            ("First / last drill", f"{fmt_utc(summary['first'])} / {fmt_utc(summary['last'])}"),  # type: ignore[arg-type]
            (
                "Mean time to answer",
                "—" if summary["mean_seconds"] is None else f"{summary['mean_seconds']:.3f} s",
            ),
            ("Mean % accounted", fmt_percent(summary["mean_percent"])),  # type: ignore[arg-type]
        ],
        "history": table(
            last,
            [
                Column("drill_number", "#", 5, "right", "int"),
                Column("drill_id", "Drill id", 25),
                Column("started_at", "Started", 15, fmt="utc"),
                Column("lot", "Lot", 9),
                Column("direction", "Direction", 9),
                Column("run_by", "Run by", 9),
                Column("seconds_to_answer", "Seconds", 9, "right", "qty"),
                Column("percent_accounted", "% acc.", 9, "right"),
                Column("mean_percent_to_date", "Mean %", 10, "right"),
            ],
            csv_name="drill_history.csv",
            limit=history_rows,
            empty_text="No drills on record.",
        ),
        "history_rows": history_rows,
    }
