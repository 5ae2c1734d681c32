"""Jobs, the daily expiry and weekly recall drill schedules and the drop-folder sensor.

Delivery (e-mail, archive) runs only on the schedules, never from an ingest: a drop of new files
must not mail anyone.

The `ingest` job runs its steps in one process (`in_process_executor`): the steps are sequential
anyway (the commit waits for every validated batch, one database writer), and a process per step
paid the imports 21 times: 105 s against the CLI's 8.5 s on the demo data, 21.5 s now
(`bench/RESULTS.md`).

The schedules run in the time zone `LOTLINE_SCHEDULE_TIMEZONE` (an IANA name such as
`Europe/Berlin`; default `UTC`): "06:00" is 06:00 there. The sensor starts an ingest only for
settled files whose content is not in the database's load log yet, one run per drop (a partition
of `drops`): runs of different drops read and validate side by side, and their commits queue in
the `lineage_commit` pool.
"""

import hashlib
import json
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

from lotline.intake.reading import InputError, scan
from pipelines.defs.delivery import DELIVERY_GROUP
from pipelines.defs.drops import DROPS, TOP, drop_dir, drop_keys, file_label
from pipelines.defs.resources import DropFolder, Warehouse

SCHEDULE_TIMEZONE_ENV = "LOTLINE_SCHEDULE_TIMEZONE"


def schedule_timezone() -> str:
    """The schedules' time zone from `LOTLINE_SCHEDULE_TIMEZONE` (default UTC), checked here so
    a typo fails when the code location loads, naming the variable."""
    name = os.environ.get(SCHEDULE_TIMEZONE_ENV, "").strip() or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{SCHEDULE_TIMEZONE_ENV}={name!r} is not an IANA time zone (e.g. UTC, Europe/Berlin)"
        ) from exc
    return name


ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(DELIVERY_GROUP),
    executor_def=dg.in_process_executor,
    partitions_def=DROPS,
    description="One drop → validated records → lineage tables → reports, in one process.",
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
    execution_timezone=schedule_timezone(),
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
weekly_recall_drill = dg.ScheduleDefinition(
    name="weekly_recall_drill",
    job=recall_drill_job,
    cron_schedule="0 6 * * 1",
    execution_timezone=schedule_timezone(),
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
def drop_folder_sensor(
    context: dg.SensorEvaluationContext, drop_folder: DropFolder, warehouse: Warehouse
):
    """Start an ingest run per drop in which settled files with content the database has not
    loaded appear (`pipelines.defs.drops`: the top of the drop folder and each subfolder).

    The cursor keeps each file's size and modification time and since when they are unchanged:
    a file loads only after it has kept both for the settle time (or has its `.ready` marker),
    so a half-written export is never loaded; one drop still settling holds back only itself.
    Files whose SHA-256 is in the load log (`source_file`) are already loaded: a first tick on a
    loaded folder starts nothing. The cursor also keeps, per drop, the fingerprint of the files
    it last asked to load, so a run still going is not asked for twice. New drops are added as
    partitions of `drops` in the same tick as their first run."""
    state = json.loads(context.cursor) if context.cursor else {}
    try:
        keys = drop_keys(drop_folder.folder)
    except OSError:  # no folder to list: scanning its top says what is wrong, as before
        keys = [TOP]
    seen = state.get("seen", {})
    fingerprints = _fingerprints(state)
    memory: dict[str, list[float]] = {}
    loaded: set[str] | None = None
    requests: list[dg.RunRequest] = []
    requested: dict[str, str] = {}
    reasons: list[tuple[str, str]] = []
    now = time.time()
    for key in keys:
        try:
            found = scan(drop_dir(drop_folder.folder, key), mapping=drop_folder.file_mapping())
        except InputError as exc:
            reasons.append((key, str(exc)))
            continue
        if not found.files:
            if key == TOP and len(keys) == 1:
                reasons.append((key, "drop folder is empty"))
            continue
        label = {f.name: file_label(key, f.name) for f in found.files}
        stats = [(label[f.name], *_size_and_mtime(f.path)) for f in found.files]
        settle = drop_folder.settle_seconds or SETTLE_SECONDS_DEFAULT
        ready, settled_memory = settled_files(stats, seen, now, settle)
        memory.update(settled_memory)
        pending = sorted(set(label.values()) - set(ready))
        if pending:
            reasons.append((key, f"waiting for files to settle: {', '.join(pending)}"))
            continue
        if loaded is None:
            loaded = warehouse.loaded_files()
        new = sorted((label[f.name], f.sha256) for f in found.files if f.sha256 not in loaded)
        fingerprint = hashlib.sha256("\n".join(f"{n}:{h}" for n, h in new).encode()).hexdigest()
        if not new:
            reasons.append(
                (
                    key,
                    f"no new or changed files ({len(found.files)} of {len(found.files)} "
                    "already loaded)",
                )
            )
            continue
        if fingerprint == fingerprints.get(key):
            names = ", ".join(name for name, _ in new)
            reasons.append((key, f"a run is already requested for {names}"))
            continue
        fingerprints[key] = fingerprint
        requested.update(new)
        requests.append(dg.RunRequest(run_key=f"{key}:{fingerprint}", partition_key=key))
    cursor = {"seen": memory, "fingerprints": fingerprints}
    if not requests:
        context.update_cursor(json.dumps({**state, **cursor}))
        return dg.SkipReason(_skip_message(reasons))
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[DROPS.build_add_request([r.partition_key for r in requests])],
        cursor=json.dumps({**cursor, "requested": requested}),
    )


def _fingerprints(state: dict) -> dict[str, str]:
    """Per drop, the fingerprint of the files last asked for (a cursor written before drops
    were partitions has one, for the top of the drop folder)."""
    if "fingerprints" in state:
        return dict(state["fingerprints"])
    return {TOP: state["fingerprint"]} if "fingerprint" in state else {}


def _skip_message(reasons: list[tuple[str, str]]) -> str:
    """One drop's reason as it is; several, each after its drop's name."""
    if not reasons:
        return "no drop holds files"
    if len(reasons) == 1:
        return reasons[0][1]
    return "; ".join(f"{key}: {reason}" for key, reason in reasons)


def _size_and_mtime(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns
