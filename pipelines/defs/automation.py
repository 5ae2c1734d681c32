"""Jobs, the daily expiry and weekly recall drill schedules and the drop-folder sensor.

Delivery (e-mail, archive) runs only on the schedules, never from an ingest: a drop of new files
must not mail anyone.
"""

import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from lotline.intake.reading import InputError, scan
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


SETTLE_SECONDS_DEFAULT = 30.0
"""A file must keep its size and modification time this long before the sensor loads it, unless
the drop folder's `settle_seconds` says otherwise: an export still being written is not a file."""


def settled_files(
    files: list[tuple[str, int, int]], seen: dict[str, list[float]], now: float, settle: float
) -> tuple[list[str], dict[str, list[float]]]:
    """Which files have kept their (size, mtime) for `settle` seconds, and the new memory of what
    was seen: name -> [size, mtime_ns, first seen with that size and mtime]."""
    memory: dict[str, list[float]] = {}
    ready = []
    for name, size, mtime in files:
        before = seen.get(name)
        since = before[2] if before and before[0] == size and before[1] == mtime else now
        memory[name] = [size, mtime, since]
        if now - since >= settle:
            ready.append(name)
    return ready, memory


@dg.sensor(
    job=ingest_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED
)
def drop_folder_sensor(context: dg.SensorEvaluationContext, drop_folder: DropFolder):
    """Start an ingest run when the set of settled files (by content) in the drop folder changes.

    The cursor keeps each file's size and modification time and since when they are unchanged:
    a file loads only after it has kept both for the settle time (or has its `.ready` marker),
    so a half-written export is never loaded."""
    state = json.loads(context.cursor) if context.cursor else {}
    try:
        found = scan(drop_folder.folder, mapping=drop_folder.file_mapping())
    except InputError as exc:
        return dg.SkipReason(str(exc))
    if not found.files:
        return dg.SkipReason("drop folder is empty")
    stats = [(f.name, *_size_and_mtime(f.path)) for f in found.files]
    settle = drop_folder.settle_seconds or SETTLE_SECONDS_DEFAULT
    ready, memory = settled_files(stats, state.get("seen", {}), time.time(), settle)
    pending = sorted({f.name for f in found.files} - set(ready))
    fingerprint = hashlib.sha256(
        "\n".join(f"{f.name}:{f.sha256}" for f in found.files if f.name in ready).encode()
    ).hexdigest()
    if pending:
        context.update_cursor(json.dumps({**state, "seen": memory}))
        return dg.SkipReason(f"waiting for files to settle: {', '.join(pending)}")
    if fingerprint == state.get("fingerprint"):
        context.update_cursor(json.dumps({**state, "seen": memory}))
        return dg.SkipReason("no new or changed files")
    context.update_cursor(json.dumps({"seen": memory, "fingerprint": fingerprint}))
    return dg.RunRequest(run_key=fingerprint)


def _size_and_mtime(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns
