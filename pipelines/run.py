"""Running the pipeline's definitions in-process: what the CLI and the end-to-end tests call.

The same `Definitions` that `dagster dev` serves are executed here, against an explicit database,
drop folder and report folder. The folder given is loaded as one drop: the partition `(top)`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines.definitions import defs
from pipelines.defs.delivery import DeliveryConfig
from pipelines.defs.drops import DROPS, TOP
from pipelines.defs.resources import DropFolder, ReportArchive, Warehouse

LOAD_ASSETS = dg.AssetSelection.groups("raw", "validated", "lineage")


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    files: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    """One line per file × rule × column (`lotline.intake.findings.summary`)."""
    suspect_files: list[dict] = field(default_factory=list)
    snapshot_id: str | None = None
    reports: list[str] = field(default_factory=list)
    error: str | None = None
    checks: list[dg.AssetCheckEvaluation] = field(default_factory=list)


def _resources(
    database_url: str | None,
    drop_dir: Path | None,
    report_dir: Path | None,
    intake: dict | None = None,
) -> dict:
    return {
        "warehouse": Warehouse(database_url=database_url or ""),
        "drop_folder": DropFolder(path=str(drop_dir or "."), **(intake or {})),
        "report_archive": ReportArchive(path=str(report_dir or "reports-out")),
        # required by the delivery assets in the asset list; they are never selected here
        "delivery": DeliveryConfig(),
    }


def run_pipeline(
    *,
    database_url: str | None,
    drop_dir: Path | None = None,
    report_dir: Path | None = None,
    load: bool = True,
    expiry: dict | None = None,
    recall: dict | None = None,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
    intake: dict | None = None,
) -> RunOutcome:
    """Materialise the load assets and/or the report assets in this process.

    `intake` sets the drop folder's reading options (`mapping`, `strict`, `max_reject_share`,
    `settle_seconds`; see `DropFolder`)."""
    definitions = defs()
    selection = dg.AssetSelection.assets()
    run_config: dict = {"ops": {}, "loggers": {"console": {"config": {"log_level": log_level}}}}
    if load:
        selection = selection | LOAD_ASSETS
    if expiry is not None:
        selection = selection | dg.AssetSelection.assets("expiry_report")
        run_config["ops"]["expiry_report"] = {"config": expiry}
    if recall is not None:
        selection = selection | dg.AssetSelection.assets("recall_reports")
        run_config["ops"]["recall_reports"] = {"config": recall}
    partition_key = None
    if load:
        instance = instance or dg.DagsterInstance.ephemeral()
        instance.add_dynamic_partitions(DROPS.name, [TOP])
        partition_key = TOP
    result = dg.materialize(
        assets=list(definitions.assets or []),
        selection=selection,
        resources=_resources(database_url, drop_dir, report_dir, intake),
        run_config=run_config,
        instance=instance,
        partition_key=partition_key,
        raise_on_error=False,
    )
    outcome = RunOutcome(
        success=result.success,
        run_id=result.run_id,
        checks=list(result.get_asset_check_evaluations()),
    )
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        key = materialization.asset_key.to_user_string()
        meta = materialization.metadata
        if key == "source_file":
            outcome.files = meta["files"].value if "files" in meta else []
            outcome.findings = meta["findings"].value if "findings" in meta else []
            outcome.suspect_files = meta["suspect_files"].value if "suspect_files" in meta else []
        if key == "lot":
            snapshot = meta.get("snapshot_id")
            outcome.snapshot_id = (
                None if snapshot is None or snapshot.value == "unchanged" else str(snapshot.value)
            )
        if key == "expiry_report" and "path" in meta:
            outcome.reports.append(str(meta["path"].value))
        if key == "recall_reports" and "paths" in meta:
            outcome.reports.extend(meta["paths"].value)
    if not result.success:
        outcome.error = _failure_message(result)
    return outcome


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    """Why the first failed step failed, in the user's terms (an InputError's own text)."""
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        chain = []
        while error is not None:
            chain.append(error)
            error = error.cause
        for item in chain:
            if item.cls_name in ("InputError", "MappingError"):
                return (
                    item.message.split(": ", 1)[1].strip()
                    if ": " in item.message
                    else item.message.strip()
                )
        deepest = chain[-1]
        return f"step {event.step_key} failed: {deepest.message.strip()}"
    return "the run failed"


def describe_files(files: list[dict]) -> str:
    return json.dumps(files, indent=2, default=str)
