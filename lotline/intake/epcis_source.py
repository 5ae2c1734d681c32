"""EPCIS documents in the drop folder, as contract files of the record types they feed.

A scan lists an EPCIS document once per record type its events feed (same path, same SHA-256),
so from there on it travels the CSV path unchanged: validation, quarantine, corrections, the
commit and idempotent re-loads. Its row numbers are event positions (1 = the first event of the
document; 0 = the document as a whole), and every finding's message names the event's JSON
pointer or XML path.

The records need what master data already says: a GLN that a location record carries is that
location, a GTIN that a product record carries is not synthesised again, and a serial commissioned
by an earlier load keeps its lot. That is read once per drop from the database (when there is one)
and from the drop's own CSV master data and serial receipts/production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from lotline.gs1.capture import (
    Captured,
    Document,
    DocumentError,
    Master,
    capture_drop,
    read_document,
    record_types_of,
)
from lotline.intake import findings as fnd
from lotline.intake.contract import RECORD_TYPES


@dataclass
class EpcisDrop:
    """The EPCIS documents of one drop folder, read together (a serial's lot may be in another
    document). Shared by every `SourceFile` of them; the records are computed once."""

    documents: list[tuple[str, Document]]
    master_files: list = field(default_factory=list)  # SourceFile of the drop's CSV files
    _captured: dict[str, Captured] | None = None
    _parts: dict[str, list[str]] | None = None

    def record_types(self) -> dict[str, list[str]]:
        """Record types each document feeds; master data only where the drop's CSV master data
        leaves a GTIN or GLN unnamed (the database is not read while scanning)."""
        if self._parts is None:
            masters = [f for f in self.master_files if f.record_type in ("products", "locations")]
            self._parts = record_types_of(self.documents, known_master(None, masters))
        return self._parts

    def captured(self, engine=None) -> dict[str, Captured]:
        if self._captured is None:
            self._captured = capture_drop(self.documents, known_master(engine, self.master_files))
        return self._captured


def read_epcis(path: Path, data: bytes) -> Document:
    """The document, or a document holding only the reason it cannot be read (quarantined)."""
    try:
        return read_document(data)
    except DocumentError as exc:
        return Document("json", [], [f"{path.name}: {exc}"], {})


def known_master(engine, master_files: list) -> Master:
    """GTINs, locations by GLN and serial lots known from the database and the drop's CSVs."""
    from lotline.intake.reading import read_source

    products, locations, serials = [], [], []
    stored_ids: dict[str, frozenset[str]] = {}
    if engine is not None:
        import models
        from lotline import store
        from lotline.gs1.capture.events import RECORD_ID_COLUMNS

        for name, column in RECORD_ID_COLUMNS.items():
            ids = store.read_frame(engine, models.RECORD_TABLES[name], columns=[column])
            stored_ids[name] = frozenset(ids[column].unique())

        products.append(store.read_frame(engine, models.Product, columns=["gtin"]))
        locations.append(store.read_frame(engine, models.Location, columns=["location_id", "gln"]))
        for model in (models.ReceiptRecord, models.ProductionRecord):
            serials.append(
                store.read_frame(
                    engine,
                    model,
                    where=store.table(model).c.serial.is_not(None),
                    columns=["gtin", "serial", "lot"],
                )
            )
    for source in master_files:
        rows = read_source(source).rows
        if source.record_type == "products":
            products.append(rows.select("gtin"))
        elif source.record_type == "locations":
            locations.append(rows.select("location_id", "gln"))
        elif source.record_type in ("receipts", "production"):
            serials.append(rows.select("gtin", "serial", "lot").drop_nulls("serial"))
    gtins = {
        g.zfill(14) for frame in products for g in frame["gtin"].cast(pl.String) if g is not None
    }
    location_ids, by_gln = set(), {}
    for frame in locations:
        for location_id, gln in frame.select(pl.all().cast(pl.String)).iter_rows():
            if location_id:
                location_ids.add(location_id)
                if gln:
                    by_gln.setdefault(gln, location_id)
    lots = {}
    for frame in serials:
        for gtin, serial, lot in frame.select(pl.all().cast(pl.String)).iter_rows():
            if gtin and serial and lot:
                lots.setdefault((gtin.zfill(14), serial), lot)
    return Master(frozenset(gtins), frozenset(location_ids), by_gln, lots, stored_ids)


def source_read(source, engine=None):
    """`SourceRead` of one EPCIS document's part of one record type."""
    from lotline.intake.reading import SOURCE_ROW, SourceRead

    captured = source.epcis.captured(engine)[source.name]
    rt = RECORD_TYPES[source.record_type]
    rows = captured.rows.get(source.record_type, [])
    frame = pl.DataFrame(
        [{SOURCE_ROW: r["_source_row"], **{c: r.get(c) for c in rt.columns}} for r in rows],
        schema={SOURCE_ROW: pl.Int64, **{c: pl.String for c in rt.columns}},
        orient="row",
    )
    parts = source.epcis.record_types()[source.name]
    first = parts[0] if parts else source.record_type
    present = set(frame[SOURCE_ROW])
    notes = []
    for finding in captured.findings:
        owner = finding["record_type"] or first
        if owner != source.record_type:
            continue
        row = finding["row_number"]
        if finding["severity"] == fnd.ERROR and row is None:
            row = 0  # the document as a whole
        elif finding["severity"] == fnd.WARNING and row not in present:
            row = None  # about an event that gave no record of this type: a note on the file
        notes.append(
            {
                **finding,
                "row_number": row,
                "record_type": source.record_type,
                "source_sha256": source.sha256,
                "source_file": source.name,
            }
        )
    return SourceRead(frame.select(SOURCE_ROW, *rt.columns), fnd.frame(notes))
