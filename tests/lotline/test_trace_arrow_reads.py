"""The ADBC reads of `lotline.trace_query` (SQLite files) against the DB-API reads they replace:
same rows, same types, on the small chain where every table has rows."""

from __future__ import annotations

import polars as pl
import pytest
import sqlalchemy as sa

import models
from lotline import arrow_reads, fsma204, scope, store, trace_query


@pytest.fixture
def arrow(monkeypatch: pytest.MonkeyPatch) -> None:
    """This test process as a read-only one (`lotline trace`): ADBC reads allowed."""
    monkeypatch.setattr(arrow_reads, "_enabled", True)


def test_a_process_that_may_write_never_reads_through_adbc(small_engine: sa.Engine) -> None:
    assert not arrow_reads.enabled()  # the default: loads, the portal, reports
    with small_engine.connect() as conn:
        assert trace_query._open_arrow(conn) is None
        assert trace_query.rows_in(conn, models.Lot, "lot", ["C1"], ["lot_key"]) is None


def test_rows_in_equals_the_chunked_db_api_read(
    small_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, arrow: None
) -> None:
    columns = ["production_id", "tz_offset", "ref_doc_type", "ref_doc_number"]
    with small_engine.connect() as conn:
        ids = list(
            conn.execute(sa.text("SELECT DISTINCT production_id FROM production_record")).scalars()
        )
    assert ids
    asked = [*ids[:-1], "no such production", "it's quoted"]  # unknown ids find nothing
    fast = fsma204._read_in(
        small_engine, models.ProductionRecord, "production_id", asked, 2, columns
    )
    monkeypatch.setattr(trace_query, "rows_in", lambda *_: None)
    slow = fsma204._read_in(
        small_engine, models.ProductionRecord, "production_id", asked, 2, columns
    )
    assert not slow.is_empty()
    assert fast.schema == slow.schema
    assert fast.sort(columns, nulls_last=True).equals(slow.sort(columns, nulls_last=True))


def test_rows_in_of_nothing_is_an_empty_typed_frame(small_engine: sa.Engine, arrow: None) -> None:
    with small_engine.connect() as conn:
        found = trace_query.rows_in(conn, models.Lot, "lot", [], ["lot_key", "expiry_date"])
    assert found is not None and found.is_empty()
    assert found.schema == pl.Schema({"lot_key": pl.Int64, "expiry_date": pl.Date})


def test_a_key_table_holds_every_key_once(small_engine: sa.Engine) -> None:
    """`keys_table` fills SQLite through one JSON array; the scope reads that use it agree."""
    with small_engine.connect() as conn:
        table = trace_query.keys_table(conn, [3, 1, 2, 3, 1])
        keys = sorted(conn.execute(sa.select(table.c.lot_key)).scalars())
        table.drop(conn)
    assert keys == [1, 2, 3]
    lots = store.read_frame(small_engine, models.Lot, columns=["lot_key"])["lot_key"].to_list()
    details = scope.scope_details(small_engine, lots)
    assert details.mass_balance.height == len(lots)
