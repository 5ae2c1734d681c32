"""Bulk writes through ADBC staging on SQLite, `ANALYZE`: same rows, same transaction.

A large frame reaches SQLite as Arrow through a staging file the load's connection attaches
(`store._insert_staged`); it must store exactly what `executemany` stores, commit or roll back
with the caller's transaction, and leave no staging file behind.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

import models
from lotline import store

ROWS = store.STAGED_ROWS + 5


def _frame(model: type, rows: int = ROWS) -> pl.DataFrame:
    """Rows for every column of `model`'s table, every type, some nulls where allowed."""
    table = store.table(model)
    start = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    columns = {}
    for name, dtype in store.polars_schema(model).items():
        nullable = table.c[name].nullable and not table.c[name].primary_key
        if dtype == pl.Int64:
            values: list = list(range(1, rows + 1))
        elif dtype == pl.Float64:
            values = [i * 0.25 for i in range(rows)]
        elif dtype == pl.Boolean:
            values = [i % 3 == 0 for i in range(rows)]
        elif isinstance(dtype, pl.Datetime):
            values = [start + timedelta(seconds=i, microseconds=i % 1000) for i in range(rows)]
        elif dtype == pl.Date:
            values = [date(2026, 1, 1) + timedelta(days=i % 400) for i in range(rows)]
        else:
            values = [f"{name}-{i}\u00e9" for i in range(rows)]
        if nullable:
            values = [None if i % 7 == 3 else v for i, v in enumerate(values)]
        columns[name] = pl.Series(name, values, dtype=dtype)
    return pl.DataFrame(columns)


def _engine(tmp_path: Path, name: str) -> sa.Engine:
    engine = store.make_engine(store.sqlite_url(tmp_path / name))
    store.create_schema(engine)
    return engine


def test_staged_insert_stores_what_executemany_stores(tmp_path, monkeypatch) -> None:
    frame = _frame(models.ShipmentRecord)
    staged, plain = _engine(tmp_path, "staged.sqlite"), _engine(tmp_path, "plain.sqlite")
    files = []
    with staged.begin() as conn:
        store.insert_frame(conn, models.ShipmentRecord, frame)
        files = [path for _, path in conn.connection.info[store._STAGED_KEY]]
        assert files and all(Path(p).exists() for p in files)
    monkeypatch.setattr(store, "STAGED_ROWS", 10**12)
    with plain.begin() as conn:
        store.insert_frame(conn, models.ShipmentRecord, frame)
    ours = store.read_frame(staged, models.ShipmentRecord).sort("source_row")
    theirs = store.read_frame(plain, models.ShipmentRecord).sort("source_row")
    assert ours.equals(theirs) and ours.height == ROWS
    assert ours.select(frame.columns).equals(frame.sort("source_row"))
    assert not any(Path(p).exists() for p in files)  # detached and deleted at check-in
    with staged.connect() as conn:
        attached = conn.exec_driver_sql("PRAGMA database_list").fetchall()
    assert not [row[1] for row in attached if row[1].startswith("lotline_staged")]


def test_staged_insert_rolls_back_with_the_transaction(tmp_path) -> None:
    engine = _engine(tmp_path, "rollback.sqlite")
    with pytest.raises(RuntimeError), engine.begin() as conn:
        store.insert_frame(conn, models.LotClosure, _frame(models.LotClosure))
        assert conn.execute(sa.text("SELECT count(*) FROM lot_closure")).scalar() == ROWS
        raise RuntimeError("the load fails after writing")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM lot_closure")).scalar() == 0


def test_more_large_frames_than_staging_slots(tmp_path) -> None:
    engine = _engine(tmp_path, "slots.sqlite")
    frame = _frame(models.LotClosure, store.STAGED_ROWS)
    with engine.begin() as conn:
        for round_ in range(store._MAX_STAGED + 2):
            part = frame.with_columns(pl.col("ancestor_key") + round_ * frame.height)
            store.insert_frame(conn, models.LotClosure, part)
        used = len(conn.connection.info[store._STAGED_KEY])
        store.analyze(conn, [models.LotClosure, "lot_closure"])
    assert used == store._MAX_STAGED - store._RESERVED  # the last slots wait for a large frame
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM lot_closure")).scalar()
        stats = conn.execute(sa.text("SELECT count(*) FROM sqlite_stat1")).scalar()
    assert count == frame.height * (store._MAX_STAGED + 2)
    assert stats and stats > 0


@pytest.mark.postgres
def test_analyze_on_postgres(postgres_url: str) -> None:
    engine = store.make_engine(postgres_url)
    store.create_schema(engine)
    with engine.begin() as conn:
        store.insert_frame(conn, models.LotClosure, _frame(models.LotClosure, 1000))
        store.analyze(conn, [models.LotClosure])
    with engine.connect() as conn:
        analyzed = conn.execute(
            sa.text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'lot_closure'")
        ).scalar()
    assert analyzed is not None


