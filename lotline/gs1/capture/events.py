"""EPCIS events -> lotline contract records (text rows, as a CSV of that record type would hold).

| EPCIS event | bizStep / action | record |
|---|---|---|
| ObjectEvent | `receiving` (`accepting`) | receipts |
| ObjectEvent | `shipping` | shipments |
| ObjectEvent | `commissioning` (ADD) | production (no inputs) |
| ObjectEvent | `departing`, `arriving`, `storing` | moves (transfer) |
| ObjectEvent | `receiving`/`arriving` + disposition `returned` | moves (return), not a receipt |
| ObjectEvent | `destroying` / `decommissioning` | moves (destroy / scrap) |
| ObjectEvent | `holding`, disposition `recalled`, `inspecting` | status (see Disposition) |
| AggregationEvent | ADD / DELETE | packing (pack / unpack) under the parent SSCC |
| AggregationEvent | OBSERVE | its children as an ObjectEvent of the same bizStep |
| TransformationEvent | inputs, outputs | consumption, production |
| AssociationEvent | ADD / DELETE / OBSERVE | associations: one row per child of the parent |
| TransactionEvent | ADD / DELETE / OBSERVE | transactions: a row per transaction and object |

From and to, by preference (the first one the event names):

- receipt: from = sourceList `location` > `owning_party` > `possessing_party`; to = bizLocation >
  destinationList `location` > readPoint > destination `owning_party`.
- shipment: from = sourceList `location` > bizLocation > readPoint (the dock) > source
  `owning_party`; to = destinationList `location` > `owning_party` > `possessing_party` (never
  the readPoint: that is the shipper's dock, not the customer).
- departing: from = bizLocation > readPoint > source `location`; to = destinationList as for a
  shipment. arriving and return: from = sourceList as for a receipt; to = bizLocation > readPoint.
- production, packing, status, destroying: bizLocation > readPoint.

A location is its GLN (an SGLN's extension, e.g. a dock door, is dropped: lineage is kept per
site), named by the location master data that carries that GLN, else the GLN itself. A location
the event does not state is `epcis:unknown-source` / `epcis:unknown-destination` (warning).

Identifiers: SGTIN -> gtin + serial, its lot the ILMD `lotNumber` of the event that commissioned or
produced it (in any document of the drop, or stored), else `(unknown)` (warning); LGTIN -> gtin +
lot; a GTIN class without lot (`idpat`) -> the event's ILMD lot, else `(unknown)` (an input
without lot is an inferred consumption); SSCC -> a logistic unit, never a lot. A quantity without
`uom` counts units (`EA`). Identifiers of other GS1 keys (GRAI, GIAI, …) are noted and left out.
EPC URNs and GS1 Digital Link URIs are read alike (`lotline.gs1.uri`).

Times: `eventTime` is written in the zone of `eventTimeZoneOffset` (same instant), so local dates
follow the event's site. ILMD: `productionDate` -> production_date, `itemExpirationDate` (else
`bestBeforeDate`) -> expiry_date, `lotNumber` -> the lot of serials and GTIN classes. Business
transactions: CBV types (`desadv`, `bol`, `po`, `inv`, `prodorder`, `recadv`, `rma`) ->
ref_doc_type/ref_doc_number. Disposition feeds status: `recalled` -> recall; `inspecting` or
`holding` with `sellable_accessible` -> release; other `holding` -> hold (EPCIS does not tell a
hold from a quarantine).

Record ids: events carry no shipment or receipt id. The business transaction names them (desadv,
then bol, for receipts and shipments; transformationID, then prodorder, for production), else a
hash of the event's standard fields (`epcis:<hash>`), identical for the JSON-LD and XML forms of
one event, so re-loading a document changes nothing. An event with an `errorDeclaration` voids
the stored records it gave (`void`, the reason and `correctiveEventIDs` in `correction_reason`,
the old version kept in `record_history`); its corrective events load as ordinary events.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from urllib.parse import unquote

from lotline.gs1.capture.document import Event, Quantity
from lotline.gs1.uri import GS1Key, parse_uri
from lotline.intake.contract import REF_DOC_TYPES

UNKNOWN_LOT = "(unknown)"
UNKNOWN_SOURCE = "epcis:unknown-source"
UNKNOWN_DESTINATION = "epcis:unknown-destination"
UNIT = "EA"

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Master:
    """What master data and stored records already say (stored plus the drop's CSV files)."""

    gtins: frozenset[str] = frozenset()
    location_ids: frozenset[str] = frozenset()
    location_by_gln: dict[str, str] = field(default_factory=dict)
    serial_lots: dict[tuple[str, str], str] = field(default_factory=dict)
    stored_ids: dict[str, frozenset[str]] = field(default_factory=dict)
    """Record ids (receipt_id, shipment_id, …) stored, by record type: what a correction voids."""


@dataclass
class Captured:
    """One document's contribution: contract text rows by record type, and findings."""

    rows: dict[str, list[dict[str, str | int | None]]] = field(default_factory=dict)
    findings: list[dict[str, object]] = field(default_factory=list)

    def add(self, record_type: str, row: dict[str, str | int | None]) -> None:
        self.rows.setdefault(record_type, []).append(row)

    def note(
        self,
        event: Event | None,
        record_type: str | None,
        rule: str,
        severity: str,
        message: str,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.findings.append(
            {
                "record_type": record_type,
                "row_number": event.position if event is not None else None,
                "column": column,
                "rule": rule,
                "severity": severity,
                "value": value if value is not None else (event.pointer if event else None),
                "message": (f"event {event.position} ({event.pointer}): " if event else "")
                + message,
            }
        )


@dataclass(frozen=True)
class Line:
    """One thing an event names: a serial, a lot quantity or a logistic unit."""

    uri: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    sscc: str | None = None
    quantity: Decimal | None = None
    uom: str | None = None


# --- identifiers --------------------------------------------------------------------------------


def party_gln(uri: str) -> str | None:
    """The GLN of a location or party URI: SGLN, PGLN or Digital Link /414/ and /417/."""
    from lotline.gs1 import check_digit

    text = uri.strip()
    if text.lower().startswith("urn:epc:id:pgln:"):
        parts = text.split(":")[-1].split(".")
        digits = "".join(parts)
        if len(parts) == 2 and digits.isdigit() and len(digits) == 12:
            return digits + str(check_digit(digits))
        return None
    if "/417/" in text:
        tail = text.split("/417/", 1)[1].split("/")[0].split("?")[0]
        return tail if tail.isdigit() and len(tail) == 13 else None
    try:
        key = parse_uri(text)
    except ValueError:
        return None
    return key.gln


LOTLINE_LOCATION = "urn:lotline:location:"
"""How lotline exports a location without a GLN (`lotline.gs1.epcis_export`)."""


def location_id(uri: str, master: Master) -> str:
    """The location_id of a location URI: master data's by GLN, else the GLN; lotline's own
    location URN by its id; any other URI as written."""
    text = uri.strip()
    if text.startswith(LOTLINE_LOCATION):
        return unquote(text[len(LOTLINE_LOCATION) :])
    gln = party_gln(text)
    if gln is None:
        return text
    return master.location_by_gln.get(gln, gln)


def _pick(event: Event, order: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The first location the event names, by (where, type) preference."""
    for where, kind in order:
        if where == "bizLocation" and event.biz_location:
            return event.biz_location, "bizLocation"
        if where == "readPoint" and event.read_point:
            return event.read_point, "readPoint"
        entries = event.sources if where == "source" else event.destinations
        if where in ("source", "destination"):
            for entry_type, uri in entries:
                if entry_type == kind:
                    return uri, f"{where}List {kind}"
    return None


SOURCE_ORDER = [("source", "location"), ("source", "owning_party"), ("source", "possessing_party")]
DESTINATION_ORDER = [
    ("destination", "location"),
    ("destination", "owning_party"),
    ("destination", "possessing_party"),
]
SITE_ORDER = [("bizLocation", ""), ("readPoint", "")]

FROM_TO = {
    "receipts": (SOURCE_ORDER, [*SITE_ORDER[:1], DESTINATION_ORDER[0], SITE_ORDER[1]]),
    "shipments": ([SOURCE_ORDER[0], *SITE_ORDER, SOURCE_ORDER[1]], DESTINATION_ORDER),
    "departing": ([*SITE_ORDER, SOURCE_ORDER[0]], DESTINATION_ORDER),
    "arriving": (SOURCE_ORDER, [*SITE_ORDER, DESTINATION_ORDER[0]]),
}


def _serial_lot(key: GS1Key, serial_lots: dict[tuple[str, str], str]) -> tuple[str | None, bool]:
    lot = key.lot or serial_lots.get((key.gtin or "", key.serial or ""))
    return (lot, True) if lot else (None, False)


def lines(
    event: Event,
    epcs: list[str],
    quantities: list[Quantity],
    serial_lots: dict[tuple[str, str], str],
    out: Captured,
    record_type: str,
) -> list[Line]:
    """What the event names, as lines; URIs that are no trade item or SSCC are noted."""
    found = []
    for uri in epcs:
        key = _key(uri, event, out, record_type)
        if key is None:
            continue
        if key.kind == "sscc":
            found.append(Line(uri, sscc=key.sscc))
        elif key.kind == "sgtin":
            lot, _ = _serial_lot(key, serial_lots)
            found.append(Line(uri, key.gtin, lot, key.serial, quantity=Decimal(1), uom=UNIT))
        elif key.gtin and key.kind in ("lgtin", "gtin", "idpat"):
            found.append(Line(uri, key.gtin, key.lot, key.serial, quantity=Decimal(1), uom=UNIT))
        else:
            _not_a_trade_item(event, uri, out, record_type)
    for q in quantities:
        key = _key(q.epc_class, event, out, record_type)
        if key is None:
            continue
        if not key.gtin:
            _not_a_trade_item(event, q.epc_class, out, record_type)
            continue
        if q.quantity is None:
            out.note(
                event,
                record_type,
                "epcis_quantity",
                WARNING,
                f"{q.epc_class} has no quantity: an unknown amount cannot be counted, left out",
                "quantity",
                q.epc_class,
            )
            continue
        found.append(Line(q.epc_class, key.gtin, key.lot, quantity=q.quantity, uom=q.uom or UNIT))
    return found


def _key(uri: str, event: Event, out: Captured, record_type: str) -> GS1Key | None:
    try:
        return parse_uri(uri)
    except ValueError as exc:
        out.note(event, record_type, "epcis_identifier", ERROR, str(exc), "gtin", uri)
        return None


def _not_a_trade_item(event: Event, uri: str, out: Captured, record_type: str) -> None:
    out.note(
        event,
        record_type,
        "epcis_identifier",
        WARNING,
        f"{uri} is not a trade item (GTIN) or SSCC: not traced, left out",
        "gtin",
        uri,
    )


# --- events -------------------------------------------------------------------------------------


def event_key(event: Event) -> str:
    """A stable id from the event's standard fields: the same event written as JSON-LD or XML,
    or re-sent, gets the same id; an error declaration of it too (the declaration is left out)."""

    def quantities(items: list[Quantity]) -> list[list[str]]:
        return sorted([_canonical(q.epc_class), str(q.quantity), q.uom or ""] for q in items)

    def uris(items: list[str]) -> list[str]:
        return sorted(_canonical(u) for u in items)

    content = {
        "type": event.type,
        "action": event.action,
        "time": event.event_time.isoformat() if event.event_time else event.time_text,
        "step": event.biz_step,
        "disposition": event.disposition,
        "epcs": uris(event.epcs),
        "quantities": quantities(event.quantities),
        "parent": _canonical(event.parent) if event.parent else None,
        "inputs": [uris(event.input_epcs), quantities(event.input_quantities)],
        "outputs": [uris(event.output_epcs), quantities(event.output_quantities)],
        "transformation": event.transformation_id,
        "where": [_canonical(u) if u else None for u in (event.read_point, event.biz_location)],
        "sources": sorted((t, _canonical(u)) for t, u in event.sources),
        "destinations": sorted((t, _canonical(u)) for t, u in event.destinations),
        "transactions": sorted(event.biz_transactions),
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return f"epcis:{digest[:24]}"


def _canonical(uri: str) -> str:
    """One spelling of a GS1 key whether written as EPC URN or Digital Link URI."""
    try:
        key = parse_uri(uri)
    except ValueError:
        return uri.strip()
    if key.kind == "other":
        return uri.strip()
    kind = "gtin" if key.kind == "idpat" else key.kind  # a GTIN class, in either notation
    parts = (kind, key.gtin, key.lot, key.serial, key.sscc, key.gln, key.gln_extension)
    return "|".join(p or "" for p in parts)


_REF_PREFERENCE = {
    "receipts": ("desadv", "bol", "recadv", "po", "inv"),
    "shipments": ("desadv", "bol", "inv", "po"),
    "production": ("prodorder", "batch_record", "po"),
    "moves": ("desadv", "bol", "rma", "po"),
    "packing": ("desadv", "bol", "prodorder", "po"),
    "status": ("rma", "po", "desadv"),
}


def reference(event: Event, record_type: str) -> tuple[str, str] | None:
    """The business transaction (CBV type word, value) to name the record's document by."""
    for wanted in _REF_PREFERENCE.get(record_type, REF_DOC_TYPES):
        for kind, value in event.biz_transactions:
            if kind == wanted:
                return kind, value
    return None


def time_text(event: Event) -> str | None:
    """The event time with the event's own offset: local dates (FSMA, expiry) follow it."""
    if event.event_time is None:
        return event.time_text
    return event.event_time.isoformat(timespec="milliseconds")


def _number(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def _ilmd_date(event: Event, *names: str) -> str | None:
    for name in names:
        value = event.ilmd.get(name)
        if value:
            return value.strip()[:10]
    return None


def _where(event: Event, order: list[tuple[str, str]], master: Master) -> str | None:
    picked = _pick(event, order)
    return location_id(picked[0], master) if picked else None


def _from_to(
    event: Event, kind: str, master: Master, out: Captured, record_type: str
) -> tuple[str, str]:
    order_from, order_to = FROM_TO[kind]
    source = _where(event, order_from, master)
    destination = _where(event, order_to, master)
    if source is None:
        source = UNKNOWN_SOURCE
        out.note(
            event,
            record_type,
            "epcis_location_not_stated",
            WARNING,
            "the event names no source location or party: from is unknown",
            "from_location_id",
            UNKNOWN_SOURCE,
        )
    if destination is None:
        destination = UNKNOWN_DESTINATION
        out.note(
            event,
            record_type,
            "epcis_location_not_stated",
            WARNING,
            "the event names no destination location or party: to is unknown",
            "to_location_id",
            UNKNOWN_DESTINATION,
        )
    return source, destination


def _site(event: Event, master: Master, out: Captured, record_type: str, column: str) -> str:
    site = _where(event, SITE_ORDER, master) or _where(event, DESTINATION_ORDER[:1], master)
    if site is None:
        out.note(
            event,
            record_type,
            "epcis_location_not_stated",
            WARNING,
            "the event names neither bizLocation nor readPoint: the location is unknown",
            column,
            UNKNOWN_DESTINATION,
        )
        return UNKNOWN_DESTINATION
    return site


def _lot_or_unknown(line: Line, ilmd_lot: str | None, event: Event, out: Captured, rt: str) -> str:
    lot = line.lot or ilmd_lot
    if lot:
        return lot
    out.note(
        event,
        rt,
        "epcis_lot_unknown",
        WARNING,
        f"{line.uri}: no lot is known (no lotNumber in the ILMD of the event that commissioned or "
        f"produced it): recorded under lot {UNKNOWN_LOT}",
        "lot",
        line.uri,
    )
    return UNKNOWN_LOT


def _with_ref(row: dict, event: Event, record_type: str) -> dict:
    ref = reference(event, record_type)
    row["ref_doc_type"], row["ref_doc_number"] = ref if ref else (None, None)
    return row


def _record_id(event: Event, record_type: str) -> str:
    if record_type == "production" and event.transformation_id:
        return event.transformation_id
    ref = reference(event, record_type)
    if ref and ref[0] in ("desadv", "bol", "prodorder", "rma"):
        return ref[1]
    return event_key(event)


def map_event(event: Event, master: Master, serial_lots: dict, out: Captured) -> None:
    """Append the event's records (and findings) to `out`."""
    if event.problems:
        rt = guess_record_type(event)
        for problem in event.problems:
            out.note(event, rt, "epcis_schema", ERROR, problem, "(whole event)")
        return
    if event.event_time is None:
        rt = guess_record_type(event)
        out.note(
            event,
            rt,
            "epcis_event_time",
            ERROR,
            f"eventTime {event.time_text!r} is not a date-time with a UTC offset",
            "(whole event)",
            event.time_text,
        )
        return
    if event.error_reason is not None:
        _declared_error(event, master, serial_lots, out)
        return
    match event.type:
        case "TransformationEvent":
            _transformation(event, master, serial_lots, out)
        case "AggregationEvent" if event.action in ("ADD", "DELETE"):
            _packing(event, master, serial_lots, out)
        case "ObjectEvent" | "AggregationEvent":
            _object(event, master, serial_lots, out)
        case "AssociationEvent":
            _association(event, master, serial_lots, out)
        case "TransactionEvent":
            _transaction(event, master, serial_lots, out)
        case _:
            out.note(
                event,
                None,
                "epcis_not_mapped",
                WARNING,
                f"{event.type} is not stored: lotline has no record type for it",
            )


def _declared_error(event: Event, master: Master, serial_lots: dict, out: Captured) -> None:
    """An event declared erroneous voids the records it gave, when they are stored; its
    corrective events (`correctiveEventIDs`) are ordinary events and load as new records."""
    reason = f"EPCIS errorDeclaration ({event.error_reason})"
    if event.corrective_ids:
        reason += "; corrected by " + ", ".join(event.corrective_ids)
    mine = Captured()
    map_event(replace(event, error_reason=None), master, serial_lots, mine)
    voided = 0
    for record_type, rows in mine.rows.items():
        id_column = RECORD_ID_COLUMNS[record_type]
        for row in rows:
            if row[id_column] in master.stored_ids.get(record_type, frozenset()):
                out.add(record_type, {**row, "void": "yes", "correction_reason": reason})
                voided += 1
    if not voided:
        out.note(
            event,
            None,
            "epcis_nothing_to_void",
            WARNING,
            f"{reason}: none of its records is stored, nothing to void",
        )


RECORD_ID_COLUMNS = {
    "receipts": "receipt_id",
    "shipments": "shipment_id",
    "production": "production_id",
    "consumption": "production_id",
    "moves": "move_id",
    "packing": "packing_id",
    "status": "status_id",
    "associations": "association_id",
    "transactions": "transaction_id",
}


_OBJECT_STEPS = {
    "receiving": "receipts",
    "accepting": "receipts",
    "shipping": "shipments",
    "commissioning": "production",
    "departing": "moves",
    "arriving": "moves",
    "storing": "moves",
    "destroying": "moves",
    "decommissioning": "moves",
    "holding": "status",
}


def guess_record_type(event: Event) -> str:
    """The record type an event would feed: where its problems are reported."""
    if event.type == "TransformationEvent":
        return "production"
    if event.type == "AggregationEvent" and event.action in ("ADD", "DELETE"):
        return "packing"
    return _OBJECT_STEPS.get(event.biz_step or "", "moves")


def _object(event: Event, master: Master, serial_lots: dict, out: Captured) -> None:
    step, disposition = event.biz_step or "", event.disposition or ""
    returned = disposition == "returned" and step in ("receiving", "arriving", "accepting")
    if event.type == "AggregationEvent" and event.parent and not event.epcs:
        epcs = [event.parent]
    else:
        epcs = event.epcs
    if returned:
        rt = "moves"
    elif step in _OBJECT_STEPS:
        rt = _OBJECT_STEPS[step]
    elif disposition == "recalled" or (
        step == "inspecting" and disposition == "sellable_accessible"
    ):
        rt = "status"  # a recall, or a release after inspection (as lotline exports them)
    else:
        out.note(
            event,
            None,
            "epcis_not_mapped",
            WARNING,
            f"bizStep {step or '(none)'} changes no stock and no status: not stored",
        )
        return
    if rt == "production" and event.action != "ADD":
        out.note(event, None, "epcis_not_mapped", WARNING, "commissioning without ADD: not stored")
        return
    found = lines(event, epcs, event.quantities, serial_lots, out, rt)
    parent_sscc = None
    if event.type == "AggregationEvent" and event.parent:
        try:
            parent_sscc = parse_uri(event.parent).sscc
        except ValueError:
            parent_sscc = None
    at = time_text(event)
    ilmd_lot = event.ilmd.get("lotNumber")
    items = [line for line in found if line.gtin]
    ssccs = [line for line in found if line.sscc]
    if not items and not ssccs:
        out.note(event, rt, "epcis_nothing_to_place", ERROR, "names no trade item or SSCC")
        return
    record_id = _record_id(event, rt)
    if rt == "receipts":
        source, destination = _from_to(event, "receipts", master, out, rt)
        for line in items:
            out.add(
                rt,
                _with_ref(
                    {
                        "_source_row": event.position,
                        "receipt_id": record_id,
                        "received_at": at,
                        "from_location_id": source,
                        "to_location_id": destination,
                        "gtin": line.gtin,
                        "lot": _lot_or_unknown(line, ilmd_lot, event, out, rt),
                        "serial": line.serial,
                        "quantity": _number(line.quantity),
                        "uom": line.uom,
                        "production_date": _ilmd_date(event, "productionDate"),
                        "expiry_date": _ilmd_date(event, "itemExpirationDate", "bestBeforeDate"),
                    },
                    event,
                    rt,
                ),
            )
        _ssccs_not_lots(event, ssccs, out, rt)
    elif rt == "shipments":
        source, destination = _from_to(event, "shipments", master, out, rt)
        sscc_of_items = parent_sscc or (ssccs[0].sscc if len(ssccs) == 1 else None)
        shipped = items or ssccs
        for line in shipped:
            out.add(
                rt,
                _with_ref(
                    {
                        "_source_row": event.position,
                        "shipment_id": record_id,
                        "shipped_at": at,
                        "from_location_id": source,
                        "to_location_id": destination,
                        "gtin": line.gtin,
                        "lot": _lot_or_unknown(line, None, event, out, rt) if line.gtin else None,
                        "serial": line.serial,
                        "sscc": line.sscc if not line.gtin else sscc_of_items,
                        "quantity": _number(line.quantity) if line.gtin else None,
                        "uom": line.uom if line.gtin else None,
                    },
                    event,
                    rt,
                ),
            )
    elif rt == "production":
        site = _site(event, master, out, rt, "location_id")
        for line in items:
            out.add(rt, _production_row(event, record_id, site, line, ilmd_lot, out))
        _ssccs_not_lots(event, ssccs, out, rt)
    elif rt == "moves":
        _moves(event, master, items, ilmd_lot, out, returned)
        _ssccs_not_lots(event, ssccs, out, rt)
    elif rt == "status":
        status = (
            "recall"
            if disposition == "recalled"
            else "release"
            if disposition == "sellable_accessible"
            else "hold"
        )
        for line in items:
            out.add(
                rt,
                _with_ref(
                    {
                        "_source_row": event.position,
                        "status_id": event_key(event),
                        "at": at,
                        "gtin": line.gtin,
                        "lot": _lot_or_unknown(line, ilmd_lot, event, out, rt),
                        "serial": line.serial,
                        "status": status,
                        "actor": f"EPCIS {event.event_id or event_key(event)}",
                        "reason": f"EPCIS bizStep {step or '(none)'}, disposition "
                        f"{disposition or '(none)'}",
                    },
                    event,
                    rt,
                ),
            )


def _ssccs_not_lots(event: Event, ssccs: list[Line], out: Captured, rt: str) -> None:
    for line in ssccs:
        out.note(
            event,
            rt,
            "epcis_sscc_not_a_lot",
            WARNING,
            f"{line.uri} is a logistic unit, not a lot: its contents come from packing events",
            "sscc",
            line.sscc,
        )


def _production_row(
    event: Event, production_id: str, site: str, line: Line, ilmd_lot: str | None, out: Captured
) -> dict:
    return _with_ref(
        {
            "_source_row": event.position,
            "production_id": production_id,
            "completed_at": time_text(event),
            "location_id": site,
            "gtin": line.gtin,
            "lot": _lot_or_unknown(line, ilmd_lot, event, out, "production"),
            "serial": line.serial,
            "quantity": _number(line.quantity),
            "uom": line.uom,
            "production_date": _ilmd_date(event, "productionDate"),
            "expiry_date": _ilmd_date(event, "itemExpirationDate", "bestBeforeDate"),
        },
        event,
        "production",
    )


def _moves(
    event: Event, master: Master, items: list[Line], ilmd_lot, out: Captured, returned: bool
) -> None:
    rt, step = "moves", event.biz_step
    if step in ("destroying", "decommissioning"):
        reason = "destroy" if step == "destroying" else "scrap"
        source, destination = _site(event, master, out, rt, "from_location_id"), None
    elif returned or step == "arriving":
        reason = "return" if returned else "transfer"
        source, destination = _from_to(event, "arriving", master, out, rt)
    elif step == "departing":
        reason = "transfer"
        source, destination = _from_to(event, "departing", master, out, rt)
    else:  # storing: from where it was read to where it is stored
        reason = "transfer"
        source = _where(event, SITE_ORDER[1:], master) or _site(event, master, out, rt, "moves")
        destination = _site(event, master, out, rt, "to_location_id")
        if source == destination:
            out.note(
                event,
                None,
                "epcis_not_mapped",
                WARNING,
                "storing within one location moves no stock: not stored",
            )
            return
    move_id = _record_id(event, rt)
    for line in items:
        out.add(
            rt,
            {
                "_source_row": event.position,
                "move_id": move_id,
                "moved_at": time_text(event),
                "gtin": line.gtin,
                "lot": _lot_or_unknown(line, ilmd_lot, event, out, rt),
                "serial": line.serial,
                "quantity": _number(line.quantity),
                "uom": line.uom,
                "from_location_id": source,
                "to_location_id": destination,
                "reason": reason,
            },
        )


def _transformation(event: Event, master: Master, serial_lots: dict, out: Captured) -> None:
    outputs = lines(
        event, event.output_epcs, event.output_quantities, serial_lots, out, "production"
    )
    inputs = lines(event, event.input_epcs, event.input_quantities, serial_lots, out, "consumption")
    outputs = [line for line in outputs if line.gtin]
    if not outputs:
        out.note(
            event,
            "production",
            "epcis_nothing_to_place",
            ERROR,
            "a TransformationEvent without a trade item among its outputs cannot be placed",
        )
        return
    production_id = _record_id(event, "production")
    site = _site(event, master, out, "production", "location_id")
    ilmd_lot = event.ilmd.get("lotNumber")
    for line in outputs:
        out.add("production", _production_row(event, production_id, site, line, ilmd_lot, out))
    for line in inputs:
        if not line.gtin:
            continue
        out.add(
            "consumption",
            {
                "_source_row": event.position,
                "_event": event_key(event),  # several events of one production are summed
                "production_id": production_id,
                "gtin": line.gtin,
                "lot": line.lot,  # none: the input lots are inferred from stock
                "serial": line.serial,
                "quantity": _number(line.quantity),
                "uom": line.uom,
            },
        )


def _packing(event: Event, master: Master, serial_lots: dict, out: Captured) -> None:
    rt = "packing"
    try:
        parent = parse_uri(event.parent or "").sscc
    except ValueError:
        parent = None
    if parent is None:
        out.note(
            event,
            rt,
            "epcis_parent_not_sscc",
            ERROR,
            f"parentID {event.parent!r} is not an SSCC: lotline packs into SSCCs only",
            "parent_sscc",
            event.parent,
        )
        return
    site = _site(event, master, out, rt, "location_id")
    action = "pack" if event.action == "ADD" else "unpack"
    packing_id = _record_id(event, rt)
    for line in lines(event, event.epcs, event.quantities, serial_lots, out, rt):
        serial_child = line.serial is not None
        lot = None
        if line.gtin and not serial_child:
            lot = _lot_or_unknown(line, event.ilmd.get("lotNumber"), event, out, rt)
        out.add(
            rt,
            _with_ref(
                {
                    "_source_row": event.position,
                    "packing_id": packing_id,
                    "packed_at": time_text(event),
                    "action": action,
                    "parent_sscc": parent,
                    "child_sscc": line.sscc,
                    "gtin": line.gtin,
                    "lot": lot,
                    "serial": line.serial,
                    "quantity": None if serial_child or line.sscc else _number(line.quantity),
                    "uom": None if serial_child or line.sscc else line.uom,
                    "location_id": site,
                },
                event,
                rt,
            ),
        )


def _children(event: Event, serial_lots: dict) -> list[dict[str, str | None]]:
    """Every object the event names, as its URI and the GS1 keys it decodes to (an asset such as
    a GIAI or GRAI keeps its URI only): associations are evidence, so nothing is left out."""
    found: list[dict[str, str | None]] = []
    items = [(uri, None) for uri in event.epcs] + [(q.epc_class, q) for q in event.quantities]
    for uri, quantity in items:
        try:
            key = parse_uri(uri)
        except ValueError:
            key = None
        gtin = key.gtin if key else None
        lot = key.lot if key else None
        if key is not None and key.kind == "sgtin":
            lot, _ = _serial_lot(key, serial_lots)
        if gtin and not lot and key is not None and key.kind != "sgtin":
            lot = event.ilmd.get("lotNumber")
        found.append(
            {
                "child_id": uri.strip(),
                "gtin": gtin,
                "lot": lot,
                "serial": key.serial if key and gtin else None,
                "sscc": key.sscc if key else None,
                "quantity": _number(quantity.quantity) if quantity else None,
                "uom": (quantity.uom or UNIT) if quantity and quantity.quantity else None,
            }
        )
    return found


def _association(event: Event, master: Master, serial_lots: dict, out: Captured) -> None:
    rt = "associations"
    if not event.parent:
        out.note(event, rt, "epcis_parent_missing", ERROR, "names no parentID", "parent_id")
        return
    children = _children(event, serial_lots)
    if not children:
        out.note(event, rt, "epcis_nothing_to_place", ERROR, "names no child", "child_id")
        return
    for child in children:
        out.add(
            rt,
            _with_ref(
                {
                    "_source_row": event.position,
                    "association_id": event_key(event),
                    "associated_at": time_text(event),
                    "action": (event.action or "").lower(),
                    "parent_id": event.parent.strip(),
                    **child,
                    "location_id": _where(event, SITE_ORDER, master),
                },
                event,
                rt,
            ),
        )


def _transaction(event: Event, master: Master, serial_lots: dict, out: Captured) -> None:
    rt = "transactions"
    if not event.biz_transactions:
        out.note(
            event, rt, "epcis_no_transaction", ERROR, "names no bizTransaction", "transaction_type"
        )
        return
    children = _children(event, serial_lots)
    if event.parent and not children:  # the parent alone is what the transaction names
        children = [{"child_id": event.parent.strip()}]
    if not children:
        out.note(event, rt, "epcis_nothing_to_place", ERROR, "names no object", "child_id")
        return
    for kind, number in event.biz_transactions:
        for child in children:
            out.add(
                rt,
                {
                    "_source_row": event.position,
                    "transaction_id": event_key(event),
                    "transacted_at": time_text(event),
                    "action": (event.action or "").lower(),
                    "transaction_type": kind,
                    "transaction_number": number,
                    "parent_id": event.parent.strip() if event.parent else None,
                    **{"gtin": None, "lot": None, "serial": None, "sscc": None, **child},
                    "location_id": _where(event, SITE_ORDER, master),
                },
            )


# --- a drop -------------------------------------------------------------------------------------


def commissioned_lots(events: list[Event]) -> dict[tuple[str, str], str]:
    """(GTIN, serial) -> lot, from the ILMD `lotNumber` of the events that commission or
    produce serials (ObjectEvent ADD, TransformationEvent outputs)."""
    lots: dict[tuple[str, str], str] = {}
    for event in events:
        lot = event.ilmd.get("lotNumber")
        if not lot or event.error_reason is not None or event.problems:
            continue
        named = event.output_epcs if event.type == "TransformationEvent" else event.epcs
        if event.type != "TransformationEvent" and event.action != "ADD":
            continue
        for uri in named:
            try:
                key = parse_uri(uri)
            except ValueError:
                continue
            if key.kind == "sgtin" and key.gtin and key.serial:
                lots.setdefault((key.gtin, key.serial), lot)
    return lots
