"""A load commits completely or not at all, and loading the same data twice changes nothing."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

import models
from lotline import store
from lotline.aggregation import commissioned_serials, contents_at
from lotline.intake import ingest
from lotline.intake.ingest import load_folder
from lotline.status import current_status, status_event_frame

PACKING = Path(__file__).parents[2] / "data" / "packing"
PALLET1, PALLET2 = "306141410000010012", "306141410000010029"
CASE1, CASE2 = "306141410000020011", "306141410000020028"

ALL_TABLES = sorted(
    store.table(m).name
    for m in (
        *models.RECORD_TABLES.values(),
        *models.LINEAGE_TABLES,
        models.Product,
        models.Location,
        models.RejectedRecord,
        models.SourceFile,
        models.Snapshot,
    )
)


def table_contents(engine: sa.Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            name: sorted(map(tuple, conn.execute(sa.text(f'select * from "{name}"'))), key=repr)
            for name in ALL_TABLES
        }


def test_reloading_the_same_folder_changes_nothing(small_engine, small_drop) -> None:
    before = table_contents(small_engine)
    report = load_folder(small_engine, small_drop)
    assert not report.changed
    assert all(f.already_loaded and f.rows_loaded == 0 for f in report.files)
    assert table_contents(small_engine) == before


def test_same_rows_in_a_renamed_file_are_unchanged(small_engine, small_drop) -> None:
    before = table_contents(small_engine)
    text = (small_drop / "shipments.csv").read_text()
    (small_drop / "shipments.csv").unlink()
    (small_drop / "shipments_resent.csv").write_text(text + "\n")  # new bytes, same rows
    report = load_folder(small_engine, small_drop)
    resent = next(f for f in report.files if f.name == "shipments_resent.csv")
    assert (resent.rows_read, resent.rows_loaded, resent.rows_unchanged) == (4, 0, 4)
    after = table_contents(small_engine)
    assert {k: v for k, v in after.items() if k != "source_file"} == {
        k: v for k, v in before.items() if k != "source_file"
    }


def test_new_rows_extend_the_lineage(small_engine, small_drop, tmp_path: Path) -> None:
    drop = tmp_path / "more"
    drop.mkdir()
    (drop / "shipments_2.csv").write_text(
        "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,quantity,uom\n"
        "SH9,2026-10-01T07:00:00-05:00,WH-1,CUST-A,00614141000043,C2,10,CS\n"
    )
    first = ingest.stored_records(small_engine)
    report = load_folder(small_engine, drop)
    assert report.changed and report.files[0].rows_loaded == 1
    lots = store.read_frame(small_engine, models.Lot)
    c2 = lots.filter(pl.col("lot") == "C2").row(0, named=True)
    assert c2["quantity_shipped"] == 50.0 and c2["quantity_on_hand"] == 26.0
    assert ingest.stored_records(small_engine).shipments.height == first.shipments.height + 1
    # the lot the shipment touched is rewritten with the new snapshot; lots it cannot change
    # keep the snapshot that last wrote them (incremental lineage)
    assert c2["snapshot_id"] == report.snapshot_id
    assert lots.filter(pl.col("snapshot_id") != report.snapshot_id).height > 0


SHIPMENT_HEADER = (
    "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,sscc,quantity,uom,"
    "ref_doc_type,ref_doc_number"
)
SH1 = (
    "SH1,2026-09-10T07:00:00-05:00,WH-1,{to},00614141000043,C1,306141410000000013,{qty},CS,"
    "BOL,BOL-501"  # the type as another system spells it: the same record as `bol`
)


def _drop(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    drop = tmp_path / name
    drop.mkdir()
    for file_name, text in files.items():
        (drop / file_name).write_text(text)
    return drop


def test_a_resent_record_with_other_values_is_a_correction_with_history(
    small_engine, tmp_path: Path
) -> None:
    from lotline import api

    drop = _drop(
        tmp_path,
        "fix",
        {
            "shipments_fix.csv": f"{SHIPMENT_HEADER},correction_reason\n"
            + SH1.format(to="CUST-B", qty=55)
            + ",consignee and quantity keyed wrong\n"
        },
    )
    report = load_folder(small_engine, drop)
    (f,) = report.files
    assert (f.rows_loaded, f.rows_corrected, f.rows_rejected) == (1, 1, 0)
    assert report.rejected.is_empty() and report.changed

    stored = store.read_frame(small_engine, models.ShipmentRecord).filter(
        pl.col("shipment_id") == "SH1"
    )
    assert stored.select("to_location_id", "quantity", "version").rows() == [("CUST-B", 55.0, 2)]
    history = api.record_history(small_engine, [("00614141000043", "C1")])
    changed = {r["column"]: (r["old"], r["new"]) for r in history.iter_rows(named=True)}
    assert changed == {"to_location_id": ("CUST-A", "CUST-B"), "quantity": ("50", "55")}
    assert set(history["reason"]) == {"consignee and quantity keyed wrong"}
    assert set(history["changed_by_file"]) == {"shipments_fix.csv"}
    assert set(history["was_loaded_from"]) == {"shipments.csv row 2"}

    # the trace answers from the version in force, and says which snapshot that is
    trace = api.trace_lot(small_engine, "00614141000043", "C1", "forward")
    sh1 = trace.shipments.filter(pl.col("shipment_id") == "SH1")
    assert sh1.select("to_location_id", "quantity").rows() == [("CUST-B", 55.0)]
    assert trace.snapshot_id == report.snapshot_id

    # the same correction again is a no-op
    again = _drop(
        tmp_path,
        "fix-again",
        {
            "shipments_fix_2.csv": (drop / "shipments_fix.csv")
            .read_text()
            .replace("wrong", "wrong!")
        },
    )
    assert not load_folder(small_engine, again).changed


def test_a_void_removes_the_record_from_traces_and_keeps_it_in_history(
    small_engine, tmp_path: Path
) -> None:
    from lotline import api

    before = api.trace_lot(small_engine, "00614141000043", "C1", "forward")
    assert "SH1" in before.shipments["shipment_id"].to_list()
    line = SH1.format(to="CUST-A", qty=50)
    drop = _drop(
        tmp_path,
        "void",
        {
            "shipments_void.csv": f"{SHIPMENT_HEADER},void,"
            f"correction_reason\n{line},yes,shipment cancelled\n"
        },
    )
    report = load_folder(small_engine, drop)
    assert report.files[0].rows_voided == 1 and report.changed
    after = api.trace_lot(small_engine, "00614141000043", "C1", "forward")
    assert "SH1" not in after.shipments["shipment_id"].to_list()
    history = api.record_history(small_engine, [("00614141000043", "C1")])
    assert history.select("change", "reason").rows() == [("voided", "shipment cancelled")]
    stored = store.read_frame(small_engine, models.RecordHistory)
    assert '"quantity":"50"' in stored["record"][0]  # the voided version's content is kept

    # voiding it again changes nothing; voiding what was never loaded is a warning
    again = _drop(
        tmp_path,
        "void-again",
        {
            "shipments_void_2.csv": f"{SHIPMENT_HEADER},void\n"
            f"{line},x\n" + line.replace("SH1", "SH-NEVER") + ",1\n"
        },
    )
    report = load_folder(small_engine, again)
    assert not report.changed
    assert report.files[0].rows_unchanged == 2
    assert report.findings["rule"].to_list() == ["nothing_to_void"]


def test_content_hash_is_unambiguous() -> None:
    from lotline.intake.contract import RECORD_TYPES
    from lotline.intake.validation import with_record_hash

    rt = RECORD_TYPES["receipts"]
    rows = pl.DataFrame(
        {c: [None, None] for c in rt.columns}, schema={c: pl.String for c in rt.columns}
    ).with_columns(
        tlc_source_reference=pl.Series(["REF\x1fA", "REF"]),
        ref_doc_number=pl.Series(["B", "A\x1fB"]),
    )
    hashes = with_record_hash(rt, rows)["_record_hash"]
    assert hashes[0] != hashes[1]


def test_a_serial_cannot_be_commissioned_twice(small_engine, tmp_path: Path) -> None:
    drop = tmp_path / "again"
    drop.mkdir()
    (drop / "production.csv").write_text(
        "production_id,completed_at,location_id,gtin,lot,serial,quantity,uom\n"
        "P50,2026-10-01T10:00:00-05:00,SITE-1,00614141000050,T2,T1-0001,1,EA\n"
    )
    report = load_folder(small_engine, drop)
    assert report.rejected["rule"].to_list() == ["serial_not_already_commissioned"]


def test_failed_load_leaves_the_database_unchanged(
    small_engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop = tmp_path / "more"
    drop.mkdir()
    (drop / "moves.csv").write_text(
        "move_id,moved_at,gtin,lot,quantity,uom,from_location_id,to_location_id,reason\n"
        "M9,2026-10-02T09:00:00-05:00,00614141000043,C1,3,CS,WH-1,,destroy\n"
        "M10,2026-10-02T09:00:00-05:00,00614141000043,C1,abc,CS,WH-1,,destroy\n"
    )
    before = table_contents(small_engine)

    def broken(conn, snapshot_id, written=None):  # strikes after records and rejects are written
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest, "rebuild_lineage", broken)
    monkeypatch.setattr(ingest.incremental, "update", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        load_folder(small_engine, drop)
    assert table_contents(small_engine) == before
    monkeypatch.undo()
    report = load_folder(small_engine, drop)  # the same file loads once the fault is gone
    assert (report.files[0].rows_loaded, report.files[0].rows_rejected) == (1, 1)


def test_master_data_update_replaces_the_row(small_engine, tmp_path: Path) -> None:
    drop = tmp_path / "master"
    drop.mkdir()
    with (Path(__file__).parents[2] / "data" / "small" / "locations.csv").open() as f:
        rows = list(csv.DictReader(f))
    rows[4]["phone"] = "+1 555 9999"
    with (drop / "locations.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report = load_folder(small_engine, drop)
    loc = next(f for f in report.files if f.record_type == "locations")
    assert (loc.rows_loaded, loc.rows_unchanged) == (1, 5)
    stored = store.read_frame(small_engine, models.Location)
    assert stored.height == 6
    assert stored.filter(pl.col("location_id") == "CUST-A")["phone"][0] == "+1 555 9999"


@pytest.fixture
def packed(small_engine, small_drop):
    """The small chain loaded, then its packing and status files added in a second load."""
    for path in PACKING.glob("*.csv"):
        shutil.copy(path, small_drop)
    return small_engine, small_drop, load_folder(small_engine, small_drop)


def test_packing_and_status_load_once(packed) -> None:
    engine, drop, report = packed
    new = {f.record_type: f.rows_loaded for f in report.files if not f.already_loaded}
    assert new == {"packing": 9, "status": 4} and report.rejected.is_empty()
    before = table_contents(engine)
    assert not load_folder(engine, drop).changed
    assert table_contents(engine) == before
    for name in ("packing", "status"):  # the same rows in new bytes under another name
        text = (drop / f"{name}.csv").read_text()
        (drop / f"{name}.csv").unlink()
        (drop / f"{name}_resent.csv").write_text(text + "\n")
    resent = load_folder(engine, drop)
    assert {(f.record_type, f.rows_loaded, f.rows_unchanged) for f in resent.files} >= {
        ("packing", 0, 9),
        ("status", 0, 4),
    }
    after = table_contents(engine)
    assert {k: v for k, v in after.items() if k != "source_file"} == {
        k: v for k, v in before.items() if k != "source_file"
    }


def test_stored_packing_and_status_are_typed_with_provenance(packed) -> None:
    engine, _, _ = packed
    records = ingest.stored_records(engine)
    k3 = records.packing.filter(pl.col("packing_id") == "K3").sort("source_row")
    assert k3["source_row"].to_list() == [5, 6, 7]
    assert k3["tz_offset"].unique().to_list() == ["-05:00"]
    assert k3["packed_at"][0] == datetime(2026, 9, 9, 13, tzinfo=UTC)
    # 13:30 UTC (08:30 -05:00): both cases are on pallet 1, T1-0003 is still in case 1
    inside = contents_at(records.packing, PALLET1, datetime(2026, 9, 9, 13, 30, tzinfo=UTC))
    assert sorted(inside.select("depth", pl.coalesce("child_sscc", "serial", "lot")).rows()) == [
        (1, CASE1),
        (1, CASE2),
        (1, "C2"),
        (2, "C1"),
        (2, "T1-0001"),
        (2, "T1-0003"),
    ]
    serials = commissioned_serials(records.receipts, records.production)
    now = current_status(status_event_frame(records.status), serials=serials)
    assert now.select("lot", "serial", "status").rows() == [
        ("C1", None, "release"),
        ("T1", None, "recall"),
        ("T1", "T1-0003", "release"),
    ]
    assert records.products["expiry_kind"].unique().to_list() == ["use_by"]


def test_an_unpack_is_checked_against_the_stored_packing(packed, tmp_path: Path) -> None:
    engine, _, _ = packed
    drop = tmp_path / "later"
    drop.mkdir()
    (drop / "packing_2.csv").write_text(
        "packing_id,packed_at,action,parent_sscc,child_sscc,location_id\n"
        f"K7,2026-09-10T08:00:00-05:00,unpack,{PALLET2},{CASE2},WH-1\n"
        f"K8,2026-09-10T08:00:00-05:00,unpack,{PALLET1},{CASE2},WH-1\n"  # already taken off
        f"K9,2026-09-10T09:00:00-05:00,pack,{PALLET1},{CASE1},WH-1\n"  # still on pallet 1
    )
    report = load_folder(engine, drop)
    assert report.files[0].rows_loaded == 1
    assert report.rejected.select("row_number", "rule").sort("row_number").rows() == [
        (3, "unpack_of_packed"),
        (4, "child_not_already_packed"),
    ]


def test_a_pallet_shipment_reaches_the_lineage_as_its_contents(packed, tmp_path: Path) -> None:
    engine, _, _ = packed
    drop = tmp_path / "pallet"
    drop.mkdir()
    (drop / "shipments_pallet.csv").write_text(
        "shipment_id,shipped_at,from_location_id,to_location_id,sscc,ref_doc_type,ref_doc_number\n"
        f"SH9,2026-09-09T09:00:00-05:00,WH-1,CUST-A,{PALLET1},bol,BOL-9\n"
        # case 2 has been moved to pallet 2 by 2026-09-10: pallet 2 ships C1 only
        f"SH10,2026-09-10T09:00:00-05:00,WH-1,CUST-B,{PALLET2},bol,BOL-10\n"
    )
    report = load_folder(engine, drop)
    assert report.files[0].rows_loaded == 2 and report.rejected.is_empty()
    lines = store.read_frame(engine, models.LotShipment).filter(
        pl.col("shipment_id").is_in(["SH9", "SH10"])
    )
    assert sorted(lines.select("shipment_id", "lot", "serial", "quantity", "sscc").rows()) == [
        ("SH10", "C1", None, 10.0, PALLET2),
        ("SH9", "C1", None, 10.0, PALLET1),
        ("SH9", "C2", None, 5.0, PALLET1),
        ("SH9", "T1", "T1-0001", 1.0, PALLET1),
        ("SH9", "T1", "T1-0003", 1.0, PALLET1),
    ]
    stored = store.read_frame(engine, models.ShipmentRecord).filter(pl.col("shipment_id") == "SH9")
    assert stored.select("gtin", "lot", "quantity").row(0) == (None, None, None)  # kept as sent


def test_quality_tables_are_stored_with_the_lineage(tmp_path: Path) -> None:
    """The generator plants a crumb lot shipped while on QA hold, on and after its expiry day:
    the load stores those findings, the per-lot scores and the mass balance in one snapshot."""
    from lotline.generate import generate

    generate(tmp_path / "drop", seed=7, scale=0.3)
    engine = store.make_engine(store.sqlite_url(tmp_path / "db.sqlite"))
    report = load_folder(engine, tmp_path / "drop")
    exceptions = store.read_frame(engine, models.TraceException)
    held = exceptions.filter(pl.col("check") == "shipped_held")
    expired = exceptions.filter(pl.col("check") == "shipped_expired")
    assert held.height >= 1 and expired.height >= 2
    assert set(held.select("gtin", "lot").rows()) <= set(expired.select("gtin", "lot").rows())
    assert exceptions["snapshot_id"].unique().to_list() == [report.snapshot_id]
    scores = store.read_frame(engine, models.LotCompleteness)
    crumb = scores.join(held.select("gtin", "lot"), on=["gtin", "lot"], how="semi")
    assert crumb.height >= 1
    assert (crumb["score"] < 1).all() and crumb["checks_failed"].str.contains("shipped_held").all()
    balance = store.read_frame(engine, models.LotMassBalance)
    assert balance.height == store.read_frame(engine, models.Lot).height
    assert set(balance["status"]) <= {"pass", "fail", "no_inflow", "unconvertible"}


def test_lot_less_consumption_is_allocated_to_the_lots_on_hand(
    small_engine, tmp_path: Path
) -> None:
    """A production order that records only the product it used: the flour lots on hand at
    SITE-1 then (F1 300 kg, F2 500 kg) are its inferred inputs, 3:5, and their stock drops."""
    from lotline import api

    drop = tmp_path / "lotless"
    drop.mkdir()
    (drop / "production_p8.csv").write_text(
        "production_id,completed_at,location_id,gtin,lot,quantity,uom\n"
        "P8,2026-09-10T10:00:00-05:00,SITE-1,00614141000036,D5,80,KGM\n"
    )
    (drop / "consumption_p8.csv").write_text(
        "production_id,gtin,lot,quantity,uom\nP8,00614141000012,,80,KGM\n"
    )
    report = load_folder(small_engine, drop)
    assert report.rejected.is_empty()
    result = api.trace_lot(small_engine, "00614141000036", "D5", "backward")
    edges = result.edges.filter(pl.col("production_id") == "P8").sort("input_lot")
    assert edges.select("input_lot", "input_quantity", "evidence").rows() == [
        ("F1", 30.0, "inferred"),
        ("F2", 50.0, "inferred"),
    ]
    backward = result.lots.filter(pl.col("direction") == "backward").sort("lot")
    assert backward.select("lot", "exposure").rows() == [("F1", 0.375), ("F2", 0.625)]
    lots = store.read_frame(small_engine, models.Lot).filter(pl.col("lot").is_in(["F1", "F2"]))
    on_hand = dict(lots.sort("lot").select("lot", "quantity_on_hand").rows())
    assert on_hand == {"F1": 270.0, "F2": 450.0}
    balance = store.read_frame(small_engine, models.LotMassBalance)
    assert set(balance.filter(pl.col("lot").is_in(["F1", "F2"]))["status"]) == {"pass"}


def test_a_first_load_builds_lineage_from_what_it_wrote(small_engine) -> None:
    """A first load builds lineage from the records as it wrote them instead of reading them
    back: the same tables as a rebuild from the database."""
    snapshot_id = store.read_frame(small_engine, models.Lot)["snapshot_id"][0]

    def rounded(contents: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
        # exposures are sums in no fixed order: equal to the last bit or two
        return {
            name: [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]
            for name, rows in contents.items()
        }

    before = rounded(table_contents(small_engine))
    with small_engine.begin() as conn:
        ingest.rebuild_lineage(conn, snapshot_id)  # reads every record back
    assert rounded(table_contents(small_engine)) == before


def test_a_first_load_of_generated_data_equals_a_rebuild(tmp_path: Path) -> None:
    """The same on the generator's supply chain: serials, pallets, packing, status, returns."""
    from lotline.generate import generate

    generate(tmp_path / "drop", seed=3, scale=0.2)
    engine = store.make_engine(store.sqlite_url(tmp_path / "db.sqlite"))
    report = load_folder(engine, tmp_path / "drop")
    before = table_contents(engine)
    with engine.begin() as conn:
        ingest.rebuild_lineage(conn, report.snapshot_id)
    after = table_contents(engine)
    for name in before:
        assert len(after[name]) == len(before[name]), name
        for old, new in zip(before[name], after[name], strict=True):
            for a, b in zip(old, new, strict=True):
                if isinstance(a, float):
                    assert a == pytest.approx(b, rel=1e-12, abs=1e-12), name
                else:
                    assert a == b, name
