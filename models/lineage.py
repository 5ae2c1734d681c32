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
    share: float | None = Field(
        default=None, description="share of the output lot's material that came from this input"
    )
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


class LotClosure(SQLModel, table=True):
    """Every (ancestor, descendant) pair of the genealogy, precomputed so that a trace is one
    indexed range read: the shortest number of transformations between them and the exposure,
    the share of the descendant's material that came from the ancestor (≤ 1)."""

    __tablename__ = "lot_closure"
    ancestor_key: int = Field(primary_key=True)
    descendant_key: int = Field(primary_key=True, index=True)
    depth: int
    exposure: float
    snapshot_id: str


class TraceException(SQLModel, table=True):
    """A finding of a trace completeness check (`lotline.completeness.CHECKS`)."""

    __tablename__ = "trace_exception"
    id: int | None = Field(default=None, primary_key=True)
    check: str = Field(index=True)
    severity: str = Field(description="error | warning | info")
    gtin: str | None = Field(default=None, index=True)
    lot: str | None = Field(default=None, index=True)
    serial: str | None = None
    reference: str | None = None
    detail: str | None = None
    snapshot_id: str


class LotCompleteness(SQLModel, table=True):
    """Per lot: the share of the applicable completeness checks it passes (reports print it)."""

    __tablename__ = "lot_completeness"
    lot_key: int = Field(primary_key=True)
    gtin: str
    lot: str
    score: float
    n_checks: int
    n_exceptions: int
    checks_failed: str | None = Field(default=None, description="comma-separated check names")
    snapshot_id: str


class LotMassBalance(SQLModel, table=True):
    """Per lot, in the product's unit: inflow = received + produced + returned + adjusted in;
    accounted = consumed + shipped + destroyed + adjusted out + on hand; status pass|fail|..."""

    __tablename__ = "lot_mass_balance"
    lot_key: int = Field(primary_key=True)
    gtin: str
    lot: str
    product_name: str | None = None
    uom: str | None = None
    quantity_received: float | None = None
    quantity_produced: float | None = None
    quantity_returned: float | None = None
    quantity_adjusted_in: float | None = None
    quantity_consumed: float | None = None
    quantity_shipped: float | None = None
    quantity_destroyed: float | None = None
    quantity_adjusted_out: float | None = None
    quantity_on_hand: float | None = None
    inflow: float | None = None
    accounted: float | None = None
    difference: float | None = None
    balance_ratio: float | None = None
    unconvertible_rows: int = 0
    status: str = Field(index=True)
    snapshot_id: str


class LotStatus(SQLModel, table=True):
    """The hold / release / recall / quarantine status now in force per lot and per serial with
    events of its own, derived from the append-only status records (never updated in place)."""

    __tablename__ = "lot_status"
    id: int | None = Field(default=None, primary_key=True)
    gtin: str = Field(index=True)
    lot: str | None = Field(default=None, index=True)
    serial: str | None = None
    status: str = Field(description="hold | release | recall | quarantine")
    status_at: datetime = utc_timestamp()
    status_id: str
    status_actor: str | None = None
    status_reason: str | None = None
    status_source: str = Field(description="lot | serial: whose event is in force")
    snapshot_id: str


LINEAGE_TABLES: tuple[type[SQLModel], ...] = (
    Lot,
    LotEdge,
    Serial,
    LotShipment,
    LotReceipt,
    LotOnHand,
    LotClosure,
    TraceException,
    LotCompleteness,
    LotMassBalance,
    LotStatus,
)
