"""CBV 2.0 event hashes (`ni:///sha-256;…?ver=CBV2.0`): the eventID an EPCIS event gets from its
own content, so two systems name the same event alike without agreeing on ids.

The hash is defined by GS1's reference implementation (`epcis-event-hash-generator` on PyPI).
Documents made of the event shapes lotline writes are hashed natively by `event_prehash` (the
same pre-hash strings, tested against the reference; 130 s → 4 s of CPU for the 55,819 events
of a hub recall report); any other document goes to the reference implementation, wrapped
here for three reasons:

- it never goes to the network: the package resolves a JSON-LD `@context` it does not ship by
  fetching it; lotline answers the EPCIS 2.0 context from the package's copy and any other remote
  context as empty (the hash only uses a context to expand bare CBV words, which the EPCIS context
  defines);
- it reads `EPCISQueryDocument`s (the package reads only `epcisBody.eventList`);
- it fails loudly: the package logs an event it cannot canonicalise and leaves it out of the
  list, which would shift every hash after it onto the wrong event.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import logging
from collections.abc import Sequence
from typing import Any

import epcis_event_hash_generator  # noqa: F401  (sets pyld's loader; replaced below)
from epcis_event_hash_generator import json_to_py, xml_to_py
from epcis_event_hash_generator.hash_generator import epcis_hashes_from_events
from pyld import jsonld

from lotline.gs1 import event_prehash

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
"""The JSON-LD context lotline writes; never fetched."""

_SHIPPED_CONTEXTS = {
    EPCIS_CONTEXT: "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld",
    "https://ref.gs1.org/standards/epcis/epcis-context.jsonld": (
        "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld"
    ),
    "https://gs1.github.io/EPCIS/epcis-context.jsonld": (
        "14b10c9d3e92d35f577bfc610fe5ec15aa2941124987919389d7cd9998516861.jsonld"
    ),
}
"""Context URLs answered from the copies inside the hash generator package."""

PREFIX = "ni:///sha-256;"
SUFFIX = "?ver=CBV2.0"

log = logging.getLogger(__name__)


class EventHashError(ValueError):
    """An event the reference implementation cannot canonicalise (its position is named)."""


def _offline_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader that never fetches: shipped EPCIS contexts, else an empty context."""
    name = _SHIPPED_CONTEXTS.get(url)
    if name is not None:
        with (
            importlib.resources.files("epcis_event_hash_generator")
            .joinpath(name)
            .open(encoding="utf-8") as file
        ):
            document = json.load(file)
    else:
        log.warning("JSON-LD context %s not fetched; read as empty", url)
        document = {"@context": {}}
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
            "document": document}  # fmt: skip


jsonld.set_document_loader(_offline_loader)


def document_events(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of an `EPCISDocument` or `EPCISQueryDocument`, in document order."""
    body = document.get("epcisBody") or {}
    if "queryResults" in body:
        body = (body["queryResults"] or {}).get("resultsBody") or {}
    if "eventList" in body:
        return list(body["eventList"] or [])
    if "event" in body:
        return [body["event"]]
    return []


def event_hashes(document: dict[str, Any]) -> list[str]:
    """The CBV 2.0 hash of every event of a JSON(-LD) EPCIS document, in document order.

    Events of the shapes lotline writes are hashed natively (`event_prehash`, the same strings as
    the reference, ~30x faster); any other document goes to the reference implementation.
    The document is not changed; an `eventID` it already carries takes no part in the hash."""
    events = document_events(document)
    if not events:
        return []
    native = event_prehash.hashes(events, document.get("@context", [EPCIS_CONTEXT]))
    if native is not None:
        return native
    return reference_event_hashes(document)


def reference_event_hashes(document: dict[str, Any]) -> list[str]:
    """`event_hashes` by GS1's reference implementation alone (the definition; slow)."""
    events = document_events(document)
    if not events:
        return []
    plain = {
        "@context": copy.deepcopy(document.get("@context", [EPCIS_CONTEXT])),
        "type": "EPCISDocument",
        "epcisBody": {"eventList": copy.deepcopy(events)},
    }
    try:
        parsed = json_to_py.event_list_from_epcis_document_json(plain)
    except jsonld.JsonLdError as exc:  # e.g. a context redefining a protected EPCIS term
        raise EventHashError(f"JSON-LD context not usable for the event hash: {exc}") from exc
    return _checked(epcis_hashes_from_events(parsed), events)


def xml_event_hashes(xml: str | bytes) -> list[str]:
    """The CBV 2.0 hash of every event of an EPCIS 2.0 XML document, in document order."""
    text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
    parsed = xml_to_py.event_list_from_epcis_document_str(text)
    if not parsed[0]:
        raise EventHashError("not an EPCIS XML document with an EventList")
    return _checked(epcis_hashes_from_events(parsed), parsed[2])


def _checked(hashes: list[str], events: Sequence[object]) -> list[str]:
    if len(hashes) != len(events):
        raise EventHashError(
            f"{len(events) - len(hashes)} of {len(events)} events could not be hashed "
            "(the reference implementation skipped them; see its log)"
        )
    return hashes


def with_event_ids(
    events: Sequence[dict[str, Any]], context: list[Any] | None = None
) -> list[dict[str, Any]]:
    """Copies of `events` whose `eventID` is their CBV 2.0 hash, placed after `type`."""
    bare = [{k: v for k, v in e.items() if k != "eventID"} for e in events]
    hashes = event_hashes(
        {"@context": context or [EPCIS_CONTEXT], "epcisBody": {"eventList": bare}}
    )
    out = []
    for event, digest in zip(bare, hashes, strict=True):
        items = list(event.items())
        at = 1 if items and items[0][0] == "type" else 0
        out.append(dict([*items[:at], ("eventID", digest), *items[at:]]))
    return out


def is_event_hash(value: str) -> bool:
    """Whether `value` looks like a CBV 2.0 sha-256 event hash."""
    if not (value.startswith(PREFIX) and value.endswith(SUFFIX)):
        return False
    digest = value[len(PREFIX) : -len(SUFFIX)]
    return len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)
