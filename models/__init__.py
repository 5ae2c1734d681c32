"""SQLModel tables of lotline. Plain package: no Dagster, no Polars."""

from models.lineage import LINEAGE_TABLES, Lot, LotEdge, LotOnHand, LotReceipt, LotShipment, Serial
from models.loads import RejectedRecord, Snapshot, SourceFile
from models.master import Location, Product
from models.records import (
    RECORD_TABLES,
    ConsumptionRecord,
    MoveRecord,
    ProductionRecord,
    ReceiptRecord,
    ShipmentRecord,
)

__all__ = [
    "LINEAGE_TABLES",
    "RECORD_TABLES",
    "ConsumptionRecord",
    "Location",
    "Lot",
    "LotEdge",
    "LotOnHand",
    "LotReceipt",
    "LotShipment",
    "MoveRecord",
    "Product",
    "ProductionRecord",
    "ReceiptRecord",
    "RejectedRecord",
    "Serial",
    "ShipmentRecord",
    "Snapshot",
    "SourceFile",
]
