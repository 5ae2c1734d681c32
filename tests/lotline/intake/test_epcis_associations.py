"""EPCIS Association and Transaction events are kept as records (hand-written fixtures of the
standard's event shapes: a logger on a returnable crate, a purchase order naming a lot)."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa

from lotline import api, store
from lotline.intake.ingest import load_folder

HANDWRITTEN = Path(__file__).parents[2] / "data" / "epcis" / "handwritten"
JSONLD = HANDWRITTEN / "association_and_transaction.jsonld"
XML = HANDWRITTEN / "association_and_transaction.xml"
CRATE = "urn:epc:id:grai:4012345.55555.987"
GTIN = "04012345111118"  # urn:epc:id:sgtin:4012345.011111.*: indicator 0, item 11111


def _load(tmp_path: Path, *files: Path):
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    for f in files:
        shutil.copy(f, drop)
    engine = store.make_engine(store.sqlite_url(tmp_path / "lotline.sqlite"))
    return engine, drop, load_folder(engine, drop)


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"select count(*) from {table}")).scalar_one()


def test_association_events_become_one_record_per_child(tmp_path):
    engine, _, report = _load(tmp_path, JSONLD)
    assert report.rejected.is_empty(), report.rejected.to_dicts()
    rows = {r["child_id"]: r for r in api.associations(engine).to_dicts()}
    assert set(rows) == {
        "urn:epc:id:giai:4000001.12345",  # an asset: kept by its URI, no GS1 trade item keys
        "urn:epc:id:sgtin:4012345.011111.7001",
        "urn:epc:class:lgtin:4012345.011111.L2603B",
    }
    assert {r["parent_id"] for r in rows.values()} == {CRATE}
    assert {r["action"] for r in rows.values()} == {"add"}
    logger = rows["urn:epc:id:giai:4000001.12345"]
    assert (logger["gtin"], logger["lot"], logger["serial"]) == (None, None, None)
    serial = rows["urn:epc:id:sgtin:4012345.011111.7001"]
    # the serial's lot is the lotNumber of the event that commissioned it
    assert (serial["gtin"], serial["lot"], serial["serial"]) == (GTIN, "L2603A", "7001")
    lot = rows["urn:epc:class:lgtin:4012345.011111.L2603B"]
    assert (lot["lot"], lot["quantity"], lot["uom"]) == ("L2603B", 12, "KGM")
    assert logger["location_id"] == "4012345000016"  # the bizLocation's GLN
    assert logger["tz_offset"] == "+01:00"
    with engine.connect() as conn:  # nothing says lotline could not store them
        rules = conn.execute(sa.text("select rule from record_finding")).scalars().all()
    assert "epcis_not_mapped" not in rules


def test_transaction_events_name_the_document_and_every_object(tmp_path):
    engine, _, _ = _load(tmp_path, JSONLD)
    rows = api.transactions(engine).sort("child_id").to_dicts()
    assert [(r["transaction_type"], r["transaction_number"]) for r in rows] == [
        ("po", "urn:epcglobal:cbv:bt:0614141073467:PO-1152")
    ] * 2
    lot_line, serial_line = rows
    assert (lot_line["lot"], lot_line["quantity"], lot_line["uom"]) == ("L2603B", 40, "EA")
    assert (serial_line["serial"], serial_line["lot"]) == ("7002", "L2603A")
    # the lot's evidence is found by lot, as a trace's lots are
    assert len(api.transactions(engine, [(GTIN, "L2603B")])) == 1
    assert len(api.associations(engine, [(GTIN, "L2603A")])) == 1


def test_the_xml_and_json_ld_forms_are_the_same_records(tmp_path):
    engine, drop, _ = _load(tmp_path, JSONLD)
    before = {t: _count(engine, t) for t in ("association_record", "transaction_record")}
    assert before == {"association_record": 3, "transaction_record": 2}
    (drop / JSONLD.name).unlink()
    shutil.copy(XML, drop)
    report = load_folder(engine, drop)  # the same events in XML: nothing new
    assert report.rejected.is_empty(), report.rejected.to_dicts()
    assert {t: _count(engine, t) for t in before} == before


def test_associations_and_transactions_load_from_csv_too(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "locations.csv").write_text(
        "location_id,kind,business_name\nPLANT,site,Plant\n", encoding="utf-8"
    )
    (drop / "associations.csv").write_text(
        "association_id,associated_at,action,parent_id,child_id,location_id\n"
        f"A1,2026-03-02T08:15:00+01:00,ADD,{CRATE},urn:epc:id:giai:4000001.12345,PLANT\n",
        encoding="utf-8",
    )
    (drop / "transactions.csv").write_text(
        "transaction_id,transacted_at,action,transaction_type,transaction_number,child_id\n"
        "T1,2026-03-02T10:00:00+01:00,Add,cert,ORG-CERT-7,urn:epc:id:giai:4000001.12345\n",
        encoding="utf-8",
    )
    engine = store.make_engine(store.sqlite_url(tmp_path / "lotline.sqlite"))
    report = load_folder(engine, drop)
    assert report.rejected.is_empty(), report.rejected.to_dicts()
    assert api.associations(engine)["action"].to_list() == ["add"]  # ADD, Add: one vocabulary
    assert api.transactions(engine)["transaction_type"].to_list() == ["cert"]
