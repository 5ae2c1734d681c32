"""Loads that cannot go wrong quietly: two loads at once against one database.

Each load runs in its own process, as two `lotline ingest` commands or two Dagster runs would, and
both start at the same moment (a barrier). Afterwards every committed record must be in the
lineage tables, and one record key must have exactly one version in force.
"""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import polars as pl
import pytest
from lineage_compare import assert_equals_rebuild

import models
from lotline import store
from lotline.intake.ingest import load_folder

SMALL = Path(__file__).parents[2] / "data" / "small"
HEADER = "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,sscc,quantity,uom\n"


def _line(shipment_id: str, quantity: int, lot: str = "C2") -> str:
    return (
        f"{shipment_id},2026-10-01T07:00:00-05:00,WH-1,CUST-A,00614141000043,{lot},,{quantity},CS\n"
    )


def _load(url: str, drop: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    engine = store.make_engine(url)
    barrier.wait()
    report = load_folder(engine, Path(drop))
    results.put((drop, report.snapshot_id, [f.rows_loaded for f in report.files]))


def _at_once(url: str, drops: list[Path]) -> list[tuple]:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(len(drops)), context.Queue()
    workers = [context.Process(target=_load, args=(url, str(d), barrier, results)) for d in drops]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    assert all(w.exitcode == 0 for w in workers), [w.exitcode for w in workers]
    return [results.get(timeout=5) for _ in drops]


def _drop(root: Path, name: str, text: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / f"shipments_{name}.csv").write_text(HEADER + text)
    return folder


def _concurrent_loads_keep_every_record(url: str, tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(SMALL, base)
    engine = store.make_engine(url)
    load_folder(engine, base)
    for round_ in range(2):
        a = _drop(tmp_path, f"a{round_}", _line(f"SH-A{round_}", 3) + _line(f"SH-A{round_}x", 1))
        b = _drop(tmp_path, f"b{round_}", _line(f"SH-B{round_}", 2, lot="C1"))
        outcomes = _at_once(url, [a, b])
        assert sorted(loaded for _, _, loaded in outcomes) == [[1], [2]]
        shipped = store.read_frame(engine, models.LotShipment)["shipment_id"].to_list()
        for shipment in (f"SH-A{round_}", f"SH-A{round_}x", f"SH-B{round_}"):
            assert shipment in shipped, f"round {round_}: {shipment} missing from the lineage"
        # each load updated the lineage after the other's commit: together they equal a
        # rebuild from every stored record
        assert_equals_rebuild(engine, tmp_path, f"round {round_}")


def _conflicting_versions_keep_one_in_force(url: str, tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(SMALL, base)
    engine = store.make_engine(url)
    load_folder(engine, base)
    sh1 = "SH1,2026-09-10T07:00:00-05:00,WH-1,CUST-A,00614141000043,C1,306141410000000013,{q},CS\n"
    c = _drop(tmp_path, "c", sh1.format(q=60))
    d = _drop(tmp_path, "d", sh1.format(q=70))
    _at_once(url, [c, d])
    records = store.read_frame(engine, models.ShipmentRecord).filter(pl.col("shipment_id") == "SH1")
    assert records.height == 1 and records["version"].to_list() == [3]
    history = store.read_frame(engine, models.RecordHistory)
    assert sorted(history["version"].to_list()) == [1, 2]
    lineage = store.read_frame(engine, models.LotShipment).filter(pl.col("shipment_id") == "SH1")
    assert lineage["quantity"].to_list() == records["quantity"].to_list()


def test_concurrent_loads_on_sqlite_keep_every_record(tmp_path: Path) -> None:
    _concurrent_loads_keep_every_record(store.sqlite_url(tmp_path / "db.sqlite"), tmp_path)


def test_conflicting_versions_on_sqlite_keep_one_in_force(tmp_path: Path) -> None:
    _conflicting_versions_keep_one_in_force(store.sqlite_url(tmp_path / "db.sqlite"), tmp_path)


@pytest.mark.postgres
def test_concurrent_loads_on_postgres_keep_every_record(postgres_url: str, tmp_path: Path) -> None:
    _concurrent_loads_keep_every_record(postgres_url, tmp_path)


@pytest.mark.postgres
def test_conflicting_versions_on_postgres_keep_one_in_force(
    postgres_url: str, tmp_path: Path
) -> None:
    _conflicting_versions_keep_one_in_force(postgres_url, tmp_path)


def test_record_keys_are_unique_in_the_database(small_engine) -> None:
    """Even a writer that bypasses lotline cannot store a second version of a key in force."""
    stored = store.read_frame(small_engine, models.ShipmentRecord).head(1)
    duplicate = stored.with_columns(pl.lit("f" * 32).alias("record_hash"))
    with pytest.raises(Exception, match="(?i)unique") as error, small_engine.begin() as conn:
        store.insert_frame(conn, models.ShipmentRecord, duplicate)
    assert "line_key" in str(error.value)


def test_a_half_written_file_loads_only_its_complete_rows(small_engine, tmp_path: Path) -> None:
    """The last row cut short is quarantined naming its row, never loaded as a shorter record;
    when the complete file arrives, the complete row loads as new (not as a conflict)."""
    complete = HEADER + _line("SH-H1", 4) + _line("SH-H2", 12)
    drop = tmp_path / "half"
    drop.mkdir()
    (drop / "shipments_h.csv").write_text(complete[: complete.rindex(",")])  # ends mid-row
    report = load_folder(small_engine, drop)
    (f,) = report.files
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (2, 1, 1)
    assert report.rejected.select("row_number", "rule").rows() == [(3, "truncated_row")]
    (drop / "shipments_h.csv").write_text(complete)
    report = load_folder(small_engine, drop)
    (f,) = report.files
    assert (f.rows_read, f.rows_loaded, f.rows_unchanged, f.rows_rejected) == (2, 1, 1, 0)
    stored = store.read_frame(small_engine, models.ShipmentRecord).filter(
        pl.col("shipment_id") == "SH-H2"
    )
    assert stored["quantity"].to_list() == [12.0]


def test_a_ragged_row_is_quarantined_and_counted(small_engine, tmp_path: Path) -> None:
    drop = tmp_path / "ragged"
    drop.mkdir()
    (drop / "shipments_r.csv").write_text(
        HEADER + _line("SH-R1", 4) + "SH-R2,2026-10-01T07:00:00-05:00,WH-1\n" + _line("SH-R3", 5)
    )
    report = load_folder(small_engine, drop)
    (f,) = report.files
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (3, 2, 1)
    row = report.rejected.row(0, named=True)
    assert (row["row_number"], row["rule"]) == (3, "ragged_row")
    assert "SH-R2" in row["record"]
