"""The full lineage build written table by table (`ingest.rebuild_lineage`, `TableStage`) gives
the tables the build in memory gives (`ingest.quality_tables`) written whole, row ids included."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from lineage_compare import _copy, assert_same, lineage_tables
from polars.testing import assert_frame_equal
from postgres_database import drop_database

import models
from lotline import aggregation, completeness, genealogy, mass_balance, status, store
from lotline.generate import generate
from lotline.intake import ingest
from lotline.lineage import build_lineage, lot_keys, with_allocated_consumption
from lotline.table_stage import TableStage

ROW_ID_TABLES = (models.LotEdge, models.LotShipment, models.LotReceipt, models.TraceException)
"""Tables whose rows get a surrogate id in the order they are written."""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("streamed") / "drop"
    generate(folder, seed=5, scale=1)
    return folder


def _in_memory(engine: sa.Engine) -> None:
    """The lineage tables as the full build wrote them before it streamed: every table built in
    memory (`lineage.build_lineage`, then the quality tables from it), then each replaced whole.
    """
    with engine.begin() as conn:
        snapshot_id = ingest.latest_snapshot(conn)
        known, next_key = ingest.stored_lot_keys(conn)
        records = ingest.stored_records(conn)
        resolved = ingest.lineage_records(records)
        keys = lot_keys(resolved, known, next_key)
        built = build_lineage(resolved, keys)
        balance = mass_balance.lot_balance(with_allocated_consumption(resolved, keys), built)
        exceptions = completeness.trace_exceptions(
            resolved,
            built,
            balance=balance,
            unresolved=aggregation.unresolved_shipments(records.shipments, records.packing),
        )
        scores = completeness.completeness_score(built.lots, exceptions)
        events = status.status_event_frame(records.status)
        quality = {
            "lot_mass_balance": balance,
            "trace_exception": exceptions,
            "lot_completeness": scores.with_columns(pl.col("checks_failed").list.join(", ")),
            "lot_status": status.current_status(events, serials=built.serials).filter(
                pl.col("status").is_not_null()
            ),
        }
        for name, frame in {**built.tables(), **quality}.items():
            stamped = frame.with_columns(pl.lit(snapshot_id).alias("snapshot_id"))
            store.replace_frame(conn, name, stamped)


def _row_ids(engine: sa.Engine) -> dict[str, pl.DataFrame]:
    return {
        model.__tablename__: store.read_frame(engine, model).drop("snapshot_id").sort("id")
        for model in ROW_ID_TABLES
    }


def _streamed_equals_in_memory(engine: sa.Engine, tmp_path: Path) -> None:
    engine.dispose()  # PostgreSQL copies a database nobody is connected to
    reference = _copy(engine, tmp_path)
    try:
        _in_memory(reference)
        counts = ingest.rebuild(engine)
        assert counts["lot_closure"] > 0 and counts["trace_exception"] > 0
        assert_same(lineage_tables(reference), lineage_tables(engine), "streamed build")
        ids, reference_ids = _row_ids(engine), _row_ids(reference)
        for name, frame in ids.items():
            assert_frame_equal(frame, reference_ids[name], rel_tol=1e-9, abs_tol=1e-12)
    finally:
        reference.dispose()
        if reference.dialect.name == "postgresql":
            drop_database(reference.url)


def test_the_streamed_build_writes_the_tables_of_the_build_in_memory(
    generated: Path, sqlite_url: str, tmp_path: Path
) -> None:
    engine = store.make_engine(sqlite_url)
    ingest.load_folder(engine, generated)
    _streamed_equals_in_memory(engine, tmp_path)
    engine.dispose()
    assert not list(tmp_path.glob("lotline-staged-*")), "staging files left behind"


@pytest.mark.postgres
def test_the_streamed_build_writes_the_tables_of_the_build_in_memory_on_postgres(
    generated: Path, postgres_url: str, tmp_path: Path
) -> None:
    engine = store.make_engine(postgres_url)
    ingest.load_folder(engine, generated)
    try:
        _streamed_equals_in_memory(engine, tmp_path)
    finally:
        engine.dispose()


def _closure_blocks() -> list[pl.DataFrame]:
    edges = pl.DataFrame(
        {"parent_key": [0, 1, 2, 3], "child_key": [1, 2, 3, 4], "share": [1.0, 0.5, 1.0, 0.25]}
    )
    return list(genealogy.closure_blocks(edges, 5, block_edges=1))


def test_a_staged_table_holds_its_blocks_and_a_stream_of_none_empties_it(sqlite_url: str) -> None:
    engine = store.make_engine(sqlite_url)
    store.create_schema(engine)
    blocks = _closure_blocks()
    assert len(blocks) > 2  # one block per ancestor with an edge
    old = pl.DataFrame({"lot_key": [7], "location_id": ["X"], "quantity": [1.0], "uom": ["kg"]})
    with engine.begin() as conn:
        store.insert_frame(conn, models.LotOnHand, old.with_columns(snapshot_id=pl.lit("old")))
        stage = TableStage(conn, "s1")
        stage.put("lot_closure", iter([*blocks[:1], blocks[0].clear(), *blocks[1:]]))
        stage.put("lot_on_hand", iter([]))
        assert stage.finish() == {"lot_closure": sum(b.height for b in blocks), "lot_on_hand": 0}
    closure = store.read_frame(engine, models.LotClosure)
    want = pl.concat(blocks)
    assert closure["snapshot_id"].unique().to_list() == ["s1"]
    assert_frame_equal(closure.drop("snapshot_id"), want, check_dtypes=False, check_row_order=True)
    assert store.read_frame(engine, models.LotOnHand).is_empty()
    engine.dispose()
    assert not list(Path(engine.url.database).parent.glob("lotline-staged-*"))


def test_a_staged_table_rolls_back_with_the_transaction(sqlite_url: str) -> None:
    engine = store.make_engine(sqlite_url)
    store.create_schema(engine)
    first = _closure_blocks()
    with engine.begin() as conn:
        stage = TableStage(conn, "s1")
        stage.put("lot_closure", first)
        stage.finish()
    with pytest.raises(RuntimeError), engine.begin() as conn:
        stage = TableStage(conn, "s2")
        stage.put("lot_closure", first[:1])
        stage.finish()
        raise RuntimeError("the load failed after the swap")
    closure = store.read_frame(engine, models.LotClosure)
    assert closure.height == sum(b.height for b in first)
    assert closure["snapshot_id"].unique().to_list() == ["s1"]


def test_a_build_that_fails_half_way_leaves_no_staging_file_and_no_change(
    generated: Path, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = store.make_engine(sqlite_url)
    ingest.load_folder(engine, generated)
    before = lineage_tables(engine)
    built = ingest.full_build

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        for n, (name, rows) in enumerate(built(*args, **kwargs)):
            if n == 3:
                raise RuntimeError("out of memory, say")
            yield name, rows

    monkeypatch.setattr(ingest, "full_build", failing)
    with pytest.raises(RuntimeError, match="out of memory"):
        ingest.rebuild(engine)
    assert not list(tmp_path.glob("lotline-staged-*"))
    assert_same(before, lineage_tables(engine), "after a failed rebuild")
    engine.dispose()
