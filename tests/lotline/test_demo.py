"""The demo database is built once, where asked, even when two notebooks open at the same time."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from lotline import api, demo, store


def _copy_database(engine: sa.Engine, target: Path) -> None:
    """A copy of a loaded SQLite database (through SQLite's backup: the WAL is included)."""
    with sqlite3.connect(str(engine.url.database)) as source, sqlite3.connect(target) as copy:
        source.backup(copy)


def test_two_at_once_build_it_once(tmp_path: Path) -> None:
    folder = tmp_path / "lotline-demo"
    with ThreadPoolExecutor(2) as pool:
        urls = list(pool.map(lambda _: demo.demo_database(folder, scale=0.05), range(2)))
    assert urls == [store.sqlite_url(folder.resolve() / "lotline.sqlite")] * 2
    engine = sa.create_engine(urls[0])
    try:
        assert api.loads(engine)["load_id"].n_unique() == 1
        assert api.current_snapshot(engine) is not None
    finally:
        engine.dispose()
    assert sorted(p.name for p in folder.iterdir()) == [".build.lock", "drop", "lotline.sqlite"]


def test_an_existing_database_is_used_as_it_is(small_engine: sa.Engine, tmp_path: Path) -> None:
    folder = tmp_path / "existing"
    folder.mkdir()
    _copy_database(small_engine, folder / "lotline.sqlite")
    url = demo.demo_database(folder)
    assert not (folder / "drop").exists()  # nothing generated, nothing loaded
    engine = sa.create_engine(url)
    try:
        assert sorted(api.load_lineage(engine).lots["lot"]) == sorted(
            api.load_lineage(small_engine).lots["lot"]
        )
    finally:
        engine.dispose()
