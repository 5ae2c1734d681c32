"""SQLModel tables of lotline. Plain package: no Dagster, no Polars."""

from models.documents import IssuedDocument
from models.drill import MockRecall
from models.lineage import (
    LINEAGE_TABLES,
    Lot,
    LotClosure,
    LotCompleteness,
    LotEdge,
    LotMassBalance,
    LotOnHand,
    LotReceipt,
    LotShipment,
    LotStatus,
    Serial,
    TraceException,
)
from models.loads import LoadLock, RecordFinding, RejectedRecord, Snapshot, SourceFile
from models.master import Location, Product
from models.records import (
    RECORD_TABLES,
    AssociationRecord,
    ConsumptionRecord,
    MoveRecord,
    PackingRecord,
    ProductionRecord,
    ReceiptRecord,
    RecordHistory,
    ShipmentRecord,
    StatusRecord,
    TransactionRecord,
)

__all__ = [
    "LINEAGE_TABLES",
    "RECORD_TABLES",
    "AssociationRecord",
    "TransactionRecord",
    "ConsumptionRecord",
    "IssuedDocument",
    "Location",
    "LoadLock",
    "Lot",
    "LotClosure",
    "LotCompleteness",
    "LotMassBalance",
    "LotEdge",
    "LotOnHand",
    "LotReceipt",
    "LotShipment",
    "LotStatus",
    "MockRecall",
    "MoveRecord",
    "PackingRecord",
    "Product",
    "ProductionRecord",
    "ReceiptRecord",
    "RecordFinding",
    "RecordHistory",
    "RejectedRecord",
    "Serial",
    "ShipmentRecord",
    "Snapshot",
    "SourceFile",
    "StatusRecord",
    "TraceException",
]
