"""The files of `deploy/` agree with each other and with the code: commands name real entry
points, modules and attributes; the environment the compose services get is what dagster.yaml
reads; the Helm values use the chart's keys for what we rely on. Neither Docker nor Kubernetes
runs on the CI machine, so this is what can be checked of them here; the processes themselves
run in test_multiprocess_deployment.py."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config, validate_concurrency_config
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.storage.config import pg_config
from dagster_postgres.utils import pg_url_from_config

from lotline.cli import _parser
from pipelines.definitions import defs
from pipelines.defs.drops import DROPS, LINEAGE_POOL

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
PG_ENV = {
    "DAGSTER_PG_HOST": "postgres",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_USERNAME": "lotline",
    "DAGSTER_PG_PASSWORD": "not-a-secret",
    "DAGSTER_PG_DB": "dagster",
}


def _yaml(name: str) -> dict:
    return yaml.safe_load((DEPLOY / name).read_text())


def _option(command: list[str], option: str) -> str:
    return command[command.index(option) + 1]


def _env_names(node: object) -> set[str]:
    """Every `{env: NAME}` in a Dagster config tree."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return set().union(*(_env_names(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_env_names(v) for v in node))
    return set()


def _services() -> dict[str, dict]:
    return _yaml("compose.yaml")["services"]


def test_dagster_yaml_puts_runs_events_and_schedules_on_postgres_by_psycopg2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in PG_ENV.items():
        monkeypatch.setenv(name, value)
    config, _ = dagster_instance_config(str(DEPLOY))  # validates against the instance schema
    assert _env_names(config) == set(PG_ENV)
    postgres = process_config(pg_config(), config["storage"]["postgres"])
    assert postgres.success, postgres.errors
    url = pg_url_from_config(postgres.value)
    assert url == "postgresql+psycopg2://lotline:not-a-secret@postgres:5432/dagster"
    assert set(config["storage"]) == {"postgres"}  # runs, event log and schedules alike

    coordinator = config["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    checked = process_config(QueuedRunCoordinator.config_type(), coordinator["config"])
    assert checked.success, checked.errors
    validate_concurrency_config(config)  # no limit set twice (run queue and `concurrency`)
    assert config["concurrency"]["runs"]["max_concurrent_runs"] >= 1
    assert config["run_launcher"]["class"] == "DefaultRunLauncher"
    assert config["scheduler"]["class"] == "DagsterDaemonScheduler"
    assert config["telemetry"] == {"enabled": False}


def test_workspace_points_at_the_code_server_of_compose() -> None:
    (entry,) = _yaml("workspace.yaml")["load_from"]
    server = entry["grpc_server"]
    code = _services()["code"]["command"]
    assert server["location_name"] == _option(code, "--location-name") == "lotline"
    assert server["host"] == "code"  # the compose service's name
    assert server["port"] == int(_option(code, "--port"))


def test_compose_commands_name_real_entry_points_and_modules() -> None:
    services = _services()
    assert services["postgres"]["image"] == "postgres:15"
    assert {"code", "webserver", "daemon", "portal"} <= set(services)
    for name, service in services.items():
        if name == "postgres":
            continue
        command = service["command"]
        assert (BIN / command[0]).is_file(), f"{name}: {command[0]} is not installed"
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"

    code = services["code"]["command"]
    assert code[:3] == ["dagster", "api", "grpc"]
    module = importlib.import_module(_option(code, "--module-name"))
    definitions = getattr(module, _option(code, "--attribute"))
    loaded = definitions() if callable(definitions) else definitions
    assert isinstance(loaded, dg.Definitions)
    assert loaded.resolve_sensor_def("drop_folder_sensor") is not None

    home = services["code"]["environment"]["DAGSTER_HOME"]
    assert services["webserver"]["command"][0] == "dagster-webserver"
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    for name in ("webserver", "daemon"):
        assert _option(services[name]["command"], "-w") == f"{home}/workspace.yaml"

    portal = services["portal"]["command"]
    args = _parser().parse_args(portal[1:])
    assert portal[:2] == ["lotline", "serve"] and args.host == "0.0.0.0"


def test_every_process_gets_the_environment_dagster_yaml_reads() -> None:
    needed = _env_names(_yaml("dagster.yaml")) | {"LOTLINE_DATABASE_URL", "DAGSTER_HOME"}
    services = _services()
    for name in ("code", "webserver", "daemon"):
        assert needed <= set(services[name]["environment"]), name
    assert "LOTLINE_DATABASE_URL" in services["portal"]["environment"]

    env = services["code"]["environment"]
    created = (DEPLOY / "initdb" / "dagster-database.sql").read_text()
    assert f"CREATE DATABASE {env['DAGSTER_PG_DB']} " in created
    assert env["DAGSTER_PG_HOST"] == "postgres"
    assert env["DAGSTER_PG_USERNAME"] == services["postgres"]["environment"]["POSTGRES_USER"]

    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "uv sync --frozen" in dockerfile
    assert f"DAGSTER_HOME={env['DAGSTER_HOME']}" in dockerfile
    copied = re.search(r"^COPY deploy/dagster.yaml deploy/workspace.yaml (\S+)$", dockerfile, re.M)
    assert copied and copied.group(1).rstrip("/") == env["DAGSTER_HOME"]


def test_helm_values_run_each_load_in_its_own_pod_on_our_postgres() -> None:
    values = _yaml("helm/values.yaml")
    (user,) = values["dagster-user-deployments"]["deployments"]
    assert values["dagster-user-deployments"]["enabled"] is True
    code = _services()["code"]["command"]
    assert user["dagsterApiGrpcArgs"] == [
        "--module-name",
        _option(code, "--module-name"),
        "--attribute",
        _option(code, "--attribute"),
    ]
    assert user["image"]["repository"] and user["image"]["tag"] and user["port"]
    assert {"name": "lotline-database"} in user["envSecrets"]
    assert user["includeConfigInLaunchedRuns"] == {"enabled": True}

    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert {"name": "lotline-database"} in values["runLauncher"]["config"]["k8sRunLauncher"][
        "envSecrets"
    ]

    postgresql = values["postgresql"]
    assert postgresql["enabled"] is False and postgresql["postgresqlHost"]
    assert postgresql["postgresqlDatabase"] == "dagster"
    assert postgresql["postgresqlScheme"] == "postgresql+psycopg2"
    assert "postgresqlPassword" not in postgresql  # the password comes from a secret
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]

    daemon = values["dagsterDaemon"]
    assert daemon["enabled"] is True
    assert daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
    # the chart refuses a run limit set both in the queue's config and under `concurrency`
    assert "maxConcurrentRuns" not in daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    concurrency = _yaml("dagster.yaml")["concurrency"]
    runs, pools = values["concurrency"]["runs"], values["concurrency"]["pools"]
    assert runs["maxConcurrentRuns"] == concurrency["runs"]["max_concurrent_runs"]
    assert runs["tagConcurrencyLimits"] == concurrency["runs"]["tag_concurrency_limits"]
    assert pools["defaultLimit"] == concurrency["pools"]["default_limit"]
    assert pools["granularity"] == concurrency["pools"]["granularity"]


