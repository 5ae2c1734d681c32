"""CBV 2.0 pre-hash strings computed natively for the event shapes lotline writes, so a recall
report of a hub lot (80k events) hashes in seconds instead of minutes.

GS1's reference generator (`epcis-event-hash-generator`) expands the whole document with pyld
(~4 ms per event) only to learn which bare CBV words (`receiving`, `active`, `po`, `location`…)
stand for which web vocabulary URI. Here that expansion is asked once per distinct (event type,
field, word) on a one-field probe event, and the rest of the reference's canonicalisation is
replayed on the event dicts directly:

- the document-wide replacement of a bare string by the one expanded CBV URI ending in `-word`
  or `/word` (the reference's heuristic, which also touches lot numbers equal to a CBV word);
- the reference's namespace prefixes (`json_to_py._namespaces`, which it keeps across calls);
- values stripped, then canonicalised by the reference's own `_canonize_value` (web vocabulary,
  numbers, EPC URI → Digital Link), memoised, and timestamps by its `_fix_time_stamp_format`;
  fast paths where its result is known: canonical Digital Links (returned as they are), numbers
  (only `_try_format_numeric` applies) and lotline's `…Z` timestamps (`.000` added);
- the field order of `PROP_ORDER`, sorted values within a field, and the fields it does not order
  (business transactions, sources, destinations, ilmd) sorted after them as its generic pass does.

`prehashes` answers None for a document with any event outside these shapes (other fields,
contexts, nested ilmd, sensor data…): the caller then runs the reference implementation, which
stays the definition (tests compare both on every event of generated documents and the examples).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from epcis_event_hash_generator import hash_generator, json_to_py
from pyld import jsonld

EVENT_TYPES = frozenset({"ObjectEvent", "AggregationEvent", "TransformationEvent"})
EPC_LISTS = ("epcList", "inputEPCList", "childEPCs", "outputEPCList")
QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
PARTY_LISTS = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}
VOCABULARY_FIELDS = ("action", "bizStep", "disposition")
"""Fields whose bare words the EPCIS context may expand to a CBV URI (probed)."""
ORDER = (
    "eventTime",
    "eventTimeZoneOffset",
    "parentID",
    "epcList",
    "inputEPCList",
    "childEPCs",
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "action",
    "bizStep",
    "disposition",
    "readPoint",
    "bizLocation",
)
"""`PROP_ORDER` of the reference, restricted to the fields handled here."""
KNOWN = frozenset({*ORDER, *PARTY_LISTS, "ilmd", "type", "eventID"})
CBV_PREFIXES = ("https://ref.gs1.org/cbv", "https://gs1.org/voc")
"""Expanded values the reference uses to replace bare strings."""
IRI_PREFIXES = ("urn:", "http://", "https://")
QUANTITY_KEYS = ("epcClass", "quantity", "uom")
AI_VALUE = r"[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{1,20}"
"""A lot or serial the reference's Digital Link normaliser keeps as it is."""
CANONICAL_LINK = re.compile(
    rf"https://id\.gs1\.org/(?:01/\d{{14}}/(?:10|21)/{AI_VALUE}|01/\d{{14}}|00/\d{{18}}|414/\d{{13}})"
)
"""Canonical GS1 Digital Links (LGTIN, SGTIN, GTIN, SSCC, SGLN) the normaliser returns unchanged."""
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")

log = logging.getLogger(__name__)


class Unsupported(Exception):
    """An event shape left to the reference implementation."""


def prehashes(events: Sequence[dict[str, Any]], context: Any) -> list[str] | None:
    """The reference's pre-hash string of every event, or None where an event is not handled."""
    if context != [_EPCIS_CONTEXT]:
        return None
    try:
        for event in events:
            _check(event)
        replace = _bare_string_replacements(events)
        _require(not any(event["type"] in replace for event in events))
        json_to_py._collect_namespaces_from_jsonld_context(context)  # as the reference does
        _require(hash_generator.JOIN_BY == "")  # the reference's separator, a module global
        writer = _Event(replace, dict(json_to_py._namespaces))
        return [writer.prehash(event) for event in events]
    except Unsupported:
        return None
    except Exception as exc:  # e.g. a value the reference fails on too: let it say so
        log.info("native event hash declined (%r); the reference implementation decides", exc)
        return None


