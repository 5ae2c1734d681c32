"""Validated input records: the version of each record in force.

Each table is one record type of the data contract; each row maps onto an EPCIS 2.0 event
(see docs/data-contract.md). `record_hash` identifies a row by its content, which makes a re-load
of the same rows a no-op; `line_key` is the record's business key, unique in the database, so two
versions of one record can never both be in force; `source_file`/`source_row` keep the provenance
an auditor asks for. A correction moves the version it replaces to `record_history` (append-only)
and takes its place here with the next `version`.
"""

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from models._columns import utc_timestamp


class _Provenance(SQLModel):
    record_hash: str = Field(primary_key=True)
    line_key: str = Field(
        unique=True,
        index=True,  # a named unique index (not an inline constraint): rebuilt after bulk loads
        description="business key of the record: one version of it is in force",
    )
    version: int = Field(default=1, description="1 when first sent, +1 with each correction")
    correction_reason: str | None = Field(default=None, description="why this version was sent")
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


class _Associated(SQLModel):
    """The child of an association or transaction: its URI, and the GS1 keys it decodes to."""

    action: str = Field(description="add | delete | observe")
    parent_id: str | None = Field(default=None, index=True)
    child_id: str = Field(index=True)
    gtin: str | None = Field(default=None, index=True)
    lot: str | None = Field(default=None, index=True)
    serial: str | None = None
    sscc: str | None = Field(default=None, index=True)
    quantity: float | None = None
    uom: str | None = None
    location_id: str | None = None


class AssociationRecord(_Provenance, _Associated, _RefDoc, table=True):
    """EPCIS AssociationEvent: an object (sensor, asset, tag) tied to another; no stock moves."""

    __tablename__ = "association_record"
    association_id: str = Field(index=True)
    associated_at: datetime = utc_timestamp()
    tz_offset: str
    parent_id: str = Field(index=True)


class TransactionRecord(_Provenance, _Associated, table=True):
    """EPCIS TransactionEvent: objects tied to a business transaction (PO, invoice, …)."""

    __tablename__ = "transaction_record"
    transaction_id: str = Field(index=True)
    transacted_at: datetime = utc_timestamp()
    tz_offset: str
    transaction_type: str
    transaction_number: str = Field(index=True)


RECORD_TABLES: dict[str, type[SQLModel]] = {
    "receipts": ReceiptRecord,
    "production": ProductionRecord,
    "consumption": ConsumptionRecord,
    "moves": MoveRecord,
    "shipments": ShipmentRecord,
    "packing": PackingRecord,
    "status": StatusRecord,
    "associations": AssociationRecord,
    "transactions": TransactionRecord,
}


class RecordHistory(SQLModel, table=True):
    """A version of a record that is no longer in force, and what replaced it (21 CFR 11.10(e)).

    Append-only: a correction or a void adds a row; nothing here is ever changed or deleted. With
    the versions in force in the record tables this is every version ever loaded."""

    __tablename__ = "record_history"
    record_type: str = Field(primary_key=True)
    line_key: str = Field(primary_key=True)
    version: int = Field(primary_key=True, description="the version that was replaced")
    record_hash: str
    record: str = Field(description="the replaced version's contract values as JSON")
    gtin: str | None = Field(default=None, index=True)
    lot: str | None = Field(default=None, index=True)
    source_file: str = Field(description="file the replaced version came from")
    source_row: int
    load_id: str = Field(description="load that stored the replaced version")
    change: str = Field(description="corrected | voided")
    changes: str = Field(description="JSON {column: [old, new]} of the correction")
    reason: str | None = Field(default=None, description="correction_reason given with it")
    changed_by_file: str
    changed_by_row: int
    changed_by_load: str = Field(index=True)
    changed_at: datetime = utc_timestamp()
