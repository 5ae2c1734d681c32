"""Scope details read set-based for a trace's lots, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from lotline import api, scope, store
from lotline.intake.ingest import load_folder

GTIN, LOT = "00614141000043", "C1"
HOLD = (
    "status_id,at,gtin,lot,serial,status,actor,reason,ref_doc_type,ref_doc_number\n"
    "QA-1,2026-09-20T10:00:00-05:00,00614141000043,C2,,hold,qa,pending,,\n"
)
HOLD_MORE = (
    "status_id,at,gtin,lot,serial,status,actor,reason,ref_doc_type,ref_doc_number\n"
    "QA-1,2026-09-20T10:00:00-05:00,00614141000036,D2,,hold,qa,pending,,\n"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, small_drop: Path, sqlite_url: str) -> sa.Engine:
    (small_drop / "status_a.csv").write_text(HOLD)
    (small_drop / "status_b.csv").write_text(HOLD_MORE)  # a second file adds to decision QA-1
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = store.make_engine(url)
    load_folder(engine, small_drop)
    return engine


def test_scope_details_of_a_trace(engine: sa.Engine) -> None:
    result = api.trace_lot(engine, GTIN, LOT)
    details = scope.scope_details(engine, result.lots["lot_key"].to_list())
    assert sorted(details.mass_balance["lot"]) == sorted(result.lots["lot"])
    assert set(details.mass_balance["status"]) == {"pass"}
    assert set(details.exceptions["check"]) == {"output_outlives_input"}
    assert {(r["lot"], r["status"]) for r in details.statuses.iter_rows(named=True)} == {
        ("C2", "hold"),
        ("D2", "hold"),
    }
    sources = scope.audit_sources(details)
    by_file = {(r["file_name"], r["record_type"]): r for r in sources.iter_rows(named=True)}
    assert by_file[("receipts.csv", "receipts")]["records"] == 3
    assert by_file[("shipments.csv", "shipments")]["events"] == 3
    assert by_file[("status_b.csv", "status")]["records"] == 1
    several = details.events_in_several_files.rows(named=True)
    assert several == [{"record_type": "status", "event_id": "QA-1", "files": 2, "records": 2}]
    empty = scope.scope_details(engine, [])
    assert empty.mass_balance.is_empty() and empty.record_sources.is_empty()
