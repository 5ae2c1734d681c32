"""EPCIS 2.0 documents -> contract records, without a database."""

from __future__ import annotations

import json
from pathlib import Path

from lotline.gs1 import with_check_digit
from lotline.gs1.capture import Master, capture_drop, cbv_word, read_document, sniff
from lotline.gs1.capture.events import UNKNOWN_DESTINATION, UNKNOWN_LOT

EPCIS = Path(__file__).parents[2] / "data" / "epcis"
CUSTOMER_GLN = with_check_digit("061414100777")  # urn:epc:id:sgln:0614141.00777.0
SITE_GLN = with_check_digit("401234500001")  # urn:epc:id:sgln:4012345.00001.0


def _doc(**event) -> bytes:
    base = {
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T07:00:00Z",
        "eventTimeZoneOffset": "+02:00",
        "action": "OBSERVE",
    }
    return json.dumps(
        {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-03-01T07:00:00Z",
            "epcisBody": {"eventList": [{**base, **event}]},
        }
    ).encode()


def _capture(*documents: bytes, master: Master | None = None):
    docs = [(f"doc{i}.jsonld", read_document(d)) for i, d in enumerate(documents)]
    return capture_drop(docs, master or Master())


def test_cbv_words_urns_and_web_uris_are_one_word():
    for value in (
        "receiving",
        "urn:epcglobal:cbv:bizstep:receiving",
        "https://ref.gs1.org/cbv/BizStep-receiving",
    ):
        assert cbv_word(value) == "receiving"
    assert cbv_word("urn:epcglobal:cbv:btt:desadv") == "desadv"
    assert cbv_word("urn:epcglobal:cbv:sdt:owning_party") == "owning_party"


def test_documents_are_recognised_by_content_not_name():
    assert sniff((EPCIS / "Example_9.6.2-ObjectEvent.jsonld").read_bytes()) == "json"
    assert sniff((EPCIS / "Example_9.6.1-ObjectEvent-2020_06_18a.xml").read_bytes()) == "xml"
    assert sniff(b'{"type": "Feature"}') is None
    assert sniff(b"gtin,name\n") is None


def test_xml_and_json_ld_of_the_same_events_give_the_same_records():
    xml = read_document((EPCIS / "Example_9.6.1-ObjectEvent-2020_06_18a.xml").read_bytes())
    json_ld = read_document((EPCIS / "Example_9.6.1-ObjectEvent.jsonld").read_bytes())
    from_xml = capture_drop([("a", xml)], Master())["a"].rows
    from_json = capture_drop([("a", json_ld)], Master())["a"].rows
    assert from_xml == from_json
    shipment = from_xml["shipments"][0]
    # GTIN-14 rebuilt from the URN: indicator digit 1 back to the front, check digit recomputed
    assert shipment["gtin"] == "10614141073464"
    assert shipment["serial"] == "2017"
    # the readPoint of a shipping event is the shipper's dock, never the consignee
    assert shipment["from_location_id"] == "0614141073467"
    assert shipment["to_location_id"] == UNKNOWN_DESTINATION
    assert shipment["shipped_at"] == "2005-04-03T20:33:31.116-06:00"


def test_lgtin_receipt_takes_locations_by_type_and_local_time():
    rows = _capture((EPCIS / "Example_9.6.2-ObjectEvent.jsonld").read_bytes())["doc0.jsonld"].rows
    (receipt,) = rows["receipts"]
    assert (receipt["gtin"], receipt["lot"], receipt["quantity"], receipt["uom"]) == (
        "04012345123456",
        "998877",
        "200",
        "KGM",
    )
    # sourceList: the `location` entry, not the possessing party listed first
    assert receipt["from_location_id"] == "4012345002256"
    assert receipt["to_location_id"] == "0614141008889"  # bizLocation
    assert receipt["received_at"] == "2013-06-08T16:58:56.591+02:00"  # eventTimeZoneOffset
    assert {p["gtin"] for p in rows["products"]} == {"04012345123456"}


