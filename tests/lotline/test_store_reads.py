"""Arrow-native reads return what the DB-API path returns, table by table, on both databases.

`store.read_query` reads PostgreSQL through `COPY … TO STDOUT` and an SQLite file (outside a
transaction) through ADBC; the DB-API path stays for SQLite inside a transaction. Every table of
a loaded database must read the same through both.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlmodel import SQLModel

from lotline import store
from lotline.intake.ingest import load_folder

DATA = Path(__file__).parents[1] / "data"


def _compare_every_table(url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    engine = store.make_engine(url)
    load_folder(engine, DATA / "small")
    load_folder(engine, DATA / "packing")
    fast = {name: store.read_frame(engine, name) for name in SQLModel.metadata.tables}
    monkeypatch.setattr(store, "_read_postgres", lambda *_: None)
    monkeypatch.setattr(store, "_read_sqlite_arrow", lambda *_: None)
    rows = 0
    for name, frame in fast.items():
        plain = store.read_frame(engine, name)
        assert frame.schema == plain.schema, name
        assert frame.equals(plain), name
        rows += frame.height
    return rows


def test_sqlite_reads_through_adbc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _compare_every_table(store.sqlite_url(tmp_path / "l.sqlite"), monkeypatch) > 100


@pytest.mark.postgres
def test_postgres_reads_through_copy(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _compare_every_table(postgres_url, monkeypatch) > 100


@pytest.mark.postgres
def test_postgres_text_values_round_trip(postgres_url: str) -> None:
    """Empty text is not NULL, quotes and newlines survive, times keep their microseconds."""
    import models

    engine = store.make_engine(postgres_url)
    store.create_schema(engine)
    frame = pl.DataFrame(
        {
            "gtin": ["00614141000012", "00614141000029", "00614141000036"],
            "name": ["", 'a "quoted", name\nnext line', "plain"],
            "brand": ["", None, "x"],
            "tracking": ["lot", "serial", "lot"],
            "uom": ["KGM", "EA", "KGM"],
            "record_hash": ["h1", "h2", "h3"],
        }
    )
    with engine.begin() as conn:
        store.insert_frame(conn, models.Product, frame)
        inside = store.read_frame(conn, models.Product, columns=frame.columns)
    outside = store.read_frame(engine, models.Product, columns=frame.columns)
    for read in (inside, outside):
        assert read.sort("gtin").equals(frame)
