"""The Expiry / Shelf-life Report: stock on hand by days-to-expiry bucket and
location with its hold status, FEFO violations, shipments made on or after expiry, customers
holding short-dated stock, best-before dates on their own, and the record-retention end date of
every lot — as a PDF/A-3b with every table embedded in full as CSV.

The date rules live in `lotline.expiry` (a lot is usable through its expiry day; ship dates are
local dates at the ship-from location), FEFO in `lotline.fefo`, retention in `lotline.retention`;
the Parameters section prints them so a reader does not have to guess.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
from markupsafe import Markup
from sqlalchemy.engine import Engine

import models
from lotline import api, store
from lotline.expiry import (
    BEST_BEFORE,
    DEFAULT_WINDOW_DAYS,
    EXPIRED,
    EXPIRING,
    SHORT_DATED_DAYS,
    USE_BY,
    bucket_summary,
    expiry_positions,
    shipped_at_or_after_expiry,
    short_dated_at_customers,
    with_hold_status,
)
from lotline.fefo import fefo_violations
from lotline.intake.contract import UOM_NAMES
from lotline.intake.ingest import lineage_records, stored_records
from lotline.lineage import lot_keys, stock_flows, with_allocated_consumption
from lotline.mass_balance import records_in_product_uom
from lotline.retention import DSCSA, EU, FSMA, retention_dates
from reports import barcodes, register
from reports.charts import expiry_bucket_chart
from reports.render import (
    MAX_TABLE_ROWS,
    AttachedFile,
    Column,
    DocumentControl,
    csv_bytes,
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
        "Times",
        "All times are UTC (offset +00:00). Dates are calendar dates; a ship date is the local "
        "date at the ship-from location (see “Ship date (local)”).",
    ),
    (
        "Expired",
        "Use-by lot whose expiry date is before the as-of date. A lot is usable through its "
        "expiry day (GS1 / FDA “use by” reading), so it expires at the end of that day.",
    ),
    (
        "Expiring",
        "Use-by lot whose expiry date is on the as-of date or within the window after it "
        "(0 days to expiry = expires at the end of the as-of date).",
    ),
    (
        "Best-before",
        "A quality date (GS1 AI 15; EU 1169/2011 “date of minimum durability”), not a safety "
        "limit: past it a lot is “past best-before”, a warning, never expired. Products are "
        "use-by or best-before by the product master's expiry kind (missing = use-by). "
        "Best-before lots are reported in their own section.",
    ),
    ("Days to expiry", "Expiry date minus as-of date in calendar days; negative once expired."),
    (
        "Bucket",
        "Days-to-expiry class of a position: expired (past best-before for best-before lots), "
        "0-30 d, 31-90 d, 91-180 d, over 180 d. The expiry day itself (0 days) is in 0-30 d. "
        "Quantities are summed per unit of measure, never across units.",
    ),
    (
        "Hold status",
        "Hold, quarantine or recall of the lot in force in the data snapshot, from the "
        "append-only status records (latest decision wins; a release lifts it). Serials held on "
        "their own (e.g. a returned unit in quarantine) are counted separately.",
    ),
    (
        "FEFO",
        "First expired, first out: of the approved stock of a product at a location, the lot "
        "that expires first is shipped first (21 CFR 211.150(a): “the oldest approved stock … "
        "is distributed first”).",
    ),
    (
        "FEFO violation",
        "A shipment line of a lot leaving an own site or warehouse while another lot of the "
        "same GTIN with an earlier expiry date was available there: positive stock after every "
        "movement up to the shipment time, no hold, quarantine or recall in force, not expired "
        "on the ship date (a lot on its expiry day is not available), and not returned goods "
        "awaiting evaluation.",
    ),
    (
        "Returned, awaiting evaluation",
        "Stock that came back from a customer is held until evaluated (21 CFR 211.204) and is "
        "not approved stock; it counts as pending until the lot next leaves that location.",
    ),
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
        "Short-dated stock at customers",
        f"A consignee that is not an own site or warehouse received the lot before its expiry "
        f"day, and as of the as-of date the lot is expired or expires within "
        f"{SHORT_DATED_DAYS} days. Returned = quantity the consignee sent back (return moves).",
    ),
    (
        "On hand",
        "Stock at the company's own sites and warehouses from all recorded movements; "
        "customer stock is not included. Negative balances are data-quality "
        "exceptions and are not listed as positions.",
    ),
    (
        "Record retention",
        "How long the records of a lot must be kept. The data contract has no field saying "
        "which regime governs a product, so every rule's end date is given and “keep until” is "
        "the latest of them (the rule setting it is named).",
    ),
    (
        FSMA,
        "21 CFR 1.1455(c): traceability records are kept 2 years from creation → last record "
        "of the lot (any receipt, production, consumption, move or shipment) + 2 years.",
    ),
    (
        DSCSA,
        "21 U.S.C. 360eee-1: transaction information and statements are kept 6 years → last "
        "transaction of the lot (receipt from a supplier, shipment to or return from a "
        "customer) + 6 years; none for a lot that never changed hands.",
    ),
    (
        EU,
        "Delegated Regulation (EU) 2016/161 Art. 15 (FMD) and Directive (EU) 2017/1572 Art. 9 "
        "(batch documentation): max(expiry + 1 year, release + 5 years). The records carry no "
        "release / QP certification date: release is when the lot was first seen (produced or "
        "first received), the earliest it can have been released.",
    ),
    (
        "Retention dates",
        "Calendar dates in UTC; “N years after” is the same day N years later, and a missing "
        "29 February anniversary is 1 March.",
    ),
    ("GTIN", "GS1 Global Trade Item Number of the product, shown as 14 digits (GTIN-14)."),
    ("Lot (TLC)", "Lot code; with the GTIN it identifies a lot (FSMA 204 traceability lot code)."),
    ("SSCC", "GS1 Serial Shipping Container Code (18 digits) of the pallet or case shipped."),
    ("Consignee", "The immediate subsequent recipient of a shipment."),
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
    fefo: pl.DataFrame
    short_dated: pl.DataFrame
    retention: pl.DataFrame
    uoms: list[str]

    def csv_files(self) -> list[AttachedFile]:
        def attached(name: str, frame: pl.DataFrame, description: str) -> AttachedFile:
            return AttachedFile(name, csv_bytes(frame), "text/csv", frame.height, description)

        return [
            attached(
                "expiry_positions.csv",
                self.positions,
                "stock on hand by lot and location within the window: bucket, hold status, "
                "retention end (use-by and best-before, see expiry_kind)",
            ),
            attached(
                "expiry_buckets.csv",
                self.summary,
                "lots and quantity per location, expiry kind, bucket and unit",
            ),
            attached(
                "fefo_violations.csv",
                self.fefo,
                "shipment lines of a lot while an earlier-expiring approved lot was on hand",
            ),
            attached(
                "shipped_at_or_after_expiry.csv",
                self.late_shipments,
                "shipment lines on or after the lot's expiry date",
            ),
            attached(
                "short_dated_at_customers.csv",
                self.short_dated,
                f"consignees that received lots expired or expiring within {SHORT_DATED_DAYS} d",
            ),
            attached(
                "record_retention.csv",
                self.retention,
                "per lot: retention end date of each rule and the latest (keep until)",
            ),
        ]


def build_expiry(engine: Engine, as_of: date, within_days: int = DEFAULT_WINDOW_DAYS) -> ExpiryData:
    """Every table of the report from the lineage tables, the status in force and the stored
    movement records (stock at a past time for FEFO, last record dates for retention)."""
    lineage = api.load_lineage(engine)
    locations, products = api.locations(engine), api.products(engine)
    records = lineage_records(stored_records(engine))
    ledger = stock_flows(
        records_in_product_uom(with_allocated_consumption(records, lot_keys(records)))
    )
    lot_status = store.read_frame(engine, models.LotStatus)
    retention = retention_dates(lineage.lots, ledger, locations)
    positions = with_hold_status(
        expiry_positions(
            lineage.lots, lineage.on_hand, locations, as_of, within_days, products=products
        ),
        lot_status,
    ).join(retention.select("gtin", "lot", "keep_until"), on=["gtin", "lot"], how="left")
    late = shipped_at_or_after_expiry(lineage.lots, lineage.shipments, locations, products=products)
    fefo = fefo_violations(
        lineage.shipments, lineage.lots, ledger, locations, records.status, products=products
    )
    short_dated = short_dated_at_customers(
        lineage.lots,
        lineage.shipments,
        locations,
        as_of,
        SHORT_DATED_DAYS,
        products=products,
        returns=records.moves,
    )
    uoms = sorted(
        {
            u
            for frame in (positions, late, fefo, short_dated)
            for u in frame["uom"].drop_nulls().to_list()
        }
    )
    return ExpiryData(
        as_of=as_of,
        within_days=within_days,
        snapshot=api.current_snapshot(engine),
        positions=positions,
        late_shipments=late,
        summary=bucket_summary(positions),
        fefo=fefo,
        short_dated=short_dated,
        retention=retention,
        uoms=uoms,
    )


def render_expiry_report(
    engine: Engine,
    out_dir: Path,
    *,
    as_of: date | None = None,
    within_days: int = DEFAULT_WINDOW_DAYS,
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
    with register.number_for_document(
        engine,
        "expiry",
        "EXP",
        generated,
        TITLE,
        snapshot_id=str(data.snapshot["snapshot_id"]) if data.snapshot else None,
        run_id=run_id,
        parameters={
            "generated_at": generated.isoformat(),
            "as_of": as_of.isoformat(),
            "within_days": within_days,
            "max_rows": max_rows,
            "run_id": run_id,
        },
    ) as number:
        doc = DocumentControl(
            number=number,
            title=TITLE,
            generated_at=generated,
            snapshot=data.snapshot,
            run_id=run_id,
        )
        files = data.csv_files()
        name = f"expiry_{as_of.isoformat()}_{doc.number}.pdf"
        html = render_html(
            "expiry.html.j2",
            doc=doc,
            attachments=files,
            doc_qr=barcodes.document_code(doc, name),
            **_context(data, max_rows),
        )
        path = write_pdf(
            html,
            Path(out_dir) / name,
            files,
            f"{TITLE} as of {as_of} — {doc.number}",
            generated_at=generated,
            doc=doc,
        )
        register.record_file(engine, doc.number, path)
    logging.getLogger(__name__).info(
        "rendered %s in %.2f s", path.name, time.perf_counter() - started
    )
    return path


def _hold_text(frame: pl.DataFrame) -> pl.DataFrame:
    """`hold` for the PDF: "hold since 2026-10-01", "+ 2 serials held", or empty."""
    since = pl.col("hold_since").dt.convert_time_zone("UTC").dt.date().cast(pl.String)
    lot = pl.when(pl.col("hold_status").is_not_null()).then(
        pl.concat_str([pl.col("hold_status"), pl.lit(" since "), since])
    )
    serials = pl.when(pl.col("serials_restricted") > 0).then(
        pl.format("{} serials held", pl.col("serials_restricted"))
    )
    return frame.with_columns(
        pl.concat_str([lot, serials], separator="; ", ignore_nulls=True).alias("hold")
    )


def _status_text() -> pl.Expr:
    """'past_best_before' → 'past best-before', 'best_before_soon' → 'best-before soon'."""
    return pl.col("status").str.replace_all("best_before", "best-before").str.replace_all("_", " ")


def _quantity_text(frame: pl.DataFrame, value: str, unit: str = "uom") -> pl.Series:
    return pl.Series(
        [fmt_qty_uom(q, u) for q, u in frame.select(value, unit).iter_rows()], dtype=pl.String
    )


def _markup(svg: str | None) -> Markup | None:
    """A chart's SVG for the template: drawn by `reports.charts` from our own frames, so it is
    inserted as markup rather than escaped."""
    return None if svg is None else Markup(svg)


def _context(data: ExpiryData, max_rows: int) -> dict[str, object]:
    positions = _hold_text(data.positions).with_columns(_status_text())
    use_by = positions.filter(pl.col("expiry_kind") != BEST_BEFORE)
    best_before = positions.filter(pl.col("expiry_kind") == BEST_BEFORE)
    held = pl.col("hold_status").is_not_null()
    position_columns = [
        Column("status", "Status", 6.5),
        Column("bucket", "Bucket", 6),
        Column("gtin", "GTIN", 11.5),
        Column("lot", "Lot", 8.5),
        Column("product_name", "Product", 16),
        Column("expiry_date", "Expiry date", 8, fmt="date"),
        Column("days_to_expiry", "Days to expiry", 5.5, "right", "int"),
        Column("quantity", "Quantity on hand", 8.5, "right", "qty", "uom"),
        Column("hold", "Hold status", 10),
        Column("last_movement_at", "Last movement", 11.5, fmt="utc"),
        Column("keep_until", "Keep records until", 8, fmt="date"),
    ]
    by_location = []
    for (location_id,), rows in use_by.group_by("location_id", maintain_order=True):
        by_location.append(
            {
                "location_id": location_id,
                "name": rows["location_name"][0],
                "expired": rows.filter(pl.col("status") == EXPIRED).height,
                "expiring": rows.filter(pl.col("status") == EXPIRING).height,
                "held": rows.filter(held).height,
                "table": table(
                    rows, position_columns, csv_name="expiry_positions.csv", limit=max_rows
                ),
            }
        )
    consignee = pl.concat_str(
        [pl.col("consignee_name"), pl.col("to_location_id")], separator=" · ", ignore_nulls=True
    ).alias("consignee")
    late = data.late_shipments.with_columns(
        pl.concat_str(
            [pl.col("ref_doc_type"), pl.col("ref_doc_number")], separator=" ", ignore_nulls=True
        ).alias("ref_doc"),
        consignee,
    )
    late_columns = [
        Column("shipment_id", "Shipment", 9.5),
        Column("ship_date", "Ship date (local)", 8, fmt="date"),
        Column("consignee", "Consignee", 14),
        Column("consignee_address", "Address", 14),
        Column("consignee_phone", "Phone", 8.5),
        Column("gtin", "GTIN", 11.5),
        Column("lot", "Lot", 8.5),
        Column("serial", "Serial", 5.5),
        Column("quantity", "Quantity", 7, "right", "qty", "uom"),
        Column("expiry_date", "Expiry date", 8, fmt="date"),
        Column("days_after_expiry", "Days after expiry", 5.5, "right", "int"),
    ]
    short = data.short_dated.with_columns(consignee, _status_text())
    short_columns = [
        Column("consignee", "Consignee", 12),
        Column("consignee_address", "Address", 12),
        Column("consignee_phone", "Phone", 8),
        Column("gtin", "GTIN", 11.5),
        Column("lot", "Lot", 8.5),
        Column("product_name", "Product", 9),
        Column("expiry_date", "Expiry date", 8, fmt="date"),
        Column("days_to_expiry", "Days to expiry", 5, "right", "int"),
        Column("status", "Status", 6),
        Column("last_ship_date", "Last shipped (local)", 8, fmt="date"),
        Column("quantity_received", "Received", 6, "right", "qty", "uom"),
        Column("quantity_returned", "Returned", 6, "right", "qty", "uom"),
    ]
    fefo = data.fefo.with_columns(
        pl.concat_str(
            [pl.col("consignee_name"), pl.col("to_location_id")], separator=" · ", ignore_nulls=True
        ).alias("consignee")
    )
    summary = data.summary.with_columns(
        pl.col("expiry_kind").replace({USE_BY: "use-by", BEST_BEFORE: "best-before"}),
        _quantity_text(data.summary, "quantity").alias("quantity_text"),
        _quantity_text(data.summary, "held_quantity").alias("held_quantity_text"),
    )
    kinds = pl.col("expiry_kind")
    return {
        "as_of": data.as_of,
        "within_days": data.within_days,
        "window_end": data.as_of + timedelta(days=data.within_days),
        "short_dated_days": SHORT_DATED_DAYS,
        "totals": {
            "expired_positions": positions.filter(pl.col("status") == EXPIRED).height,
            "expiring_positions": positions.filter(pl.col("status") == EXPIRING).height,
            "held_positions": positions.filter(held).height,
            "best_before_positions": best_before.height,
            "lots": positions.select("gtin", "lot").unique().height,
            "locations": positions["location_id"].n_unique(),
            "fefo_lines": data.fefo.height,
            "late_lines": data.late_shipments.filter(kinds != BEST_BEFORE).height,
            "short_consignees": data.short_dated.filter(kinds != BEST_BEFORE)[
                "to_location_id"
            ].n_unique(),
        },
        "summary": table(
            summary,
            [
                Column("location_name", "Location", 25),
                Column("location_id", "Location id", 10),
                Column("expiry_kind", "Date kind", 9),
                Column("bucket", "Bucket", 10),
                Column("lots", "Lots", 7, "right", "int"),
                Column("quantity_text", "Quantity", 14, "right"),
                Column("held_lots", "Held lots", 8, "right", "int"),
                Column("held_quantity_text", "Held quantity", 17, "right"),
            ],
            csv_name="expiry_buckets.csv",
            limit=max_rows,
            empty_text="No dated stock on hand within the window.",
        ),
        "bucket_chart": _markup(expiry_bucket_chart(data.summary)),
        "by_location": by_location,
        "best_before": table(
            best_before,
            [
                Column("location_id", "Location", 8),
                Column("status", "Status", 9),
                Column("bucket", "Bucket", 7),
                Column("gtin", "GTIN", 11.5),
                Column("lot", "Lot", 8.5),
                Column("product_name", "Product", 15),
                Column("expiry_date", "Best before", 8, fmt="date"),
                Column("days_to_expiry", "Days to date", 5.5, "right", "int"),
                Column("quantity", "Quantity on hand", 8.5, "right", "qty", "uom"),
                Column("hold", "Hold status", 11),
                Column("keep_until", "Keep records until", 8, fmt="date"),
            ],
            csv_name="expiry_positions.csv",
            limit=max_rows,
            empty_text="No best-before stock on hand within the window.",
        ),
        "best_before_late": table(
            late.filter(kinds == BEST_BEFORE),
            late_columns,
            csv_name="shipped_at_or_after_expiry.csv",
            limit=max_rows,
            empty_text="No best-before lot left on or after its best-before date.",
        ),
        "best_before_customers": table(
            short.filter(kinds == BEST_BEFORE),
            short_columns,
            csv_name="short_dated_at_customers.csv",
            limit=max_rows,
            empty_text=f"No consignee received a best-before lot past or within "
            f"{SHORT_DATED_DAYS} days of its date.",
        ),
        "fefo": table(
            fefo,
            [
                Column("shipment_id", "Shipment", 9.5),
                Column("ship_date", "Ship date (local)", 8, fmt="date"),
                Column("from_location_id", "From", 6.5),
                Column("consignee", "Consignee", 11),
                Column("gtin", "GTIN", 11.5),
                Column("product_name", "Product", 10),
                Column("lot", "Lot shipped", 8.5),
                Column("expiry_date", "Its expiry", 8, fmt="date"),
                Column("quantity", "Quantity", 6.5, "right", "qty", "uom"),
                Column("days_earlier", "Days earlier", 5, "right", "int"),
                Column("earlier_lots", "Earlier lots available (expiry, stock then)", 15.5),
            ],
            csv_name="fefo_violations.csv",
            limit=max_rows,
            empty_text="No lot left while an earlier-expiring approved lot of the same product "
            "was available at the same location.",
        ),
        "late": table(
            late.filter(kinds != BEST_BEFORE),
            late_columns,
            csv_name="shipped_at_or_after_expiry.csv",
            limit=max_rows,
            empty_text="No shipment left on or after the expiry date of its lot.",
        ),
        "short_dated": table(
            short.filter(kinds != BEST_BEFORE),
            short_columns,
            csv_name="short_dated_at_customers.csv",
            limit=max_rows,
            empty_text=f"No consignee received a lot that is expired or expires within "
            f"{SHORT_DATED_DAYS} days.",
        ),
        "retention_total": data.retention.height,
        "retention": table(
            data.retention.join(
                pl.concat(
                    [
                        f.select("gtin", "lot")
                        for f in (data.positions, data.fefo, data.late_shipments, data.short_dated)
                    ]
                ).unique(),
                on=["gtin", "lot"],
                how="semi",
            ),
            [
                Column("gtin", "GTIN", 11.5),
                Column("lot", "Lot", 8.5),
                Column("product_name", "Product", 13.5),
                Column("expiry_date", "Expiry date", 7.5, fmt="date"),
                Column("release_date", "Released (first seen)", 7.5, fmt="date"),
                Column("last_record_date", "Last record", 7.5, fmt="date"),
                Column("last_transaction_date", "Last transaction", 7.5, fmt="date"),
                Column("fsma_until", "FSMA 204 (record + 2 y)", 7.5, fmt="date"),
                Column("dscsa_until", "DSCSA (trans. + 6 y)", 7.5, fmt="date"),
                Column("eu_until", "EU FMD/GMP (max rule)", 7.5, fmt="date"),
                Column("keep_until", "Keep until", 7.5, fmt="date"),
                Column("keep_until_rule", "Set by", 6.5),
            ],
            csv_name="record_retention.csv",
            limit=max_rows,
            empty_text="No lot is listed in this report.",
        ),
        "glossary": glossary(
            [(u, UOM_NAMES.get(u, "not a unit of the data contract")) for u in data.uoms], TERMS
        ),
    }
