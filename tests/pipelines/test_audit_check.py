"""The `audit_trail_intact` asset check: passes on a database only lotline wrote, fails with
severity ERROR and a Markdown table naming table and row after a direct edit."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from pipelines.defs.lineage import audit_trail_intact


def test_the_check_passes_then_names_an_edited_row(small_engine: sa.Engine) -> None:
    result = audit_trail_intact(small_engine)
    assert result.passed and result.check_name == "audit_trail_intact"
    heads = result.metadata["chain_heads"].value
    assert "| receipt_record | 1 | " in heads

    with small_engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE location SET phone = '+1 555 0199' WHERE location_id = 'WH-1'")
        )
    result = audit_trail_intact(small_engine)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    problems = result.metadata["problems"].value
    assert "| location | WH-1 |  | row changed (UPDATE outside lotline) |" in problems
    assert "| rule | count | examples |" in result.metadata["result"].value
