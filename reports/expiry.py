"""The Expiry / Shelf-life Report: stock expired or expiring on hand, and shipments made on or
after expiry, as a PDF/A-3b with the full positions embedded as CSV.

The date rules live in `lotline.expiry` (a lot is usable through its expiry day; ship dates are
local dates at the ship-from location) and are printed in the Parameters section so a reader
does not have to guess them. See /work/shared/reference/regulatory.md §6.3.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy.engine import Engine

from lotline import api
from lotline.contract import UOM_NAMES
from lotline.expiry import EXPIRED, EXPIRING, expiry_positions, shipped_at_or_after_expiry
from reports.render import (
    MAX_TABLE_ROWS,
    AttachedFile,
    Column,
    DocumentControl,
    csv_bytes,
    document_number,
    fmt_qty_uom,
    generated_now,
    glossary,
    render_html,
    table,
    write_pdf,
)

TITLE = "Expiry / Shelf-life Report"
TERMS = [
    (
        "Expired",
        "The expiry date is before the as-of date. A lot is usable through its expiry "
        "day (GS1 / FDA “use by” reading), so it expires at the end of that day.",
    ),
    (
        "Expiring",
        "The expiry date is on the as-of date or within the window after it "
        "(0 days to expiry = expires at the end of the as-of date).",
    ),
    ("Days to expiry", "Expiry date minus as-of date in calendar days; negative once expired."),
    (
        "Ship date (local)",
        "The date a shipment left, in the local time of the ship-from location "
        "(the UTC time shifted by the offset recorded with the shipment).",
    ),
    (
        "Shipped at or after expiry",
        "A shipment line whose local ship date is on or after the "
        "lot's expiry date: the consignee received stock that is "
        "expired or expires the day it arrives.",
    ),
    (
        "On hand",
        "Stock at the company's own sites and warehouses from all recorded movements; "
        "customer stock is not included. Negative balances are data-quality "
        "exceptions and are not listed as positions.",
    ),
    ("GTIN", "GS1 Global Trade Item Number of the product, shown as 14 digits (GTIN-14)."),
    ("Lot (TLC)", "Lot code; with the GTIN it identifies a lot (FSMA 204 traceability lot code)."),
    ("SSCC", "GS1 Serial Shipping Container Code (18 digits) of the pallet or case shipped."),
    ("Consignee", "The immediate subsequent recipient of a shipment."),
    (
        "FEFO",
        "First expired, first out: the picking rule that avoids shipping short-dated stock "
        "while older stock is left to expire.",
    ),
    ("Snapshot", "Identifier of the data state the report was built from."),
]


@dataclass(frozen=True)
class ExpiryData:
    as_of: date
    within_days: int
    snapshot: dict[str, object] | None
    positions: pl.DataFrame
    late_shipments: pl.DataFrame
    summary: pl.DataFrame
    uoms: list[str]

    def csv_files(self) -> list[AttachedFile]:
        return [
            AttachedFile(
                "expiry_positions.csv",
                csv_bytes(self.positions),
                "text/csv",
                self.positions.height,
                "expired and expiring stock by location",
            ),
            AttachedFile(
                "shipped_at_or_after_expiry.csv",
                csv_bytes(self.late_shipments),
                "text/csv",
                self.late_shipments.height,
                "shipment lines on or after the lot's expiry date",
            ),
        ]


def build_expiry(engine: Engine, as_of: date, within_days: int = 30) -> ExpiryData:
    """Positions and late shipments from the lineage tables, plus the per-location summary."""
    lineage = api.load_lineage(engine)
    locations, products = api.locations(engine), api.products(engine)
    positions = expiry_positions(
        lineage.lots, lineage.on_hand, locations, as_of, within_days, products=products
    )
    late = shipped_at_or_after_expiry(lineage.lots, lineage.shipments, locations, products=products)
    uoms = sorted(
        set(positions["uom"].drop_nulls().to_list()) | set(late["uom"].drop_nulls().to_list())
    )
    return ExpiryData(
        as_of, within_days, api.current_snapshot(engine), positions, late, _summary(positions), uoms
    )


def render_expiry_report(
    engine: Engine,
    out_dir: Path,
    *,
    as_of: date | None = None,
    within_days: int = 30,
    generated_at: datetime | None = None,
    max_rows: int = MAX_TABLE_ROWS,
    run_id: str | None = None,
) -> Path:
    """Write `out_dir/expiry_<as_of>_<document number>.pdf` and return its path.

    `as_of` defaults to today's date in UTC (at `generated_at`), the pipeline's convention.
    """
    started = time.perf_counter()
    generated = generated_now(generated_at)
    as_of = as_of or generated.astimezone(UTC).date()
    data = build_expiry(engine, as_of, within_days)
    doc = DocumentControl(
        number=document_number("EXP", generated),
        title=TITLE,
        generated_at=generated,
        snapshot=data.snapshot,
        run_id=run_id,
    )
    files = data.csv_files()
    html = render_html("expiry.html.j2", doc=doc, attachments=files, **_context(data, max_rows))
    path = write_pdf(
        html,
        Path(out_dir) / f"expiry_{as_of.isoformat()}_{doc.number}.pdf",
        [f.as_tuple() for f in files],
        f"{TITLE} as of {as_of} — {doc.number}",
        generated_at=generated,
        doc=doc,
    )
    import logging

    logging.getLogger(__name__).info(
        "rendered %s in %.2f s", path.name, time.perf_counter() - started
    )
    return path


def _summary(positions: pl.DataFrame) -> pl.DataFrame:
    """Per location: number of lots and quantity (per unit, never added across units) expired
    and expiring."""

    def side(status: str, prefix: str) -> pl.DataFrame:
        rows = positions.filter(pl.col("status") == status)
        lots = rows.group_by("location_id").agg(
            pl.struct("gtin", "lot").n_unique().alias(f"{prefix}_lots")
        )
        per_uom = rows.group_by("location_id", "uom").agg(pl.col("quantity").sum()).sort("uom")
        text = per_uom.group_by("location_id", maintain_order=True).agg(
            pl.struct("quantity", "uom").alias("parts")
        )
        text = text.with_columns(
            pl.Series(
                f"{prefix}_quantity",
                [
                    "; ".join(fmt_qty_uom(p["quantity"], p["uom"]) for p in parts)
                    for parts in text["parts"].to_list()
                ],
                dtype=pl.String,
            )
        ).drop("parts")
        return lots.join(text, on="location_id", how="left")

    places = positions.select("location_id", "location_name").unique("location_id")
    return (
        places.join(side(EXPIRED, "expired"), on="location_id", how="left")
        .join(side(EXPIRING, "expiring"), on="location_id", how="left")
        .with_columns(pl.col("expired_lots", "expiring_lots").fill_null(0))
        .sort("location_id")
    )


def _context(data: ExpiryData, max_rows: int) -> dict[str, object]:
    position_columns = [
        Column("status", "Status", 8),
        Column("gtin", "GTIN", 13),
        Column("lot", "Lot", 9),
        Column("product_name", "Product", 22),
        Column("expiry_date", "Expiry date", 10, fmt="date"),
        Column("days_to_expiry", "Days to expiry", 9, "right", "int"),
        Column("quantity", "Quantity on hand", 11, "right", "qty", "uom"),
        Column("last_movement_at", "Last movement", 18, fmt="utc"),
    ]
    by_location = []
    for (location_id,), rows in data.positions.group_by("location_id", maintain_order=True):
        by_location.append(
            {
                "location_id": location_id,
                "name": rows["location_name"][0],
                "expired": rows.filter(pl.col("status") == EXPIRED).height,
                "expiring": rows.filter(pl.col("status") == EXPIRING).height,
                "table": table(
                    rows, position_columns, csv_name="expiry_positions.csv", limit=max_rows
                ),
            }
        )
    late = data.late_shipments.with_columns(
        pl.concat_str(
            [pl.col("ref_doc_type"), pl.col("ref_doc_number")], separator=" ", ignore_nulls=True
        ).alias("ref_doc"),
        pl.concat_str(
            [pl.col("consignee_name"), pl.col("to_location_id")], separator=" · ", ignore_nulls=True
        ).alias("consignee"),
    )
    positions = data.positions
    return {
        "as_of": data.as_of,
        "within_days": data.within_days,
        "window_end": data.as_of + timedelta(days=data.within_days),
        "totals": {
            "expired_positions": positions.filter(pl.col("status") == EXPIRED).height,
            "expiring_positions": positions.filter(pl.col("status") == EXPIRING).height,
            "lots": positions.select("gtin", "lot").unique().height,
            "locations": positions["location_id"].n_unique(),
            "late_lines": data.late_shipments.height,
            "late_consignees": data.late_shipments["to_location_id"].n_unique(),
        },
        "summary": table(
            data.summary,
            [
                Column("location_name", "Location", 30),
                Column("location_id", "Location id", 12),
                Column("expired_lots", "Expired lots", 10, "right", "int"),
                Column("expired_quantity", "Expired quantity", 19, "right"),
                Column("expiring_lots", "Expiring lots", 10, "right", "int"),
                Column("expiring_quantity", "Expiring quantity", 19, "right"),
            ],
            csv_name="expiry_positions.csv",
            limit=max_rows,
            empty_text="No expired or expiring stock on hand.",
        ),
        "by_location": by_location,
        "late": table(
            late,
            [
                Column("shipment_id", "Shipment", 7),
                Column("ship_date", "Ship date (local)", 8.5, fmt="date"),
                Column("consignee", "Consignee", 16),
                Column("consignee_address", "Address", 15),
                Column("consignee_phone", "Phone", 8.5),
                Column("gtin", "GTIN", 11),
                Column("lot", "Lot", 6),
                Column("serial", "Serial", 5),
                Column("quantity", "Quantity", 7, "right", "qty", "uom"),
                Column("expiry_date", "Expiry date", 8, fmt="date"),
                Column("days_after_expiry", "Days after expiry", 8, "right", "int"),
            ],
            csv_name="shipped_at_or_after_expiry.csv",
            limit=max_rows,
            empty_text="No shipment left on or after the expiry date of its lot.",
        ),
        "glossary": glossary(
            [(u, UOM_NAMES.get(u, "not a unit of the data contract")) for u in data.uoms], TERMS
        ),
    }