def test_a_serial_takes_its_lot_from_the_commissioning_event_of_another_document():
    commissioning = _doc(
        action="ADD",
        bizStep="commissioning",
        epcList=["urn:epc:id:sgtin:4012345.011111.S1"],
        bizLocation={"id": "urn:epc:id:sgln:4012345.00001.0"},
        ilmd={"cbvmda:lotNumber": "L42", "cbvmda:itemExpirationDate": "2027-01-31"},
    )
    shipping = _doc(
        bizStep="shipping",
        epcList=["urn:epc:id:sgtin:4012345.011111.S1", "urn:epc:id:sscc:4012345.0000000333"],
        readPoint={"id": "urn:epc:id:sgln:4012345.00001.7"},
        destinationList=[
            {"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00001"},
            {"type": "location", "destination": "urn:epc:id:sgln:0614141.00777.0"},
        ],
        quantityList=[{"epcClass": "urn:epc:class:lgtin:4012345.011111.L7", "quantity": 3}],
    )
    out = _capture(shipping, commissioning, master=Master(location_by_gln={CUSTOMER_GLN: "C"}))
    (produced,) = out["doc1.jsonld"].rows["production"]
    assert (produced["lot"], produced["serial"], produced["expiry_date"]) == (
        "L42",
        "S1",
        "2027-01-31",
    )
    serial_line, lot_line = out["doc0.jsonld"].rows["shipments"]
    assert (serial_line["lot"], serial_line["serial"]) == ("L42", "S1")
    # the SSCC is the logistic unit the items travelled in, not a lot line of its own
    assert serial_line["sscc"] == lot_line["sscc"] == "040123450000003338"
    assert (lot_line["lot"], lot_line["quantity"], lot_line["uom"]) == ("L7", "3", "EA")
    # destination chosen by type (location), resolved through master data by its GLN
    assert serial_line["to_location_id"] == "C"


def test_a_serial_without_known_lot_is_kept_under_the_unknown_lot_with_a_warning():
    out = _capture(
        _doc(
            bizStep="receiving",
            epcList=["urn:epc:id:sgtin:4012345.011111.S9"],
            bizLocation={"id": "urn:epc:id:sgln:4012345.00001.0"},
        )
    )["doc0.jsonld"]
    assert out.rows["receipts"][0]["lot"] == UNKNOWN_LOT
    assert {f["rule"] for f in out.findings} >= {"epcis_lot_unknown", "epcis_location_not_stated"}


def test_a_return_is_a_move_not_a_supplier_receipt():
    out = _capture(
        _doc(
            bizStep="arriving",
            disposition="returned",
            quantityList=[{"epcClass": "urn:epc:class:lgtin:4012345.011111.L7", "quantity": 2}],
            bizLocation={"id": "urn:epc:id:sgln:4012345.00001.0"},
            sourceList=[{"type": "location", "source": "urn:epc:id:sgln:0614141.00777.0"}],
        )
    )["doc0.jsonld"]
    assert "receipts" not in out.rows
    (move,) = out.rows["moves"]
    assert (move["reason"], move["from_location_id"], move["to_location_id"]) == (
        "return",
        CUSTOMER_GLN,
        SITE_GLN,
    )


