"""Real Dagster materialisations of the pipeline, in process, as the CLI runs them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

import models
from lotline import api, store
from pipelines.run import run_pipeline


def test_load_materialises_lineage_and_reports_checks(small_drop: Path, sqlite_url: str) -> None:
    with dg.instance_for_test() as instance:
        outcome = run_pipeline(database_url=sqlite_url, drop_dir=small_drop, instance=instance)
        assert outcome.success, outcome.error
        assert outcome.snapshot_id
        assert {f["name"] for f in outcome.files} >= {"receipts.csv", "shipments.csv"}
        assert all(f["accounted"] for f in outcome.files)
        by_name = {c.check_name: c for c in outcome.checks}
        assert by_name["every_row_accounted_for"].passed
        assert by_name["gtin_check_digit__gtin"].passed
        # completeness findings surface as non-blocking checks of `trace_exception`
        from lotline.completeness import CHECK_NAMES

        assert set(CHECK_NAMES) <= set(by_name)
        assert not by_name["output_outlives_input"].passed  # cookies outlive their dough
        assert by_name["broken_chain"].passed
        for key in ("lot", "lot_edge", "lot_shipment"):
            assert instance.get_latest_materialization_event(dg.AssetKey(key)) is not None
    lots = store.read_frame(api.connect(sqlite_url), models.Lot)
    assert lots.height == 10 and lots["snapshot_id"].unique().to_list() == [outcome.snapshot_id]


def test_failing_rows_fail_their_checks_and_are_quarantined(
    small_drop: Path, sqlite_url: str
) -> None:
    with (small_drop / "receipts.csv").open("a") as f:
        f.write("R9,2026-09-03T08:00:00-05:00,SUP-MILL,SITE-1,00614141000013,F9,,10,KGM,,,,,\n")
        # a warning: the row loads, its check fails with severity WARN
        f.write(
            "R10,2026-09-03T08:00:00-05:00,SUP-MILL,SITE-1,00614141000012,F9,,10,KGM,,,,fax,1\n"
        )
    outcome = run_pipeline(database_url=sqlite_url, drop_dir=small_drop)
    assert outcome.success
    checks = {
        c.check_name: c for c in outcome.checks if c.asset_key == dg.AssetKey("validated_receipts")
    }
    # 1 of 5 receipts quarantined by one rule: more than 5 % of the file, so ERROR
    assert not checks["gtin_check_digit__gtin"].passed
    assert checks["gtin_check_digit__gtin"].severity == dg.AssetCheckSeverity.ERROR
    assert not checks["allowed_value__ref_doc_type"].passed
    assert checks["allowed_value__ref_doc_type"].severity == dg.AssetCheckSeverity.WARN
    receipts = next(f for f in outcome.files if f["name"] == "receipts.csv")
    assert (receipts["rows_read"], receipts["rows_loaded"], receipts["rows_rejected"]) == (5, 4, 1)
    assert receipts["rows_warned"] == 1
    assert [s["rule"] for s in outcome.suspect_files] == ["gtin_check_digit"]
    lines = {(line["rule"], line["severity"]): line for line in outcome.findings}
    assert lines[("allowed_value", "warning")]["top_values"] == ["fax"]


def test_unreadable_file_fails_the_run_and_writes_nothing(
    small_drop: Path, sqlite_url: str
) -> None:
    (small_drop / "moves.csv").write_bytes("move_id,moved_at\nM1,caf\xe9\n".encode("latin-1"))
    outcome = run_pipeline(database_url=sqlite_url, drop_dir=small_drop)
    assert not outcome.success
    assert outcome.error.startswith("moves.csv")
    assert store.read_frame(api.connect(sqlite_url), models.SourceFile).height == 0


def test_the_drop_folder_resource_reads_through_a_mapping(sqlite_url: str) -> None:
    """`LOTLINE_MAPPING` / `DropFolder.mapping`: Dagster reads an export the way the CLI does."""
    examples = Path(__file__).parents[2] / "docs" / "examples"
    outcome = run_pipeline(
        database_url=sqlite_url,
        drop_dir=examples / "lieferungen",
        intake={"mapping": str(examples / "lieferungen.toml")},
    )
    assert outcome.success, outcome.error
    shipments = next(f for f in outcome.files if f["record_type"] == "shipments")
    assert (shipments["rows_read"], shipments["rows_loaded"], shipments["rows_warned"]) == (3, 3, 1)
    assert [line["rule"] for line in outcome.findings] == ["dst_fold"]
