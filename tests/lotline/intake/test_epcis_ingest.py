"""EPCIS 2.0 documents in the drop folder load through the contract pipeline (real SQLite)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from lotline import api, store
from lotline.gs1 import with_check_digit
from lotline.intake.epcis_source import source_read
from lotline.intake.ingest import load_folder
from lotline.intake.reading import scan

EPCIS = Path(__file__).parents[2] / "data" / "epcis"
EXAMPLES = sorted(p.name for p in EPCIS.iterdir() if p.suffix in (".json", ".jsonld", ".xml"))


def _load(tmp_path: Path, *files: Path):
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    for f in files:
        shutil.copy(f, drop)
    engine = store.make_engine(store.sqlite_url(tmp_path / "lotline.sqlite"))
    return engine, drop, load_folder(engine, drop)


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_public_example_imports_without_rejects(tmp_path, name):
    engine, drop, report = _load(tmp_path, EPCIS / name)
    assert report.rejected.is_empty(), report.rejected.to_dicts()
    assert {f.name for f in report.files} == {name}
    with engine.connect() as conn:  # one load-log row per document, whatever it fed
        logged = conn.execute(sa.text("select file_name from source_file")).scalars().all()
    assert logged == [name]
    again = load_folder(engine, drop)  # the same document again changes nothing
    assert not again.changed and all(f.already_loaded for f in again.files)


def test_an_invalid_document_is_quarantined_naming_the_schema_rule(tmp_path):
    engine, _, report = _load(
        tmp_path, EPCIS / "invalid" / "ObjectEvent_without_action_and_eventTime.json"
    )
    rejected = report.rejected.to_dicts()
    assert {r["row_number"] for r in rejected} == {1}  # event 1 of the document
    assert all("JSON Schema rule 'required'" in r["message"] for r in rejected)
    assert {r["message"].split(": ", 1)[1].split(" (")[0] for r in rejected} == {
        "'eventTime' is a required property",
        "'eventTimeZoneOffset' is a required property",
        "'action' is a required property",
    }


def test_trace_of_a_received_lot_from_the_9_6_2_example(tmp_path):
    engine, _, _ = _load(tmp_path, EPCIS / "Example_9.6.2-ObjectEvent.jsonld")
    # urn:epc:class:lgtin:4012345.012345.998877: indicator 0, company 4012345, item 12345
    result = api.trace_lot(engine, "04012345123456", "998877", "backward")
    (receipt,) = result.receipts.to_dicts()
    assert (receipt["quantity"], receipt["uom"], receipt["tz_offset"]) == (200, "KGM", "+02:00")
    assert receipt["from_location_id"] == with_check_digit("401234500225")  # sourceList location
    assert receipt["to_location_id"] == with_check_digit("061414100888")  # bizLocation
    assert result.lots["origin"].to_list() == ["received"]


PLANT, MILL, SHOP = (with_check_digit(b) for b in ("401234500001", "401234500225", "061414100777"))
FLOUR, BREAD = "04012345123456", with_check_digit("0401234500001")

RECEIVING = {
    "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
    "type": "EPCISDocument",
    "schemaVersion": "2.0",
    "creationDate": "2026-03-01T07:00:00Z",
    "epcisBody": {
        "eventList": [
            {
                "type": "ObjectEvent",
                "eventTime": "2026-03-01T07:00:00Z",
                "eventTimeZoneOffset": "+01:00",
                "action": "OBSERVE",
                "bizStep": "receiving",
                "disposition": "in_progress",
                "quantityList": [
                    {
                        "epcClass": "urn:epc:class:lgtin:4012345.012345.F1",
                        "quantity": 100,
                        "uom": "KGM",
                    }
                ],
                "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.3"},
                "bizLocation": {"id": "urn:epc:id:sgln:4012345.00001.0"},
                "sourceList": [
                    {"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00225"},
                    {"type": "location", "source": "urn:epc:id:sgln:4012345.00225.0"},
                ],
                "bizTransactionList": [{"type": "desadv", "bizTransaction": "ASN-77"}],
            }
        ]
    },
}

SHIPPING = f"""<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0"
    creationDate="2026-03-03T10:00:00Z">
  <EPCISBody><EventList><ObjectEvent>
    <eventTime>2026-03-03T10:00:00+01:00</eventTime>
    <eventTimeZoneOffset>+01:00</eventTimeZoneOffset>
    <epcList/>
    <action>OBSERVE</action>
    <bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>
    <disposition>urn:epcglobal:cbv:disp:in_transit</disposition>
    <readPoint><id>urn:epc:id:sgln:4012345.00001.5</id></readPoint>
    <bizTransactionList>
      <bizTransaction type="urn:epcglobal:cbv:btt:desadv">DES-9</bizTransaction>
    </bizTransactionList>
    <quantityList><quantityElement>
      <epcClass>https://id.gs1.org/01/{BREAD}/10/B1</epcClass>
      <quantity>40</quantity>
    </quantityElement></quantityList>
    <destinationList>
      <destination type="urn:epcglobal:cbv:sdt:owning_party"
        >urn:epc:id:pgln:0614141.00777</destination>
      <destination type="urn:epcglobal:cbv:sdt:location"
        >urn:epc:id:sgln:0614141.00777.0</destination>
    </destinationList>
  </ObjectEvent></EventList></EPCISBody>
