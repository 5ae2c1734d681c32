"""CBV 2.0 event hashes through lotline's wrapper, against GS1's reference implementation run as
its own command line tool on the public GS1 examples, and pinned."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lotline.gs1.event_hash import (
    EventHashError,
    event_hashes,
    is_event_hash,
    with_event_ids,
    xml_event_hashes,
)

EXAMPLES = Path(__file__).parents[2] / "data" / "epcis"
HASHABLE = sorted(
    p
    for p in EXAMPLES.iterdir()
    if p.suffix in (".json", ".jsonld", ".xml")
    # the reference tool reads only epcisBody.eventList (the query document is tested below) and
    # rejects the cbvmda redefinition of the "all possible fields" transformation example
    and p.name
    not in ("EPCISQueryDocument.jsonld", "transformation_event_all_possible_fields.jsonld")
)

PINNED = {  # epcis-event-hash-generator 1.9.3 on these files: a library change must be seen
    "Example_9.6.1-ObjectEvent.jsonld": [
        "df6523665bc5e5803d6c7b84f5a04e103694d8220f2abc4f2c74310e89f31bc6",
        "32547b2344d525ea60ab1b899d82a9011fd9c39bb26ed936e113066146f49941",
    ],
    "Example_9.6.3-AggregationEvent.jsonld": [
        "96b6bf98742a60dbfaa2dda08b63435ce67079d224ea27d63e55e62a7843b878"
    ],
    "Example_9.6.4-TransformationEvent.jsonld": [
        "c794227acf3a4d9be9ba1f8340425782f88a0f4e3f35b533a8bf8f1bc206a379"
    ],
    "Example_9.6.1-ObjectEvent-2020_06_18a.xml": [
        "df6523665bc5e5803d6c7b84f5a04e103694d8220f2abc4f2c74310e89f31bc6",
        "e340d1f945e85a1b89a060b537585d7ae9df4f952299c7f982c93190a2266631",
    ],
}


def ours(path: Path) -> list[str]:
    if path.suffix == ".xml":
        return xml_event_hashes(path.read_bytes())
    return event_hashes(json.loads(path.read_text()))


@pytest.fixture(scope="module")
def reference() -> dict[str, list[str]]:
    """The reference implementation's own command line tool on every example, in one process."""
    done = subprocess.run(
        [sys.executable, "-m", "epcis_event_hash_generator", "-l", "CRITICAL"]
        + [str(p) for p in HASHABLE],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, list[str]] = {}
    for block in done.stdout.split("Hashes of the events contained in '")[1:]:
        name, _, rest = block.partition("':")
        found[Path(name).name] = re.findall(r"ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0", rest)
    return found


@pytest.mark.parametrize("path", HASHABLE, ids=lambda p: p.name)
def test_hashes_equal_the_reference_tool(path: Path, reference: dict[str, list[str]]):
    expected = reference[path.name]
    assert expected, f"the reference tool gave no hash for {path.name}"
    assert ours(path) == expected


@pytest.mark.parametrize("name", sorted(PINNED))
def test_hashes_are_pinned(name: str):
    assert [h[14:78] for h in ours(EXAMPLES / name)] == PINNED[name]
    assert all(is_event_hash(h) for h in ours(EXAMPLES / name))


def test_the_same_event_in_xml_and_json_ld_has_the_same_hash():
    """GS1's 9.6.1 example: the first event is the same in both bindings (the second differs:
    the JSON-LD version carries other extension fields)."""
    xml = ours(EXAMPLES / "Example_9.6.1-ObjectEvent-2020_06_18a.xml")
    jsonld = ours(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld")
    assert xml[0] == jsonld[0]


def test_epc_urn_and_digital_link_notation_hash_alike():
    urn = ours(EXAMPLES / "Example_9.6.4-TransformationEvent.jsonld")
    link = ours(EXAMPLES / "Example_9.6.4-TransformationEventWithDigitalLink.jsonld")
    assert urn == link


def test_a_query_document_hashes_its_events_like_a_capture_document():
    query = ours(EXAMPLES / "EPCISQueryDocument.jsonld")
    assert query == ours(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld")


def test_the_published_event_ids_are_not_what_the_hash_gives():
    """Why the expected values come from the reference tool: GS1's examples carry illustrative
    eventIDs, not the hashes of their events."""
    doc = json.loads((EXAMPLES / "Example_9.6.2-ObjectEvent.jsonld").read_text())
    assert doc["epcisBody"]["eventList"][0]["eventID"] != event_hashes(doc)[0]


def test_an_event_id_takes_no_part_in_the_hash():
    doc = json.loads((EXAMPLES / "Example_9.6.2-ObjectEvent.jsonld").read_text())
    before = event_hashes(doc)
    doc["epcisBody"]["eventList"][0]["eventID"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
    assert event_hashes(doc) == before


def test_a_changed_value_changes_the_hash():
    doc = json.loads((EXAMPLES / "Example_9.6.2-ObjectEvent.jsonld").read_text())
    before = event_hashes(doc)
    doc["epcisBody"]["eventList"][0]["eventTimeZoneOffset"] = "+03:00"
    assert event_hashes(doc) != before


def test_with_event_ids_sets_each_events_hash_after_its_type():
    doc = json.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    events = with_event_ids(doc["epcisBody"]["eventList"], doc["@context"])
    assert [e["eventID"] for e in events] == event_hashes(doc)
    assert [list(e)[:2] for e in events] == [["type", "eventID"]] * 2


def test_no_context_is_fetched(monkeypatch: pytest.MonkeyPatch):
    """A remote context lotline does not ship is read as empty, never fetched."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("network access")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    doc = json.loads((EXAMPLES / "Example_9.6.2-ObjectEvent.jsonld").read_text())
    expected = event_hashes(doc)
    doc["@context"] = [*doc["@context"], "https://example.com/never-fetched-context.jsonld"]
    assert event_hashes(doc) == expected


def test_an_unusable_context_is_an_event_hash_error():
    doc = json.loads((EXAMPLES / "transformation_event_all_possible_fields.jsonld").read_text())
    with pytest.raises(EventHashError, match="protected term"):
        event_hashes(doc)


def test_an_xml_document_without_events_is_an_event_hash_error():
    with pytest.raises(EventHashError, match="EventList"):
        xml_event_hashes(b"<epcis:EPCISDocument xmlns:epcis='urn:epcglobal:epcis:xsd:2'/>")
