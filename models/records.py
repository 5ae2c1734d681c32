"""Validated input records, stored append-only as they arrived.

Each table is one record type of the data contract; each row maps onto an EPCIS 2.0 event
(see docs/data-contract.md). `record_hash` identifies a row by its content, which makes a re-load
of the same rows a no-op; `source_file`/`source_row` keep the provenance an auditor asks for.
"""

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from models._columns import utc_timestamp


class _Provenance(SQLModel):
    record_hash: str = Field(primary_key=True)
    source_sha256: str = Field(index=True)
    source_file: str
    source_row: int
    load_id: str = Field(index=True)


class _Line(SQLModel):
    gtin: str = Field(index=True)
    lot: str = Field(index=True)
    serial: str | None = None
    quantity: float
    uom: str


class _RefDoc(SQLModel):
    ref_doc_type: str | None = None
    ref_doc_number: str | None = None


class ReceiptRecord(_Provenance, _Line, _RefDoc, table=True):
    __tablename__ = "receipt_record"
    receipt_id: str = Field(index=True)
    received_at: datetime = utc_timestamp()
    tz_offset: str
    from_location_id: str
    to_location_id: str
    production_date: date | None = None
    expiry_date: date | None = None
    tlc_source_reference: str | None = None


class ProductionRecord(_Provenance, _Line, _RefDoc, table=True):
    __tablename__ = "production_record"
    production_id: str = Field(index=True)
    completed_at: datetime = utc_timestamp()
    tz_offset: str
    location_id: str
    production_date: date | None = None
    expiry_date: date | None = None


class ConsumptionRecord(_Provenance, _Line, table=True):
    __tablename__ = "consumption_record"
    production_id: str = Field(index=True)
    lot: str | None = Field(default=None, index=True, description="empty: input lots inferred")


class MoveRecord(_Provenance, _Line, table=True):
    __tablename__ = "move_record"
    move_id: str = Field(index=True)
    moved_at: datetime = utc_timestamp()
    tz_offset: str
    from_location_id: str | None = None
    to_location_id: str | None = None
    reason: str


class ShipmentRecord(_Provenance, _Line, _RefDoc, table=True):
    __tablename__ = "shipment_record"
    shipment_id: str = Field(index=True)
    shipped_at: datetime = utc_timestamp()
    tz_offset: str
    from_location_id: str
    to_location_id: str
    sscc: str | None = Field(default=None, index=True)
    # an SSCC-only line (a whole pallet) has no gtin/lot/quantity of its own: see PackingRecord
    gtin: str | None = Field(default=None, index=True)
    lot: str | None = Field(default=None, index=True)
    quantity: float | None = None
    uom: str | None = None


class PackingRecord(_Provenance, _RefDoc, table=True):
    """EPCIS AggregationEvent: one child packed into (`pack`) or taken out of (`unpack`) an SSCC."""

    __tablename__ = "packing_record"
    packing_id: str = Field(index=True)
    packed_at: datetime = utc_timestamp()
    tz_offset: str
    action: str = Field(description="pack | unpack")
    parent_sscc: str = Field(index=True)
    child_sscc: str | None = Field(default=None, index=True)
    gtin: str | None = Field(default=None, index=True)
    lot: str | None = Field(default=None, index=True)
    serial: str | None = None
    quantity: float | None = None
    uom: str | None = None
    location_id: str


class StatusRecord(_Provenance, _RefDoc, table=True):
    """A hold/release/recall/quarantine decision; the status in force is derived, not stored."""

    __tablename__ = "status_record"
    status_id: str = Field(index=True)
    at: datetime = utc_timestamp()
    tz_offset: str
    gtin: str = Field(index=True)
    lot: str | None = Field(default=None, index=True)
    serial: str | None = None
    status: str = Field(description="hold | release | recall | quarantine")
    actor: str
    reason: str | None = None


RECORD_TABLES: dict[str, type[SQLModel]] = {
    "receipts": ReceiptRecord,
    "production": ProductionRecord,
    "consumption": ConsumptionRecord,
    "moves": MoveRecord,
    "shipments": ShipmentRecord,
    "packing": PackingRecord,
    "status": StatusRecord,
}
