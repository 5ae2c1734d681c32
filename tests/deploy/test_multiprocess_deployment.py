"""The deployment in `deploy/` works as separate processes: the pipelines' gRPC code server, the
Dagster daemon and the webserver, started with the commands of `deploy/compose.yaml`, sharing
Dagster's storage on PostgreSQL through `deploy/dagster.yaml`. The drop-folder sensor, turned
on through the webserver, has the daemon launch an ingest run through the code server, and the
load lands in the lotline database (a second PostgreSQL database)."""

from __future__ import annotations

import contextlib
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
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from postgres_database import fresh_database

import models
from lotline import store

pytestmark = [pytest.mark.deployment, pytest.mark.postgres]

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
SMALL = ROOT / "tests" / "data" / "small"
BIN = Path(sys.executable).parent
SENSOR = "drop_folder_sensor"
LOCATION = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name locationOrLoadError { __typename ... on RepositoryLocation {
      repositories { name sensors { name } } } ... on PythonError { message } } } } } }
"""
START_SENSOR = """
mutation Start($selector: SensorSelector!) {
  startSensor(sensorSelector: $selector) {
    __typename ... on Sensor { sensorState { status } } ... on PythonError { message }
  }
}
"""
SENSOR_TICKS = """
query Ticks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    ... on Sensor { sensorState { status ticks(limit: 10) { status runIds skipReason
      error { message } } } }
  }
}
"""
SET_CURSOR = """
mutation Cursor($selector: SensorSelector!, $cursor: String) {
  setSensorCursor(sensorSelector: $selector, cursor: $cursor) { __typename }
}
"""
RUN_TIMES = """
query Times($runId: ID!) {
  runOrError(runId: $runId) { ... on Run { creationTime startTime endTime } }
}
"""
RUNS = """
{ runsOrError { ... on Runs { results { runId status jobName tags { key value } } } } }
"""
RUN_FAILURES = """
query Run($runId: ID!) {
  runOrError(runId: $runId) { ... on Run { eventConnection { events {
    __typename ... on ExecutionStepFailureEvent { message error { message } } } } } }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _with_option(command: list[str], option: str, value: str) -> list[str]:
    """`command` with the value after `option` replaced: the compose command, on this machine."""
    assert option in command, (option, command)
    at = command.index(option) + 1
    return [*command[:at], value, *command[at + 1 :]]


@dataclass
class Deployment:
    """The processes of one deployment, each in its own process group, logging to files."""

    root: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    webserver_port: int = 0

    def start(self, name: str, command: list[str]) -> None:
        log = (self.root / f"{name}.log").open("wb")
        executable = BIN / command[0]
        self.processes[name] = subprocess.Popen(
            [str(executable), *command[1:]],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def query(self, text: str, variables: dict | None = None, timeout: float = 30) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.webserver_port}/graphql",
            data=json.dumps({"query": text, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
        assert "errors" not in body, body["errors"]
        return body["data"]

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            assert process.poll() is None, f"{name} exited with {process.returncode}"

    def log_tails(self, lines: int = 40) -> str:
        tails = []
        for name in self.processes:
            text = (self.root / f"{name}.log").read_text(errors="replace").splitlines()
            tails.append(f"--- {name} (last {lines} lines) ---\n" + "\n".join(text[-lines:]))
        return "\n".join(tails)

    def stop(self) -> None:
        """SIGTERM to every process group (a run worker is in its code server's), then SIGKILL
        to whatever has not exited."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            # a run worker may outlive its server: its process group is the server's
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def dagster_storage_url(postgres_url: str) -> Iterator[str]:
    """A second fresh database on the same server, for Dagster's runs, events and schedules."""
    with fresh_database(postgres_url, prefix="dagster_test") as url:
        yield url


@pytest.fixture
def deployment(tmp_path: Path, postgres_url: str, dagster_storage_url: str) -> Iterator[Deployment]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    shutil.copytree(SMALL, tmp_path / "drop")
    storage = sa.make_url(dagster_storage_url)
    env = dict(
        os.environ,
        DAGSTER_HOME=str(home),
        DAGSTER_PG_HOST=storage.host or "127.0.0.1",
        DAGSTER_PG_PORT=str(storage.port or 5432),
        DAGSTER_PG_USERNAME=storage.username or "postgres",
        DAGSTER_PG_PASSWORD=storage.password or "",
        DAGSTER_PG_DB=storage.database or "",
        LOTLINE_DATABASE_URL=postgres_url,
        LOTLINE_DROP_DIR=str(tmp_path / "drop"),
        LOTLINE_REPORT_DIR=str(tmp_path / "reports"),
        LOTLINE_SETTLE_SECONDS="0.5",
    )
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    grpc_port = _free_port()
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    workspace["load_from"][0]["grpc_server"].update(host="127.0.0.1", port=grpc_port)
    (home / "workspace.yaml").write_text(yaml.safe_dump(workspace))

    running = Deployment(tmp_path, env, webserver_port=_free_port())
    try:
        code = _with_option(compose["code"]["command"], "--host", "127.0.0.1")
        running.start("code", _with_option(code, "--port", str(grpc_port)))
        _wait_for_grpc(running, grpc_port)
        running.start(
            "daemon", _with_option(compose["daemon"]["command"], "-w", str(home / "workspace.yaml"))
        )
        webserver = _with_option(
            compose["webserver"]["command"], "-w", str(home / "workspace.yaml")
        )
        webserver = _with_option(webserver, "-h", "127.0.0.1")
        running.start("webserver", _with_option(webserver, "-p", str(running.webserver_port)))
        _wait_for_location(running)
        yield running
    finally:
        running.stop()
        print(running.log_tails())  # pytest shows a test's captured output only when it fails


def _wait_for_grpc(deployment: Deployment, port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        deployment.check_alive()
        check = subprocess.run(
            [str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(port), "-h", "127.0.0.1"],
            capture_output=True,
            env=deployment.env,
            timeout=30,
        )
        if check.returncode == 0:
            return
        time.sleep(1)
    pytest.fail("the gRPC code server did not become healthy")


def _wait_for_location(deployment: Deployment, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        deployment.check_alive()
        try:
            entries = deployment.query(LOCATION, timeout=10)["workspaceOrError"]["locationEntries"]
            location = entries[0]["locationOrLoadError"]
            if location and location["__typename"] == "RepositoryLocation":
                return
        except (OSError, KeyError, IndexError, TypeError, ValueError):
            pass
        time.sleep(1)
    pytest.fail("the webserver did not load the code location from the gRPC server")


def test_daemon_launches_the_sensor_run_through_the_code_server(
    deployment: Deployment, postgres_url: str, dagster_storage_url: str
) -> None:
    started_at = time.time()
    entry = deployment.query(LOCATION)["workspaceOrError"]["locationEntries"][0]
    assert entry["name"] == "lotline"
    repository = entry["locationOrLoadError"]["repositories"][0]
    assert SENSOR in {s["name"] for s in repository["sensors"]}
    selector = {
        "repositoryLocationName": entry["name"],
        "repositoryName": repository["name"],
        "sensorName": SENSOR,
    }
    # The sensor loads a file once it has seen it unchanged for the settle time, on its next
    # tick a minimum interval (60 s) later. The cursor says the files were seen unchanged an hour
    # ago, so the first tick requests the run: the settling itself is tested in
    # tests/pipelines/test_definitions.py, this test is about who runs what where.
    seen = {
        p.name: [p.stat().st_size, p.stat().st_mtime_ns, time.time() - 3600]
        for p in sorted(Path(deployment.env["LOTLINE_DROP_DIR"]).iterdir())
    }
    cursor = json.dumps({"seen": seen})
    set_cursor = deployment.query(SET_CURSOR, {"selector": selector, "cursor": cursor})
    assert set_cursor["setSensorCursor"]["__typename"] == "Sensor", set_cursor
    turned_on = deployment.query(START_SENSOR, {"selector": selector})["startSensor"]
    assert turned_on["__typename"] == "Sensor", turned_on
    assert turned_on["sensorState"]["status"] == "RUNNING"

    # the daemon ticks the sensor, queues the run it requests and starts it by the code server
    run: dict = {}
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        deployment.check_alive()
        runs = deployment.query(RUNS)["runsOrError"]["results"]
        by_sensor = [
            r for r in runs if {"key": "dagster/sensor_name", "value": SENSOR} in r["tags"]
        ]
        if by_sensor and by_sensor[0]["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            run = by_sensor[0]
            break
        time.sleep(2)
    else:
        ticks = deployment.query(SENSOR_TICKS, {"selector": selector})
        pytest.fail(f"no finished sensor run; ticks: {json.dumps(ticks)}")
    if run["status"] != "SUCCESS":
        failures = deployment.query(RUN_FAILURES, {"runId": run["runId"]})
        pytest.fail(f"run {run['status']}: {json.dumps(failures)}")
    assert run["jobName"] == "ingest"
    times = deployment.query(RUN_TIMES, {"runId": run["runId"]})["runOrError"]
    queued, began, ended = (times[k] - started_at for k in ("creationTime", "startTime", "endTime"))
    print(f"sensor on: run queued after {queued:.0f} s, started {began:.0f} s, ended {ended:.0f} s")

    # the sensor's tick that requested it, recorded by the daemon
    ticks = deployment.query(SENSOR_TICKS, {"selector": selector})["sensorOrError"]
    assert any(run["runId"] in t["runIds"] for t in ticks["sensorState"]["ticks"])

    # Dagster's own storage is the PostgreSQL database of dagster.yaml
    dagster_db = sa.create_engine(dagster_storage_url)
    with dagster_db.connect() as conn:
        stored = conn.execute(
            sa.text("select status from runs where run_id = :id"), {"id": run["runId"]}
        ).scalar()
    dagster_db.dispose()
    assert stored == "SUCCESS"

    # the load's records and lineage are in the lotline database
    engine = store.make_engine(postgres_url)
    try:
        with engine.connect() as conn:

            def count(model: type) -> int:
                return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar()

            assert count(models.SourceFile) == len(list(SMALL.iterdir()))
            assert count(models.Lot) == 10
            assert count(models.LotEdge) > 0
            assert count(models.LotClosure) > 0
    finally:
        engine.dispose()