def test_transformation_and_aggregation_events():
    rows = _capture((EPCIS / "Example_9.6.4-TransformationEvent.jsonld").read_bytes())[
        "doc0.jsonld"
    ].rows
    assert len(rows["production"]) == 4 and len(rows["consumption"]) == 5
    assert {r["production_id"] for r in rows["production"] + rows["consumption"]} == {
        rows["production"][0]["production_id"]
    }
    # an input named by its GTIN only (idpat) is an inferred consumption: no lot
    assert {r["lot"] for r in rows["consumption"] if r["gtin"] == "04012345666663"} == {None}
    packing = _doc(
        type="AggregationEvent",
        action="ADD",
        bizStep="packing",
        parentID="urn:epc:id:sscc:4012345.0000000333",
        childEPCs=["urn:epc:id:sgtin:4012345.011111.S1"],
        childQuantityList=[
            {"epcClass": "urn:epc:class:lgtin:4012345.011111.L7", "quantity": 5, "uom": "KGM"}
        ],
        bizLocation={"id": "urn:epc:id:sgln:4012345.00001.0"},
    )
    serial, lot = _capture(packing)["doc0.jsonld"].rows["packing"]
    assert (serial["action"], serial["parent_sscc"], serial["serial"], serial["lot"]) == (
        "pack",
        "040123450000003338",
        "S1",
        None,
    )
    assert (lot["lot"], lot["quantity"], lot["uom"]) == ("L7", "5", "KGM")


def test_a_schema_error_names_the_rule_and_the_event():
    doc = read_document(
        (EPCIS / "invalid" / "ObjectEvent_without_action_and_eventTime.json").read_bytes()
    )
    out = capture_drop([("bad", doc)], Master())["bad"]
    assert not out.rows
    (event_1,) = {f["row_number"] for f in out.findings}
    assert event_1 == 1
    assert any("JSON Schema rule 'required'" in f["message"] for f in out.findings)
    assert {f["severity"] for f in out.findings} == {"error"}


def test_master_data_vocabularies_name_the_synthesised_products_and_locations():
    doc = json.loads(
        _doc(
            bizStep="receiving",
            quantityList=[{"epcClass": "urn:epc:class:lgtin:4012345.011111.L7", "quantity": 2}],
            bizLocation={"id": "urn:epc:id:sgln:4012345.00001.0"},
            sourceList=[{"type": "location", "source": "urn:epc:id:sgln:0614141.00777.0"}],
        )
    )
    doc["epcisHeader"] = {
        "epcisMasterData": {
            "vocabularyList": [
                {
                    "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                    "vocabularyElementList": [
                        {
                            "id": "urn:epc:id:sgln:0614141.00777.0",
                            "attributes": [
                                {"id": "urn:epcglobal:cbv:mda#name", "attribute": "Mill"}
                            ],
                        }
                    ],
                },
                {
                    "type": "urn:epcglobal:epcis:vtype:EPCClass",
                    "vocabularyElementList": [
                        {
                            "id": "urn:epc:idpat:sgtin:4012345.011111.*",
                            "attributes": [
                                {"id": "urn:epcglobal:cbv:mda#name", "attribute": "Oats"}
                            ],
                        }
                    ],
                },
            ]
        }
    }
    out = _capture(json.dumps(doc).encode())["doc0.jsonld"]
    names = {
        r.get("gtin") or r["location_id"]: r.get("name") or r.get("business_name")
        for r in out.rows["products"] + out.rows["locations"]
    }
    assert names[CUSTOMER_GLN] == "Mill"
    assert names["04012345111118"] == "Oats"
    assert names[SITE_GLN].startswith("unknown (GLN")
    kinds = {r["location_id"]: r["kind"] for r in out.rows["locations"]}
    assert kinds == {CUSTOMER_GLN: "supplier", SITE_GLN: "site"}


def test_epc_urns_and_digital_link_uris_give_the_same_records():
    urn, link = (
        read_document((EPCIS / name).read_bytes())
        for name in (
            "Example_9.6.4-TransformationEvent.jsonld",
            "Example_9.6.4-TransformationEventWithDigitalLink.jsonld",
        )
    )
    assert capture_drop([("a", urn)], Master())["a"].rows == (
        capture_drop([("a", link)], Master())["a"].rows
    )


