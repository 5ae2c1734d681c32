"""The input data contract, as code.

One definition drives the reader (which columns must exist), the validation suites (which rules
apply to which column), the sample-data generator and `docs/data-contract.md`. Field names follow
FSMA 204 key data elements and GS1 terms so that every stored row maps onto an EPCIS 2.0 event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

Kind = Literal[
    "text",  # free text, stripped
    "gtin",  # GTIN-8/12/13/14 with a valid check digit, stored as GTIN-14
    "gln",  # 13-digit GS1 Global Location Number with a valid check digit
    "sscc",  # 18-digit GS1 Serial Shipping Container Code with a valid check digit
    "decimal",  # a number written with a dot as decimal separator
    "integer",
    "timestamp",  # ISO 8601 date-time with a UTC offset (Z or +hh:mm)
    "date",  # ISO 8601 calendar date YYYY-MM-DD
    "choice",  # one of `choices`
    "uom",  # UN/CEFACT Recommendation 20 unit code
    "latitude",
    "longitude",
    "flag",  # yes/no: true, yes, y, 1, x, void (and false, no, n, 0, empty)
]


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool = True
    choices: tuple[str, ...] = ()
    doc: str = ""
    default: str | None = None  # stored when the cell is empty (optional fields only)


@dataclass(frozen=True)
class RecordType:
    """One kind of file in the drop folder, recognised by its file-name prefix."""

    name: str
    fields: tuple[Field, ...]
    doc: str
    epcis: str
    key: tuple[str, ...] = ()  # business key of one line; a second, different row with it conflicts
    master_data: bool = False
    references: dict[str, str] = field(default_factory=dict)  # column -> referenced record type

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def content_columns(self) -> list[str]:
        """The columns that make a record what it is (its content hash): not the reason given
        for a correction."""
        return [f.name for f in self.fields if f.name != "correction_reason"]

    @property
    def required_columns(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


TRACKING = ("lot", "serial")
LOCATION_KINDS = ("supplier", "site", "warehouse", "customer")
MOVE_REASONS = ("transfer", "adjustment", "scrap", "return", "destroy")
EXPIRY_KINDS = ("use_by", "best_before")
PACKING_ACTIONS = ("pack", "unpack")
EPCIS_ACTIONS = ("add", "delete", "observe")
STATUSES = ("hold", "release", "recall", "quarantine")
STATUSES_NEEDING_REASON = ("hold", "recall", "quarantine")
REF_DOC_TYPES = (
    "bol",  # bill of lading
    "po",  # purchase order
    "desadv",  # advance shipping notice
    "inv",  # invoice
    "prodorder",  # production / work order
    "recadv",  # receiving advice
    "rma",  # return authorisation
    "batch_record",  # batch or production log
)

REF_DOC_NAMES: dict[str, str] = {
    "bol": "bill of lading",
    "po": "purchase order",
    "desadv": "despatch advice / advance shipping notice (ASN)",
    "inv": "invoice",
    "prodorder": "production or work order",
    "recadv": "receiving advice",
    "rma": "return merchandise authorisation",
    "batch_record": "batch or production log",
}
"""Glossary names of the reference document types (in `REF_DOC_TYPES` order, as glossaries list
them): one list for the PDFs and the FSMA 204 spreadsheet."""

# UN/CEFACT Recommendation 20 codes accepted for quantities (the subset a food, drug, device or
# chemical company uses; the full list has ~2,000 codes). Name is printed in the glossary.
UOM_NAMES: dict[str, str] = {
    "EA": "each",
    "H87": "piece",
    "C62": "one (unit)",
    "CS": "case",
    "BX": "box",
    "PK": "pack",
    "BG": "bag",
    "BO": "bottle",
    "CT": "carton",
    "DR": "drum",
    "PF": "pallet (lift)",
    "KGM": "kilogram",
    "GRM": "gram",
    "MGM": "milligram",
    "TNE": "tonne",
    "LBR": "pound",
    "ONZ": "ounce",
    "LTR": "litre",
    "MLT": "millilitre",
    "MTQ": "cubic metre",
    "GLL": "US gallon",
}

_tlc = "the traceability lot code (TLC) of FSMA 204; (gtin, lot) identifies a lot"
_qty = "quantity in `uom`, > 0"
_ref = (
    Field(
        "ref_doc_type",
        "choice",
        required=False,
        choices=REF_DOC_TYPES,
        doc="reference document type (CBV bizTransaction type)",
    ),
    Field("ref_doc_number", "text", required=False, doc="reference document number"),
)

PRODUCTS = RecordType(
    key=("gtin",),
    name="products",
    master_data=True,
    doc="Product master data: the FSMA 204 product description and how the product is tracked.",
    epcis="EPCIS master data (vocabulary `urn:epcglobal:epcis:vtype:EPCClass`)",
    fields=(
        Field("gtin", "gtin", doc="GTIN-8/12/13/14 with valid check digit; stored as GTIN-14"),
        Field("name", "text", doc="product name"),
        Field("brand", "text", required=False),
        Field("commodity", "text", required=False),
        Field("variety", "text", required=False),
        Field("pack_size", "decimal", required=False, doc="packaging size"),
        Field("pack_uom", "uom", required=False, doc="unit of the packaging size"),
        Field("pack_style", "text", required=False, doc="packaging style, e.g. carton, bottle"),
        Field("tracking", "choice", choices=TRACKING, doc="`lot` or `serial` (serialised units)"),
        Field("shelf_life_days", "integer", required=False),
        Field("uom", "uom", doc="unit of measure every quantity of this product is recorded in"),
        Field(
            "expiry_kind",
            "choice",
            required=False,
            choices=EXPIRY_KINDS,
            default="use_by",
            doc="what `expiry_date` means: use-by = not to be used or shipped "
            "after the date (safety); best-before = quality date, the product stays usable",
        ),
    ),
)

LOCATIONS = RecordType(
    key=("location_id",),
    name="locations",
    master_data=True,
    doc="Location master data: the FSMA 204 location description (7 fields) plus GLN.",
    epcis="EPCIS master data (vocabulary `urn:epcglobal:epcis:vtype:BusinessLocation`)",
    fields=(
        Field("location_id", "text"),
        Field("kind", "choice", choices=LOCATION_KINDS),
        Field("business_name", "text"),
        Field("gln", "gln", required=False),
        Field("phone", "text", required=False),
        Field("street", "text", required=False),
        Field("city", "text", required=False),
        Field("region", "text", required=False, doc="state / province"),
        Field("postal_code", "text", required=False),
        Field("country", "text", required=False, doc="ISO 3166-1 alpha-2"),
        Field("latitude", "latitude", required=False),
        Field("longitude", "longitude", required=False),
    ),
)

RECEIPTS = RecordType(
    key=("receipt_id", "gtin", "lot", "serial"),
    name="receipts",
    doc="Stock received from a supplier (FSMA 204 receiving CTE, 21 CFR 1.1345).",
    epcis="ObjectEvent OBSERVE, bizStep `receiving`, sourceList = from_location_id, "
    "bizLocation = to_location_id, quantityList/epcList of the lot or serial",
    references={"from_location_id": "locations", "to_location_id": "locations", "gtin": "products"},
    fields=(
        Field("receipt_id", "text"),
        Field("received_at", "timestamp"),
        Field("from_location_id", "text", doc="immediate previous source"),
        Field("to_location_id", "text", doc="receiving location"),
        Field("gtin", "gtin"),
        Field("lot", "text", doc=_tlc),
        Field("serial", "text", required=False),
        Field("quantity", "decimal", doc=_qty),
        Field("uom", "uom"),
        Field("production_date", "date", required=False),
        Field("expiry_date", "date", required=False),
        Field(
            "tlc_source_reference",
            "text",
            required=False,
            doc="where the TLC was assigned: GLN, FDA FFRN or URL",
        ),
        *_ref,
    ),
)

PRODUCTION = RecordType(
    key=("production_id", "gtin", "lot", "serial"),
    name="production",
    doc="Outputs of a transformation (FSMA 204 transformation CTE, 21 CFR 1.1350(a)(2)); "
    "several rows per production_id for co-products, splits or serialised units.",
    epcis="TransformationEvent, transformationID = production_id, outputQuantityList/"
    "outputEPCList, bizLocation = location_id, ILMD production and expiry dates",
    references={"location_id": "locations", "gtin": "products"},
    fields=(
        Field("production_id", "text"),
        Field("completed_at", "timestamp"),
        Field("location_id", "text", doc="where the transformation took place (TLC source)"),
        Field("gtin", "gtin"),
        Field("lot", "text", doc="new TLC assigned to the output"),
        Field("serial", "text", required=False),
        Field("quantity", "decimal", doc=_qty),
        Field("uom", "uom"),
        Field("production_date", "date", required=False),
        Field("expiry_date", "date", required=False),
        *_ref,
    ),
)

CONSUMPTION = RecordType(
    key=("production_id", "gtin", "lot", "serial"),
    name="consumption",
    doc="Inputs of a transformation with the quantity used from each input lot "
    "(21 CFR 1.1350(a)(1)(iii)).",
    epcis="TransformationEvent inputQuantityList/inputEPCList of the same production_id",
    references={"production_id": "production", "gtin": "products"},
    fields=(
        Field("production_id", "text"),
        Field("gtin", "gtin"),
        Field(
            "lot",
            "text",
            required=False,
            doc="input lot; empty when the system recorded only the product (the input lots are "
            "then inferred from stock, evidence `inferred`)",
        ),
        Field("serial", "text", required=False),
        Field("quantity", "decimal", doc=_qty),
        Field("uom", "uom"),
    ),
)

MOVES = RecordType(
    key=("move_id", "gtin", "lot", "serial", "from_location_id", "to_location_id"),
    name="moves",
    doc="Stock moves and adjustments inside the company. A move with only `from_location_id` "
    "removes stock (scrap, destroy, negative adjustment); with only `to_location_id` it adds stock "
    "(positive adjustment).",
    epcis="ObjectEvent OBSERVE; bizStep by reason: transfer `departing`+`arriving`, adjustment "
    "`stock_taking`, scrap/destroy `destroying`, return `receiving` (disposition `returned`)",
    references={"from_location_id": "locations", "to_location_id": "locations", "gtin": "products"},
    fields=(
        Field("move_id", "text"),
        Field("moved_at", "timestamp"),
        Field("gtin", "gtin"),
        Field("lot", "text"),
        Field("serial", "text", required=False),
        Field("quantity", "decimal", doc=_qty),
        Field("uom", "uom"),
        Field("from_location_id", "text", required=False),
        Field("to_location_id", "text", required=False),
        Field("reason", "choice", choices=MOVE_REASONS),
    ),
)

SHIPMENTS = RecordType(
    key=("shipment_id", "gtin", "lot", "serial", "sscc"),
    name="shipments",
    doc="Stock shipped to the immediate subsequent recipient (FSMA 204 shipping CTE, 1.1340; "
    "21 CFR 211.196 distribution record). A line names either a lot (`gtin` + `lot`, optionally "
    "the `sscc` it travelled in) or only an `sscc`: a whole pallet or case, resolved to every "
    "serial and lot quantity packed in it at `shipped_at` (see `packing`).",
    epcis="ObjectEvent OBSERVE, bizStep `shipping`, disposition `in_transit`, sourceList = "
    "from_location_id, destinationList = to_location_id, parentID = sscc; an SSCC-only line is "
    "an ObjectEvent on the SSCC (epcList `urn:epc:id:sscc:...`) whose contents the packing "
    "AggregationEvents give",
    references={"from_location_id": "locations", "to_location_id": "locations", "gtin": "products"},
    fields=(
        Field("shipment_id", "text"),
        Field("shipped_at", "timestamp"),
        Field("from_location_id", "text", doc="ship-from location"),
        Field("to_location_id", "text", doc="immediate subsequent recipient"),
        Field("gtin", "gtin", required=False, doc="required unless the line is an SSCC only"),
        Field("lot", "text", required=False, doc="required with `gtin`"),
        Field("serial", "text", required=False),
        Field("sscc", "sscc", required=False, doc="pallet or case the line shipped in"),
        Field("quantity", "decimal", required=False, doc=_qty + "; required with `gtin`"),
        Field("uom", "uom", required=False, doc="required with `gtin`"),
        *_ref,
    ),
)

PACKING = RecordType(
    key=("packing_id", "parent_sscc", "child_sscc", "gtin", "lot", "serial"),
    name="packing",
    doc="Packing and unpacking of logistic units (pallets, cases) identified by an SSCC. Each "
    "row puts exactly one child into `parent_sscc` (`pack`) or takes it out (`unpack`): another "
    "SSCC (`child_sscc`, a case on a pallet), one serial (`gtin` + `serial`) or a lot quantity "
    "(`gtin` + `lot` + `quantity` + `uom`). Contents at a time are derived from the events, so "
    "an unpack followed by a pack into another pallet is followed (DSCSA inference by "
    "aggregation; see `lotline.aggregation`).",
    epcis="AggregationEvent, action ADD (`pack`, bizStep `packing`) or DELETE (`unpack`, bizStep "
    "`unpacking`), parentID = parent_sscc, childEPCs = child_sscc / sgtin of the serial, "
    "childQuantityList = lgtin of the lot with quantity and uom, bizLocation = location_id",
    references={"location_id": "locations", "gtin": "products"},
    fields=(
        Field("packing_id", "text"),
        Field("packed_at", "timestamp"),
        Field("action", "choice", choices=PACKING_ACTIONS, doc="`pack` (ADD) or `unpack` (DELETE)"),
        Field("parent_sscc", "sscc", doc="the pallet or case packed into or unpacked from"),
        Field("child_sscc", "sscc", required=False, doc="a case or other SSCC inside the parent"),
        Field("gtin", "gtin", required=False, doc="product of the serial or lot quantity inside"),
        Field("lot", "text", required=False, doc="lot of a lot quantity inside (not with serial)"),
        Field("serial", "text", required=False, doc="a serial inside; must be commissioned"),
        Field("quantity", "decimal", required=False, doc=_qty + "; with `lot` only"),
        Field("uom", "uom", required=False, doc="with `lot` only"),
        Field("location_id", "text", doc="where the packing took place"),
        *_ref,
    ),
)

STATUS = RecordType(
    key=("status_id", "gtin", "lot", "serial"),
    name="status",
    doc="Hold, release, recall and quarantine decisions as append-only events. The status in "
    "force is derived (latest event at or before a time, per lot; a serial follows its lot unless "
    "it has an event of its own at least as recent), never overwritten, so the history stays "
    "auditable (21 CFR 211.142/211.150, 7.46; see `lotline.status`).",
    epcis="ObjectEvent OBSERVE on the lgtin (gtin+lot) or sgtin (gtin+serial); hold and "
    "quarantine: bizStep `holding`, disposition `non_sellable_other`; recall: bizStep `holding`, "
    "disposition `recalled`; release: bizStep `inspecting`, disposition `sellable_accessible`; "
    "EPCIS 2.0 persistentDisposition set (hold, quarantine, recall) or unset (release); "
    "bizTransactionList = ref_doc_type/ref_doc_number",
    references={"gtin": "products"},
    fields=(
        Field("status_id", "text"),
        Field("at", "timestamp", doc="when the decision took effect"),
        Field("gtin", "gtin"),
        Field("lot", "text", required=False, doc="required unless `serial` is given"),
        Field("serial", "text", required=False, doc="status of one serial; must be commissioned"),
        Field("status", "choice", choices=STATUSES),
        Field("actor", "text", doc="who decided (person or role), for the audit trail"),
        Field("reason", "text", required=False, doc="required for hold, recall and quarantine"),
        *_ref,
    ),
)

_child = (
    Field(
        "child_id",
        "text",
        doc="what is associated, as its identifier URI (EPC URN or GS1 Digital Link): an SGTIN, "
        "an LGTIN class, an SSCC, or an asset such as a GIAI or GRAI",
    ),
    Field("gtin", "gtin", required=False, doc="product of the child, when it is a trade item"),
    Field("lot", "text", required=False, doc="lot of the child, when known"),
    Field("serial", "text", required=False, doc="serial of the child, when it is one item"),
    Field("sscc", "sscc", required=False, doc="the child, when it is a logistic unit"),
    Field("quantity", "decimal", required=False, doc=_qty + "; for a lot or class child"),
    Field("uom", "uom", required=False, doc="with `quantity`"),
    Field("location_id", "text", required=False, doc="where it was observed (bizLocation)"),
)

ASSOCIATIONS = RecordType(
    key=("association_id", "parent_id", "child_id"),
    name="associations",
    doc="Associations of objects with other objects that are not packing: a temperature "
    "logger or RFID tag with a pallet, a returnable asset (GRAI) with its contents, a device "
    "(GIAI) with the lot it processes. Kept as evidence beside the lineage; they move no stock "
    "and join no lots.",
    epcis="AssociationEvent; action ADD / DELETE / OBSERVE, parentID = parent_id, childEPCs / "
    "childQuantityList = child_id (one row per child), bizLocation = location_id",
    references={"location_id": "locations", "gtin": "products"},
    fields=(
        Field("association_id", "text"),
        Field("associated_at", "timestamp"),
        Field("action", "choice", choices=EPCIS_ACTIONS, doc="`add`, `delete` or `observe`"),
        Field("parent_id", "text", doc="the object associated with, as its identifier URI"),
        *_child,
        *_ref,
    ),
)

TRANSACTIONS = RecordType(
    key=("transaction_id", "transaction_type", "transaction_number", "child_id"),
    name="transactions",
    doc="Objects tied to (`add`) or released from (`delete`) a business transaction — a "
    "purchase order, an invoice, a certificate — without moving. Kept as evidence: which lots "
    "and serials a document names.",
    epcis="TransactionEvent; action ADD / DELETE / OBSERVE, bizTransactionList = "
    "transaction_type/transaction_number (one row per transaction and object), parentID = "
    "parent_id, epcList / quantityList = child_id, bizLocation = location_id",
    references={"location_id": "locations", "gtin": "products"},
    fields=(
        Field("transaction_id", "text"),
        Field("transacted_at", "timestamp"),
        Field("action", "choice", choices=EPCIS_ACTIONS, doc="`add`, `delete` or `observe`"),
        Field(
            "transaction_type",
            "text",
            doc="CBV business transaction type word (`po`, `inv`, `desadv`, `cert`, …) or the "
            "URI a company uses",
        ),
        Field("transaction_number", "text", doc="the transaction's identifier"),
        Field("parent_id", "text", required=False, doc="the parent object, as its identifier URI"),
        *_child,
    ),
)

CORRECTION_FIELDS = (
    Field(
        "correction_reason",
        "text",
        required=False,
        doc="why this row corrects the record sent before with the same key (21 CFR 11.10(e)); "
        "kept in the record's history, not part of its content",
    ),
    Field(
        "void",
        "flag",
        required=False,
        doc="yes: the record sent before with the same key is void (removed from lineage, kept "
        "in history)",
    ),
)
CORRECTION_COLUMNS = tuple(f.name for f in CORRECTION_FIELDS)
"""Optional on every event record type: a row re-sent with the same key and other values is a
correction; these say why, or that the record is void."""


def _with_corrections(rt: RecordType) -> RecordType:
    return replace(rt, fields=(*rt.fields, *CORRECTION_FIELDS))


(
    RECEIPTS,
    PRODUCTION,
    CONSUMPTION,
    MOVES,
    PACKING,
    SHIPMENTS,
    STATUS,
    ASSOCIATIONS,
    TRANSACTIONS,
) = (
    _with_corrections(rt)
    for rt in (
        RECEIPTS,
        PRODUCTION,
        CONSUMPTION,
        MOVES,
        PACKING,
        SHIPMENTS,
        STATUS,
        ASSOCIATIONS,
        TRANSACTIONS,
    )
)

RECORD_TYPES: dict[str, RecordType] = {
    rt.name: rt
    for rt in (
        PRODUCTS,
        LOCATIONS,
        RECEIPTS,
        PRODUCTION,
        CONSUMPTION,
        MOVES,
        PACKING,
        SHIPMENTS,
        STATUS,
        ASSOCIATIONS,
        TRANSACTIONS,
    )
}
"""In load order: master data first, then events; consumption after the production it refers to,
packing after the receipts and production that commission its serials and before the shipments
that ship its SSCCs; associations and transactions last (they only point at what is stored)."""

STOCK_RECORD_TYPES = ("receipts", "production", "consumption", "moves", "shipments")
"""Record types that change the quantity of a lot at a location."""

LINEAGE_RECORD_TYPES = (*STOCK_RECORD_TYPES, "packing", "status")
"""Record types the lineage is built from."""

EVENT_RECORD_TYPES = (*LINEAGE_RECORD_TYPES, "associations", "transactions")
"""Every append-only record type (stored with provenance, business keys must not conflict)."""

FILE_PATTERN = re.compile(
    r"^(?P<record_type>"
    + "|".join(RECORD_TYPES)
    + r")(?:[_.\-][^/]*)?\.(?P<ext>csv|xlsx|parquet)$",
    re.IGNORECASE,
)
"""A drop-folder file is `<record type>[_-.anything].csv|xlsx|parquet`, e.g.
`receipts_2026-11.csv`."""


def record_type_of(filename: str) -> str | None:
    match = FILE_PATTERN.match(filename)
    return match.group("record_type").lower() if match else None
