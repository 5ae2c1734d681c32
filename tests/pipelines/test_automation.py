"""The drop-folder sensor against a real database, the ingest job's executor, the schedules'
time zone."""

from __future__ import annotations

import json
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.defs.automation import SCHEDULE_TIMEZONE_ENV, drop_folder_sensor, schedule_timezone
from pipelines.defs.drops import DROPS
from pipelines.defs.resources import DropFolder, Warehouse
from pipelines.run import run_pipeline


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


def test_a_loaded_folder_starts_no_run_and_a_changed_file_does(
    small_drop: Path, sqlite_url: str
) -> None:
    assert run_pipeline(database_url=sqlite_url, drop_dir=small_drop).success
    resources = {
        "drop_folder": DropFolder(path=str(small_drop), settle_seconds=0.05),
        "warehouse": Warehouse(database_url=sqlite_url),
    }

    def settled_tick(cursor: str | None):  # type: ignore[no-untyped-def]
        waiting, cursor = _tick(resources, cursor)
        assert isinstance(waiting, dg.SkipReason) and "settle" in waiting.skip_message
        time.sleep(0.1)
        return _tick(resources, cursor)

    # the sensor switched on over a loaded folder: an empty cursor, every file in the load log
    skipped, cursor = settled_tick(None)
    assert isinstance(skipped, dg.SkipReason), skipped
    assert skipped.skip_message == "no new or changed files (7 of 7 already loaded)"

    with (small_drop / "receipts.csv").open("a") as f:
        f.write("R9,2026-09-03T08:00:00-05:00,SUP-MILL,SITE-1,00614141000012,F9,,10,KGM,,,,,\n")
    request, cursor = settled_tick(cursor)
    assert isinstance(request, dg.RunRequest)
    assert list(json.loads(cursor)["requested"]) == ["receipts.csv"]
    again, _ = _tick(resources, cursor)  # a run already asked for is not asked for twice
    assert isinstance(again, dg.SkipReason)


def test_ingest_runs_its_steps_in_one_process() -> None:
    definitions = defs()
    assert definitions.resolve_job_def("ingest").executor_def is dg.in_process_executor
    assert definitions.resolve_job_def("expiry_report_job").executor_def is dg.in_process_executor


def test_the_schedule_time_zone_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(SCHEDULE_TIMEZONE_ENV, raising=False)
    assert schedule_timezone() == "UTC"
    assert defs().resolve_schedule_def("daily_expiry_report").execution_timezone == "UTC"
    monkeypatch.setenv(SCHEDULE_TIMEZONE_ENV, "Europe/Berlin")
    assert schedule_timezone() == "Europe/Berlin"
    monkeypatch.setenv(SCHEDULE_TIMEZONE_ENV, "Mars/Olympus")
    with pytest.raises(ValueError, match=f"{SCHEDULE_TIMEZONE_ENV}='Mars/Olympus'"):
        schedule_timezone()
