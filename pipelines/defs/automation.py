"""Jobs, the daily expiry schedule and the drop-folder sensor."""

import hashlib

import dagster as dg

from lotline.reading import InputError, discover
from pipelines.defs.resources import DropFolder

ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.all(),
    description="Drop folder → validated records → lineage tables → reports.",
)
expiry_report_job = dg.define_asset_job(
    "expiry_report_job",
    selection=dg.AssetSelection.assets("expiry_report"),
    description="Render the expiry report from the current lineage tables.",
)

daily_expiry_report = dg.ScheduleDefinition(
    name="daily_expiry_report",
    job=expiry_report_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)


@dg.sensor(
    job=ingest_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED
)
def drop_folder_sensor(context: dg.SensorEvaluationContext, drop_folder: DropFolder):
    """Start an ingest run when the set of files (by content) in the drop folder changes."""
    try:
        files = discover(drop_folder.folder)
    except InputError as exc:
        return dg.SkipReason(str(exc))
    if not files:
        return dg.SkipReason("drop folder is empty")
    fingerprint = hashlib.sha256(
        "\n".join(f"{f.name}:{f.sha256}" for f in files).encode()
    ).hexdigest()
    if fingerprint == context.cursor:
        return dg.SkipReason("no new or changed files")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)
