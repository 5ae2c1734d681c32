"""Lineage tables, rebuilt from the stored records for every snapshot.

Lots are keyed by a dense integer `lot_key` (per snapshot) so that genealogy edges and traces stay
small and fast; (gtin, lot) is kept alongside for humans and joins.
"""

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from models._columns import utc_timestamp


class Lot(SQLModel, table=True):
    lot_key: int = Field(primary_key=True)
    gtin: str = Field(index=True)
    lot: str = Field(index=True)
    product_name: str | None = None
    uom: str | None = None
    origin: str = Field(description="received | produced | received+produced | unknown")
    tlc_source_location_id: str | None = None
    tlc_source_reference: str | None = None
    first_seen_at: datetime | None = utc_timestamp(default=None)
    production_date: date | None = None
    expiry_date: date | None = None
    quantity_received: float = 0.0
    quantity_produced: float = 0.0
    quantity_consumed: float = 0.0
    quantity_shipped: float = 0.0
    quantity_returned: float = 0.0
    quantity_adjusted: float = Field(default=0.0, description="adjustments in minus out")
    quantity_destroyed: float = Field(default=0.0, description="scrap and destroy")
    quantity_on_hand: float = 0.0
    snapshot_id: str


class LotEdge(SQLModel, table=True):
    """Input lot -> output lot through one transformation, with the quantity of the input used."""

    __tablename__ = "lot_edge"
    id: int | None = Field(default=None, primary_key=True)
    parent_key: int = Field(index=True, description="input lot")
    child_key: int = Field(index=True, description="output lot")
    production_id: str
    completed_at: datetime = utc_timestamp()
    location_id: str
    input_quantity: float = Field(description="quantity of the input lot used (1.1350(a)(1)(iii))")
    input_uom: str
    output_quantity: float = Field(description="quantity of the output lot produced")
    output_uom: str
    evidence: str = Field(default="explicit", description="explicit | inferred")
    snapshot_id: str


class Serial(SQLModel, table=True):
    gtin: str = Field(primary_key=True)
    serial: str = Field(primary_key=True)
    lot_key: int = Field(index=True)
    lot: str
    origin: str = Field(description="produced | received")
    origin_id: str = Field(description="production_id or receipt_id")
    created_at: datetime = utc_timestamp()
    snapshot_id: str


class LotShipment(SQLModel, table=True):
    """A shipment line resolved to its lot, with the consignee."""

    __tablename__ = "lot_shipment"
    id: int | None = Field(default=None, primary_key=True)
    lot_key: int = Field(index=True)
    shipment_id: str = Field(index=True)
    shipped_at: datetime = utc_timestamp()
    tz_offset: str
    from_location_id: str
    to_location_id: str = Field(index=True)
    gtin: str
    lot: str
    serial: str | None = None
    sscc: str | None = None
    quantity: float
    uom: str
    ref_doc_type: str | None = None
    ref_doc_number: str | None = None
    snapshot_id: str


class LotReceipt(SQLModel, table=True):
    """A receipt line resolved to its lot, with the supplier."""

    __tablename__ = "lot_receipt"
    id: int | None = Field(default=None, primary_key=True)
    lot_key: int = Field(index=True)
    receipt_id: str = Field(index=True)
    received_at: datetime = utc_timestamp()
    tz_offset: str
    from_location_id: str = Field(index=True)
    to_location_id: str
    gtin: str
    lot: str
    serial: str | None = None
    quantity: float
    uom: str
    tlc_source_reference: str | None = None
    ref_doc_type: str | None = None
    ref_doc_number: str | None = None
    snapshot_id: str


class LotOnHand(SQLModel, table=True):
    """Stock on hand per lot and location (customer locations excluded)."""

    __tablename__ = "lot_on_hand"
    lot_key: int = Field(primary_key=True)
    location_id: str = Field(primary_key=True)
    quantity: float
    uom: str
    last_movement_at: datetime | None = utc_timestamp(default=None)
    snapshot_id: str


LINEAGE_TABLES: tuple[type[SQLModel], ...] = (
    Lot,
    LotEdge,
    Serial,
    LotShipment,
    LotReceipt,
    LotOnHand,
)
