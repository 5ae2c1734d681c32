"""The lineage multi-asset: a readable graph, and what a run shows about every table and check."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from lotline.intake.contract import RECORD_TYPES
from pipelines.definitions import defs
from pipelines.defs.lineage import READS, TABLES
from pipelines.run import run_pipeline


@pytest.fixture(scope="module")
def graph():  # type: ignore[no-untyped-def]
    return defs().resolve_asset_graph()


def _parents(graph, key: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {p.to_user_string() for p in graph.get(dg.AssetKey(key)).parent_keys}


def test_each_lineage_table_depends_on_what_it_reads(graph) -> None:  # type: ignore[no-untyped-def]
    assert _parents(graph, "lot_closure") == {"lot_edge"}
    assert _parents(graph, "lot_edge") == {"lot", "validated_production", "validated_consumption"}
    assert _parents(graph, "lot_receipt") == {"lot", "validated_receipts"}
    assert _parents(graph, "lot_status") == {"serial", "validated_status"}
    assert _parents(graph, "source_file") == {f"raw_{t}" for t in RECORD_TYPES}
    assert "validated_status" not in _parents(graph, "lot")
    # no raw file reaches a lineage table except through its validated batch or the load log
    for name in set(TABLES) - {"source_file"}:
        assert not {p for p in _parents(graph, name) if p.startswith("raw_")}, name
    # the tangle is gone: 11 tables x 18 inputs was 198 edges
    edges = sum(len(deps) for deps in READS.values())
    assert edges < 70
    # still one step: every table changes in one transaction
    (step,) = {graph.get(dg.AssetKey(name)).assets_def.node_def.name for name in TABLES}
    assert step == "lineage_tables"


def test_owners_tags_and_freshness(graph) -> None:  # type: ignore[no-untyped-def]
    for key in ("raw_receipts", "validated_receipts", "lot", "lot_closure"):
        node = graph.get(dg.AssetKey(key))
        assert node.owners == ["team:data-engineering"] and node.tags["domain"] == "traceability"
    for key in ("expiry_report", "recall_reports", "recall_drill_report"):
        node = graph.get(dg.AssetKey(key))
        assert node.owners == ["team:compliance"] and node.tags["domain"] == "traceability"
    for key in (
        "expiry_report",
        "delivered_expiry_report",
        "recall_drill_report",
        "delivered_recall_drill_report",
    ):
        assert graph.get(dg.AssetKey(key)).freshness_policy is not None, key


def test_tables_carry_schema_preview_and_row_count_and_checks_a_markdown_result(
    small_drop: Path, sqlite_url: str
) -> None:
    with dg.instance_for_test() as instance:
        outcome = run_pipeline(database_url=sqlite_url, drop_dir=small_drop, instance=instance)
        assert outcome.success, outcome.error
        shown = {}
        for key in [*TABLES, *(f"validated_{t}" for t in RECORD_TYPES)]:
            event = instance.get_latest_materialization_event(dg.AssetKey(key))
            assert event is not None and event.asset_materialization is not None, key
            shown[key] = event.asset_materialization.metadata
    for key, meta in shown.items():
        schema = meta["dagster/column_schema"].value
        assert isinstance(schema, dg.TableSchema) and schema.columns, key
        assert isinstance(meta["dagster/row_count"].value, int), key
        assert isinstance(meta["preview"], dg.TableMetadataValue), key
    lot_columns = {c.name: c for c in shown["lot"]["dagster/column_schema"].value.columns}
    assert lot_columns["origin"].description.startswith("received | produced")
    assert shown["lot"]["dagster/row_count"].value == 10
    first_lots = shown["lot"]["preview"].value.records
    assert len(first_lots) == 10 and first_lots[0].data["gtin"].startswith("0061414100")
    receipts = {c.name for c in shown["validated_receipts"]["dagster/column_schema"].value.columns}
    assert {"gtin", "lot", "received_at", "quantity"} <= receipts

    assert len(outcome.checks) > 50
    for check in outcome.checks:
        result = check.metadata["result"]
        assert isinstance(result, dg.MarkdownMetadataValue), check.check_name
        header = result.value.splitlines()[0]
        assert "rule" in header and "count" in header and "examples" in header
    by_name = {c.check_name: c for c in outcome.checks}
    outlives = by_name["output_outlives_input"].metadata["result"].value
    assert "| output_outlives_input: " in outlives and "`00614141" in outlives
    assert by_name["audit_trail_intact"].passed  # the load chained every row it stored
    files = by_name["every_row_accounted_for"].metadata["files"].value
    assert "| receipts.csv | receipts | 3 | 3 | 0 | 0 | 0 | yes |" in files
