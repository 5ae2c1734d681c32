"""`dagster dev -w workspace.yaml` serves the pipeline, and the `ingest` job launched through its
GraphQL API the way the UI launches it (queued, a run worker process, the job's executor)
succeeds the first time against a fresh database."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

import models
from lotline import store
from pipelines.defs.drops import DROPS, TOP

ROOT = Path(__file__).parents[2]
SMALL = ROOT / "tests" / "data" / "small"
DEFINITIONS = """
{ assetNodes { assetKey { path } hasAssetChecks }
  repositoriesOrError { ... on RepositoryConnection { nodes {
    name location { name }
    jobs { name } schedules { name cronSchedule executionTimezone } sensors { name } } } } }
"""
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
ADD_DROP = """
mutation Add($selector: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $selector, partitionsDefName: $name, partitionKey: $key) {
    __typename ... on AddDynamicPartitionSuccess { partitionKey } ... on PythonError { message }
  }
}
"""
RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    ... on Run { status startTime endTime
      eventConnection { events { __typename ... on MessageEvent { message } } } }
  }
}
"""
WAREHOUSE = """
query Warehouse($selector: ResourceSelector!) {
  topLevelResourceDetailsOrError(resourceSelector: $selector) {
    ... on ResourceDetails { name configuredValues { key value type } }
  }
}
"""


@dataclass
class Server:
    port: int
    home: Path
    database: Path

    def query(self, text: str, variables: dict | None = None, timeout: float = 30) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql",
            data=json.dumps({"query": text, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
        assert "errors" not in body, body["errors"]
        return body["data"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("dagster_dev")
    shutil.copytree(SMALL, tmp / "drop")
    port = _free_port()
    env = dict(
        os.environ,
        DAGSTER_HOME=str(tmp / "home"),
        LOTLINE_DROP_DIR=str(tmp / "drop"),
        LOTLINE_DATABASE_URL=store.sqlite_url(tmp / "fresh.sqlite"),
        LOTLINE_REPORT_DIR=str(tmp / "out"),
        LOTLINE_SCHEDULE_TIMEZONE="Europe/Berlin",
    )
    (tmp / "home").mkdir()
    dagster = Path(sys.executable).parent / "dagster"
    process = subprocess.Popen(
        [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    running = Server(port, tmp / "home", tmp / "fresh.sqlite")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if running.query(DEFINITIONS, timeout=10)["assetNodes"]:
                    break
            except (OSError, KeyError, TypeError, ValueError, AssertionError):
                pass
            time.sleep(1)
        else:
            pytest.fail("dagster dev did not serve the code location")
        yield running
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_dagster_dev_serves_the_definitions(server: Server) -> None:
    data = server.query(DEFINITIONS)
    assets = {"/".join(n["assetKey"]["path"]): n["hasAssetChecks"] for n in data["assetNodes"]}
    assert assets["validated_receipts"] and assets["source_file"] and assets["trace_exception"]
    assert "expiry_report" in assets and "raw_shipments" in assets and "lot" in assets
    repo = data["repositoriesOrError"]["nodes"][0]
    assert {"ingest", "expiry_report_job"} <= {j["name"] for j in repo["jobs"]}
    schedules = {s["name"]: (s["cronSchedule"], s["executionTimezone"]) for s in repo["schedules"]}
    assert schedules == {
        "daily_expiry_report": ("0 6 * * *", "Europe/Berlin"),
        "weekly_recall_drill": ("0 6 * * 1", "Europe/Berlin"),
    }
    assert [s["name"] for s in repo["sensors"]] == ["drop_folder_sensor"]


def test_the_ui_shows_the_database_url_by_name(server: Server) -> None:
    repo = server.query(DEFINITIONS)["repositoriesOrError"]["nodes"][0]
    selector = {
        "repositoryLocationName": repo["location"]["name"],
        "repositoryName": repo["name"],
        "resourceName": "warehouse",
    }
    details = server.query(WAREHOUSE, {"selector": selector})["topLevelResourceDetailsOrError"]
    values = {v["key"]: v for v in details["configuredValues"]}
    assert values["database_url"]["type"] == "ENV_VAR"
    assert values["database_url"]["value"] == "LOTLINE_DATABASE_URL"
    assert str(server.database) not in json.dumps(details)


def test_ingest_launched_like_the_ui_succeeds_the_first_time(server: Server) -> None:
    assert not server.database.exists()  # a fresh database: the run creates the schema
    repo = server.query(DEFINITIONS)["repositoriesOrError"]["nodes"][0]
    repository = {
        "repositoryLocationName": repo["location"]["name"],
        "repositoryName": repo["name"],
    }
    # the UI's "Materialize" on a partitioned job: add the drop, launch a run of that partition
    added = server.query(ADD_DROP, {"selector": repository, "name": DROPS.name, "key": TOP})
    assert added["addDynamicPartition"]["__typename"] == "AddDynamicPartitionSuccess", added
    params = {
        "selector": {**repository, "jobName": "ingest"},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": TOP}]},
    }
    launched = server.query(LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    run, deadline = {}, time.monotonic() + 240
    while time.monotonic() < deadline:
        run = server.query(RUN, {"runId": run_id})["runOrError"]
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(1)
    events = run.get("eventConnection", {}).get("events", [])
    failures = [e.get("message") for e in events if e["__typename"] == "ExecutionStepFailureEvent"]
    assert run["status"] == "SUCCESS", failures or run
    # one run worker executed every step in its own process: no step subprocesses
    kinds = {e["__typename"] for e in events}
    assert "StepWorkerStartedEvent" not in kinds and "ExecutionStepStartEvent" in kinds
    engine = store.make_engine(store.sqlite_url(server.database))
    assert store.read_frame(engine, models.Lot).height == 10
    with engine.connect() as conn:
        loaded = conn.execute(sa.select(sa.func.count()).select_from(models.SourceFile)).scalar()
    assert loaded == 7