def test_an_xml_event_missing_what_the_schema_requires_is_quarantined():
    xml = b"""<?xml version="1.0"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0"
    creationDate="2026-03-01T07:00:00Z"><EPCISBody><EventList>
  <ObjectEvent><eventTime>2026-03-01T07:00:00Z</eventTime>
    <eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
    <epcList><epc>urn:epc:id:sgtin:4012345.011111.S1</epc></epcList>
    <bizStep>urn:epcglobal:cbv:bizstep:receiving</bizStep></ObjectEvent>
  <ObjectEvent><eventTime>2026-03-01T08:00:00Z</eventTime>
    <eventTimeZoneOffset>+00:00</eventTimeZoneOffset><action>OBSERVE</action>
    <epcList><epc>urn:epc:id:sgtin:4012345.011111.S2</epc></epcList>
    <bizStep>urn:epcglobal:cbv:bizstep:receiving</bizStep>
    <bizLocation><id>urn:epc:id:sgln:4012345.00001.0</id></bizLocation></ObjectEvent>
</EventList></EPCISBody></epcis:EPCISDocument>"""
    out = capture_drop([("x", read_document(xml))], Master())["x"]
    errors = [f for f in out.findings if f["severity"] == "error"]
    assert [(f["row_number"], f["rule"]) for f in errors] == [(1, "epcis_schema")]
    assert "'action' is a required property" in errors[0]["message"]
    (receipt,) = out.rows["receipts"]  # the other event loads
    assert (receipt["serial"], receipt["to_location_id"]) == ("S2", SITE_GLN)


def test_disposition_feeds_status():
    lot = [{"epcClass": "urn:epc:class:lgtin:4012345.011111.L7", "quantity": 1}]
    where = {"bizLocation": {"id": "urn:epc:id:sgln:4012345.00001.0"}}
    statuses = []
    for step, disposition in (
        ("holding", "non_sellable_other"),
        ("holding", "recalled"),
        ("inspecting", "sellable_accessible"),
    ):
        out = _capture(_doc(bizStep=step, disposition=disposition, quantityList=lot, **where))
        (row,) = out["doc0.jsonld"].rows["status"]
        statuses.append((row["lot"], row["status"], bool(row["reason"]), bool(row["actor"])))
    assert statuses == [("L7", s, True, True) for s in ("hold", "recall", "release")]
    inspected = _capture(_doc(bizStep="inspecting", disposition="in_progress", quantityList=lot))
    assert not inspected["doc0.jsonld"].rows
    assert [f["rule"] for f in inspected["doc0.jsonld"].findings] == ["epcis_not_mapped"]


def test_events_of_one_production_sum_their_inputs_once_each():
    def transformation(output_lot: str, used: int) -> dict:
        return {
            "type": "TransformationEvent",
            "eventTime": "2026-03-02T07:00:00Z",
            "eventTimeZoneOffset": "+01:00",
            "transformationID": "urn:lotline:bt:P1",
            "bizStep": "commissioning",
            "inputQuantityList": [
                {"epcClass": "https://id.gs1.org/01/04012345123456/10/F1", "quantity": used}
            ],
            "outputQuantityList": [
                {
                    "epcClass": f"https://id.gs1.org/01/04012345000016/10/{output_lot}",
                    "quantity": 10,
                }
            ],
            "bizLocation": {"id": "urn:lotline:location:PLANT%201"},
            "bizTransactionList": [
                {"type": "urn:lotline:btt:batch_record", "bizTransaction": "urn:lotline:bt:BR%207"}
            ],
        }

    def document(*events: dict) -> bytes:
        doc = json.loads(_doc())
        doc["epcisBody"]["eventList"] = list(events)
        return json.dumps(doc).encode()

    one = document(transformation("B1", 30), transformation("B2", 70))
    twin = document(transformation("B2", 70))  # the same event again, in another document
    out = _capture(one, twin)
    consumption = [r for c in out.values() for r in c.rows.get("consumption", [])]
    assert [(r["production_id"], r["lot"], r["quantity"]) for r in consumption] == [
        ("urn:lotline:bt:P1", "F1", "100")
    ]
    produced = out["doc0.jsonld"].rows["production"]
    assert {(r["location_id"], r["ref_doc_type"], r["ref_doc_number"]) for r in produced} == {
        ("PLANT 1", "batch_record", "BR 7")
    }
