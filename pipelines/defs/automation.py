"""Jobs, the daily expiry and weekly recall drill schedules and the drop-folder sensor.

Delivery (e-mail, archive) runs only on the schedules, never from an ingest: a drop of new files
must not mail anyone.
"""

import hashlib

import dagster as dg

from lotline.intake.reading import InputError, discover
from pipelines.defs.delivery import DELIVERY_GROUP
from pipelines.defs.resources import DropFolder

ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(DELIVERY_GROUP),
    description="Drop folder → validated records → lineage tables → reports.",
)
expiry_report_job = dg.define_asset_job(
    "expiry_report_job",
    selection=dg.AssetSelection.assets("expiry_report", "delivered_expiry_report"),
    description="Render the expiry report from the current lineage tables, archive and e-mail it.",
)
recall_drill_job = dg.define_asset_job(
    "recall_drill_job",
    selection=dg.AssetSelection.assets("recall_drill_report", "delivered_recall_drill_report"),
    description="Mock recall: render the recall report for the drill lots, archive and e-mail it.",
)

daily_expiry_report = dg.ScheduleDefinition(
    name="daily_expiry_report",
    job=expiry_report_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
weekly_recall_drill = dg.ScheduleDefinition(
    name="weekly_recall_drill",
    job=recall_drill_job,
    cron_schedule="0 6 * * 1",
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
