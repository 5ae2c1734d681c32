"""EPCIS 2.0 documents (JSON-LD and XML) read into one plain shape of events.

Both notations end up as the same `Event`: CBV values as their bare words (`receiving`, `desadv`,
`location`) whether the document wrote them bare (JSON-LD), as URNs
(`urn:epcglobal:cbv:bizstep:receiving`) or as Web URIs (`https://ref.gs1.org/cbv/BizStep-…`);
ILMD and master-data attributes by their local name (`lotNumber`), whatever prefix or namespace
the document gave them. Nothing here resolves a JSON-LD `@context`: the names EPCIS 2.0 defines
are read as written, so no document makes lotline fetch anything over the network.

JSON documents are checked against GS1's EPCIS 2.0 JSON Schema (shipped with the package); an
error inside an event names that event, an error elsewhere the whole document. XML documents have
their root in the EPCIS namespace and unqualified children; an event missing what the schema
requires (action, eventTime) is reported the same way.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources

EPCIS_XML_NAMESPACE = "urn:epcglobal:epcis:xsd:2"
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransformationEvent",
    "AssociationEvent",
    "TransactionEvent",
)
DOCUMENT_TYPES = ("EPCISDocument", "EPCISQueryDocument")


class DocumentError(ValueError):
    """The bytes are not an EPCIS document lotline can read at all."""


@dataclass(frozen=True)
class Quantity:
    epc_class: str
    quantity: Decimal | None
    uom: str | None


@dataclass
class Event:
    """One EPCIS event, notation-free. `position` counts events from 1 in document order."""

    position: int
    pointer: str  # where it is: JSON pointer or XPath-like
    type: str
    action: str | None = None
    event_time: datetime | None = None  # aware, in the event's own time zone offset
    time_text: str | None = None
    offset: str | None = None
    event_id: str | None = None
    biz_step: str | None = None
    disposition: str | None = None
    epcs: list[str] = field(default_factory=list)  # epcList / childEPCs
    quantities: list[Quantity] = field(default_factory=list)  # quantityList / childQuantityList
    parent: str | None = None
    input_epcs: list[str] = field(default_factory=list)
    input_quantities: list[Quantity] = field(default_factory=list)
    output_epcs: list[str] = field(default_factory=list)
    output_quantities: list[Quantity] = field(default_factory=list)
    transformation_id: str | None = None
    read_point: str | None = None
    biz_location: str | None = None
    sources: list[tuple[str, str]] = field(default_factory=list)  # (type word, uri)
    destinations: list[tuple[str, str]] = field(default_factory=list)
    biz_transactions: list[tuple[str, str]] = field(default_factory=list)  # (type word, value)
    ilmd: dict[str, str] = field(default_factory=dict)  # local name -> text
    error_reason: str | None = None  # errorDeclaration: the event is declared erroneous
    corrective_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # schema errors naming this event


@dataclass
class Document:
    kind: str  # "json" | "xml"
    events: list[Event]
    problems: list[str]  # schema errors about the document as a whole
    master: dict[str, dict[str, str]]
    """epcisMasterData vocabularies: identifier URI -> {attribute local name: value}."""


# --- recognising --------------------------------------------------------------------------------

_JSON_TYPE = re.compile(rb'"type"\s*:\s*"(EPCISDocument|EPCISQueryDocument)"')
_XML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(EPCISDocument|EPCISQueryDocument)[\s>]")


def sniff(data: bytes) -> str | None:
    """'json' or 'xml' when the bytes are an EPCIS 2.0 document, judged by content, not name."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"{":
        return "json" if _JSON_TYPE.search(data) else None
    if head == b"<" and _XML_ROOT.search(data[:4096]) and EPCIS_XML_NAMESPACE.encode() in data:
        return "xml"
    return None


def read_document(data: bytes) -> Document:
    kind = sniff(data)
    if kind == "json":
        return _read_json(data)
    if kind == "xml":
        return _read_xml(data)
    raise DocumentError("not an EPCIS 2.0 document (JSON-LD EPCISDocument or XML)")


# --- CBV vocabulary -----------------------------------------------------------------------------

_CBV_URN = re.compile(
    r"^urn:(?:epcglobal:cbv:(?:bizstep|disp|btt|sdt|er)|lotline:btt):(.+)$", re.IGNORECASE
)
LOTLINE_BT = "urn:lotline:bt:"
"""How lotline exports a reference number that is not a URI (`lotline.gs1.epcis_export`)."""
_CBV_WEB = re.compile(
    r"^https?://ref\.gs1\.org/cbv/(?:BizStep|Disp|BTT|SDT|ER)-(.+)$", re.IGNORECASE
)


def cbv_word(value: str | None) -> str | None:
    """A CBV value as its bare word: `urn:epcglobal:cbv:bizstep:receiving`,
    `https://ref.gs1.org/cbv/BizStep-receiving` and `receiving` are all `receiving` (and lotline's
    own `urn:lotline:btt:batch_record` is `batch_record`). A private value (another URI) is kept
    as written."""
    if value is None:
        return None
    text = value.strip()
    for pattern in (_CBV_URN, _CBV_WEB):
        match = pattern.match(text)
        if match:
            return match.group(1)
    return text


def reference_number(value: str) -> str:
    """A bizTransaction value: lotline's `urn:lotline:bt:<number>` back to the number."""
    text = value.strip()
    if text.startswith(LOTLINE_BT):
        from urllib.parse import unquote

        return unquote(text[len(LOTLINE_BT) :])
    return text


def local_name(name: str) -> str:
    """`cbvmda:lotNumber`, `{urn:epcglobal:cbv:mda}lotNumber`, `urn:epcglobal:cbv:mda#lotNumber`
    and `https://ref.gs1.org/cbv/cbvmda-lotNumber`-style names -> `lotNumber`."""
    name = name.rsplit("}", 1)[-1]
    name = name.rsplit("#", 1)[-1]
    return name.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def event_time(text: str | None, offset: str | None) -> datetime | None:
    """The instant of `eventTime` in the zone of `eventTimeZoneOffset` (local dates follow it)."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    match = _OFFSET.match(offset.strip()) if offset else None
    if match:
        sign = 1 if match.group(1) == "+" else -1
        zone = timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
        at = at.astimezone(zone)
    return at


# --- JSON-LD ------------------------------------------------------------------------------------


@cache
def _validator():
    import jsonschema

    schema = json.loads(
        resources.files("lotline.gs1").joinpath("epcis-json-schema.json").read_text("utf-8")
    )
    return jsonschema.Draft7Validator(schema)


def _read_json(data: bytes) -> Document:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DocumentError(f"not valid JSON: {exc}") from None
    body = doc.get("epcisBody") or {}
    if doc.get("type") == "EPCISQueryDocument":
        results = (body.get("queryResults") or {}).get("resultsBody") or {}
        raw_events, base = results.get("eventList") or [], "/epcisBody/queryResults/resultsBody"
    else:
        raw_events, base = body.get("eventList") or [], "/epcisBody"
    events_at = "eventList"
    by_event: dict[int, list[str]] = {}
    whole: list[str] = []
    for error in _validator().iter_errors(doc):
        path = list(error.absolute_path)
        where = "/" + "/".join(str(p) for p in path)
        text = f"{error.message} (JSON Schema rule '{error.validator}' at {where})"
        if events_at in path and path.index(events_at) + 1 < len(path):
            index = path[path.index(events_at) + 1]
            if isinstance(index, int):
                by_event.setdefault(index, []).append(text)
                continue
        whole.append(text)
    events = []
    for i, raw in enumerate(raw_events if isinstance(raw_events, list) else []):
        if not isinstance(raw, dict):
            continue
        event = _json_event(raw, i + 1, f"{base}/eventList/{i}")
        event.problems += by_event.get(i, [])
        events.append(event)
    header = doc.get("epcisHeader") or {}
    return Document("json", events, whole, _json_master(header.get("epcisMasterData") or {}))


def _json_quantities(items: object) -> list[Quantity]:
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("epcClass"):
            out.append(
                Quantity(str(item["epcClass"]), _decimal(item.get("quantity")), item.get("uom"))
            )
    return out


def _json_list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _json_id(value: object) -> str | None:
    return str(value["id"]) if isinstance(value, dict) and value.get("id") else None


def _json_event(raw: dict, position: int, pointer: str) -> Event:
    event_type = str(raw.get("type", ""))
    event = Event(position, pointer, event_type)
    event.action = raw.get("action")
    event.time_text, event.offset = raw.get("eventTime"), raw.get("eventTimeZoneOffset")
    event.event_time = event_time(event.time_text, event.offset)
    event.event_id = raw.get("eventID")
    event.biz_step = cbv_word(raw.get("bizStep"))
    event.disposition = cbv_word(raw.get("disposition"))
    event.parent = raw.get("parentID")
    if event_type == "AggregationEvent" or event_type == "AssociationEvent":
        event.epcs = _json_list(raw.get("childEPCs"))
        event.quantities = _json_quantities(raw.get("childQuantityList"))
    else:
        event.epcs = _json_list(raw.get("epcList"))
        event.quantities = _json_quantities(raw.get("quantityList"))
    event.input_epcs = _json_list(raw.get("inputEPCList"))
    event.input_quantities = _json_quantities(raw.get("inputQuantityList"))
    event.output_epcs = _json_list(raw.get("outputEPCList"))
    event.output_quantities = _json_quantities(raw.get("outputQuantityList"))
    event.transformation_id = raw.get("transformationID")
    event.read_point = _json_id(raw.get("readPoint"))
    event.biz_location = _json_id(raw.get("bizLocation"))
    for key, name, target in (
        ("sourceList", "source", event.sources),
        ("destinationList", "destination", event.destinations),
        ("bizTransactionList", "bizTransaction", event.biz_transactions),
    ):
        for item in raw.get(key) or []:
            if isinstance(item, dict) and item.get(name):
                value = str(item[name])
                if key == "bizTransactionList":
                    value = reference_number(value)
                target.append((cbv_word(item.get("type")) or "", value))
    ilmd = raw.get("ilmd")
    if isinstance(ilmd, dict):
        event.ilmd = {
            local_name(k): str(v) for k, v in ilmd.items() if isinstance(v, str | int | float)
        }
    declaration = raw.get("errorDeclaration")
    if isinstance(declaration, dict):
        event.error_reason = cbv_word(declaration.get("reason")) or "unspecified"
        event.corrective_ids = _json_list(declaration.get("correctiveEventIDs"))
    return event


def _json_master(master: dict) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for vocabulary in master.get("vocabularyList") or []:
        for element in (vocabulary or {}).get("vocabularyElementList") or []:
            uri = element.get("id")
            if not uri:
                continue
            for attribute in element.get("attributes") or []:
                value = attribute.get("attribute")
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    out.setdefault(str(uri), {})[local_name(str(attribute.get("id", "")))] = str(
                        value
                    )
    return out


# --- XML ----------------------------------------------------------------------------------------


def _read_xml(data: bytes) -> Document:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"not well-formed XML: {exc}") from None
    if etree.QName(root).namespace != EPCIS_XML_NAMESPACE:
        raise DocumentError(f"root element is not in the EPCIS 2.0 namespace {EPCIS_XML_NAMESPACE}")
    events: list[Event] = []
    for event_list in root.iter("{*}EventList"):
        for element in event_list:
            if not isinstance(element.tag, str):
                continue
            if etree.QName(element).localname == "extension":  # EPCIS 1.x wrapper
                candidates = list(element)
            else:
                candidates = [element]
            for candidate in candidates:
                if isinstance(candidate.tag, str):
                    position = len(events) + 1
                    events.append(_xml_event(candidate, position, f"EventList/*[{position}]"))
    master: dict[str, dict[str, str]] = {}
    for element in root.iter("{*}VocabularyElement", "VocabularyElement"):
        for attribute in element.iter("{*}attribute", "attribute"):
            if element.get("id") and (attribute.text or "").strip():
                master.setdefault(element.get("id"), {})[local_name(attribute.get("id", ""))] = (
                    attribute.text.strip()
                )
    return Document("xml", events, [], master)


def _children(element) -> list:
    """Child elements, with the EPCIS 1.x `extension`/`baseExtension` wrappers flattened."""
    out = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if _local(child) in ("extension", "baseExtension"):
            out.extend(_children(child))
        else:
            out.append(child)
    return out


def _local(element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _text(element) -> str | None:
    text = (element.text or "").strip() if element is not None else ""
    return text or None


def _xml_quantities(element) -> list[Quantity]:
    out = []
    for item in element.iter("{*}quantityElement", "quantityElement"):
        fields = {_local(c): _text(c) for c in item if isinstance(c.tag, str)}
        if fields.get("epcClass"):
            out.append(
                Quantity(fields["epcClass"], _decimal(fields.get("quantity")), fields.get("uom"))
            )
    return out


def _xml_epcs(element) -> list[str]:
    return [t for c in element if isinstance(c.tag, str) and (t := _text(c))]


def _xml_event(element, position: int, pointer: str) -> Event:
    event = Event(position, pointer, _local(element))
    fields = {}
    for child in _children(element):
        fields.setdefault(_local(child), child)
    aggregation = event.type in ("AggregationEvent", "AssociationEvent")
    for name, child in fields.items():
        match name:
            case "eventTime":
                event.time_text = _text(child)
            case "eventTimeZoneOffset":
                event.offset = _text(child)
            case "eventID":
                event.event_id = _text(child)
            case "action":
                event.action = _text(child)
            case "bizStep":
                event.biz_step = cbv_word(_text(child))
            case "disposition":
                event.disposition = cbv_word(_text(child))
            case "parentID":
                event.parent = _text(child)
            case "epcList" | "childEPCs":
                event.epcs = _xml_epcs(child)
            case "quantityList" | "childQuantityList":
                event.quantities = _xml_quantities(child)
            case "inputEPCList":
                event.input_epcs = _xml_epcs(child)
            case "inputQuantityList":
                event.input_quantities = _xml_quantities(child)
            case "outputEPCList":
                event.output_epcs = _xml_epcs(child)
            case "outputQuantityList":
                event.output_quantities = _xml_quantities(child)
            case "transformationID":
                event.transformation_id = _text(child)
            case "readPoint":
                event.read_point = _text(child.find("{*}id")) or _text(child.find("id"))
            case "bizLocation":
                event.biz_location = _text(child.find("{*}id")) or _text(child.find("id"))
            case "sourceList" | "destinationList" | "bizTransactionList":
                target = {
                    "sourceList": event.sources,
                    "destinationList": event.destinations,
                    "bizTransactionList": event.biz_transactions,
                }[name]
                for item in child:
                    if isinstance(item.tag, str) and _text(item):
                        value = _text(item)
                        if name == "bizTransactionList":
                            value = reference_number(value)
                        target.append((cbv_word(item.get("type")) or "", value))
            case "ilmd":
                event.ilmd = {
                    local_name(c.tag): _text(c)
                    for c in _children(child)
                    if _text(c) is not None and len(c) == 0
                }
            case "errorDeclaration":
                reason = child.find("{*}reason")
                reason = reason if reason is not None else child.find("reason")
                event.error_reason = cbv_word(_text(reason)) or "unspecified"
                ids = child.find("{*}correctiveEventIDs")
                ids = ids if ids is not None else child.find("correctiveEventIDs")
                event.corrective_ids = _xml_epcs(ids) if ids is not None else []
    if aggregation and "epcList" in fields and not event.epcs:
        event.epcs = _xml_epcs(fields["epcList"])
    event.event_time = event_time(event.time_text, event.offset)
    for required in ("eventTime", "eventTimeZoneOffset"):
        if required not in fields:
            event.problems.append(f"'{required}' is a required property (EPCIS 2.0 XML schema)")
    if event.type != "TransformationEvent" and "action" not in fields:
        event.problems.append("'action' is a required property (EPCIS 2.0 XML schema)")
    return event
