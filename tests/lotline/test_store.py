"""The same loads, reads and traces on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

import models
from lotline import api, store
from lotline.intake.ingest import load_folder
from lotline.table_stage import TableStage

SMALL = Path(__file__).parents[1] / "data" / "small"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return store.sqlite_url(tmp_path / "db.sqlite")
    return request.getfixturevalue("postgres_url")


def test_frames_round_trip_with_types(database_url: str) -> None:
    engine = api.connect(database_url)
    frame = pl.DataFrame(
        {
            "lot_key": [1, 2],
            "location_id": ["WH-1", "SITE-1"],
            "quantity": [2.5, -1.0],
            "uom": ["KGM", "KGM"],
            "last_movement_at": [datetime(2026, 9, 1, 8, 30, 15, 123456, tzinfo=UTC), None],
            "snapshot_id": ["s", "s"],
        }
    ).with_columns(pl.col("last_movement_at").dt.cast_time_unit("us"))
    with engine.begin() as conn:
        store.insert_frame(conn, models.LotOnHand, frame)
    back = store.read_frame(engine, models.LotOnHand).sort("lot_key")
    assert_frame_equal(back, frame.select(back.columns))
    dates = pl.DataFrame(
        {
            "gtin": ["00614141000012"],
            "serial": ["X"],
            "lot_key": [1],
            "lot": ["L"],
            "origin": ["produced"],
            "origin_id": ["P"],
            "created_at": [datetime(2026, 1, 1, tzinfo=UTC)],
            "snapshot_id": ["s"],
        }
    )
    with engine.begin() as conn:
        store.insert_frame(conn, models.Serial, dates)
    assert store.read_frame(engine, models.Serial)["created_at"][0] == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    lot_frame = store.read_frame(engine, models.Lot)
    assert lot_frame.schema["expiry_date"] == pl.Date and lot_frame.height == 0


def test_load_trace_and_reload(database_url: str, tmp_path: Path) -> None:
    engine = api.connect(database_url)
    report = load_folder(engine, SMALL)
    assert report.changed and all(f.accounted for f in report.files)
    result = api.trace_lot(engine, "00614141000012", "F1", "forward")
    assert sorted(result.shipments["shipment_id"]) == ["SH1", "SH2", "SH2", "SH3"]
    # the same answer as on an independent SQLite load
    reference = api.connect(store.sqlite_url(tmp_path / "ref.sqlite"))
    load_folder(reference, SMALL)
    expected = api.trace_lot(reference, "00614141000012", "F1", "forward")
    assert_frame_equal(result.lots, expected.lots)
    assert_frame_equal(
        result.shipments.drop("id", strict=False), expected.shipments.drop("id", strict=False)
    )
    assert not load_folder(engine, SMALL).changed


def test_failed_load_rolls_back(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = api.connect(database_url)

    def broken(self, snapshot_id=None):  # the lineage swapped in last, built ahead or after
        raise RuntimeError("lost connection")

    monkeypatch.setattr(TableStage, "finish", broken)
    with pytest.raises(RuntimeError):
        load_folder(engine, SMALL)
    with engine.connect() as conn:
        for model in (*models.RECORD_TABLES.values(), models.Product, models.SourceFile):
            assert (
                conn.execute(
                    sa.select(sa.func.count()).select_from(store.table(model))
                ).scalar_one()
                == 0
            )


def _page_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA page_size").fetchone()[0]


def test_a_new_sqlite_database_has_large_pages_and_an_old_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    new = store.make_engine(store.sqlite_url(tmp_path / "new.sqlite"))
    store.create_schema(new)
    new.dispose()
    assert _page_size(tmp_path / "new.sqlite") == store.PAGE_BYTES == 16_384
    with sqlite3.connect(tmp_path / "old.sqlite") as conn:  # as an earlier release made it
        conn.execute("PRAGMA page_size=4096")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE made_before (x)")
    old = store.make_engine(store.sqlite_url(tmp_path / "old.sqlite"))
    report = load_folder(old, SMALL)
    assert report.snapshot_id is not None
    assert not store.read_frame(old, models.LotClosure).is_empty()
    old.dispose()
    assert _page_size(tmp_path / "old.sqlite") == 4096


def test_a_staging_file_is_written_without_journal_or_sync(tmp_path: Path) -> None:
    pragmas = {}
    with (
        store.staging_connection(tmp_path / "staged.sqlite") as staging,
        staging.cursor() as cursor,
    ):
        for name in ("page_size", "journal_mode", "synchronous"):
            cursor.execute(f"PRAGMA {name}")
            pragmas[name] = cursor.fetchone()[0]
        cursor.adbc_ingest("rows", pl.DataFrame({"a": [1, 2]}).to_arrow(), mode="create")
    assert pragmas == {"page_size": store.PAGE_BYTES, "journal_mode": "off", "synchronous": 0}
    with sqlite3.connect(tmp_path / "staged.sqlite") as conn:
        assert conn.execute("SELECT sum(a) FROM rows").fetchone() == (3,)