@pytest.mark.postgres
def test_bulk_insert_on_postgres_rebuilds_the_primary_key_and_still_refuses_duplicates(
    postgres_url: str, monkeypatch
) -> None:
    """A large frame into an empty table goes in before the key and indexes are built; they
    come back as they were, and a duplicate key fails the insert and its transaction."""
    monkeypatch.setattr(store, "BULK_ROWS", 10)
    engine = store.make_engine(postgres_url)
    store.create_schema(engine)

    def shape() -> tuple:
        inspector = sa.inspect(engine)
        indexes = sorted(
            (i["name"], tuple(i["column_names"])) for i in inspector.get_indexes("lot_closure")
        )
        return inspector.get_pk_constraint("lot_closure"), indexes

    before = shape()
    frame = _frame(models.LotClosure, 50)
    with engine.begin() as conn:
        assert store.bulk_insert(conn, models.LotClosure, frame, empty=True) == 50
    assert shape() == before
    assert before[0]["constrained_columns"] == ["ancestor_key", "descendant_key"]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM lot_closure")).scalar() == 50
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM lot_closure"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        store.bulk_insert(conn, models.LotClosure, pl.concat([frame, frame.head(1)]), empty=True)
    assert shape() == before
    with engine.connect() as conn:  # the failed insert left nothing behind
        assert conn.execute(sa.text("SELECT count(*) FROM lot_closure")).scalar() == 0
    engine.dispose()


@pytest.mark.postgres
def test_binary_copy_stores_what_csv_copy_stores(postgres_url: str, monkeypatch) -> None:
    """Every table, every column type, nulls, extreme values: PostgreSQL holds the same rows
    whether they went as binary `COPY` or as CSV."""
    engine = store.make_engine(postgres_url)
    store.create_schema(engine)
    names = sorted(SQLModel_tables())
    stored = {}
    for binary in (False, True):
        monkeypatch.setattr(store, "BINARY_COPY_ROWS", 1 if binary else 10**9)
        if binary:  # every table goes binary, in chunks: CSV is not used at all
            monkeypatch.setattr(store, "_copy_chunk", None)
            monkeypatch.setattr(store, "CHUNK_ROWS", 7)
        with engine.begin() as conn:
            for name in names:
                frame = _frame(name, 40)
                store.insert_frame(conn, name, _extremes(frame))
                stored[binary, name] = store.read_frame(conn, name)
                conn.execute(store.table(name).delete())
    for name in names:
        key = [c.name for c in store.table(name).primary_key.columns]
        assert stored[True, name].sort(key).equals(stored[False, name].sort(key)), name
        assert stored[True, name].height == 40


def SQLModel_tables() -> list[str]:  # noqa: N802
    from sqlmodel import SQLModel

    return [n for n in SQLModel.metadata.tables if n not in {"load_lock", "alembic_version"}]


def _extremes(frame: pl.DataFrame) -> pl.DataFrame:
    """The first rows with values at the edges of their types."""
    edges = []
    for name, dtype in frame.schema.items():
        column = frame[name]
        if dtype == pl.Float64:
            column = column.scatter([0, 1, 2, 5], [float("nan"), -0.0, 1e308, 5e-324])
        elif dtype == pl.Int64:
            column = column.scatter([0], [-(2**31)])
        elif isinstance(dtype, pl.Datetime):
            column = column.scatter(
                [0, 1],
                [
                    datetime(1970, 1, 1, tzinfo=UTC),
                    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                ],
            )
        elif dtype == pl.Date:
            column = column.scatter([0], [date(1900, 1, 1)])
        elif dtype == pl.String:
            column = column.scatter([0, 1, 2], ["", "é☃𝄞\\\"',\n", "x"])
        edges.append(column)
    return pl.DataFrame(edges)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
@pytest.mark.parametrize("rows", [3, ROWS])
def test_scratch_rows_reach_a_temporary_table_whole(
    backend: str, rows: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """`insert_scratch` — a few rows by `executemany`, a large frame through a staging file
    (SQLite) or binary `COPY` (PostgreSQL) — stores every value, floats to the last bit."""
    url = (
        store.sqlite_url(tmp_path / "db.sqlite")
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = store.make_engine(url)
    frame = pl.DataFrame(
        {
            "key": pl.Series(range(rows), dtype=pl.Int64) * 7_919,
            "exposure": [1 / (i + 3) for i in range(rows)],
            "lot": [f"L-{i}" if i % 5 else "" for i in range(rows)],
        }
    )
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TEMP TABLE scratch_rows (key BIGINT, exposure DOUBLE PRECISION, lot TEXT)"
        )
        store.insert_scratch(conn, "scratch_rows", frame)
        back = store.read_query(conn, "SELECT key, exposure, lot FROM scratch_rows", frame.schema)
    assert back.sort("key").equals(frame)
    engine.dispose()
    assert not list(tmp_path.glob("lotline-staged-*"))
