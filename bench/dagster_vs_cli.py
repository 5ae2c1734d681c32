"""Time `lotline ingest` against the Dagster `ingest` job launched the way the UI launches it.

    uv run --frozen python bench/dagster_vs_cli.py --drop /tmp/h1drop --runs 3

Each run loads the drop folder into a new SQLite file. The CLI is timed as a command
(`lotline ingest DROP --database-url URL`, imports included). The Dagster job is launched through
the GraphQL API of a `dagster dev -w workspace.yaml` started here (queued run, run worker process,
the job's executor): timed from the `launchRun` mutation until the run is finished, with the
run's own start/end and its steps' times from the run record. `--root` runs another checkout's
code location (e.g. an export of an older commit) with this environment.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  }
}
"""
RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    ... on Run { status startTime endTime stepStats { stepKey startTime endTime } }
  }
}
"""
REPOSITORY = """
{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }
"""
LOAD_STEP_PREFIXES = ("raw_", "validated_", "lineage_tables")


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body["data"]


def _fresh(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def time_cli(drop: Path, work: Path) -> float:
    url = _fresh(work / "cli.sqlite")
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "lotline"), "ingest", str(drop), "--database-url", url],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_dagster(root: Path, drop: Path, work: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    (work / "home").mkdir(exist_ok=True)
    env = dict(
        os.environ,
        DAGSTER_HOME=str(work / "home"),
        LOTLINE_DROP_DIR=str(drop),
        LOTLINE_DATABASE_URL=f"sqlite:///{work / 'dagster.sqlite'}",
        LOTLINE_REPORT_DIR=str(work / "out"),
    )
    process = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if _graphql(port, REPOSITORY)["repositoriesOrError"]["nodes"]:
                return process, port
        except (OSError, RuntimeError, KeyError, TypeError):
            pass
        time.sleep(1)
    os.killpg(process.pid, signal.SIGTERM)
    raise RuntimeError("dagster dev did not serve the code location")


def time_dagster(port: int, work: Path) -> dict[str, float]:
    _fresh(work / "dagster.sqlite")
    (repo,) = _graphql(port, REPOSITORY)["repositoriesOrError"]["nodes"]
    params = {
        "selector": {
            "repositoryLocationName": repo["location"]["name"],
            "repositoryName": repo["name"],
            "jobName": "ingest",
        },
        "runConfigData": {},
    }
    started = time.perf_counter()
    launched = _graphql(port, LAUNCH, {"params": params})["launchRun"]
    mutation = time.perf_counter() - started
    if launched["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(launched)
    run_id = launched["run"]["runId"]
    while True:
        run = _graphql(port, RUN, {"runId": run_id})["runOrError"]
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(0.25)
    wall = time.perf_counter() - started
    if run["status"] != "SUCCESS":
        raise RuntimeError(f"run {run_id} ended {run['status']}")
    steps = run["stepStats"]
    load = [s for s in steps if s["stepKey"].startswith(LOAD_STEP_PREFIXES)]
    return {
        "wall": wall,
        "mutation": mutation,
        "run": run["endTime"] - run["startTime"],
        "load_steps": max(s["endTime"] for s in load) - min(s["startTime"] for s in load),
        "all_steps": max(s["endTime"] for s in steps) - min(s["startTime"] for s in steps),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drop", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=ROOT, help="folder with workspace.yaml")
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()
    drop = args.drop.resolve()
    with tempfile.TemporaryDirectory(prefix="dagster_vs_cli_") as tmp:
        work = Path(tmp)
        cli = [] if args.skip_cli else [time_cli(drop, work) for _ in range(args.runs)]
        process, port = start_dagster(args.root.resolve(), drop, work)
        try:
            dagster = [time_dagster(port, work) for _ in range(args.runs)]
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)

    def line(name: str, values: list[float]) -> str:
        runs = ", ".join(f"{v:.1f}" for v in values)
        return f"| {name} | {runs} | {statistics.median(values):.1f} s |"

    print("| | runs (s) | median |\n|---|---|---|")
    if cli:
        print(line("CLI `lotline ingest`", cli))
    for key, name in (
        ("wall", "Dagster: launch → run finished"),
        ("mutation", "Dagster: the `launchRun` mutation (run created, queued)"),
        ("run", "Dagster: run start → end (run worker)"),
        ("all_steps", "Dagster: first step start → last step end"),
        ("load_steps", "Dagster: load steps (raw → lineage_tables)"),
    ):
        print(line(name, [d[key] for d in dagster]))


if __name__ == "__main__":
    main()
