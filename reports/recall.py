"""The Lot Traceability & Recall Report: one lot traced backward and forward, as a PDF/A-3b.

Sections follow what a recall request asks for, in the order a recall coordinator and
an FDA reviewer read them: the summary and actions, the lineage diagram and exposure chart,
scope, quantities and direct accounts (21 CFR 7.46(a)(4)–(6)), backward trace with supplier
receipts (1.1345), transformation lineage with quantity used per input lot (1.1350), forward
trace with consignees and shipment lines (1.1340, 211.196), inventory and hold status, mass
balance, data-quality exceptions (completeness findings, rejected rows, validation warnings),
glossary (1.1455(c)(1)), audit extract with the record history of corrections and voids
(11.10(e)), manifest, document control, signatures (11.50). Tables show at most `TABLE_ROWS`
rows; the complete trace is embedded as CSV files and as the FSMA 204 spreadsheet, the sortable
data a regulator works with.

Page 1 answers the recall in a minute (`lotline.recall_summary`: what is affected, how much,
where it went, what is on hand, the numbered actions) under a one-line document control; the
full block is section 14. The lineage diagram (`lotline.lineage_diagram`, Graphviz) and the
exposure chart follow as vector figures. Every time is printed in UTC; serial lines of one
shipment line print as serial ranges (`lotline.serial_ranges`).

`build_recall` gathers the data (no rendering) so tests and notebooks can compare the PDF with
what went into it; `render_recall_report` writes the file.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from sqlalchemy.engine import Engine

from lotline import (
    api,
    expiry,
    fsma204,
    lineage_diagram,
    mass_balance,
    recall_summary,
    scope,
    serial_ranges,
    status,
)
from lotline.expiry import local_datetime
from lotline.gs1 import epcis_export
from lotline.intake.contract import UOM_NAMES
from lotline.trace import DIRECTIONS, Direction, TraceResult
from reports import barcodes, charts, register
from reports.fsma204 import write_xlsx
from reports.render import (
    DASH,
    AttachedFile,
    Column,
    DocumentControl,
    csv_bytes,
    fmt_qty_uom,
    fmt_share,
    fmt_utc,
    generated_now,
    render_html,
    safe_name,
    table,
    write_pdf,
)
from reports.render import glossary as build_glossary

TITLE = "Lot Traceability & Recall Report"
FSMA_FILE = "fsma204.xlsx"
EPCIS_FILE = "epcis.jsonld"
EPCIS_MIME = "application/ld+json"
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
TABLE_ROWS = 100
"""Rows per table in the PDF: a recall reader needs the head of each table and the counts; every
row is in the embedded CSV and spreadsheet, and a hub lot's 13 tables at 500 rows each run to
hundreds of pages (WeasyPrint's time grows with them)."""
LARGE_SCOPE_LOTS, LARGE_SCOPE_ROWS = 10_000, 50


def table_rows(lots_in_scope: int) -> int:
    """Rows per PDF table: fewer for a scope of over `LARGE_SCOPE_LOTS` lots, whose tables are
    samples of 10⁵ rows either way and whose reader works from the embedded files."""
    return LARGE_SCOPE_ROWS if lots_in_scope > LARGE_SCOPE_LOTS else TABLE_ROWS


WARNING_COLUMNS = (
    "source_file",
    "row_number",
    "record_type",
    "gtin",
    "lot",
    "column",
    "rule",
    "severity",
    "value",
    "message",
    "load_id",
    "source_sha256",
    "record_hash",
)
"""warnings.csv: each finding with the file, row, load and content hash of the record it names."""
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
QUANTITY_COLUMNS = (
    "quantity_received",
    "quantity_produced",
    "quantity_consumed",
    "quantity_shipped",
    "quantity_returned",
    "quantity_adjusted",
    "quantity_destroyed",
    "quantity_on_hand",
)
DIRECTION_TEXT = {
    "both": "backward to supplier receipts and forward to consignees",
    "backward": "backward only: inputs and supplier receipts (one step back and beyond)",
    "forward": "forward only: derived lots, shipments and consignees",
}
TERMS = [
    (
        "TLC",
        "Traceability lot code (FSMA 204, 21 CFR 1.1310): the lot code assigned when a food "
        "is received from a non-covered source, transformed or first packed. In lotline a lot "
        "is identified by GTIN + lot code.",
    ),
    (
        "TLC source / reference",
        "Where the TLC was assigned: the location that assigned it, or a "
        "reference (GLN, FDA Food Facility Registration Number, URL).",
    ),
    ("GTIN", "GS1 Global Trade Item Number of the product, shown as 14 digits (GTIN-14)."),
    (
        "SSCC",
        "GS1 Serial Shipping Container Code (18 digits): the pallet or case a line shipped in.",
    ),
    ("GLN", "GS1 Global Location Number (13 digits) of a business location."),
    (
        "Backward trace",
        "From the subject lot to every lot it was made from, level by level, down "
        "to the supplier receipts (one step back, repeated).",
    ),
    (
        "Forward trace",
        "From the subject lot to every lot made from it and every shipment of those "
        "lots to a consignee (one step forward, repeated).",
    ),
    (
        "Depth",
        "Number of transformation steps between a lot and the subject lot (0 = the subject "
        "lot). A lot reachable by several paths is listed once, at its shortest depth; "
        "rework cycles are followed once.",
    ),
    (
        "Direct account / consignee",
        "The immediate subsequent recipient of a shipment (21 CFR 7.46(a)(6), 1.1340).",
    ),
    (
        "Origin",
        "How a lot entered the records: received (supplier receipt), produced "
        "(transformation output), both, or unknown = consumed or shipped but never "
        "received nor produced (a broken chain).",
    ),
    (
        "Mass balance",
        "Expected on hand = received + produced + returned + adjustments − consumed − "
        "shipped − destroyed; a difference to the recorded stock is listed as an "
        "exception. Shipments between own sites count as shipped and received back.",
    ),
    (
        "Snapshot",
        "Identifier (content hash of the loaded files) of the data state the report was "
        "built from; the same snapshot reproduces the same tables and attachments.",
    ),
    (
        "Times",
        "All times are UTC (offset +00:00). The attached CSV files keep each event's local "
        "time and UTC offset as recorded (shipped_local, received_local, tz_offset); ship and "
        "receipt dates (first / last ship date) are the event's local date.",
    ),
    (
        "Serial ranges",
        "Serial lines of one shipment line (same shipment, lot, SSCC and reference) are "
        "printed as one row: consecutive serials as 'first…last (count)'. Every serial is a "
        "row of the attached shipments.csv.",
    ),
    (
        "Returned",
        "Stock a consignee sent back (moves with reason return, from the consignee to an own "
        "location). Outstanding = shipped − returned, per unit.",
    ),
    (
        "Exposure",
        "The share of a lot's material that came from the subject lot, propagated through "
        "every transformation (1 = made only from the subject lot).",
    ),
    (
        "Validation warning",
        "A row that loaded although a check found something suspicious (a document type "
        "outside the vocabulary, a scrap naming a destination, …): it is part of the trace and "
        "the finding is stored with it. A rejected row (error) is quarantined and not traced.",
    ),
    (
        "Correction / void",
        "A record sent again with the same key and other values, with a correction_reason, "
        "replaces the version in force; a void withdraws it. The replaced version is kept in "
        "the append-only record history with the file and row that sent the change, when, "
        "what changed and why (21 CFR 11.10(e)).",
    ),
]
WARNING_EXAMPLES = 3
"""Commonest values named per rule and column in the warnings summary."""


@dataclass(frozen=True)
class RecallData:
    """Everything the report shows, as frames; the CSV attachments are built from these."""

    subject: dict[str, object]
    direction: Direction
    snapshot: dict[str, object] | None
    trace: TraceResult
    lots: pl.DataFrame
    receipts: pl.DataFrame
    transformations: pl.DataFrame
    shipments: pl.DataFrame
    consignees: pl.DataFrame
    on_hand: pl.DataFrame
    distribution: pl.DataFrame
    rejected_for_trace: pl.DataFrame
    rejected_by_rule: pl.DataFrame
    warnings: pl.DataFrame
    warnings_by_rule: pl.DataFrame
    unknown_origin: pl.DataFrame
    negative_on_hand: pl.DataFrame
    mass_balance_differences: pl.DataFrame
    inventory: pl.DataFrame
    lot_balance: pl.DataFrame
    scope_balance: pl.DataFrame
    exceptions: pl.DataFrame
    audit_sources: pl.DataFrame
    events_in_several_files: pl.DataFrame
    history: pl.DataFrame
    fsma_sheets: dict[str, pl.DataFrame]
    as_of: date
    uoms: list[str] = field(default_factory=list)
    returns: pl.DataFrame = field(default_factory=pl.DataFrame)
    """Return moves of the traced lots (`lotline.api.returns`)."""
    locations: pl.DataFrame = field(default_factory=pl.DataFrame)
    epcis: epcis_export.Pending | None = None
    """The scope's events as one EPCIS 2.0 document (`lotline.gs1.epcis_export`), serialised:
    made when the attachments are, or by a second process started before them."""

    def summary(self) -> recall_summary.RecallSummary:
        """Page 1: the figures and actions of `lotline.recall_summary` for this trace."""
        return recall_summary.summarise(
            subject=self.subject,
            lots=self.lots,
            lot_balance=self.lot_balance,
            shipments=self.shipments,
            returns=self.returns,
            inventory=self.inventory,
            locations=self.locations,
            exceptions=self.exceptions,
            warnings=self.warnings,
            rejected=self.rejected_for_trace,
        )

    def attachments(self) -> list[AttachedFile]:
        """The embedded files, bytes exactly as embedded: the full trace, one CSV per table,
        and the FSMA 204 spreadsheet."""
        lots = self.lots.select(
            "direction",
            "depth",
            "gtin",
            "lot",
            "product_name",
            "uom",
            "origin",
            "tlc_source_location_id",
            "tlc_source_name",
            "tlc_source_reference",
            "first_seen_at",
            "production_date",
            "expiry_date",
            *QUANTITY_COLUMNS,
            "expected_on_hand",
            "balance_difference",
        )
        shipments = self.shipments.select(
            "shipment_id",
            "shipped_at",
            "tz_offset",
            "shipped_local",
            "from_location_id",
            "from_name",
            "to_location_id",
            "consignee_name",
            "consignee_address",
            "consignee_phone",
            "gtin",
            "lot",
            "serial",
            "sscc",
            "quantity",
            "uom",
            "ref_doc_type",
            "ref_doc_number",
        )
        receipts = self.receipts.select(
            "receipt_id",
            "received_at",
            "tz_offset",
            "received_local",
            "from_location_id",
            "supplier_name",
            "to_location_id",
            "gtin",
            "lot",
            "product_name",
            "serial",
            "quantity",
            "uom",
            "tlc_source_reference",
            "ref_doc_type",
            "ref_doc_number",
        )
        transformations = self.transformations.select(
            "production_id",
            "completed_at",
            "location_id",
            "location_name",
            "input_gtin",
            "input_product",
            "input_lot",
            "input_quantity",
            "input_uom",
            "output_gtin",
            "output_product",
            "output_lot",
            "output_quantity",
            "output_uom",
            "evidence",
        )
        csvs = [
            AttachedFile(name, csv_bytes(frame), "text/csv", frame.height, description)
            for name, frame, description in (
                ("lots.csv", lots, "every traced lot with depth and quantities"),
                ("shipments.csv", shipments, "shipment lines of forward-traced lots"),
                ("receipts.csv", receipts, "supplier receipts of backward-traced lots"),
                ("transformations.csv", transformations, "input lot → output lot with quantities"),
                ("inventory.csv", self.inventory, "stock on hand, status and disposition"),
                ("mass_balance.csv", self.lot_balance, "mass balance of every traced lot"),
                ("exceptions.csv", self.exceptions, "completeness findings on traced lots"),
                (
                    "warnings.csv",
                    self.warnings.select(WARNING_COLUMNS),
                    "validation warnings on loaded rows of the traced lots",
                ),
                (
                    "record_history.csv",
                    self.history,
                    "corrections and voids of the traced lots' records",
                ),
            )
        ]
        return [*csvs, self.fsma_file(), *self.epcis_files()]

    def fsma_file(self) -> AttachedFile:
        """The FSMA 204 sortable spreadsheet of this trace (21 CFR 1.1455(c)(3)(ii))."""
        buffer = io.BytesIO()
        write_xlsx(self.fsma_sheets, buffer, None)
        rows = sum(
            frame.height for name, frame in self.fsma_sheets.items() if name != fsma204.GLOSSARY
        )
        return AttachedFile(
            FSMA_FILE,
            buffer.getvalue(),
            XLSX_MIME,
            rows,
            "FSMA 204 sortable spreadsheet: one sheet per CTE and a glossary",
        )

    def epcis_files(self) -> list[AttachedFile]:
        """The scope's events as EPCIS 2.0 JSON-LD, eventIDs their CBV 2.0 hashes."""
        if self.epcis is None:
            return []
        document = self.epcis.result()
        return [
            AttachedFile(
                EPCIS_FILE,
                document.data,
                EPCIS_MIME,
                document.events,
                "EPCIS 2.0 events of the scope (receiving, shipping, transformation), "
                "eventID = CBV 2.0 event hash",
            )
        ]


def build_recall(
    engine: Engine,
    gtin: str,
    lot: str,
    direction: Direction = "both",
    as_of: date | None = None,
    *,
    epcis_worker: bool = False,
) -> RecallData:
    """Trace the lot and join in the names, addresses and exceptions the report prints.

    `as_of` (default: today, UTC) is the date stock counts as expired from. The EPCIS document
    is made when the attachments are asked for; with `epcis_worker`, a large scope's is begun
    at once in a second process (`epcis_export.start_written_for_lot`, which traces the lot
    itself, or `start_written` after the trace) while this one gathers the rest.
    Raises `lotline.trace.UnknownSubject` when the lot is not in the lineage tables and
    ValueError for an unknown direction.
    """
    as_of = as_of or datetime.now(UTC).date()
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    early = (
        epcis_export.start_written_for_lot(engine, gtin, lot, direction) if epcis_worker else None
    )
    try:
        result = api.trace_lot(engine, gtin, lot, direction)  # closure-backed: the scope only
    except BaseException:
        if early is not None:
            early.cancel()
        raise
    if early is not None:
        epcis = early
    elif epcis_worker:
        epcis = epcis_export.start_written(engine, [result])
    else:
        epcis = epcis_export.Pending(lambda: epcis_export.written(engine, [result]))
    try:
        return _gathered(engine, result, epcis, direction, as_of)
    except BaseException:
        epcis.cancel()
        raise


def _gathered(
    engine: Engine,
    result: TraceResult,
    epcis: epcis_export.Pending,
    direction: Direction,
    as_of: date,
) -> RecallData:
    """`build_recall` after the trace: the names, addresses, balances and exceptions."""
    locations = api.locations(engine)
    products = api.products(engine)
    names = locations.select("location_id", "business_name")

    def named(frame: pl.DataFrame, column: str, alias: str) -> pl.DataFrame:
        return frame.join(
            names.rename({"location_id": column, "business_name": alias}), on=column, how="left"
        )

    lots = (
        named(result.lots, "tlc_source_location_id", "tlc_source_name")
        .with_columns(
            (
                pl.col("quantity_received")
                + pl.col("quantity_produced")
                + pl.col("quantity_returned")
                + pl.col("quantity_adjusted")
                - pl.col("quantity_consumed")
                - pl.col("quantity_shipped")
                - pl.col("quantity_destroyed")
            )
            .round(6)
            .alias("expected_on_hand"),
        )
        .with_columns(
            (pl.col("quantity_on_hand") - pl.col("expected_on_hand"))
            .round(6)
            .alias("balance_difference")
        )
    )
    subject = lots.filter(pl.col("direction") == "subject").row(0, named=True)

    receipts = (
        named(result.receipts, "from_location_id", "supplier_name")
        .join(products.select("gtin", pl.col("name").alias("product_name")), on="gtin", how="left")
        .with_columns(_local_text("received_at").alias("received_local"))
    )

    consignee_details = expiry.consignee_details(locations).join(
        locations.select(
            pl.col("location_id").alias("to_location_id"), pl.col("gln").alias("consignee_gln")
        ),
        on="to_location_id",
        how="left",
    )
    shipments = (
        named(result.shipments, "from_location_id", "from_name")
        .join(consignee_details, on="to_location_id", how="left")
        .with_columns(
            _local_text("shipped_at").alias("shipped_local"),
            local_datetime(pl.col("shipped_at"), pl.col("tz_offset")).dt.date().alias("ship_date"),
        )
    )
    consignees = _consignees(shipments, consignee_details)

    product_names = products.select("gtin", "name")
    transformations = (
        named(result.edges, "location_id", "location_name")
        .join(
            product_names.rename({"gtin": "input_gtin", "name": "input_product"}),
            on="input_gtin",
            how="left",
        )
        .join(
            product_names.rename({"gtin": "output_gtin", "name": "output_product"}),
            on="output_gtin",
            how="left",
        )
        .sort("completed_at", "production_id", "input_gtin", "input_lot")
    )

    traced = lots.select("lot_key", "gtin", "lot", "product_name", "direction").unique("lot_key")
    on_hand = named(
        api.on_hand(engine, traced["lot_key"].to_list()).join(traced, on="lot_key"),
        "location_id",
        "location_name",
    ).sort("location_id", "gtin", "lot")
    distribution = _distribution(shipments)
    details = scope.scope_details(engine, traced["lot_key"].to_list())
    inventory = status.inventory_status(on_hand, details.statuses, lots, as_of).select(
        "location_id",
        "location_name",
        "gtin",
        "lot",
        "product_name",
        "quantity",
        "uom",
        "expiry_date",
        "status",
        "status_at",
        "status_reason",
        "serials_restricted",
        "disposition",
        "last_movement_at",
    )
    lot_balance = details.mass_balance.join(
        lots.select("lot_key", "direction", "depth"), on="lot_key", how="left"
    ).sort(pl.col("status") == mass_balance.PASS, "depth", "gtin", "lot")
    rejected = api.rejected_records(engine)
    # the scope's (gtin, lot) pairs: read one query per 5,000 lot codes, never one per lot
    scope_lots = list(traced.select("gtin", "lot").unique().iter_rows())
    warnings = api.record_findings(engine, scope_lots).sort(
        "source_file", "row_number", "column", "rule", "source_sha256"
    )
    uoms = sorted(
        {
            u
            for frame, column in (
                (lots, "uom"),
                (shipments, "uom"),
                (receipts, "uom"),
                (transformations, "input_uom"),
                (transformations, "output_uom"),
                (on_hand, "uom"),
            )
            for u in frame[column].drop_nulls().unique().to_list()
        }
    )
    return RecallData(
        subject=subject,
        direction=direction,
        snapshot=api.current_snapshot(engine),
        trace=result,
        lots=lots,
        receipts=receipts,
        transformations=transformations,
        shipments=shipments,
        consignees=consignees,
        on_hand=on_hand,
        distribution=distribution,
        rejected_for_trace=_rejected_for(rejected, lots),
        rejected_by_rule=_rejected_by_rule(rejected),
        warnings=warnings,
        warnings_by_rule=_warnings_by_rule(warnings),
        unknown_origin=lots.filter(pl.col("origin") == "unknown"),
        negative_on_hand=on_hand.filter(pl.col("quantity") < 0),
        mass_balance_differences=lots.filter(pl.col("balance_difference").abs() > 1e-6),
        inventory=inventory,
        lot_balance=lot_balance,
        scope_balance=mass_balance.scope_balance(details.mass_balance, traced.select("lot_key")),
        exceptions=details.exceptions.sort(
            pl.col("severity").replace_strict(SEVERITY_RANK, default=len(SEVERITY_RANK)),
            "check",
            "gtin",
            "lot",
            "serial",
        ),
        audit_sources=scope.audit_sources(details),
        events_in_several_files=details.events_in_several_files,
        history=api.record_history(engine, scope_lots),
        fsma_sheets=fsma204.for_trace(result, engine),
        epcis=epcis,
        as_of=as_of,
        uoms=uoms,
        returns=api.returns(engine, scope_lots),
        locations=locations,
    )


def render_recall_report(
    engine: Engine,
    gtin: str,
    lot: str,
    out_dir: Path,
    *,
    generated_at: datetime | None = None,
    direction: Direction = "both",
    request: RecallRequest | None = None,
    max_rows: int | None = None,
    run_id: str | None = None,
    prepared_by: str | None = None,
) -> Path:
    """Write `out_dir/recall_<gtin>_<lot>_<document number>.pdf` and return its path.

    The document number (`REC-<UTC yyyymmddHHMMSS>-<6 hex>`) is taken from the register of
    issued documents before rendering, so no two renderings ever share one; the data snapshot
    id in the header says which data state a rendering describes. `request` is the regulator's
    or customer's request being answered: its reference, requester and receipt time (due
    24 h later) are printed on the cover and in every page header.
    """
    started = time.perf_counter()
    request = request or RecallRequest()
    generated = generated_now(generated_at)
    data = build_recall(
        engine, gtin, lot, direction, as_of=generated.astimezone(UTC).date(), epcis_worker=True
    )
    try:
        path = _rendered(
            engine, data, (gtin, lot, direction), out_dir, generated, request, max_rows, run_id,
            prepared_by,
        )  # fmt: skip
    except BaseException:
        if data.epcis is not None:
            data.epcis.cancel()
        raise
    _log_timing(path, started)
    return path


def _rendered(
    engine: Engine,
    data: RecallData,
    asked: tuple[str, str, Direction],
    out_dir: Path,
    generated: datetime,
    request: RecallRequest,
    max_rows: int | None,
    run_id: str | None,
    prepared_by: str | None,
) -> Path:
    """`render_recall_report` once the data is gathered (for the `asked` gtin, lot and
    direction): number, lay out and write the PDF."""
    gtin, lot, direction = asked
    with register.number_for_document(
        engine,
        "recall",
        "REC",
        generated,
        TITLE,
        snapshot_id=str(data.snapshot["snapshot_id"]) if data.snapshot else None,
        run_id=run_id,
        request_reference=request.reference,
        parameters={
            "generated_at": generated.isoformat(),
            "gtin": gtin,
            "lot": lot,
            "direction": direction,
            "reference": request.reference,
            "requester": request.requester,
            "received_at": request.received_at.isoformat() if request.received_at else None,
            "max_rows": max_rows,
            "run_id": run_id,
            "prepared_by": prepared_by,
        },
    ) as number:
        doc = DocumentControl(
            number=number,
            title=TITLE,
            generated_at=generated,
            snapshot=data.snapshot,
            request_reference=request.reference,
            requester=request.requester,
            received_at=request.received_at,
            run_id=run_id,
            prepared_by=prepared_by,
        )
        rows = max_rows if max_rows is not None else table_rows(data.lots.height)
        context = _context(data, rows)  # before the attachments: the EPCIS may still be under way
        files = data.attachments()
        subject = data.subject
        name = (
            f"recall_{safe_name(str(subject['gtin']))}_{safe_name(str(subject['lot']))}_"
            f"{doc.number}.pdf"
        )
        html = render_html(
            "recall.html.j2",
            doc=doc,
            attachments=files,
            doc_qr=barcodes.document_code(doc, name),
            **context,
        )
        path = write_pdf(
            html,
            Path(out_dir) / name,
            files,
            f"{TITLE} — {subject['gtin']} / {subject['lot']} — {doc.number}",
            generated_at=generated,
            doc=doc,
        )
        register.record_file(engine, doc.number, path)
    return path


@dataclass(frozen=True)
class RecallRequest:
    """The request a recall report answers (§6.2 item 2): all optional — a report may be run
    ahead of any request, and then says so."""

    reference: str | None = None  # FDA request id, recall number, Form 3911 incident number
    requester: str | None = None
    received_at: datetime | None = None  # aware; the answer is due 24 h later

    @classmethod
    def parse(
        cls, reference: str = "", requester: str = "", received_at: str = ""
    ) -> RecallRequest:
        """From text options (CLI, Dagster config): `received_at` is ISO 8601 with an offset."""
        received = None
        if received_at:
            received = datetime.fromisoformat(received_at)
            if received.tzinfo is None:
                raise ValueError(
                    f"request received-at {received_at!r} needs a UTC offset, e.g. "
                    "2026-12-01T09:30:00-05:00"
                )
        return cls(reference or None, requester or None, received)


# --- assembly helpers --------------------------------------------------------------------------


def _local_text(column: str) -> pl.Expr:
    """'2026-09-10 07:00 -05:00': the event's local wall-clock time with its recorded offset."""
    offset = pl.col("tz_offset").fill_null("+00:00")
    return pl.concat_str(
        [
            local_datetime(pl.col(column), offset).dt.strftime("%Y-%m-%d %H:%M"),
            offset,
        ],
        separator=" ",
    )


SHIPMENT_LINE_KEYS = (
    "shipment_id",
    "shipped_at",
    "from_location_id",
    "to_location_id",
    "gtin",
    "lot",
    "sscc",
    "uom",
    "ref_doc",
)
"""What makes serial lines one printed shipment line (their serials become ranges)."""

LOTS_LISTED = 6
"""Lot codes named in one table cell; the rest are counted. A hub lot's recall reaches tens of
thousands of lots, which as one cell per consignee runs over thousands of pages (and over a
hundred at 12 codes a cell); every lot is in the embedded lots.csv and shipments.csv."""


def lot_list() -> pl.Expr:
    """The distinct lot codes of a group, the first `LOTS_LISTED` named and the rest counted."""
    lots = pl.col("lot").unique().sort()
    more = lots.len().cast(pl.Int64) - LOTS_LISTED
    listed = lots.head(LOTS_LISTED).str.join(", ")
    return (
        pl.when(more > 0)
        .then(pl.concat_str([listed, pl.format(" … (+{} more)", more)]))
        .otherwise(listed)
    )


def _consignees(shipments: pl.DataFrame, details: pl.DataFrame) -> pl.DataFrame:
    """One row per consignee: first/last local ship date and quantity per unit (never summing
    cases and eaches together)."""
    if shipments.is_empty():
        return details.clear().with_columns(
            pl.lit(None, pl.UInt32).alias("shipments"),
            pl.lit(None, pl.Date).alias("first_ship"),
            pl.lit(None, pl.Date).alias("last_ship"),
            pl.lit(None, pl.String).alias("quantity"),
            pl.lit(None, pl.String).alias("lots"),
        )
    per_uom = shipments.group_by("to_location_id", "uom").agg(pl.col("quantity").sum())
    quantities = (
        per_uom.sort("uom")
        .group_by("to_location_id")
        .agg(pl.struct("quantity", "uom").alias("parts"))
    )
    quantities = quantities.with_columns(
        pl.Series(
            "quantity",
            [
                "; ".join(fmt_qty_uom(p["quantity"], p["uom"]) for p in parts)
                for parts in quantities["parts"].to_list()
            ],
            dtype=pl.String,
        )
    ).drop("parts")
    summary = shipments.group_by("to_location_id").agg(
        pl.col("shipment_id").n_unique().alias("shipments"),
        pl.col("ship_date").min().alias("first_ship"),
        pl.col("ship_date").max().alias("last_ship"),
        lot_list().alias("lots"),
    )
    return (
        summary.join(quantities, on="to_location_id")
        .join(details, on="to_location_id", how="left")
        .sort("consignee_name", "to_location_id", nulls_last=True)
    )


def _distribution(shipments: pl.DataFrame) -> pl.DataFrame:
    """What left the company per product and unit: the amount in distribution (7.46(a)(5))."""
    return (
        shipments.group_by("gtin", "uom")
        .agg(
            lot_list().alias("lots"),
            pl.col("quantity").sum(),
            pl.col("to_location_id").n_unique().alias("consignees"),
            pl.col("ship_date").min().alias("first_ship"),
            pl.col("ship_date").max().alias("last_ship"),
        )
        .sort("gtin", "uom")
    )


def _rejected_for(rejected: pl.DataFrame, lots: pl.DataFrame) -> pl.DataFrame:
    """Rejected rows whose original record names a traced lot (GTIN as written, normalised to 14
    digits, and lot code): evidence the trace may be incomplete for that lot."""
    if rejected.is_empty():
        return rejected.with_columns(
            pl.lit(None, pl.String).alias("gtin"), pl.lit(None, pl.String).alias("lot")
        )
    raw_gtin = pl.col("record").str.json_path_match("$.gtin").str.strip_chars()
    with_lot = rejected.with_columns(
        pl.when(raw_gtin.str.contains(r"^\d{8,14}$"))
        .then(raw_gtin.str.zfill(14))
        .otherwise(raw_gtin)
        .alias("gtin"),
        pl.col("record").str.json_path_match("$.lot").str.strip_chars().alias("lot"),
    )
    return with_lot.join(lots.select("gtin", "lot").unique(), on=["gtin", "lot"], how="semi").sort(
        "source_file", "row_number", "rule"
    )


def _rejected_by_rule(rejected: pl.DataFrame) -> pl.DataFrame:
    return (
        rejected.group_by("rule", "record_type")
        .agg(
            pl.len().alias("failures"),
            pl.struct("source_sha256", "row_number").n_unique().alias("rows"),
            pl.col("source_file").n_unique().alias("files"),
        )
        .sort("failures", "rule", "record_type", descending=[True, False, False])
    )


def _warnings_by_rule(warnings: pl.DataFrame) -> pl.DataFrame:
    """One line per rule, column and record type with its commonest values: a wrong mapping or
    a wrong file shows as one line rather than a page of rows."""
    group = ["rule", "column", "record_type"]
    examples = (
        warnings.group_by(*group, "value")
        .agg(pl.len().alias("n"))
        .sort("n", pl.col("value").fill_null(""), descending=[True, False])
        .group_by(group, maintain_order=True)
        .agg(
            pl.col("value")
            .fill_null("(empty)")
            .head(WARNING_EXAMPLES)
            .str.join(", ")
            .alias("examples")
        )
    )
    return (
        warnings.group_by(group)
        .agg(
            pl.len().alias("rows"),
            pl.struct("gtin", "lot").n_unique().alias("lots"),
            pl.col("source_file").n_unique().alias("files"),
        )
        .join(examples, on=group, how="left")
        .sort("rows", *group, descending=[True, False, False, False])
    )


# --- presentation ------------------------------------------------------------------------------


def _context(data: RecallData, max_rows: int) -> dict[str, object]:
    subject = data.subject
    uom = subject.get("uom")
    lots = data.lots.with_columns(
        (pl.col("quantity_received") + pl.col("quantity_produced")).alias("quantity_in"),
        pl.concat_str(
            [pl.col("tlc_source_name"), pl.col("tlc_source_location_id")],
            separator=" · ",
            ignore_nulls=True,
        ).alias("tlc_source"),
    )
    backward_lots = lots.filter(pl.col("direction").is_in(["subject", "backward"]))
    forward_lots = lots.filter(pl.col("direction").is_in(["subject", "forward"]))
    receipts = data.receipts.with_columns(
        _ref_doc().alias("ref_doc"),
        pl.concat_str(
            [pl.col("supplier_name"), pl.col("from_location_id")],
            separator=" · ",
            ignore_nulls=True,
        ).alias("supplier"),
    )
    shipments = serial_ranges.collapse_serial_lines(
        data.shipments.with_columns(_ref_doc().alias("ref_doc")), SHIPMENT_LINE_KEYS
    )
    returned = recall_summary.per_unit_text(
        data.returns.select(pl.col("from_location_id").alias("to_location_id"), "quantity", "uom"),
        ["to_location_id"],
        "quantity",
        "returned",
    )
    consignees = data.consignees.with_columns(
        pl.concat_str(
            [pl.col("consignee_name"), pl.col("to_location_id")], separator=" · ", ignore_nulls=True
        ).alias("consignee")
    ).join(returned, on="to_location_id", how="left")
    has_returns = returned.height > 0
    lots_returned = bool((data.lots["quantity_returned"].fill_null(0) > 0).any())
    distribution = data.distribution.join(
        data.lots.select("gtin", "product_name").unique("gtin"), on="gtin", how="left"
    )
    negative_on_hand = data.negative_on_hand
    glossary_units = [(u, UOM_NAMES.get(u, "not a unit of the data contract")) for u in data.uoms]

    def t(
        frame: pl.DataFrame,
        columns: list[Column],
        csv_name: str | None = None,
        empty_text: str = "None.",
    ) -> object:
        return barcodes.with_digital_links(  # each lot code links to its GS1 Digital Link
            table(frame, columns, csv_name=csv_name, limit=max_rows, empty_text=empty_text)
        )

    direction = data.direction
    figures = [
        ("Produced", subject["quantity_produced"]),
        ("Received", subject["quantity_received"]),
        ("Consumed in transformations", subject["quantity_consumed"]),
        ("Shipped", subject["quantity_shipped"]),
        ("Returned", subject["quantity_returned"]),
        ("Adjusted (net)", subject["quantity_adjusted"]),
        ("Destroyed / scrapped", subject["quantity_destroyed"]),
        ("On hand", subject["quantity_on_hand"]),
    ]
    return {
        "subject": subject,
        "direction": direction,
        "direction_text": DIRECTION_TEXT[direction],
        "figures": [(label, fmt_qty_uom(value, uom)) for label, value in figures],
        "balance": {
            "expected": fmt_qty_uom(subject["expected_on_hand"], uom),
            "recorded": fmt_qty_uom(subject["quantity_on_hand"], uom),
            "difference": fmt_qty_uom(subject["balance_difference"], uom),
            "ok": abs(float(subject["balance_difference"] or 0.0)) <= 1e-6,
        },
        "counts": {
            "backward": backward_lots.height - 1,
            "forward": forward_lots.height - 1,
            "receipts": data.receipts.height,
            "transformations": data.transformations["production_id"].n_unique(),
            "shipment_lines": data.shipments.height,
            "shipments": data.shipments["shipment_id"].n_unique(),
            "consignees": data.consignees.height,
            "serials": data.trace.serials.height,
            "rejected_total": data.rejected_by_rule["failures"].sum() or 0,
            "warnings": data.warnings.height,
            "warned_lots": data.warnings.select("gtin", "lot").n_unique(),
            "history_changes": data.history.select("record_type", "record_key", "version")
            .unique()
            .height,
        },
        "show_backward": direction in ("both", "backward"),
        "show_forward": direction in ("both", "forward"),
        "distribution": t(
            distribution,
            [
                Column("gtin", "GTIN", 14),
                Column("product_name", "Product", 24),
                Column("lots", "Lots", 16),
                Column("quantity", "Quantity shipped", 12, "right", "qty"),
                Column("uom", "UoM", 6),
                Column("consignees", "Consignees", 9, "right", "int"),
                Column("first_ship", "First ship date", 9.5, fmt="date"),
                Column("last_ship", "Last ship date", 9.5, fmt="date"),
            ],
            "shipments.csv",
            "Nothing of the traced lots was shipped.",
        ),
        "on_hand": t(
            data.on_hand,
            [
                Column("location_name", "Location", 20),
                Column("location_id", "Location id", 9),
                Column("gtin", "GTIN", 13),
                Column("lot", "Lot", 9),
                Column("product_name", "Product", 20),
                Column("quantity", "Quantity", 9, "right", "qty"),
                Column("uom", "UoM", 6),
                Column("last_movement_at", "Last movement", 14, fmt="utc"),
            ],
            "lots.csv",
            "No stock of the traced lots on hand.",
        ),
        "backward_lots": t(
            backward_lots,
            [
                Column("depth", "Depth", 5, "right", "int"),
                Column("gtin", "GTIN", 12),
                Column("lot", "Lot", 7),
                Column("product_name", "Product", 14),
                Column("origin", "Origin", 7),
                Column("tlc_source", "TLC source", 18),
                Column("tlc_source_reference", "TLC source reference", 10),
                Column("production_date", "Production date", 8, fmt="date"),
                Column("expiry_date", "Expiry date", 8, fmt="date"),
                Column("quantity_in", "Received / produced", 11, "right", "qty", "uom"),
            ],
            "lots.csv",
        ),
        "receipts": t(
            receipts,
            [
                Column("receipt_id", "Receipt", 6),
                Column("received_at", "Received (UTC)", 15, fmt="utc_short"),
                Column("supplier", "Supplier (immediate previous source)", 17),
                Column("gtin", "GTIN", 11.5),
                Column("lot", "Lot", 6),
                Column("product_name", "Product", 11.5),
                Column("quantity", "Quantity", 9, "right", "qty", "uom"),
                Column("tlc_source_reference", "TLC source reference", 12),
                Column("ref_doc", "Reference document", 12),
            ],
            "receipts.csv",
            "No supplier receipts behind the traced lots.",
        ),
        "transformations": t(
            data.transformations,
            [
                Column("production_id", "Production", 8.5),
                Column("completed_at", "Completed (UTC)", 9.5, fmt="utc_short"),
                Column("location_id", "Location", 6),
                Column("input_product", "Input product", 9),
                Column("input_gtin", "Input GTIN", 10.5),
                Column("input_lot", "Input lot", 8),
                Column("input_quantity", "Qty used", 8, "right", "qty", "input_uom"),
                Column("output_product", "→ Output product", 9),
                Column("output_gtin", "Output GTIN", 10.5),
                Column("output_lot", "Output lot", 8),
                Column("output_quantity", "Output qty", 7, "right", "qty", "output_uom"),
                Column("share", "Share of output", 6, "right", "share"),
            ],
            "transformations.csv",
            "No transformations between the traced lots.",
        ),
        "forward_lots": t(
            forward_lots,
            [
                Column("depth", "Depth", 5, "right", "int"),
                Column("exposure", "Contains of subject", 7, "right", "share"),
                Column("gtin", "GTIN", 11.5),
                Column("lot", "Lot", 8),
                Column("product_name", "Product", 11.5 if lots_returned else 12.5),
                Column("origin", "Origin", 7 if lots_returned else 8),
                Column("quantity_in", "Produced / received", 11, "right", "qty", "uom"),
                Column("quantity_consumed", "Consumed", 9, "right", "qty", "uom"),
                *(
                    [
                        Column("quantity_shipped", "Shipped", 8, "right", "qty", "uom"),
                        Column("quantity_returned", "Returned", 7, "right", "qty", "uom"),
                        Column("quantity_on_hand", "On hand", 7, "right", "qty", "uom"),
                        Column("expiry_date", "Expiry date", 8, fmt="date"),
                    ]
                    if lots_returned
                    else [
                        Column("quantity_shipped", "Shipped", 9, "right", "qty", "uom"),
                        Column("quantity_on_hand", "On hand", 9, "right", "qty", "uom"),
                        Column("expiry_date", "Expiry date", 10, fmt="date"),
                    ]
                ),
            ],
            "lots.csv",
        ),
        "consignees": t(
            consignees,
            [
                Column("consignee", "Consignee", 14),
                Column("consignee_address", "Address", 16),
                Column("consignee_phone", "Phone", 8),
                Column("consignee_gln", "GLN", 10),
                Column("shipments", "Shipments", 6.5, "right", "int"),
                Column("first_ship", "First ship date", 7.5, fmt="date"),
                Column("last_ship", "Last ship date", 7.5, fmt="date"),
                *(
                    [
                        Column("lots", "Lots", 13),
                        Column("quantity", "Quantity", 9.5, "right"),
                        Column("returned", "Returned", 8, "right"),
                    ]
                    if has_returns
                    else [Column("lots", "Lots", 19), Column("quantity", "Quantity", 11.5, "right")]
                ),
            ],
            "shipments.csv",
            "No consignees: nothing of the traced lots was shipped.",
        ),
        "shipments": t(
            shipments,
            [
                Column("shipment_id", "Shipment", 9),
                Column("shipped_at", "Shipped (UTC)", 9, fmt="utc_short"),
                Column("consignee_name", "Consignee", 12),
                Column("gtin", "GTIN", 10.5),
                Column("lot", "Lot", 7),
                Column("serial", "Serials", 14),
                Column("sscc", "SSCC", 13),
                Column("quantity", "Qty", 5, "right", "qty"),
                Column("uom", "UoM", 4),
                Column("ref_doc", "Reference document", 10.5),
                Column("from_location_id", "From", 6),
            ],
            "shipments.csv",
            "No shipment lines.",
        ),
        "rejected_for_trace": t(
            data.rejected_for_trace,
            [
                Column("source_file", "File", 15),
                Column("row_number", "Row", 5, "right", "int"),
                Column("record_type", "Record type", 9),
                Column("gtin", "GTIN", 11),
                Column("lot", "Lot", 6),
                Column("column", "Column", 9),
                Column("rule", "Rule", 11),
                Column("value", "Value", 9),
                Column("message", "Message", 25),
            ],
            None,
            "No rejected rows mention a traced lot.",
        ),
        "rejected_by_rule": t(
            data.rejected_by_rule,
            [
                Column("rule", "Rule", 34),
                Column("record_type", "Record type", 22),
                Column("failures", "Failures", 14, "right", "int"),
                Column("rows", "Rows", 14, "right", "int"),
                Column("files", "Files", 16, "right", "int"),
            ],
            None,
            "No rows were rejected in any load.",
        ),
        "unknown_origin": t(
            data.unknown_origin,
            [
                Column("gtin", "GTIN", 15),
                Column("lot", "Lot", 10),
                Column("product_name", "Product", 25),
                Column("direction", "Trace", 10),
                Column("depth", "Depth", 8, "right", "int"),
                Column("quantity_consumed", "Consumed", 10, "right", "qty"),
                Column("quantity_shipped", "Shipped", 10, "right", "qty"),
                Column("quantity_on_hand", "On hand", 12, "right", "qty"),
            ],
            "lots.csv",
            "None: every traced lot was received or produced.",
        ),
        "negative_on_hand": t(
            negative_on_hand,
            [
                Column("location_name", "Location", 22),
                Column("location_id", "Location id", 10),
                Column("gtin", "GTIN", 15),
                Column("lot", "Lot", 10),
                Column("product_name", "Product", 23),
                Column("quantity", "Quantity", 12, "right", "qty"),
                Column("uom", "UoM", 8),
            ],
            None,
            "None.",
        ),
        "mass_balance": t(
            data.mass_balance_differences,
            [
                Column("gtin", "GTIN", 12),
                Column("lot", "Lot", 7),
                Column("product_name", "Product", 13),
                Column("quantity_received", "Received", 7, "right", "qty"),
                Column("quantity_produced", "Produced", 7, "right", "qty"),
                Column("quantity_returned", "Returned", 7, "right", "qty"),
                Column("quantity_adjusted", "Adjusted", 7, "right", "qty"),
                Column("quantity_consumed", "Consumed", 7, "right", "qty"),
                Column("quantity_shipped", "Shipped", 7, "right", "qty"),
                Column("quantity_destroyed", "Destroyed", 7, "right", "qty"),
                Column("expected_on_hand", "Expected", 7, "right", "qty"),
                Column("quantity_on_hand", "On hand", 6, "right", "qty"),
                Column("balance_difference", "Difference", 6, "right", "qty"),
            ],
            "lots.csv",
            "None: recorded stock matches the movements of every traced lot.",
        ),
        "glossary": build_glossary(glossary_units, TERMS),
        "kde_mapping": t(
            kde_mapping(),
            [
                Column("sheet", "Sheet (CTE)", 12),
                Column("rule", "Rule", 16),
                Column("columns", "Spreadsheet columns", 72),
            ],
            FSMA_FILE,
        ),
        "notes": data.trace.notes,
        "dash": DASH,
        **_quality_context(data, t),
        **_request_context(data),
        **_summary_context(data.summary()),
        **_figures(data),
    }


HOLDS_LISTED = 4
"""Open holds named on page 1; the rest are counted (section 8 lists every one)."""
SUMMARY_ITEMS = {"notify": 12, "hold": 8, "retrieve": 6, "resolve": 5}
"""Entries named under each action on page 1; the rest are counted (the sections after list
every one)."""


def _summary_context(summary: recall_summary.RecallSummary) -> dict[str, object]:
    """Page 1 as text: the figures of `lotline.recall_summary` formatted, nothing computed."""
    quantities = [
        {
            "scope": r["scope"],
            "lots": r["lots"],
            "uom": r["uom"] or DASH,
            **{
                k: fmt_qty_uom(r[k], r["uom"])
                for k in ("produced", "shipped", "returned", "on_hand", "unaccounted")
            },
        }
        for r in summary.quantities.iter_rows(named=True)
    ]
    top = [
        {
            "name": r["name"],
            "id": r["to_location_id"],
            "contact": " · ".join(x for x in (r["phone"], r["email"]) if x) or DASH,
            "shipped": r["shipped"] or DASH,
            "returned": r["returned"] or "",
            "lots": r["lots"],
        }
        for r in summary.top_consignees.iter_rows(named=True)
    ]
    holds = [
        f"{r['gtin']} lot {r['lot']} ({r['product_name'] or DASH}): {r['status']} since "
        f"{fmt_utc(r['status_at'])}"
        for r in summary.holds.head(HOLDS_LISTED).iter_rows(named=True)
    ]
    if summary.holds.height > HOLDS_LISTED:
        holds.append(f"and {summary.holds.height - HOLDS_LISTED} more (section 8)")
    balance = summary.balance
    low, high = balance["tolerance"]  # type: ignore[misc]
    actions = []
    for action in summary.actions:
        limit = SUMMARY_ITEMS.get(action.kind, 6)
        actions.append(
            {
                "kind": action.kind,
                "text": action.text,
                "entries": action.items[:limit],
                "more": max(0, len(action.items) - limit),
            }
        )
    return {
        "summary": {
            "lots_backward": summary.lots_backward,
            "lots_forward": summary.lots_forward,
            "products_forward": summary.products_forward,
            "quantities": quantities,
            "consignee_count": summary.consignee_count,
            "top_consignees": top,
            "holds": holds,
            "balance_status": balance["status"] or "not stored",
            "balance_ratio": fmt_share(balance["ratio"]) if balance["ratio"] is not None else None,
            "balance_failing": balance["failing_lots"],
            "balance_lots": balance["lots"],
            "tolerance": f"{fmt_share(low)} – {fmt_share(high)}",
            "quality_count": summary.quality_count,
            "quality_top": [
                f"{r['rule']} ({r['source']}) {r['findings']}"
                for r in summary.quality.head(recall_summary.QUALITY_RULES_LISTED).iter_rows(
                    named=True
                )
            ],
            "actions": actions,
        }
    }


def _figures(data: RecallData) -> dict[str, object]:
    """The lineage diagram (Graphviz) and the exposure chart (matplotlib) as inline SVG. Without
    Graphviz the report still renders, with a note in place of the diagram."""
    from markupsafe import Markup

    trace = data.trace
    diagram = lineage_diagram.build(
        trace.lots, trace.edges, trace.receipts, trace.shipments, data.locations
    )
    svg, note = None, None
    try:
        svg = Markup(lineage_diagram.to_svg(lineage_diagram.to_dot(diagram)))
    except lineage_diagram.DotMissing as error:
        logging.getLogger(__name__).warning("lineage diagram left out: %s", error)
        note = (
            f"The lineage diagram could not be drawn: {error}. The lots, transformations and "
            "shipments it would show are in sections 5 to 7 and in the attached CSV files."
        )
    exposure = charts.exposure_chart(data.lots)
    return {
        "diagram": {
            "svg": svg,
            "note": note,
            "collapsed": diagram.collapsed,
            "level": diagram.level,
            "nodes": diagram.nodes.height,
            "lots": diagram.lots,
            "parties": diagram.parties,
        },
        "exposure_svg": Markup(exposure) if exposure else None,
    }


def kde_mapping() -> pl.DataFrame:
    """Which spreadsheet columns answer which paragraph of the rule, one row per paragraph (the
    column-by-column meanings are in the spreadsheet's glossary sheet)."""
    parts = pl.col("Code").str.split_exact(": ", 1)
    return (
        fsma204.column_meanings()
        .with_columns(
            parts.struct.field("field_0").alias("sheet"),
            parts.struct.field("field_1").alias("column"),
            pl.col("Details").alias("rule"),
        )
        .group_by("sheet", "rule", maintain_order=True)
        .agg(pl.col("column").str.join(", ").alias("columns"))
    )


def _request_context(data: RecallData) -> dict[str, object]:
    sheets = {
        name: frame.height for name, frame in data.fsma_sheets.items() if name != fsma204.GLOSSARY
    }
    return {
        "as_of": data.as_of,
        "fsma_sheets": sheets,
        "fsma_file": FSMA_FILE,
    }


def _quality_context(data: RecallData, t) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Inventory and hold status, mass balance, completeness findings, validation warnings and
    the audit extract with the record history."""
    low, high = mass_balance.TOLERANCE
    subject_key = data.subject["lot_key"]
    subject_balance = data.lot_balance.filter(pl.col("lot_key") == subject_key)
    failing = data.lot_balance.filter(
        pl.col("status").is_in([mass_balance.FAIL, mass_balance.UNCONVERTIBLE])
    )
    inventory = data.inventory.with_columns(
        pl.concat_str(
            [pl.col("status"), pl.col("status_reason")], separator=": ", ignore_nulls=True
        ).alias("status_text")
    )
    by_disposition = (
        data.inventory.group_by("disposition", "uom")
        .agg(
            pl.struct("gtin", "lot").n_unique().alias("lots"),
            pl.col("location_id").n_unique().alias("locations"),
            pl.col("quantity").sum(),
        )
        .sort("disposition", "uom")
    )
    by_check = (
        data.exceptions.group_by("check", "severity")
        .agg(
            pl.len().alias("findings"),
            pl.struct("gtin", "lot").n_unique().alias("lots"),
        )
        .sort(pl.col("severity").replace_strict(SEVERITY_RANK, default=len(SEVERITY_RANK)), "check")
    )
    balance_columns = [
        Column("gtin", "GTIN", 11),
        Column("lot", "Lot", 7),
        Column("product_name", "Product", 12),
        Column("direction", "Trace", 6),
        Column("uom", "UoM", 4),
        Column("inflow", "Inflow", 8, "right", "qty"),
        Column("quantity_consumed", "Consumed", 7.5, "right", "qty"),
        Column("quantity_shipped", "Shipped", 7.5, "right", "qty"),
        Column("quantity_destroyed", "Destroyed", 7, "right", "qty"),
        Column("quantity_on_hand", "On hand", 7, "right", "qty"),
        Column("accounted", "Accounted", 7.5, "right", "qty"),
        Column("difference", "Difference", 7.5, "right", "qty"),
        Column("balance_ratio", "Accounted %", 7, "right", "share"),
        Column("status", "Result", 6),
    ]
    return {
        "tolerance": f"{fmt_share(low)} – {fmt_share(high)}",
        "subject_balance": subject_balance.row(0, named=True) if subject_balance.height else None,
        "balance_counts": {
            "lots": data.lot_balance.height,
            "failing": failing.height,
            "passing": data.lot_balance.filter(pl.col("status") == mass_balance.PASS).height,
        },
        "scope_balance": t(
            data.scope_balance,
            [
                Column("uom", "UoM", 6),
                Column("lots", "Lots", 6, "right", "int"),
                Column("failing_lots", "Failing lots", 8, "right", "int"),
                Column("inflow", "Inflow", 12, "right", "qty"),
                Column("quantity_consumed", "Consumed", 11, "right", "qty"),
                Column("quantity_shipped", "Shipped", 11, "right", "qty"),
                Column("quantity_on_hand", "On hand", 11, "right", "qty"),
                Column("accounted", "Accounted", 11, "right", "qty"),
                Column("difference", "Difference", 10, "right", "qty"),
                Column("balance_ratio", "Accounted %", 8, "right", "share"),
                Column("status", "Result", 6),
            ],
            "mass_balance.csv",
            "No mass balance is stored for the traced lots.",
        ),
        "subject_balance_table": t(
            subject_balance.with_columns(pl.lit("subject").alias("direction")),
            balance_columns,
            "mass_balance.csv",
            "No mass balance is stored for the subject lot.",
        ),
        "failing_balance": t(
            failing,
            balance_columns,
            "mass_balance.csv",
            "None: every traced lot balances within the tolerance.",
        ),
        "inventory": t(
            inventory,
            [
                Column("location_name", "Location", 14),
                Column("location_id", "Location id", 8),
                Column("gtin", "GTIN", 11.5),
                Column("lot", "Lot", 7),
                Column("product_name", "Product", 12),
                Column("quantity", "On hand", 9, "right", "qty", "uom"),
                Column("expiry_date", "Expiry", 8, fmt="date"),
                Column("status_text", "Status in force", 12.5),
                Column("serials_restricted", "Serials held", 5.5, "right", "int"),
                Column("disposition", "Disposition (EPCIS)", 12.5),
            ],
            "inventory.csv",
            "No stock of the traced lots on hand.",
        ),
        "by_disposition": t(
            by_disposition,
            [
                Column("disposition", "Disposition (EPCIS)", 30),
                Column("lots", "Lots", 15, "right", "int"),
                Column("locations", "Locations", 15, "right", "int"),
                Column("quantity", "Quantity", 25, "right", "qty", "uom"),
            ],
            "inventory.csv",
            "No stock of the traced lots on hand.",
        ),
        "exceptions_by_check": t(
            by_check,
            [
                Column("check", "Check", 40),
                Column("severity", "Severity", 20),
                Column("findings", "Findings", 20, "right", "int"),
                Column("lots", "Lots", 20, "right", "int"),
            ],
            "exceptions.csv",
            "No completeness check found anything on the traced lots.",
        ),
        "exceptions": t(
            data.exceptions,
            [
                Column("severity", "Severity", 7),
                Column("check", "Check", 15),
                Column("gtin", "GTIN", 11.5),
                Column("lot", "Lot", 7),
                Column("serial", "Serial", 8),
                Column("reference", "Reference", 14),
                Column("detail", "Detail", 37.5),
            ],
            "exceptions.csv",
            "None.",
        ),
        "warnings_by_rule": t(
            data.warnings_by_rule,
            [
                Column("rule", "Rule", 22),
                Column("column", "Column", 14),
                Column("record_type", "Record type", 10),
                Column("rows", "Rows", 7, "right", "int"),
                Column("lots", "Lots", 7, "right", "int"),
                Column("files", "Files", 7, "right", "int"),
                Column("examples", "Commonest values", 33),
            ],
            "warnings.csv",
            "No warnings on the rows of the traced lots.",
        ),
        "warnings": t(
            data.warnings,
            [
                Column("source_file", "File", 13),
                Column("row_number", "Row", 4, "right", "int"),
                Column("record_type", "Record type", 7.5),
                Column("gtin", "GTIN", 11),
                Column("lot", "Lot", 5.5),
                Column("column", "Column", 10.5),
                Column("rule", "Rule", 16.5),
                Column("value", "Value", 9),
                Column("message", "Message", 23),
            ],
            "warnings.csv",
            "None.",
        ),
        "history": t(
            data.history.with_columns(
                pl.concat_str(
                    [pl.col("changed_by_file"), pl.col("changed_by_row").cast(pl.String)],
                    separator=" row ",
                ).alias("changed_by"),
                pl.col("record_key")  # empty key parts folded: the full key is in the CSV
                .str.replace_all(r"(?: / )+", " / ")
                .str.strip_prefix(" / ")
                .str.strip_suffix(" / ")
                .alias("record"),
            ),
            [
                Column("changed_at", "Changed (UTC)", 8.5, fmt="utc_short"),
                Column("changed_by", "Sent by (file, row)", 11.5),
                Column("record_type", "Record type", 7.5),
                Column("record", "Record (key)", 13.5),
                Column("lot", "Lot", 5),
                Column("version", "Version", 5.5, "right", "int"),
                Column("change", "Change", 7),
                Column("column", "Column", 10.5),
                Column("old", "Old value", 8.5),
                Column("new", "New value", 8.5),
                Column("reason", "Reason", 13.5),
            ],
            "record_history.csv",
            "No record of the traced lots was corrected or voided.",
        ),
        "audit_sources": t(
            data.audit_sources,
            [
                Column("file_name", "Input file", 16),
                Column("record_type", "Record type", 10),
                Column("source_sha256", "SHA-256 of the file", 36),
                Column("load_id", "Load", 14),
                Column("loaded_at", "Loaded (UTC)", 12, fmt="utc_short"),
                Column("records", "Records", 6, "right", "int"),
                Column("events", "Events", 6, "right", "int"),
            ],
            None,
            "No stored records name the traced lots.",
        ),
        "events_in_several_files": t(
            data.events_in_several_files,
            [
                Column("record_type", "Record type", 25),
                Column("event_id", "Event", 35),
                Column("files", "Input files", 20, "right", "int"),
                Column("records", "Records", 20, "right", "int"),
            ],
            None,
            "None: every event of the traced lots was recorded in one input file.",
        ),
    }


def _ref_doc() -> pl.Expr:
    return pl.concat_str(
        [pl.col("ref_doc_type"), pl.col("ref_doc_number")], separator=" ", ignore_nulls=True
    )


def _log_timing(path: Path, started: float) -> None:
    import logging

    logging.getLogger(__name__).info(
        "rendered %s in %.2f s", path.name, time.perf_counter() - started
    )
