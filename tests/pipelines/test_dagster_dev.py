"""`dagster dev -w workspace.yaml` serves the pipeline: assets, checks, jobs, schedule, sensor."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parents[2]
QUERY = """
{ assetNodes { assetKey { path } hasAssetChecks }
  repositoriesOrError { ... on RepositoryConnection { nodes {
    jobs { name } schedules { name cronSchedule } sensors { name } } } } }
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]


def test_dagster_dev_serves_the_definitions(tmp_path: Path) -> None:
    port = _free_port()
    env = dict(
        os.environ,
        DAGSTER_HOME=str(tmp_path),
        LOTLINE_DROP_DIR=str(tmp_path / "drop"),
        LOTLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    dagster = Path(sys.executable).parent / "dagster"
    process = subprocess.Popen(
        [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        data, deadline = None, time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                data = _graphql(port)
                if data["assetNodes"]:
                    break
            except (OSError, KeyError, TypeError, ValueError):
                pass
            time.sleep(1)
        assert data and data["assetNodes"], "dagster dev did not serve the code location"
        assets = {"/".join(n["assetKey"]["path"]): n["hasAssetChecks"] for n in data["assetNodes"]}
        assert assets["validated_receipts"] and assets["lot"]
        assert "expiry_report" in assets and "raw_shipments" in assets
        repo = data["repositoriesOrError"]["nodes"][0]
        assert {"ingest", "expiry_report_job"} <= {j["name"] for j in repo["jobs"]}
        schedules = {s["name"]: s["cronSchedule"] for s in repo["schedules"]}
        assert schedules == {
            "daily_expiry_report": "0 6 * * *",
            "weekly_recall_drill": "0 6 * * 1",
        }
        assert [s["name"] for s in repo["sensors"]] == ["drop_folder_sensor"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
