"""FSMA 204 electronic sortable spreadsheet (21 CFR 1.1455(c)(3)(ii)): pure functions over frames.

FDA asks, within 24 hours, for the Key Data Elements of every Critical Tracking Event "for the
foods and date ranges or traceability lot codes specified in the request". This module turns the
lineage tables into one frame per CTE — columns named and ordered after FDA's illustrative
template, one row per event line — plus the glossary of every code they
use, which 1.1455(c)(1) requires alongside the records.

- **Receiving** (1.1345(a)): one row per receipt line (lineage `lot_receipt`).
- **Shipping** (1.1340): one row per shipment line resolved to its lot (`lot_shipment`).
- **Transformation** (1.1350): one row per input lot of a transformation, joined with its output
  lot by the event id (`production_id`), so the sheet stays sortable by TLC.
- Harvesting, cooling, initial packing and first land-based receiving are not recorded by the
  data contract: the glossary says so instead of shipping empty sheets.

Locations are given as the FSMA location description (business name, phone, street address or
coordinates, city, state, ZIP, country) plus our location id and GLN; products as the product
description (name, brand, commodity, variety, packaging size and style) plus the GTIN. Dates are
the local calendar date of the event, at the UTC offset recorded with it (`tz_offset`): the date
on the paperwork, not the UTC date.

Selection: `for_trace` takes the rows of a trace (receipts of its backward part, shipments of its
forward part, the transformations between its lots), `for_traces` the union for a list of lots,
each event line once; `for_period` every event whose local date falls in a closed date range.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import models
from lotline import store, trace_query
from lotline.expiry import local_date
from lotline.intake.contract import REF_DOC_NAMES, REF_DOC_TYPES, UOM_NAMES
from lotline.lineage import Lineage
from lotline.trace import TraceResult, edges_with_lots

RECEIVING, SHIPPING, TRANSFORMATION, GLOSSARY = (
    "Receiving",
    "Shipping",
    "Transformation",
    "Glossary",
)
SHEETS = (RECEIVING, SHIPPING, TRANSFORMATION, GLOSSARY)

LOCATION_FIELDS: tuple[tuple[str, str], ...] = (
    ("Location ID", "our location id (glossary: Location ID)"),
    ("Business Name", "business name"),
    ("Phone", "phone number"),
    ("Street Address or Coordinates", "street address, or latitude, longitude where none"),
    ("City", "city"),
    ("State/Region", "state, province or region"),
    ("ZIP/Postal Code", "ZIP or postal code"),
    ("Country", "country, ISO 3166-1 alpha-2"),
    ("GLN", "GS1 Global Location Number"),
)
"""The FSMA location description (1.1310) as columns, with our id and the GLN."""

PRODUCT_FIELDS: tuple[tuple[str, str], ...] = (
    ("GTIN", "GTIN-14 (glossary: GTIN)"),
    ("Product Name", "product name"),
    ("Brand Name", "brand name"),
    ("Commodity", "commodity"),
    ("Variety", "variety"),
    ("Packaging Size", "packaging size (with its unit code)"),
    ("Packaging Style", "packaging style"),
)
"""The FSMA product description (1.1310) as columns, with the GTIN."""

NOT_RECORDED: tuple[tuple[str, str], ...] = (
    ("Harvesting", "21 CFR 1.1325(a)"),
    ("Cooling", "21 CFR 1.1325(b)"),
    ("Initial packing", "21 CFR 1.1330"),
    ("First land-based receiving", "21 CFR 1.1335"),
)
"""CTEs the data contract has no records for: explained in the glossary, no empty sheets."""

NOT_EXPORTED = (
    "Transfers between our own locations (move records, reason transfer) are not exported as "
    "shipping and receiving rows: the lineage tables hold only shipments to and receipts from "
    "other parties. Returns, adjustments, scrap and destruction are not CTEs."
)
"""Said in the glossary so the reader knows what the sheets leave out."""

EVIDENCE = {
    "explicit": "the consumption record names the input lot",
    "inferred": "the consumption record names only the product; the input lot is inferred "
    "from the stock on hand at the transformation location",
}


@dataclass(frozen=True)
class MasterData:
    """What the event rows refer to: products, locations, and per transformation event the UTC
    offset and reference document that the lineage edges do not carry."""

    products: pl.DataFrame
    locations: pl.DataFrame
    production: pl.DataFrame
    """One row per `production_id`: `tz_offset`, `ref_doc_type`, `ref_doc_number`."""


# --- reading ------------------------------------------------------------------------------------


def master_data(engine: Engine, production_ids: Iterable[str] | None = None) -> MasterData:
    """Products, locations and the transformation events (`production_ids`, default all)."""
    from lotline import api

    columns = ["production_id", "tz_offset", "ref_doc_type", "ref_doc_number"]
    if production_ids is None:
        production = store.read_frame(engine, models.ProductionRecord, columns=columns)
    else:
        production = _read_in(
            engine, models.ProductionRecord, "production_id", production_ids, columns=columns
        )
    return MasterData(
        products=api.products(engine),
        locations=api.locations(engine),
        production=production_events(production),
    )


def production_events(production: pl.DataFrame) -> pl.DataFrame:
    """Production rows (one per output line) reduced to one row per transformation event."""
    return (
        production.sort("production_id", "ref_doc_type", "ref_doc_number", nulls_last=True)
        .group_by("production_id", maintain_order=True)
        .agg(
            pl.col("tz_offset").drop_nulls().first(),
            pl.col("ref_doc_type").drop_nulls().first(),
            pl.col("ref_doc_number").drop_nulls().first(),
        )
    )


def _read_in(
    engine: Engine,
    model: type,
    column: str,
    values: Iterable[object],
    chunk: int = 5000,
    columns: list[str] | None = None,
) -> pl.DataFrame:
    """Rows whose `column` is one of `values`, read in bounded chunks of bind parameters (only
    `columns`, when given: a hub lot's scope has 10⁵ production lines). On an SQLite file the
    values go in as one temporary table and the rows come back as Arrow (`trace_query.rows_in`)."""
    table = store.table(model)
    keys = sorted(set(values))  # type: ignore[type-var]
    if columns is not None:
        with engine.connect() as conn:
            found = trace_query.rows_in(conn, model, column, keys, columns)
        if found is not None:
            return found
    parts = [
        store.read_frame(
            engine, model, where=table.c[column].in_(keys[i : i + chunk]), columns=columns
        )
        for i in range(0, len(keys), chunk)
    ]
    if parts:
        return pl.concat(parts)
    return store.read_frame(engine, model, where=sa.false(), columns=columns)


# --- selection ----------------------------------------------------------------------------------


def for_trace(result: TraceResult, master: MasterData | Engine) -> dict[str, pl.DataFrame]:
    """The sheets for a trace: receipts of its backward part, shipments of its forward part and
    the transformations between its lots (exactly the rows the trace holds). `master` may be
    the database, read for just the trace's transformation events."""
    return for_traces([result], master)


def for_traces(
    results: Sequence[TraceResult], master: MasterData | Engine
) -> dict[str, pl.DataFrame]:
    """The sheets for a list of traced lots (a request naming several TLCs): the union of their
    rows, each event line once even where two traces reach it."""
    if not results:
        raise ValueError("no trace to export")
    edges = pl.concat([r.edges for r in results]).unique(maintain_order=True)
    if not isinstance(master, MasterData):
        master = master_data(master, edges["production_id"].unique().to_list())
    subjects = [_subject_text(r.subject) for r in results]
    directions = sorted({r.direction for r in results})
    return sheets(
        pl.concat([r.receipts for r in results]).unique(maintain_order=True),
        pl.concat([r.shipments for r in results]).unique(maintain_order=True),
        edges,
        pl.concat([r.lots for r in results], how="diagonal_relaxed"),
        master,
        scope=f"trace of {'; '.join(subjects)}, direction {'/'.join(directions)}",
        snapshot_id=results[0].snapshot_id,
    )


def _subject_text(subject: dict[str, str | None]) -> str:
    if subject.get("sscc"):
        return f"SSCC {subject['sscc']}"
    serial = f" serial {subject['serial']}" if subject.get("serial") else ""
    return f"GTIN {subject['gtin']} lot {subject['lot']}{serial}"


def for_period(
    source: Engine | Lineage, start: date, end: date, master: MasterData | None = None
) -> dict[str, pl.DataFrame]:
    """The sheets for every receipt, shipment and transformation whose local date (at the event's
    own UTC offset) is within `start`..`end`, both included. From the database, reading only the
    rows near the range, or from lineage frames already in memory (then `master` is needed)."""
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    snapshot_id = None
    if isinstance(source, Lineage):
        if master is None:
            raise ValueError("for_period over lineage frames needs the master data")
        receipts, shipments, edges, lots = (
            source.receipts,
            source.shipments,
            source.edges,
            source.lots,
        )
    else:
        receipts, shipments, edges, lots = _read_period(source, start, end)
        master = master or master_data(source, edges["production_id"].unique().to_list())
        from lotline import api

        snapshot = api.current_snapshot(source)
        snapshot_id = str(snapshot["snapshot_id"]) if snapshot else None
    offset = pl.col("tz_offset")
    transformations = (
        edges_with_lots(edges, lots)
        .join(
            master.production.select("production_id", "tz_offset"), on="production_id", how="left"
        )
        .filter(local_date_between("completed_at", offset, start, end))
        .drop("tz_offset")
    )
    return sheets(
        receipts.filter(local_date_between("received_at", offset, start, end)),
        shipments.filter(local_date_between("shipped_at", offset, start, end)),
        transformations,
        lots,
        master,
        scope=f"events dated {start.isoformat()} to {end.isoformat()} (local dates, inclusive)",
        snapshot_id=snapshot_id,
    )


def local_date_between(column: str, offset: pl.Expr, start: date, end: date) -> pl.Expr:
    """The local date of instant `column` at `offset` (UTC when unknown) is in `start`..`end`."""
    day = local_date(pl.col(column), offset.fill_null("+00:00"))
    return day.is_between(pl.lit(start), pl.lit(end), closed="both")


def _read_period(
    engine: Engine, start: date, end: date
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Receipts, shipments and edges within a UTC window wide enough for any offset (±14 h), and
    the lots they name; the exact local-date cut is made over the frames."""
    low = datetime.combine(start - timedelta(days=1), time(), UTC)
    high = datetime.combine(end + timedelta(days=2), time(), UTC)

    def window(model: type, column: str) -> pl.DataFrame:
        table = store.table(model)
        where = (table.c[column] >= low) & (table.c[column] < high)
        return store.read_frame(engine, model, where=where).drop("id", "snapshot_id")

    receipts = window(models.LotReceipt, "received_at")
    shipments = window(models.LotShipment, "shipped_at")
    edges = window(models.LotEdge, "completed_at")
    keys = pl.concat(
        [receipts["lot_key"], shipments["lot_key"], edges["parent_key"], edges["child_key"]]
    )
    lots = _read_in(engine, models.Lot, "lot_key", keys.to_list()).drop("snapshot_id")
    return receipts, shipments, edges, lots


# --- sheets -------------------------------------------------------------------------------------


def sheets(
    receipts: pl.DataFrame,
    shipments: pl.DataFrame,
    edges: pl.DataFrame,
    lots: pl.DataFrame,
    master: MasterData,
    scope: str,
    snapshot_id: str | None = None,
) -> dict[str, pl.DataFrame]:
    """Every sheet, in workbook order, from already selected event rows."""
    sources = lots.select(
        "gtin",
        "lot",
        "tlc_source_location_id",
        pl.col("tlc_source_reference").alias("lot_tlc_source_reference"),
    ).unique(["gtin", "lot"])
    frames = {
        RECEIVING: receiving(receipts, sources, master),
        SHIPPING: shipping(shipments, sources, master),
        TRANSFORMATION: transformation(edges, sources, master),
    }
    frames[GLOSSARY] = glossary(frames, master, scope, snapshot_id)
    return frames


def receiving(receipts: pl.DataFrame, sources: pl.DataFrame, master: MasterData) -> pl.DataFrame:
    """Receiving KDEs (1.1345(a)), one row per receipt line."""
    base = receipts.join(sources, on=["gtin", "lot"], how="left").select(
        pl.col("lot").alias("Traceability Lot Code (TLC)"),
        pl.col("gtin").alias("GTIN"),
        pl.col("serial").alias("Serial Number"),
        pl.col("quantity").alias("Quantity"),
        pl.col("uom").alias("Unit of Measure"),
        pl.col("from_location_id").alias("Immediate Previous Source Location ID"),
        pl.col("to_location_id").alias("Receiving Location ID"),
        _local_date("received_at").alias("Date Received"),
        pl.col("tlc_source_location_id").alias("TLC Source Location ID"),
        pl.coalesce("tlc_source_reference", "lot_tlc_source_reference").alias(
            "TLC Source Reference"
        ),
        pl.col("ref_doc_type").alias("Reference Document Type"),
        pl.col("ref_doc_number").alias("Reference Document Number"),
        pl.col("receipt_id").alias("Event ID"),
        _offset().alias("UTC Offset"),
    )
    return (
        _describe(base, master, ["Immediate Previous Source", "Receiving", "TLC Source"], [""])
        .select(RECEIVING_COLUMNS)
        .sort(_order(RECEIVING_COLUMNS, "Date Received"))
    )


def shipping(shipments: pl.DataFrame, sources: pl.DataFrame, master: MasterData) -> pl.DataFrame:
    """Shipping KDEs (1.1340), one row per shipment line resolved to its lot."""
    base = shipments.join(sources, on=["gtin", "lot"], how="left").select(
        pl.col("lot").alias("Traceability Lot Code (TLC)"),
        pl.col("gtin").alias("GTIN"),
        pl.col("serial").alias("Serial Number"),
        pl.col("sscc").alias("SSCC"),
        pl.col("quantity").alias("Quantity"),
        pl.col("uom").alias("Unit of Measure"),
        pl.col("to_location_id").alias("Immediate Subsequent Recipient Location ID"),
        pl.col("from_location_id").alias("Ship-From Location ID"),
        _local_date("shipped_at").alias("Date Shipped"),
        pl.col("tlc_source_location_id").alias("TLC Source Location ID"),
        pl.col("lot_tlc_source_reference").alias("TLC Source Reference"),
        pl.col("ref_doc_type").alias("Reference Document Type"),
        pl.col("ref_doc_number").alias("Reference Document Number"),
        pl.col("shipment_id").alias("Event ID"),
        _offset().alias("UTC Offset"),
    )
    return (
        _describe(
            base,
            master,
            ["Immediate Subsequent Recipient", "Ship-From", "TLC Source"],
            [""],
        )
        .select(SHIPPING_COLUMNS)
        .sort(_order(SHIPPING_COLUMNS, "Date Shipped"))
    )


def transformation(edges: pl.DataFrame, sources: pl.DataFrame, master: MasterData) -> pl.DataFrame:
    """Transformation KDEs (1.1350): one row per input lot, joined with its output by event id."""
    output_sources = sources.select(
        pl.col("gtin").alias("output_gtin"),
        pl.col("lot").alias("output_lot"),
        "lot_tlc_source_reference",
    )
    base = (
        edges.join(master.production, on="production_id", how="left")
        .join(output_sources, on=["output_gtin", "output_lot"], how="left")
        .select(
            pl.col("input_lot").alias("Input Traceability Lot Code (TLC)"),
            pl.col("input_gtin").alias("Input GTIN"),
            pl.col("input_quantity").alias("Input Quantity Used"),
            pl.col("input_uom").alias("Input Unit of Measure"),
            pl.col("output_lot").alias("New Traceability Lot Code (TLC)"),
            pl.col("output_gtin").alias("Output GTIN"),
            pl.col("location_id").alias("Transformation Location ID"),
            pl.col("lot_tlc_source_reference").alias("TLC Source Reference"),
            _local_date("completed_at").alias("Date Transformation Completed"),
            pl.col("output_quantity").alias("Output Quantity"),
            pl.col("output_uom").alias("Output Unit of Measure"),
            pl.col("ref_doc_type").alias("Reference Document Type"),
            pl.col("ref_doc_number").alias("Reference Document Number"),
            pl.col("evidence").alias("Input Lot Evidence"),
            pl.col("production_id").alias("Event ID"),
            _offset().alias("UTC Offset"),
        )
    )
    described = _describe(base, master, ["Transformation"], ["Input ", "Output "])
    return described.select(TRANSFORMATION_COLUMNS).sort(
        _order(TRANSFORMATION_COLUMNS, "Date Transformation Completed", "Event ID")
    )


def _offset() -> pl.Expr:
    return pl.col("tz_offset").fill_null("+00:00")


def _local_date(column: str) -> pl.Expr:
    """The event's calendar date where it happened (its recorded offset; UTC when unknown)."""
    return local_date(pl.col(column), _offset())


def _order(columns: Sequence[str], *first: str) -> list[str]:
    """A total sort order: the given columns first, then every other column, for stable output."""
    return [*first, *(c for c in columns if c not in first)]


def _location_block(role: str) -> list[str]:
    return [f"{role} {label}" for label, _ in LOCATION_FIELDS]


def _product_block(prefix: str) -> list[str]:
    return [f"{prefix}{label}" for label, _ in PRODUCT_FIELDS]


def _describe(
    frame: pl.DataFrame, master: MasterData, roles: list[str], products: list[str]
) -> pl.DataFrame:
    """Add the location description of each role and the product description of each prefix."""
    places = location_descriptions(master.locations)
    for role in roles:
        block = _location_block(role)
        frame = frame.join(
            places.rename(dict(zip(places.columns, block, strict=True))), on=block[0], how="left"
        )
    goods = product_descriptions(master.products)
    for prefix in products:
        block = _product_block(prefix)
        frame = frame.join(
            goods.rename(dict(zip(goods.columns, block, strict=True))), on=block[0], how="left"
        )
    return frame


def location_descriptions(locations: pl.DataFrame) -> pl.DataFrame:
    """Location id and the FSMA location description, in `LOCATION_FIELDS` order."""
    coordinates = pl.concat_str(
        [pl.col("latitude").cast(pl.String), pl.col("longitude").cast(pl.String)], separator=", "
    )
    return locations.select(
        "location_id",
        "business_name",
        "phone",
        pl.coalesce("street", coordinates).alias("street"),
        "city",
        "region",
        "postal_code",
        "country",
        "gln",
    )


def product_descriptions(products: pl.DataFrame) -> pl.DataFrame:
    """GTIN and the FSMA product description, in `PRODUCT_FIELDS` order."""
    return products.select(
        "gtin",
        "name",
        "brand",
        "commodity",
        "variety",
        pl.concat_str([_number_text(pl.col("pack_size")), pl.col("pack_uom")], separator=" ")
        .fill_null(_number_text(pl.col("pack_size")))
        .alias("pack_size"),
        "pack_style",
    )


def _number_text(value: pl.Expr) -> pl.Expr:
    """25.0 → '25', 2.4 → '2.4': sizes as people write them."""
    return (
        pl.when(value == value.round(0))
        .then(value.cast(pl.Int64).cast(pl.String))
        .otherwise(value.cast(pl.String))
    )


RECEIVING_COLUMNS: list[str] = [
    "Traceability Lot Code (TLC)",
    "Quantity",
    "Unit of Measure",
    *_product_block(""),
    "Serial Number",
    *_location_block("Immediate Previous Source"),
    *_location_block("Receiving"),
    "Date Received",
    *_location_block("TLC Source"),
    "TLC Source Reference",
    "Reference Document Type",
    "Reference Document Number",
    "Event ID",
    "UTC Offset",
]

SHIPPING_COLUMNS: list[str] = [
    "Traceability Lot Code (TLC)",
    "Quantity",
    "Unit of Measure",
    *_product_block(""),
    "Serial Number",
    "SSCC",
    *_location_block("Immediate Subsequent Recipient"),
    *_location_block("Ship-From"),
    "Date Shipped",
    *_location_block("TLC Source"),
    "TLC Source Reference",
    "Reference Document Type",
    "Reference Document Number",
    "Event ID",
    "UTC Offset",
]

TRANSFORMATION_COLUMNS: list[str] = [
    "Input Traceability Lot Code (TLC)",
    *_product_block("Input "),
    "Input Quantity Used",
    "Input Unit of Measure",
    "New Traceability Lot Code (TLC)",
    *_location_block("Transformation"),
    "TLC Source Reference",
    "Date Transformation Completed",
    *_product_block("Output "),
    "Output Quantity",
    "Output Unit of Measure",
    "Reference Document Type",
    "Reference Document Number",
    "Input Lot Evidence",
    "Event ID",
    "UTC Offset",
]

COLUMNS = {RECEIVING: RECEIVING_COLUMNS, SHIPPING: SHIPPING_COLUMNS}
COLUMNS[TRANSFORMATION] = TRANSFORMATION_COLUMNS
GLOSSARY_COLUMNS = ["Category", "Code", "Meaning", "Details"]


# --- glossary -----------------------------------------------------------------------------------

_SHEET_BASIS = {
    RECEIVING: ("21 CFR 1.1345(a)", "one row per receipt line"),
    SHIPPING: ("21 CFR 1.1340", "one row per shipment line, resolved to its lot"),
    TRANSFORMATION: (
        "21 CFR 1.1350",
        "one row per input lot used; rows of one transformation share the Event ID",
    ),
}

_PRODUCT = ("GTIN", "Product Name", "Brand Name", "Commodity", "Variety", "Packaging")

_PARAGRAPHS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    RECEIVING: (
        (("Traceability Lot Code",), "(1)"),
        (("Quantity", "Unit of Measure"), "(2)"),
        (_PRODUCT, "(3)"),
        (("Immediate Previous Source",), "(4)"),
        (("Receiving ",), "(5)"),
        (("Date Received",), "(6)"),
        (("TLC Source",), "(7)"),
        (("Reference Document",), "(8)"),
    ),
    SHIPPING: (
        (("Traceability Lot Code",), "(1)"),
        (("Quantity", "Unit of Measure"), "(2)"),
        (_PRODUCT, "(3)"),
        (("Immediate Subsequent Recipient",), "(4)"),
        (("Ship-From",), "(5)"),
        (("Date Shipped",), "(6)"),
        (("TLC Source",), "(7)"),
        (("Reference Document",), "(8)"),
    ),
    TRANSFORMATION: (
        (("Input Traceability Lot Code",), "(a)(1)(i)"),
        (tuple(f"Input {p}" for p in _PRODUCT), "(a)(1)(ii)"),
        (("Input Quantity Used", "Input Unit of Measure"), "(a)(1)(iii)"),
        (("New Traceability Lot Code",), "(a)(2)(i)"),
        (("Transformation ", "TLC Source Reference"), "(a)(2)(ii)"),
        (("Date Transformation Completed",), "(a)(2)(iii)"),
        (tuple(f"Output {p}" for p in _PRODUCT), "(a)(2)(iv)"),
        (("Output Quantity", "Output Unit of Measure"), "(a)(2)(v)"),
        (("Reference Document",), "(a)(2)(vi)"),
    ),
}
"""Which paragraph of the CTE's section each column answers (first matching prefix wins);
columns matching none are additional data, not Key Data Elements."""

_ROLES = {
    "Immediate Previous Source": "immediate previous source (not the transporter)",
    "Receiving": "location where the food was received",
    "Immediate Subsequent Recipient": "immediate subsequent recipient (not the transporter)",
    "Ship-From": "location the food was shipped from",
    "TLC Source": "traceability lot code source: where the TLC was assigned",
    "Transformation": "location where the food was transformed (TLC source of the new lot)",
}

_COLUMN_MEANINGS: dict[str, str] = {
    "Traceability Lot Code (TLC)": "traceability lot code (our lot code; GTIN + TLC is the lot)",
    "Input Traceability Lot Code (TLC)": "TLC of the input lot used",
    "New Traceability Lot Code (TLC)": "TLC assigned to the output lot",
    "Quantity": "quantity, in the unit of measure",
    "Unit of Measure": "UN/CEFACT Rec 20 unit code (glossary: Unit of Measure)",
    "Input Quantity Used": "quantity used from this input lot",
    "Input Unit of Measure": "unit code of the input quantity",
    "Output Quantity": "quantity of the new lot produced",
    "Output Unit of Measure": "unit code of the output quantity",
    "Serial Number": "serial of a serialised unit (empty for lot quantities)",
    "SSCC": "SSCC of the pallet or case the line travelled in",
    "Date Received": "receive date: local date where received",
    "Date Shipped": "ship date: local date where shipped from",
    "Date Transformation Completed": "date the transformation was completed, local date",
    "TLC Source Reference": "TLC source reference: GLN, FDA FFRN or URL, where recorded",
    "Reference Document Type": "reference document type code (glossary: Reference Document Type)",
    "Reference Document Number": "reference document number",
    "Input Lot Evidence": "how the input lot is known (glossary: Input Lot Evidence)",
    "Event ID": "our id of the event: receipt, shipment or production (transformation) id",
    "UTC Offset": "UTC offset recorded with the event; the sheet's dates are local at it",
}


def column_meanings() -> pl.DataFrame:
    """Per sheet and column: what it holds and which paragraph of the rule it answers, the
    "description of how the records correspond to the information required" (1.1455(c)(1))."""
    rows = []
    for sheet, columns in COLUMNS.items():
        section = _SHEET_BASIS[sheet][0]
        for column in columns:
            paragraph = next(
                (par for prefixes, par in _PARAGRAPHS[sheet] if column.startswith(prefixes)),
                None,
            )
            basis = f"{section}{paragraph}" if paragraph else "additional data, not a KDE"
            rows.append((f"{sheet}: {column}", _column_meaning(column), basis))
    return pl.DataFrame(rows, schema=["Code", "Meaning", "Details"], orient="row")


def _column_meaning(column: str) -> str:
    if column in _COLUMN_MEANINGS:
        return _COLUMN_MEANINGS[column]
    for role, what in _ROLES.items():
        for label, meaning in LOCATION_FIELDS:
            if column == f"{role} {label}":
                return f"{what}: {meaning}"
    for prefix in ("Input ", "Output ", ""):
        for label, meaning in PRODUCT_FIELDS:
            if column == f"{prefix}{label}":
                return f"{meaning} of the {prefix.strip().lower() or 'traced'} product"
    raise KeyError(column)


def glossary(
    frames: dict[str, pl.DataFrame], master: MasterData, scope: str, snapshot_id: str | None
) -> pl.DataFrame:
    """The key to every code the sheets use (1.1455(c)(1)): scope, sheets and CTEs left out,
    column meanings, and each GTIN, location id, unit, reference document type and evidence
    code that appears, with what it stands for."""

    used = _codes_used(frames)
    text = pl.String
    head = pl.DataFrame(
        [
            ("Scope", "selection", scope, f"data snapshot {snapshot_id}" if snapshot_id else None),
            *[
                ("Sheet", sheet, f"{sheet} CTE, {basis}", how)
                for sheet, (basis, how) in _SHEET_BASIS.items()
            ],
            *[
                (
                    "CTE not included",
                    cte,
                    f"{cte} ({basis})",
                    "not recorded in the lotline data contract: no such events are held",
                )
                for cte, basis in NOT_RECORDED
            ],
            ("Not included", "moves", "internal stock moves", NOT_EXPORTED),
        ],
        schema={c: text for c in GLOSSARY_COLUMNS},
        orient="row",
    )
    columns = column_meanings().select(pl.lit("Column").alias("Category"), pl.all())
    gtins = (
        product_descriptions(master.products)
        .join(master.products.select("gtin", "uom"), on="gtin")
        .filter(pl.col("gtin").is_in(sorted(used["gtin"])))
        .select(
            pl.lit("GTIN").alias("Category"),
            pl.col("gtin").alias("Code"),
            pl.col("name").alias("Meaning"),
            _joined(
                ("brand", "brand"),
                ("commodity", "commodity"),
                ("variety", "variety"),
                ("pack size", "pack_size"),
                ("pack style", "pack_style"),
                ("unit", "uom"),
            ).alias("Details"),
        )
    )
    places = (
        location_descriptions(master.locations)
        .join(master.locations.select("location_id", "kind"), on="location_id")
        .filter(pl.col("location_id").is_in(sorted(used["location"])))
        .select(
            pl.lit("Location ID").alias("Category"),
            pl.col("location_id").alias("Code"),
            pl.col("business_name").alias("Meaning"),
            _joined(
                ("kind", "kind"),
                ("address", "street"),
                ("city", "city"),
                ("state", "region"),
                ("ZIP", "postal_code"),
                ("country", "country"),
                ("phone", "phone"),
                ("GLN", "gln"),
            ).alias("Details"),
        )
    )
    pack_units = master.products.filter(pl.col("gtin").is_in(sorted(used["gtin"])))["pack_uom"]
    used["uom"] |= set(pack_units.drop_nulls().to_list())  # codes inside "Packaging Size"
    units = _code_rows("Unit of Measure", used["uom"], UOM_NAMES, "UN/CEFACT Recommendation 20")
    order = {code: i for i, code in enumerate(REF_DOC_TYPES)}
    docs = _code_rows(
        "Reference Document Type",
        sorted(used["ref_doc_type"], key=lambda c: (order.get(c, len(order)), c)),
        REF_DOC_NAMES,
        "GS1 CBV business transaction type or lotline addition",
        keep_order=True,
    )
    evidence = _code_rows("Input Lot Evidence", used["evidence"], EVIDENCE, "lotline")
    parts = [head, columns, gtins.sort("Code"), places.sort("Code"), units, docs, evidence]
    return pl.concat([p.cast({c: text for c in GLOSSARY_COLUMNS}) for p in parts])


def _joined(*fields: tuple[str, str]) -> pl.Expr:
    """'brand: Millers; commodity: wheat flour; …' leaving out fields without a value."""
    parts = [
        pl.concat_str([pl.lit(f"{label}: "), pl.col(column).cast(pl.String)])
        for label, column in fields
    ]
    return pl.concat_str(parts, separator="; ", ignore_nulls=True)


def _code_rows(
    category: str,
    codes: Iterable[str],
    names: dict[str, str],
    source: str,
    keep_order: bool = False,
) -> pl.DataFrame:
    listed = list(codes) if keep_order else sorted(codes)
    return pl.DataFrame(
        [(category, c, names.get(c, "not a code of the data contract"), source) for c in listed],
        schema={c: pl.String for c in GLOSSARY_COLUMNS},
        orient="row",
    )


def _codes_used(frames: dict[str, pl.DataFrame]) -> dict[str, set[str]]:
    """Every code value the event sheets hold, by kind."""

    def values(kind: str) -> set[str]:
        found: set[str] = set()
        for frame in frames.values():
            for column in frame.columns:
                if _kind(column) == kind:
                    found |= set(frame[column].drop_nulls().to_list())
        return found

    return {k: values(k) for k in ("gtin", "location", "uom", "ref_doc_type", "evidence")}


def _kind(column: str) -> str | None:
    if column.endswith("GTIN"):
        return "gtin"
    if column.endswith("Location ID"):
        return "location"
    if column.endswith("Unit of Measure"):
        return "uom"
    if column == "Reference Document Type":
        return "ref_doc_type"
    if column == "Input Lot Evidence":
        return "evidence"
    return None
