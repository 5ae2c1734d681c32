"""EPCIS 2.0 capture: documents of a drop folder -> contract records, as text.

`document` reads JSON-LD and XML into one event shape; `events` maps events onto record types
(the mapping table is in its docstring and in `docs/data-contract.md`). `capture_drop` works on
all the EPCIS documents of one drop at once, because a serial's lot is in the ILMD of the event
that commissioned it, which may be in another document, and because master data for products and
locations no master data names is synthesised once per drop (name unknown, with a warning),
never overriding master data that exists.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lotline.gs1.capture.document import (
    Document,
    DocumentError,
    Event,
    Quantity,
    cbv_word,
    read_document,
    sniff,
)
from lotline.gs1.capture.events import (
    LOTLINE_LOCATION,
    UNKNOWN_DESTINATION,
    UNKNOWN_LOT,
    UNKNOWN_SOURCE,
    WARNING,
    Captured,
    Master,
    commissioned_lots,
    guess_record_type,
    map_event,
    party_gln,
)
from lotline.gs1.capture.events import location_id as location_of

__all__ = [
    "Captured",
    "Document",
    "DocumentError",
    "Event",
    "Master",
    "UNKNOWN_LOT",
    "capture_drop",
    "Quantity",
    "cbv_word",
    "read_document",
    "record_types_of",
    "sniff",
]

_LOCATION_ROLES = {
    # (record type, column) -> location kind it implies; the first kind in KIND_ORDER wins
    ("receipts", "from_location_id"): "supplier",
    ("receipts", "to_location_id"): "site",
    ("shipments", "from_location_id"): "site",
    ("shipments", "to_location_id"): "customer",
    ("production", "location_id"): "site",
    ("packing", "location_id"): "site",
    ("moves", "from_location_id"): "site",
    ("moves", "to_location_id"): "site",
}
KIND_ORDER = ("site", "warehouse", "supplier", "customer")


def capture_drop(documents: list[tuple[str, Document]], master: Master) -> dict[str, Captured]:
    """Records and findings of each document (by name), read together as one drop."""
    serial_lots = {**commissioned_lots([e for _, d in documents for e in d.events])}
    serial_lots.update(master.serial_lots)  # a stored lot wins over one this drop repeats
    vocabulary = _vocabulary(documents)
    # a GLN the documents' master data gives a location_id is that location (master data wins)
    master = replace(master, location_by_gln={**vocabulary.ids_by_gln, **master.location_by_gln})
    out: dict[str, Captured] = {}
    for name, doc in documents:
        captured = Captured()
        if not doc.events:
            for problem in doc.problems:
                captured.note(None, "moves", "epcis_schema", "error", problem, "(whole file)")
            if not doc.problems:
                captured.note(None, None, "epcis_no_events", WARNING, "the document holds none")
        for event in doc.events:
            # a problem of the whole document quarantines every event of it
            event = replace(event, problems=[*event.problems, *doc.problems])
            map_event(event, master, serial_lots, captured)
        out[name] = captured
    _corrections_by_key(out)
    _consumption_summed(out)
    _synthesise_master(documents, out, master, vocabulary)
    for captured in out.values():
        captured.findings = _merged(captured.findings)
    return out


def _merged(found: list[dict]) -> list[dict]:
    """One finding per event, rule and column: a finding attaches to every record of its event,
    so ten serials without a lot make one warning naming them, not a hundred."""
    groups: dict[tuple, list[dict]] = {}
    for f in found:
        template = str(f["message"]).replace(str(f["value"]), "")  # the same words, item aside
        key = (f["record_type"], f["row_number"], f["rule"], f["column"], f["severity"], template)
        groups.setdefault(key, []).append(f)
    out = []
    for same in groups.values():
        first = dict(same[0])
        others = [str(f["value"]) for f in same[1:] if f["value"] != first["value"]]
        if others:
            shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
            first["message"] += f" (also {len(others)} more: {shown})"
        out.append(first)
    return out


def _consumption_summed(out: dict[str, Captured]) -> None:
    """Several TransformationEvents of one transformationID (one per output lot, as lotline
    exports them) name the same input lot: its consumption by that production is their sum."""
    from decimal import Decimal

    seen: dict[tuple, dict] = {}
    events: dict[tuple, set[str]] = {}  # the same event in two documents counts once
    for captured in out.values():
        kept = []
        for row in captured.rows.get("consumption", []):
            key = (row["production_id"], row["gtin"], row["lot"], row["serial"], row.get("void"))
            first = seen.get(key)
            if first is None or first["uom"] != row["uom"] or first["quantity"] is None:
                seen.setdefault(key, row)
                events.setdefault(key, set()).add(row["_event"])
                kept.append(row)
                continue
            if row["_event"] not in events[key]:
                events[key].add(row["_event"])
                total = Decimal(first["quantity"]) + Decimal(row["quantity"] or 0)
                first["quantity"] = format(total.normalize(), "f")
        if "consumption" in captured.rows:
            captured.rows["consumption"] = kept


def _corrections_by_key(out: dict[str, Captured]) -> None:
    """A corrective event that gives a record the same business key as the erroneous one (the
    same desadv, the same transformationID) corrects it: the void row is dropped and the
    correction carries the declaration's reason. Two rows with one key in one load would
    otherwise conflict."""
    from lotline.intake.contract import CORRECTION_COLUMNS, RECORD_TYPES

    for record_type, contract in RECORD_TYPES.items():
        if contract.master_data:
            continue

        def key(row: dict, contract=contract) -> tuple:
            return tuple(row.get(c) for c in contract.key)

        def content(row: dict, contract=contract) -> tuple:
            return tuple(row.get(c) for c in contract.columns if c not in CORRECTION_COLUMNS)

        voids = [
            row
            for captured in out.values()
            for row in captured.rows.get(record_type, [])
            if row.get("void")
        ]
        if not voids:
            continue
        reasons = {key(row): row["correction_reason"] for row in voids}
        erroneous = {content(row) for row in voids}  # the declared event itself, re-read
        corrected = set()
        for captured in out.values():
            for row in captured.rows.get(record_type, []):
                if not row.get("void") and key(row) in reasons and content(row) not in erroneous:
                    row["correction_reason"] = reasons[key(row)]
                    corrected.add(key(row))
        for captured in out.values():
            if record_type in captured.rows:
                captured.rows[record_type] = [
                    r
                    for r in captured.rows[record_type]
                    if not (r.get("void") and key(r) in corrected)
                ]


PRODUCT_ATTRIBUTES = {
    "descriptionShort": "name",
    "name": "name",
    "brand": "brand",
    "commodity": "commodity",
    "variety": "variety",
    "packSize": "pack_size",
    "packUom": "pack_uom",
    "packStyle": "pack_style",
    "tracking": "tracking",
    "shelfLifeDays": "shelf_life_days",
    "uom": "uom",
    "expiryKind": "expiry_kind",
}
"""epcisMasterData attribute (local name; CBV `mda` or lotline's) -> products column."""
LOCATION_ATTRIBUTES = {
    "name": "business_name",
    "streetAddressOne": "street",
    "city": "city",
    "state": "region",
    "postalCode": "postal_code",
    "countryCode": "country",
    "latitude": "latitude",
    "longitude": "longitude",
    "kind": "kind",
    "phone": "phone",
    "locationId": "location_id",
}
"""epcisMasterData attribute -> locations column."""


@dataclass
class _Vocabulary:
    """The drop's epcisMasterData, by GTIN and by location_id, as contract columns."""

    products: dict[str, dict[str, str]]
    locations: dict[str, dict[str, str]]
    ids_by_gln: dict[str, str]


def _vocabulary(documents: list[tuple[str, Document]]) -> _Vocabulary:
    from lotline.gs1.uri import parse_uri

    products: dict[str, dict[str, str]] = {}
    locations: dict[str, dict[str, str]] = {}
    ids_by_gln: dict[str, str] = {}
    for _, doc in documents:
        for uri, attributes in doc.master.items():
            location = {c: attributes[a] for a, c in LOCATION_ATTRIBUTES.items() if a in attributes}
            gln = party_gln(uri)
            if uri.startswith(LOTLINE_LOCATION) or gln:
                location_id = location.get("location_id") or location_of(uri, Master())
                if gln:
                    location.setdefault("gln", gln)
                    ids_by_gln.setdefault(gln, location_id)
                locations.setdefault(location_id, {**location, "location_id": location_id})
                continue
            try:
                gtin = parse_uri(uri).gtin
            except ValueError:
                continue
            if gtin:
                product = {
                    c: attributes[a] for a, c in PRODUCT_ATTRIBUTES.items() if a in attributes
                }
                products.setdefault(gtin, product)
    return _Vocabulary(products, locations, ids_by_gln)


def _synthesise_master(
    documents: list[tuple[str, Document]],
    out: dict[str, Captured],
    master: Master,
    vocabulary: _Vocabulary,
) -> None:
    """Products and locations the events name and no master data holds: from the documents'
    epcisMasterData when it describes them, else minimal (name unknown) with a warning."""
    products: dict[str, dict] = {}
    locations: dict[str, dict] = {}
    for name, _ in documents:
        captured = out[name]
        for record_type, rows in captured.rows.items():
            for row in rows:
                gtin = row.get("gtin")
                if gtin and gtin not in master.gtins:
                    product = products.setdefault(
                        gtin,
                        {
                            "doc": name,
                            "row": row["_source_row"],
                            "uom": row.get("uom"),
                            "serial": False,
                        },
                    )
                    product["serial"] |= bool(row.get("serial"))
                    product["uom"] = product["uom"] or row.get("uom")
                for column in ("from_location_id", "to_location_id", "location_id"):
                    location = row.get(column)
                    if not location or location in master.location_ids:
                        continue
                    kind = _LOCATION_ROLES.get((record_type, column), "site")
                    entry = locations.setdefault(
                        location, {"doc": name, "row": row["_source_row"], "kind": kind}
                    )
                    if KIND_ORDER.index(kind) < KIND_ORDER.index(entry["kind"]):
                        entry["kind"] = kind
    for gtin, p in products.items():
        captured = out[p["doc"]]
        described = vocabulary.products.get(gtin, {})
        captured.add(
            "products",
            {
                "_source_row": p["row"],
                "tracking": "serial" if p["serial"] else "lot",
                "uom": p["uom"] or "EA",
                **described,
                "gtin": gtin,
                "name": described.get("name") or f"unknown (GTIN {gtin}, from EPCIS)",
            },
        )
        if "name" not in described:
            captured.findings.append(
                _synthesised("products", p["row"], "gtin", gtin, f"GTIN {gtin} is in no product")
            )
    for location, entry in locations.items():
        captured = out[entry["doc"]]
        described = vocabulary.locations.get(location, {})
        gln = location if location.isdigit() and len(location) == 13 else None
        default = {
            UNKNOWN_SOURCE: "not stated in the EPCIS event (source)",
            UNKNOWN_DESTINATION: "not stated in the EPCIS event (destination)",
        }.get(location, f"unknown ({'GLN ' + gln if gln else location}, from EPCIS)")
        kind = entry["kind"]
        if location == UNKNOWN_SOURCE:
            kind = "supplier"
        elif location == UNKNOWN_DESTINATION:
            kind = "customer"
        captured.add(
            "locations",
            {
                "_source_row": entry["row"],
                "kind": kind,
                "gln": gln,
                **described,
                "location_id": location,
                "business_name": described.get("business_name") or default,
            },
        )
        if "business_name" not in described:
            captured.findings.append(
                _synthesised(
                    "locations",
                    entry["row"],
                    "location_id",
                    location,
                    f"{location} is in no location",
                )
            )


def _synthesised(record_type: str, row: int, column: str, value: str, what: str) -> dict:
    return {
        "record_type": record_type,
        "row_number": row,
        "column": column,
        "rule": "epcis_master_data_synthesised",
        "severity": WARNING,
        "value": value,
        "message": f"event {row}: {what} master data: a minimal record was made from the EPCIS "
        "event (name unknown unless the document's epcisMasterData names it)",
    }


def record_types_of(
    documents: list[tuple[str, Document]], master: Master | None = None
) -> dict[str, list[str]]:
    """Record types each document feeds, given what `master` knows (a scan lists a document
    once per type, with products and locations when it names some `master` does not). A
    document feeding none is listed under the type its first event suggests, so that it is
    loaded (and its notes kept), never skipped in silence."""
    dry = capture_drop(documents, master or Master())
    out = {}
    for name, doc in documents:
        captured = dry[name]
        found = {t for t, rows in captured.rows.items() if rows}
        found |= {f["record_type"] for f in captured.findings if f["record_type"]}
        if not found:
            found = {guess_record_type(doc.events[0]) if doc.events else "moves"}
        out[name] = sorted(found)
    return out
