"""Lineage tables of two databases compared: what the incremental and concurrent-load tests
check (the row ids and snapshot ids aside, which say when a row was written, not what it is)."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from polars.testing import assert_frame_equal
from postgres_database import drop_database

import models
from lotline import store
from lotline.intake.ingest import rebuild

FLOAT_TOLERANCE = 1e-9
"""Quantities and shares are sums; a rebuild sums the same numbers in another row order (a
first load from the frames it wrote, a rebuild from the database), so the last bits may differ.
Everything else must be identical."""


def lineage_tables(engine: sa.Engine) -> dict[str, pl.DataFrame]:
    out = {}
    for model in models.LINEAGE_TABLES:
        frame = store.read_frame(engine, model).drop("id", "snapshot_id", strict=False)
        out[model.__tablename__] = frame.sort(frame.columns, nulls_last=True)
    return out


def assert_same(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame], when: str) -> None:
    for name in left:
        try:
            assert_frame_equal(left[name], right[name], rel_tol=FLOAT_TOLERANCE, abs_tol=1e-12)
        except AssertionError as exc:
            raise AssertionError(f"{when}: table {name} differs: {exc}") from exc


def assert_equals_rebuild(engine: sa.Engine, tmp_path: Path, when: str) -> None:
    """The lineage in `engine`'s database equals what a full rebuild of a copy of it gives."""
    tables = lineage_tables(engine)
    engine.dispose()  # PostgreSQL copies a database nobody is connected to
    copy = _copy(engine, tmp_path)
    try:
        rebuild(copy)
        assert_same(tables, lineage_tables(copy), when)
    finally:
        copy.dispose()
        if copy.dialect.name == "postgresql":
            drop_database(copy.url)


def _copy(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    name = f"rebuilt_{uuid.uuid4().hex[:8]}"
    if engine.dialect.name == "sqlite":
        target = tmp_path / f"{name}.sqlite"
        with sqlite3.connect(engine.url.database) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return store.make_engine(store.sqlite_url(target))
    admin = sa.create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{engine.url.database}"'))
    admin.dispose()
    return store.make_engine(engine.url.set(database=name).render_as_string(hide_password=False))
