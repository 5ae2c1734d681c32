"""Loads are partitioned by drop: the top of the drop folder and each subfolder. The sensor asks
for one run per drop with new settled files, adding the drop as a partition, and a drop still
settling holds back only itself."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs.automation import drop_folder_sensor
from pipelines.defs.drops import DROPS, TOP, drop_dir, drop_keys
from pipelines.defs.resources import DropFolder, Warehouse

SMALL = Path(__file__).parents[1] / "data" / "small"


def test_the_drops_of_a_folder_are_its_top_and_its_real_subfolders(tmp_path: Path) -> None:
    for name in ("site-chi", "2026-12-07 eu", ".partial", "bad...name"):
        (tmp_path / name).mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "site-chi")
    (tmp_path / "products.csv").write_text("gtin\n")
    assert drop_keys(tmp_path) == [TOP, "2026-12-07 eu", "site-chi"]
    assert drop_dir(tmp_path, TOP) == tmp_path
    assert drop_dir(tmp_path, "site-chi") == tmp_path / "site-chi"
    for outside in ("..", "../etc", "a/b"):
        with pytest.raises(ValueError, match="not a subfolder name"):
            drop_dir(tmp_path, outside)


def _tick(resources: dict, cursor: str | None):  # type: ignore[no-untyped-def]
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
        result = drop_folder_sensor(context)
        return result, (result.cursor if isinstance(result, dg.SensorResult) else context.cursor)


def test_the_sensor_asks_for_a_run_per_drop_and_adds_the_drops(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copytree(SMALL, drop / "site-a")
    shutil.copytree(SMALL, drop / "site-b")
    (drop / "site-b" / "receipts.csv").write_text(
        (SMALL / "receipts.csv").read_text()
        + "R9,2026-09-03T08:00:00-05:00,SUP-MILL,SITE-1,00614141000012,F9,,10,KGM,,,,,\n"
    )
    resources = {
        "drop_folder": DropFolder(path=str(drop), settle_seconds=0.2),
        "warehouse": Warehouse(database_url=f"sqlite:///{tmp_path / 'empty.sqlite'}"),
    }
    waiting, cursor = _tick(resources, None)
    assert isinstance(waiting, dg.SkipReason)
    assert "site-a: waiting for files to settle: site-a/consumption.csv" in waiting.skip_message
    time.sleep(0.3)

    # site-b gets a file still being written: it waits, site-a loads
    (drop / "site-b" / "moves_2.csv").write_text((SMALL / "moves.csv").read_text()[:40])
    result, cursor = _tick(resources, cursor)
    assert isinstance(result, dg.SensorResult)
    assert [r.partition_key for r in result.run_requests] == ["site-a"]
    assert result.dynamic_partitions_requests == [DROPS.build_add_request(["site-a"])]
    assert "site-a/products.csv" in json.loads(cursor)["requested"]

    time.sleep(0.3)
    result, cursor = _tick(resources, cursor)
    assert isinstance(result, dg.SensorResult)
    (request,) = result.run_requests
    assert request.partition_key == "site-b"
    assert request.run_key.startswith("site-b:")
    again, _ = _tick(resources, cursor)
    assert isinstance(again, dg.SkipReason)
    assert "site-a: a run is already requested" in again.skip_message
    assert "site-b: a run is already requested" in again.skip_message
