"""SQLModel tables of lotline. Plain package: no Dagster, no Polars."""

from models.access import AccessLogEntry, ApiToken, LoginAttempt, PortalSession, PortalUser
from models.audit import AuditEntry, AuditPage
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
from models.signatures import DocumentSignature

__all__ = [
    "LINEAGE_TABLES",
    "RECORD_TABLES",
    "AccessLogEntry",
    "ApiToken",
    "AssociationRecord",
    "AuditEntry",
    "AuditPage",
    "ConsumptionRecord",
    "DocumentSignature",
    "IssuedDocument",
    "LoadLock",
    "Location",
    "LoginAttempt",
    "Lot",
    "LotClosure",
    "LotCompleteness",
    "LotEdge",
    "LotMassBalance",
    "LotOnHand",
    "LotReceipt",
    "LotShipment",
    "LotStatus",
    "MockRecall",
    "MoveRecord",
    "PackingRecord",
    "PortalSession",
    "PortalUser",
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
    "TransactionRecord",
]
