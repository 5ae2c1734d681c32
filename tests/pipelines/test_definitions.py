"""The code location loads, and its jobs, schedule, sensor and checks are wired as documented."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.defs.automation import drop_folder_sensor
from pipelines.defs.drops import DROPS
from pipelines.defs.resources import DropFolder, Warehouse

SMALL = Path(__file__).parents[1] / "data" / "small"


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


def test_every_stage_is_an_asset(definitions: dg.Definitions) -> None:
    keys = {spec.key.to_user_string() for spec in definitions.resolve_all_asset_specs()}
    for record_type in (
        "products",
        "locations",
        "receipts",
        "production",
        "consumption",
        "moves",
        "shipments",
    ):
        assert {f"raw_{record_type}", f"validated_{record_type}"} <= keys
    assert {
        "lot",
        "lot_edge",
        "serial",
        "lot_shipment",
        "lot_receipt",
        "lot_on_hand",
        "rejected_record",
        "expiry_report",
        "recall_reports",
        "delivered_expiry_report",
        "recall_drill_report",
        "delivered_recall_drill_report",
    } <= keys


def test_checks_jobs_schedule_and_sensor(definitions: dg.Definitions) -> None:
    checks = {key.name for key in definitions.resolve_asset_graph().asset_check_keys}
    assert {
        "gtin_check_digit__gtin",
        "quantity_positive__quantity",
        "timestamp_with_offset__received_at",
        "known_production__production_id",
        "expiry_not_before_production__expiry_date",
        "every_row_accounted_for",
        "edges_reference_known_lots",
    } <= checks
    assert definitions.resolve_job_def("ingest").partitions_def == DROPS  # a run per drop
    assert definitions.resolve_job_def("lineage_rebuild")
    schedule = definitions.resolve_schedule_def("daily_expiry_report")
    assert schedule.cron_schedule == "0 6 * * *" and schedule.job_name == "expiry_report_job"
    assert definitions.resolve_sensor_def("drop_folder_sensor").job_name == "ingest"
    drill = definitions.resolve_schedule_def("weekly_recall_drill")
    assert drill.cron_schedule == "0 6 * * 1" and drill.job_name == "recall_drill_job"
    assert {"delivered_expiry_report", "delivered_recall_drill_report"} <= {
        key.to_user_string() for key in checks_of(definitions, "emailed")
    }


def checks_of(definitions: dg.Definitions, name: str) -> set[dg.AssetKey]:
    graph = definitions.resolve_asset_graph()
    return {key.asset_key for key in graph.asset_check_keys if key.name == name}


def test_delivery_runs_only_on_its_schedules(definitions: dg.Definitions) -> None:
    """An ingest (started by the drop-folder sensor) must not e-mail anyone."""

    def selected(job: str) -> set[str]:
        layer = definitions.resolve_job_def(job).asset_layer
        return {key.to_user_string() for key in layer.executable_asset_keys}

    assert not {"delivered_expiry_report", "delivered_recall_drill_report"} & selected("ingest")
    assert selected("expiry_report_job") == {"expiry_report", "delivered_expiry_report"}
    assert selected("recall_drill_job") == {"recall_drill_report", "delivered_recall_drill_report"}


def _tick(resources: dict, cursor: str | None):  # type: ignore[no-untyped-def]
    """A skip reason, or the one run the tick requests; and the cursor after the tick."""
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
        result = drop_folder_sensor(context)
        if isinstance(result, dg.SensorResult):
            (request,) = result.run_requests or []
            assert result.dynamic_partitions_requests == [
                DROPS.build_add_request([request.partition_key])
            ]
            return request, result.cursor
        return result, context.cursor


def test_sensor_requests_a_run_once_per_new_settled_content(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    shutil.copytree(SMALL, drop)
    resources = {
        "drop_folder": DropFolder(path=str(drop), settle_seconds=0.3),
        "warehouse": Warehouse(database_url=f"sqlite:///{tmp_path / 'empty.sqlite'}"),
    }
    first, cursor = _tick(resources, None)
    assert isinstance(first, dg.SkipReason) and "settle" in first.skip_message
    time.sleep(0.4)
    second, cursor = _tick(resources, cursor)
    assert isinstance(second, dg.RunRequest)
    again, cursor = _tick(resources, cursor)
    assert isinstance(again, dg.SkipReason) and "already requested" in again.skip_message

    # a file still being written (it grows between ticks) is not loaded until it settles
    growing = drop / "shipments_2.csv"
    text = (SMALL / "shipments.csv").read_text()
    growing.write_text(text[: len(text) // 2])
    waiting, cursor = _tick(resources, cursor)
    assert isinstance(waiting, dg.SkipReason) and "shipments_2.csv" in waiting.skip_message
    time.sleep(0.2)
    growing.write_text(text)
    time.sleep(0.2)
    still, cursor = _tick(resources, cursor)  # changed since the last tick: waits again
    assert isinstance(still, dg.SkipReason) and "settle" in still.skip_message
    time.sleep(0.4)
    settled, cursor = _tick(resources, cursor)
    assert isinstance(settled, dg.RunRequest) and settled.run_key != second.run_key


def test_the_sensor_reads_the_drop_folder_through_its_mapping(tmp_path: Path) -> None:
    examples = Path(__file__).parents[2] / "docs" / "examples"
    drop = tmp_path / "drop"
    shutil.copytree(examples / "lieferungen", drop)
    warehouse = Warehouse(database_url=f"sqlite:///{tmp_path / 'empty.sqlite'}")
    plain = {"drop_folder": DropFolder(path=str(drop), settle_seconds=0.1), "warehouse": warehouse}
    refused, _ = _tick(plain, None)  # a German file name is no record type without the mapping
    assert isinstance(refused, dg.SkipReason) and "unknown record type" in refused.skip_message
    mapped = {
        "drop_folder": DropFolder(
            path=str(drop), settle_seconds=0.1, mapping=str(examples / "lieferungen.toml")
        ),
        "warehouse": warehouse,
    }
    _, cursor = _tick(mapped, None)
    time.sleep(0.2)
    request, _ = _tick(mapped, cursor)
    assert isinstance(request, dg.RunRequest)


def test_ready_markers_hold_back_files_without_theirs(tmp_path: Path) -> None:
    from lotline.intake.reading import scan

    drop = tmp_path / "drop"
    shutil.copytree(SMALL, drop)
    (drop / "products.csv.ready").write_text("")
    found = scan(drop)
    assert [f.name for f in found.files] == ["products.csv"]
    assert {s.reason for s in found.skipped} >= {"waiting for shipments.csv.ready"}


def test_workspace_points_at_the_definitions() -> None:
    text = (Path(__file__).parents[2] / "workspace.yaml").read_text()
    assert "module_name: pipelines.definitions" in text