</epcis:EPCISDocument>
"""


def _mixed_drop(drop: Path) -> None:
    """Master data and production as CSV, receiving as JSON-LD, shipping as XML."""
    drop.mkdir()
    (drop / "products.csv").write_text(
        f"gtin,name,tracking,uom\n{FLOUR},Flour,lot,KGM\n{BREAD},Bread,lot,EA\n"
    )
    (drop / "locations.csv").write_text(
        "location_id,kind,business_name,gln\n"
        f"PLANT,site,Bakery plant,{PLANT}\nMILL,supplier,Mill,{MILL}\nSHOP,customer,Shop,{SHOP}\n"
    )
    (drop / "production.csv").write_text(
        "production_id,completed_at,location_id,gtin,lot,quantity,uom\n"
        f"P1,2026-03-02T08:00:00+01:00,PLANT,{BREAD},B1,100,EA\n"
    )
    (drop / "consumption.csv").write_text(
        f"production_id,gtin,lot,quantity,uom\nP1,{FLOUR},F1,100,KGM\n"
    )
    (drop / "asn-77.jsonld").write_text(json.dumps(RECEIVING))
    (drop / "from-the-wms").write_text(SHIPPING)  # no extension: recognised by content


def test_a_csv_part_and_an_epcis_part_trace_as_one(tmp_path):
    drop = tmp_path / "drop"
    _mixed_drop(drop)
    engine = store.make_engine(store.sqlite_url(tmp_path / "lotline.sqlite"))
    report = load_folder(engine, drop)
    assert report.rejected.is_empty(), report.rejected.to_dicts()
    assert not any(
        f.rule == "epcis_master_data_synthesised"
        for f in report.summary().iter_rows(named=True)
        if False
    )
    forward = api.trace_lot(engine, FLOUR, "F1", "forward")
    assert set(forward.lots["lot"]) == {"F1", "B1"}
    (shipment,) = forward.shipments.to_dicts()
    assert (shipment["shipment_id"], shipment["to_location_id"]) == ("DES-9", "SHOP")
    assert shipment["from_location_id"] == "PLANT"  # the dock's GLN is the plant's
    backward = api.trace_lot(engine, BREAD, "B1", "backward")
    (receipt,) = backward.receipts.to_dicts()
    assert (receipt["receipt_id"], receipt["from_location_id"], receipt["to_location_id"]) == (
        "ASN-77",
        "MILL",
        "PLANT",
    )
    # nothing was synthesised: every GTIN and GLN is in the CSV master data
    assert "epcis_master_data_synthesised" not in set(report.summary()["rule"])


def test_scan_lists_a_document_once_per_record_type_and_reads_master_data_of_any_type(tmp_path):
    drop = tmp_path / "drop"
    _mixed_drop(drop)
    (drop / "notes.json").write_text('{"type": "Feature"}')
    found = scan(drop)
    epcis = {(f.name, f.record_type) for f in found.files if f.epcis is not None}
    assert epcis == {("asn-77.jsonld", "receipts"), ("from-the-wms", "shipments")}
    (skipped,) = found.skipped  # listed, never dropped silently
    assert (skipped.name, skipped.reason) == (
        "notes.json",
        "not a data file (.csv, .xlsx, .parquet); not an EPCIS 2.0 document either",
    )
    # a scan of one record type (as the Dagster raw assets do) still resolves GLNs through the
    # CSV location master data of the whole drop
    (receipts,) = scan(drop, "receipts").files[-1:]
    read = source_read(receipts)
    assert read.rows.select("from_location_id", "to_location_id", "_source_row").row(0) == (
        "MILL",
        "PLANT",
        1,
    )


def test_the_same_events_in_another_notation_change_nothing(tmp_path):
    engine, drop, first = _load(tmp_path, EPCIS / "Example_9.6.1-ObjectEvent.jsonld")
    assert first.changed
    shutil.copy(EPCIS / "Example_9.6.1-ObjectEvent-2020_06_18a.xml", drop)
    second = load_folder(engine, drop)
    assert second.rejected.is_empty()
    xml = [f for f in second.files if f.name.endswith(".xml")]
    assert xml and all(f.rows_loaded == 0 and f.rows_unchanged == f.rows_read for f in xml)
    assert not second.changed


def _receiving(quantity: int, desadv: str | None, **extra) -> dict:
    event = json.loads(json.dumps(RECEIVING["epcisBody"]["eventList"][0]))
    event["quantityList"][0]["quantity"] = quantity
    event["bizTransactionList"] = [{"type": "desadv", "bizTransaction": desadv}] if desadv else []
    return {**event, **extra}


def _document(*events: dict) -> str:
    return json.dumps({**RECEIVING, "epcisBody": {"eventList": list(events)}})


@pytest.mark.parametrize("desadv", ["ASN-77", None])
def test_an_error_declaration_corrects_the_stored_records(tmp_path, desadv):
    drop = tmp_path / "drop"
    _mixed_drop(drop)
    (drop / "asn-77.jsonld").write_text(_document(_receiving(100, desadv)))
    engine = store.make_engine(store.sqlite_url(tmp_path / "lotline.sqlite"))
    assert load_folder(engine, drop).rejected.is_empty()
    declared = _receiving(
        100,
        desadv,
        errorDeclaration={
            "declarationTime": "2026-03-04T09:00:00Z",
            "reason": "incorrect_data",
            "correctiveEventIDs": ["urn:uuid:6f0a2b1e-0000-4000-8000-000000000001"],
        },
    )
    corrective = _receiving(90, desadv, eventID="urn:uuid:6f0a2b1e-0000-4000-8000-000000000001")
    (drop / "correction.jsonld").write_text(_document(declared, corrective))
    report = load_folder(engine, drop)
    assert report.rejected.is_empty(), report.rejected.to_dicts()
    (receipt,) = api.trace_lot(engine, FLOUR, "F1", "backward").receipts.to_dicts()
    assert receipt["quantity"] == 90
    history = api.record_history(engine).filter(pl.col("record_type") == "receipts")
    assert set(history["change"]) == {"corrected" if desadv else "voided"}
    assert all("errorDeclaration (incorrect_data)" in r for r in history["reason"])