def hashes(events: Sequence[dict[str, Any]], context: Any) -> list[str] | None:
    """CBV 2.0 sha-256 event hashes (`ni:///sha-256;…?ver=CBV2.0`), or None as `prehashes`."""
    strings = prehashes(events, context)
    if strings is None:
        return None
    return [
        "ni:///sha-256;" + hashlib.sha256(s.encode("utf-8")).hexdigest() + "?ver=CBV2.0"
        for s in strings
    ]


_EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


# --- shapes -------------------------------------------------------------------------------------


def _require(condition: bool) -> None:
    if not condition:
        raise Unsupported


def _is_iri(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(IRI_PREFIXES) and not _is_cbv(value)


def _is_cbv(value: str) -> bool:
    return value.startswith(CBV_PREFIXES)


def _is_scalar(value: Any) -> bool:
    if isinstance(value, str):
        return not _is_cbv(value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_word(value: Any) -> bool:
    """A bare word or an absolute IRI outside the CBV web vocabulary."""
    return isinstance(value, str) and not _is_cbv(value) and (":" not in value or _is_iri(value))


def _check(event: Any) -> None:
    """Raise Unsupported unless every field has a shape this module replays exactly."""
    _require(isinstance(event, dict) and event.get("type") in EVENT_TYPES)
    _require(KNOWN.issuperset(event))
    _require(isinstance(event.get("eventTime"), str))
    for key, value in event.items():
        if key in ("type", "eventID"):
            continue
        if key in EPC_LISTS:
            _require(isinstance(value, list) and all(_is_iri(v) for v in value))
        elif key in QUANTITY_LISTS:
            _require(isinstance(value, list))
            for entry in value:
                _require(isinstance(entry, dict) and bool(entry))
                _require(set(entry) <= set(QUANTITY_KEYS))
                _require(_is_iri(entry.get("epcClass", "urn:")))
                _require(all(_is_scalar(v) for v in entry.values()))
        elif key in PARTY_LISTS:
            _require(isinstance(value, list))
            for entry in value:
                _require(isinstance(entry, dict) and list(entry) == ["type", PARTY_LISTS[key]])
                _require(_is_word(entry["type"]) and _is_iri(entry[PARTY_LISTS[key]]))
        elif key in ("readPoint", "bizLocation"):
            _require(isinstance(value, dict) and list(value) == ["id"] and _is_iri(value["id"]))
        elif key == "parentID":
            _require(_is_iri(value))
        elif key in VOCABULARY_FIELDS:
            _require(_is_word(value))
        elif key == "ilmd":
            _require(isinstance(value, dict))
            for name, item in value.items():
                _require(_is_ilmd_key(name) and _is_scalar(item))
        else:  # eventTime, eventTimeZoneOffset
            _require(_is_scalar(value))


def _is_ilmd_key(name: Any) -> bool:
    """A plain master data attribute the reference's JSON model keeps as one leaf."""
    return (
        isinstance(name, str)
        and ":" in name
        and not name.startswith(("@", "#"))
        and name not in ("rdfs:comment", "comment")
        and not name.endswith("List")
        and "{" not in name
    )


# --- the bare string replacement of the reference -----------------------------------------------


@cache
def _expanded_cbv(event_type: str, field: str, word: str) -> frozenset[str]:
    """The CBV / GS1 vocabulary URIs the reference's JSON-LD expansion finds for one value."""
    if field in PARTY_LISTS:
        probe: dict[str, Any] = {
            "type": event_type,
            field: [{"type": word, PARTY_LISTS[field]: "urn:lotline:probe"}],
        }
    else:
        probe = {"type": event_type, field: word}
    document = {
        "@context": [_EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "epcisBody": {"eventList": [probe]},
    }
    from lotline.gs1 import event_hash  # noqa: F401  (installs the offline context loader)

    found: list[str] = []
    json_to_py._find_expanded_values(jsonld.expand(document), found)
    return frozenset(v for v in found if v.startswith(CBV_PREFIXES))


def _bare_string_replacements(events: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Bare string → the only expanded CBV URI ending in `-string` or `/string`, for the whole
    document (the reference's `_replace_bare_string_values` over its expansion)."""
    words: set[tuple[str, str, str]] = set()
    for event in events:
        kind = event["type"]
        for field in VOCABULARY_FIELDS:
            if field in event:
                words.add((kind, field, event[field]))
        for field in PARTY_LISTS:
            for entry in event.get(field, ()):
                words.add((kind, field, entry["type"]))
    expanded: set[str] = set()
    for word in words:
        expanded |= _expanded_cbv(*word)
    candidates: dict[str, set[str]] = {}
    for uri in expanded:
        for at, char in enumerate(uri):
            if char in "-/":
                candidates.setdefault(uri[at + 1 :], set()).add(uri)
    return {word: next(iter(uris)) for word, uris in candidates.items() if len(uris) == 1 and word}


# --- the pre-hash string ------------------------------------------------------------------------


@cache
def _canonical(text: str) -> str:
    """The reference's `_canonize_value`; Digital Links already in canonical form (what lotline
    writes) are returned as they are, as the reference's normaliser would after ~30 regexes."""
    if CANONICAL_LINK.fullmatch(text):
        return text
    if NUMBER.fullmatch(text):  # the normaliser finds no URI in a number
        return hash_generator._try_format_numeric(text)
    return hash_generator._canonize_value(text)


@cache
def _canonical_time(text: str) -> str:
    if UTC_TIME.fullmatch(text):
        return text if len(text) == 24 else text[:-1] + ".000Z"
    return hash_generator._fix_time_stamp_format(text)


class _Event:
    """Replays the reference's JSON model and canonicalisation for one document's events."""

    def __init__(self, replace: dict[str, str], namespaces: dict[str, str]) -> None:
        self.replace = replace
        self.namespaces = namespaces
        self.prefixes = tuple(f"{prefix}:" for prefix in namespaces)

    def text(self, value: Any) -> str:
        """A leaf as the reference's JSON model holds it, stripped."""
        if isinstance(value, str):
            value = self.replace.get(value, value)
            if value.startswith(self.prefixes):
                prefix, colon, rest = value.partition(":")
                if colon and prefix in self.namespaces:
                    value = self.namespaces[prefix].replace("{", "").replace("}", "") + rest
        return str(value).strip()

    def key(self, name: str) -> str:
        prefix, colon, rest = name.partition(":")
        if colon and prefix in self.namespaces:
            return self.namespaces[prefix] + rest
        return name

    def ordered(self, name: str, value: Any) -> str:
        """`name=value` of a field `PROP_ORDER` names ("" when empty)."""
        text = self.text(value)
        if not text:
            return ""
        if name == "eventTime":  # the reference: a name with "time" and without "offset"
            return f"{name}={_canonical_time(text)}"
        return f"{name}={_canonical(text)}"

    def generic(self, name: str, value: Any) -> str:
        """`name=value` of a leaf of the generic pass (`name` alone when empty)."""
        text = self.text(value)
        return f"{name}={_canonical(text)}" if text else name

    def prehash(self, event: dict[str, Any]) -> str:
        parts = ["eventType=", event["type"]]
        for field in ORDER:
            if field not in event:
                continue
            value = event[field]
            if field in EPC_LISTS:
                items = sorted(s for s in (self.ordered("epc", v) for v in value) if s)
                if items:
                    parts += [field, *items]
            elif field in QUANTITY_LISTS:
                items = sorted(s for s in (self.quantity(entry) for entry in value) if s)
                if items:
                    parts += [field, *items]
            elif field in ("readPoint", "bizLocation"):
                inner = self.ordered("id", value["id"])
                if inner:
                    parts += [field, inner]
            else:
                parts.append(self.ordered(field, value))
        rest = []
        for field, item in PARTY_LISTS.items():
            if field in event and event[field]:
                entries = sorted(
                    self.generic("type", entry["type"]) + self.generic(item, entry[item])
                    for entry in event[field]
                )
                rest.append(field + "".join(entries))
        if "ilmd" in event:
            ilmd = sorted(self.generic(self.key(k), v) for k, v in event["ilmd"].items())
            rest.append("ilmd" + "".join(ilmd))
        parts += sorted(rest)
        return "".join(parts)

    def quantity(self, entry: dict[str, Any]) -> str:
        inner = "".join(self.ordered(k, entry[k]) for k in QUANTITY_KEYS if k in entry)
        return "quantityElement" + inner if inner else ""
