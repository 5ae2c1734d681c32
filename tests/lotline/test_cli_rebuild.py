"""`lotline rebuild`: the full recomputation beside incremental loads, and a repair."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import models
from lotline import store
from lotline.cli import main


def test_rebuild_restores_lineage_rows_that_were_lost(
    small_engine: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    before = store.read_frame(small_engine, models.LotClosure).sort(
        "ancestor_key", "descendant_key"
    )
    lots = store.read_frame(small_engine, models.Lot).sort("lot_key")
    with small_engine.begin() as conn:  # a careless operator's DELETE
        conn.execute(sa.text("DELETE FROM lot_closure"))
    assert main(["rebuild", "--database-url", str(small_engine.url)]) == 0
    written = {
        line.split()[0]: int(line.split()[1].replace(",", ""))
        for line in capsys.readouterr().out.splitlines()
    }
    assert written["lot_closure"] == before.height > 0
    after = store.read_frame(small_engine, models.LotClosure).sort("ancestor_key", "descendant_key")
    assert after.equals(before)
    # the lots keep their keys, and the rows the snapshot they describe
    assert store.read_frame(small_engine, models.Lot).sort("lot_key").equals(lots)


def test_rebuild_of_an_empty_database_says_so(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store.create_schema(store.make_engine(sqlite_url))
    assert main(["rebuild", "--database-url", sqlite_url]) == 0
    assert "nothing loaded yet" in capsys.readouterr().out