def test_portal_manifest_serves_the_compose_command_from_the_same_image() -> None:
    deployment, service = yaml.safe_load_all((DEPLOY / "helm" / "lotline-portal.yaml").read_text())
    assert deployment["kind"] == "Deployment" and service["kind"] == "Service"
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    portal = _services()["portal"]["command"]
    assert container["command"] == portal
    assert container["ports"][0]["containerPort"] == int(_option(portal, "--port"))
    user = _yaml("helm/values.yaml")["dagster-user-deployments"]["deployments"][0]
    assert container["image"] == f"{user['image']['repository']}:{user['image']['tag']}"
    assert {"secretRef": {"name": "lotline-database"}} in container["envFrom"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels == service["spec"]["selector"]
    assert service["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"]


def test_commits_queue_in_one_pool_and_each_drop_runs_once_at_a_time() -> None:
    """The pool of the commit step has limit 1 through the default limit, which is only right
    while it is the code location's one pool; and the per-drop run limit keys on the tag every
    run of a partition carries."""
    concurrency = _yaml("dagster.yaml")["concurrency"]
    assert concurrency["pools"] == {"default_limit": 1, "granularity": "op"}
    (per_drop,) = concurrency["runs"]["tag_concurrency_limits"]
    assert per_drop == {
        "key": "dagster/partition",
        "value": {"applyLimitPerUniqueValue": True},
        "limit": 1,
    }
    graph = defs().resolve_asset_graph()
    pools = {
        node.pool
        for assets in graph.assets_defs
        if assets.is_executable
        for node in [assets.node_def]
        if node.pool
    }
    job = defs().resolve_job_def("lineage_rebuild")
    pools |= {node.definition.pool for node in job.nodes if node.definition.pool}
    assert pools == {LINEAGE_POOL}
    lineage = graph.get(dg.AssetKey("lot")).assets_def
    assert lineage.node_def.pool == LINEAGE_POOL
    assert lineage.partitions_def == DROPS
