"""A first load builds its lineage on a thread while it writes its records (`ingest._lineage_ahead`,
`TableStage.put_apart`): the tables must be the ones the same load writes built after its records,
row ids and snapshot ids included, and a build that fails or assumed other records must never
reach the database."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from lineage_compare import assert_equals_rebuild
from polars.testing import assert_frame_equal
from postgres_database import fresh_database

import models
from lotline import store
from lotline.generate import generate
from lotline.intake import ingest
from lotline.table_stage import TableStage


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ahead") / "drop"
    generate(folder, seed=11, scale=1)
    return folder


def _stored_lineage(engine: sa.Engine) -> dict[str, pl.DataFrame]:
    """Every lineage table as stored, in its stored order (row ids, snapshot ids and all)."""
    return {
        model.__tablename__: store.read_frame(engine, model).sort(
            [c.name for c in store.table(model).primary_key.columns]
        )
        for model in models.LINEAGE_TABLES
    }


def _ahead_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record, per commit, whether the lineage was built ahead."""
    calls: list[bool] = []
    original = ingest._lineage_ahead

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        ahead = original(*args, **kwargs)
        calls.append(ahead is not None)
        return ahead

    monkeypatch.setattr(ingest, "_lineage_ahead", spy)
    return calls


def _ahead_equals_after(
    drop: Path, url: str, other_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _ahead_calls(monkeypatch)
    ahead = store.make_engine(url)
    report = ingest.load_folder(ahead, drop)
    assert calls == [True] and report.lineage_counts["lot_closure"] > 0
    monkeypatch.setattr(ingest, "AHEAD_ROWS", 0)  # the same load, lineage built after its records
    after = store.make_engine(other_url)
    ingest.load_folder(after, drop)
    assert calls == [True, False]
    built_ahead, built_after = _stored_lineage(ahead), _stored_lineage(after)
    for name, rows in built_after.items():
        assert rows.height > 0 or name == "lot_receipt", name
        try:
            assert_frame_equal(built_ahead[name], rows, check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{name} built ahead differs: {exc}") from exc
    ahead.dispose()
    after.dispose()


def test_a_first_load_builds_ahead_the_tables_it_builds_after_its_records(
    drop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ahead_equals_after(
        drop,
        store.sqlite_url(tmp_path / "ahead.sqlite"),
        store.sqlite_url(tmp_path / "after.sqlite"),
        monkeypatch,
    )
    assert not list(tmp_path.glob("lotline-staged-*")), "staging files left behind"


@pytest.mark.postgres
def test_a_first_load_builds_ahead_the_tables_it_builds_after_its_records_on_postgres(
    drop: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_database(postgres_url) as other:
        _ahead_equals_after(drop, postgres_url, other, monkeypatch)


def test_only_a_first_load_builds_ahead(
    drop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _ahead_calls(monkeypatch)
    engine = store.make_engine(store.sqlite_url(tmp_path / "db.sqlite"))
    ingest.load_folder(engine, drop)
    (tmp_path / "later").mkdir()
    production = pl.read_csv(drop / "production.csv", infer_schema=False)
    production.head(3).with_columns(
        pl.col("production_id") + "-LATE", pl.col("lot") + "-LATE"
    ).write_csv(tmp_path / "later" / "production.csv")
    ingest.load_folder(engine, tmp_path / "later")
    assert calls == [True, False]
    assert_equals_rebuild(engine, tmp_path, "after a second load")


def test_a_build_ahead_that_fails_rolls_the_whole_load_back(
    drop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = ingest.full_build

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        for n, (name, rows) in enumerate(built(*args, **kwargs)):
            if n == 2:
                raise MemoryError("the lineage thread ran out of memory, say")
            yield name, rows

    monkeypatch.setattr(ingest, "full_build", failing)
    engine = store.make_engine(store.sqlite_url(tmp_path / "db.sqlite"))
    with pytest.raises(MemoryError, match="lineage thread"):
        ingest.load_folder(engine, drop)
    for model in (*models.RECORD_TABLES.values(), models.Lot, models.LotClosure, models.SourceFile):
        assert store.read_frame(engine, model).is_empty(), model.__tablename__
    engine.dispose()
    assert not list(tmp_path.glob("lotline-staged-*")), "staging files left behind"
    monkeypatch.setattr(ingest, "full_build", built)
    engine = store.make_engine(store.sqlite_url(tmp_path / "db.sqlite"))
    assert ingest.load_folder(engine, drop).snapshot_id is not None  # the same load, once more
    assert_equals_rebuild(engine, tmp_path, "the load after a failed one")


def test_a_build_ahead_of_other_records_than_the_load_wrote_is_discarded(
    drop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the rows a first load writes ever to differ from the ones the build assumed (a rule
    of `_apply_records` changed, say), the lineage is rebuilt from what was written."""
    original = ingest._lineage_ahead
    seen = []

    def assumes_a_row_less(conn, typed_rows, fresh, load_id):  # type: ignore[no-untyped-def]
        fewer = {**typed_rows, "consumption": typed_rows["consumption"].slice(1)}
        ahead = original(conn, fewer, fresh, load_id)
        seen.append(ahead)
        return ahead

    monkeypatch.setattr(ingest, "_lineage_ahead", assumes_a_row_less)
    engine = store.make_engine(store.sqlite_url(tmp_path / "db.sqlite"))
    ingest.load_folder(engine, drop)
    assert seen[0] is not None and not seen[0].built_from({})
    assert_equals_rebuild(engine, tmp_path, "a build ahead of other records")


def test_built_from_compares_every_lineage_record_type() -> None:
    rows = pl.DataFrame({"lot": ["A", "B"], "quantity": [1.0, 2.0]})
    ahead = ingest._LineageAhead(stage=None, records={"production": rows})  # type: ignore[arg-type]
    assert ahead.built_from({"production": rows, "shipments": rows.clear()})
    assert not ahead.built_from({"production": rows.head(1)})
    assert not ahead.built_from({"production": rows.with_columns(pl.col("quantity") * 2)})
    assert not ahead.built_from({"production": rows, "shipments": rows})
    assert not ahead.built_from({})


def test_a_stage_put_apart_waits_for_its_thread_and_stamps_the_snapshot_late(
    sqlite_url: str,
) -> None:
    engine = store.make_engine(sqlite_url)
    store.create_schema(engine)
    closure = pl.DataFrame(
        {"ancestor_key": [0, 0, 1], "descendant_key": [0, 1, 1], "depth": [0, 1, 0]},
        schema_overrides={"depth": pl.Int16},
    ).with_columns(exposure=pl.lit(1.0))
    with engine.begin() as conn:
        stage = TableStage(conn, snapshot_id="")
        stage.put_apart(iter([("lot_closure", iter([closure.head(2), closure.tail(1)]))]))
        assert stage.finish("s-late") == {"lot_closure": 3}
        stage.close()
    stored = store.read_frame(engine, models.LotClosure)
    assert stored.height == 3 and stored["snapshot_id"].unique().to_list() == ["s-late"]
