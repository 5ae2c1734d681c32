"""Scheduled delivery: the expiry report and the recall drill report, archived and e-mailed.

The delivery assets send the document their upstream asset materialised (its path is in that
materialisation's metadata) instead of rendering again: a retried send then re-sends the same
document number, and the archive (append-only, idempotent for identical bytes) holds exactly the
documents that were produced. SMTP failures are retried (`RetryRequested`, on the resource's
delay) and the final failure fails the step and the run; no delivery is silently lost. With no
SMTP host or no recipients the report is still archived and the `emailed` check fails, saying so.

Configuration comes from the environment (`DeliveryConfig.from_env`, see its docstring).
"""

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import models
from lotline import store
from lotline.delivery import (
    RETENTION,
    DeliveryError,
    MailSettings,
    Recipients,
    ReportKind,
    archive_report,
    send_report,
)
from pipelines.defs.reports import DAILY, OWNERS, RECALL_READS, TAGS
from pipelines.defs.resources import ReportArchive, Warehouse
from pipelines.metadata import CheckLine, check_table

DELIVERY_GROUP = "delivery"
WEEKLY = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=15), warn_window=timedelta(days=8)
)
"""A weekly drill: late after eight days, failing after two missed weeks."""


class DeliveryConfig(dg.ConfigurableResource):
    """SMTP server, recipients per report kind, the archive folder and the retry schedule.

    Environment: `LOTLINE_SMTP_HOST` (empty: e-mail not configured), `LOTLINE_SMTP_PORT` (empty:
    587/465/25 by security), `LOTLINE_SMTP_SECURITY` (`starttls` | `ssl` | `none`),
    `LOTLINE_SMTP_USER`, `LOTLINE_SMTP_PASSWORD` (read at send time, never stored in config),
    `LOTLINE_SMTP_FROM`, `LOTLINE_SMTP_CA_FILE`, `LOTLINE_EXPIRY_RECIPIENTS`,
    `LOTLINE_RECALL_DRILL_RECIPIENTS` (comma-separated), `LOTLINE_DRILL_LOTS` (`GTIN/LOT,...`),
    `LOTLINE_ARCHIVE_DIR`, `LOTLINE_DELIVERY_RETRIES`, `LOTLINE_DELIVERY_RETRY_DELAY` (seconds).
    """

    smtp_host: str = ""
    smtp_port: int = 0
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password_env: str = "LOTLINE_SMTP_PASSWORD"
    smtp_from: str = "lotline@localhost"
    smtp_ca_file: str = ""
    expiry_recipients: str = ""
    recall_drill_recipients: str = ""
    drill_lots: str = ""
    """`GTIN/LOT,...`; empty: the received lot with the widest forward reach."""
    archive_dir: str = "archive"
    max_retries: int = 3
    retry_delay_seconds: float = 60.0

    @classmethod
    def from_env(cls) -> "DeliveryConfig":
        env = os.environ.get
        return cls(
            smtp_host=env("LOTLINE_SMTP_HOST", ""),
            smtp_port=int(env("LOTLINE_SMTP_PORT", "") or 0),
            smtp_security=env("LOTLINE_SMTP_SECURITY", "") or "starttls",
            smtp_user=env("LOTLINE_SMTP_USER", ""),
            smtp_from=env("LOTLINE_SMTP_FROM", "") or "lotline@localhost",
            smtp_ca_file=env("LOTLINE_SMTP_CA_FILE", ""),
            expiry_recipients=env("LOTLINE_EXPIRY_RECIPIENTS", ""),
            recall_drill_recipients=env("LOTLINE_RECALL_DRILL_RECIPIENTS", ""),
            drill_lots=env("LOTLINE_DRILL_LOTS", ""),
            archive_dir=env("LOTLINE_ARCHIVE_DIR", "") or "archive",
            max_retries=int(env("LOTLINE_DELIVERY_RETRIES", "") or 3),
            retry_delay_seconds=float(env("LOTLINE_DELIVERY_RETRY_DELAY", "") or 60),
        )

    def mail_settings(self) -> MailSettings | None:
        if not self.smtp_host:
            return None
        return MailSettings(
            host=self.smtp_host,
            port=self.smtp_port,
            security=self.smtp_security,  # type: ignore[arg-type]  # validated by MailSettings
            username=self.smtp_user,
            password_env=self.smtp_password_env,
            sender=self.smtp_from,
            ca_file=self.smtp_ca_file,
        )

    def recipients(self, kind: ReportKind) -> Recipients:
        text = self.expiry_recipients if kind == "expiry" else self.recall_drill_recipients
        return Recipients.parse(text)

    @property
    def archive_root(self) -> Path:
        return Path(self.archive_dir)


# --- what to deliver -----------------------------------------------------------------------------


def _upstream_paths(context: dg.AssetExecutionContext, key: str) -> tuple[list[Path], str]:
    """The PDF paths the latest materialisation of `key` recorded, and that run's id."""
    event = context.instance.get_latest_materialization_event(dg.AssetKey(key))
    if event is None or event.asset_materialization is None:
        raise dg.Failure(f"{key} has never been materialised: nothing to deliver")
    meta = event.asset_materialization.metadata
    if "path" in meta:
        paths = [Path(str(meta["path"].value))]
    else:
        paths = [Path(p) for p in (meta["paths"].value if "paths" in meta else [])]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise dg.Failure(f"{key} recorded files that are gone: {', '.join(missing)}")
    return paths, event.run_id


def _latest_expiry(engine: Engine) -> date | None:
    """Latest expiry date of any lot: the 21 CFR 211.180(a) rule counts from the batch expiry,
    and the latest one in the data is a safe (never too short) bound for any report's scope."""
    lots = store.table(models.Lot)
    with engine.connect() as conn:
        value = conn.execute(sa.select(sa.func.max(lots.c.expiry_date))).scalar()
    return date.fromisoformat(value) if isinstance(value, str) else value


def widest_reach_received_lot(engine: Engine) -> str:
    """`GTIN/LOT` of the received lot with the most downstream lots (ties: GTIN, lot), the lot
    whose recall would be hardest, so the default drill exercises the longest trace."""
    lots, closure, receipts = (
        store.table(models.Lot),
        store.table(models.LotClosure),
        store.table(models.LotReceipt),
    )
    reach = (
        sa.select(closure.c.ancestor_key.label("lot_key"), sa.func.count().label("reach"))
        .where(closure.c.descendant_key != closure.c.ancestor_key)
        .group_by(closure.c.ancestor_key)
        .subquery()
    )
    query = (
        sa.select(lots.c.gtin, lots.c.lot)
        .outerjoin(reach, reach.c.lot_key == lots.c.lot_key)
        .where(lots.c.lot_key.in_(sa.select(receipts.c.lot_key)))
        .order_by(sa.func.coalesce(reach.c.reach, 0).desc(), lots.c.gtin, lots.c.lot)
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        raise dg.Failure("no received lot to run a recall drill on (load data first)")
    return f"{row.gtin}/{row.lot}"


def _deliver(
    context: dg.AssetExecutionContext,
    delivery: DeliveryConfig,
    kind: ReportKind,
    paths: list[Path],
    subject: str,
    latest_expiry: date | None,
    source_run_id: str,
) -> dg.MaterializeResult:
    """Archive (idempotent), then e-mail; retry SMTP failures, report 'not configured' as a failed
    check."""
    now = datetime.now(UTC)
    rule = RETENTION[kind]
    archived = [
        archive_report(
            path,
            delivery.archive_root,
            kind,
            rule,
            now,
            latest_expiry=latest_expiry,
            extra={"source_run_id": source_run_id},
        )
        for path in paths
    ]
    for path in archived:
        context.log.info(f"archived {path}")
    metadata: dict[str, dg.RawMetadataValue] = {
        "archived": dg.MetadataValue.json([str(p) for p in archived]),
        "retention_basis": rule.basis,
        "source_run_id": source_run_id,
    }
    try:
        settings = delivery.mail_settings()
    except ValueError as exc:  # a configuration error: retrying cannot help
        raise dg.Failure(f"delivery configuration: {exc}", allow_retries=False) from exc
    recipients = delivery.recipients(kind)
    if settings is None or not recipients:
        reason = (
            "e-mail not configured: LOTLINE_SMTP_HOST is empty"
            if settings is None
            else f"e-mail not configured: no recipients for {kind} "
            f"(LOTLINE_{kind.upper()}_RECIPIENTS)"
        )
        context.log.warning(f"{reason}; {kind} report archived only")
        metadata["delivery"] = reason
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name="emailed",
                    passed=False,
                    metadata={
                        "result": check_table([CheckLine(EMAILED, 0, [reason])]),
                        "reason": reason,
                    },
                )
            ],
        )
    body = "\n".join(
        [
            f"{subject}",
            "",
            "Attached: " + ", ".join(p.name for p in archived),
            f"Archived under {delivery.archive_root / kind} ({rule.basis}).",
            f"Dagster run {context.run_id}; rendered in run {source_run_id}.",
        ]
    )
    try:
        message_id = send_report(settings, recipients, subject, body, archived)
    except DeliveryError as exc:
        context.log.error(f"attempt {context.retry_number + 1}: {exc}")
        raise dg.RetryRequested(
            max_retries=delivery.max_retries, seconds_to_wait=delivery.retry_delay_seconds
        ) from exc
    context.log.info(f"sent {subject!r} to {', '.join(recipients.all)}: {message_id}")
    metadata.update(
        delivery="sent",
        message_id=message_id,
        recipients=dg.MetadataValue.json(list(recipients.all)),
        smtp=settings.address,
        attempts=context.retry_number + 1,
    )
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name="emailed",
                passed=True,
                metadata={
                    "result": check_table(
                        [CheckLine(EMAILED, len(recipients.all), list(recipients.all))]
                    ),
                    "message_id": message_id,
                },
            )
        ],
    )


# --- assets --------------------------------------------------------------------------------------

EMAILED = "the report reached the SMTP server for every configured recipient"
# Failures other than SMTP (database, file system) retry on this policy.
OTHER_FAILURES = dg.RetryPolicy(max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL)


@dg.asset(
    group_name=DELIVERY_GROUP,
    kinds={"email"},
    deps=["expiry_report"],
    retry_policy=OTHER_FAILURES,
    owners=OWNERS,
    tags=TAGS,
    freshness_policy=DAILY,
    check_specs=[
        dg.AssetCheckSpec("emailed", asset="delivered_expiry_report", description=EMAILED)
    ],
    description="The latest expiry report archived with its retention date and e-mailed.",
)
def delivered_expiry_report(
    context: dg.AssetExecutionContext, delivery: DeliveryConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    paths, source_run = _upstream_paths(context, "expiry_report")
    return _deliver(
        context,
        delivery,
        "expiry",
        paths,
        f"Expiry report {paths[0].stem}",
        _latest_expiry(warehouse.engine()),
        source_run,
    )


@dg.asset(
    group_name=DELIVERY_GROUP,
    kinds={"pdf"},
    deps=RECALL_READS,
    owners=OWNERS,
    tags=TAGS,
    freshness_policy=WEEKLY,
    description="The weekly mock recall of the drill lots (LOTLINE_DRILL_LOTS, else the received "
    "lot with the widest forward reach): each drill stored as a record, with its evidence PDF and "
    "the recall report it produced.",
)
def recall_drill_report(
    context: dg.AssetExecutionContext,
    delivery: DeliveryConfig,
    warehouse: Warehouse,
    report_archive: ReportArchive,
) -> dg.MaterializeResult:
    from lotline import mock_recall
    from reports.mock_recall import render_mock_recall_report
    from reports.recall import RecallRequest, render_recall_report

    engine = warehouse.engine()
    lots = [item.strip() for item in delivery.drill_lots.split(",") if item.strip()] or [
        widest_reach_received_lot(engine)
    ]
    paths, drills = [], []
    for item in lots:
        gtin, _, lot = item.partition("/")
        drill = mock_recall.run_drill(
            engine, gtin, lot, "both", run_by=f"dagster run {context.run_id[:8]}"
        )
        evidence = render_mock_recall_report(engine, drill, report_archive.folder)
        report = render_recall_report(
            engine,
            gtin,
            lot,
            report_archive.folder,
            request=RecallRequest(
                reference=drill.record["drill_id"],
                requester="weekly mock recall (schedule weekly_recall_drill)",
                received_at=drill.record["started_at"],
            ),
            run_id=context.run_id,
        )
        paths += [str(evidence), str(report)]
        drills.append(
            {
                "drill_id": drill.record["drill_id"],
                "lot": item,
                "seconds_to_answer": drill.record["seconds_to_answer"],
                "percent_accounted": drill.record["percent_accounted"],
                "status": drill.record["status"],
            }
        )
        context.log.info(f"recall drill for {item}: {evidence}, {report}")
    return dg.MaterializeResult(
        metadata={
            "paths": dg.MetadataValue.json(paths),
            "lots": dg.MetadataValue.json(lots),
            "drills": dg.MetadataValue.json(drills),
        }
    )


@dg.asset(
    group_name=DELIVERY_GROUP,
    kinds={"email"},
    deps=["recall_drill_report"],
    retry_policy=OTHER_FAILURES,
    owners=OWNERS,
    tags=TAGS,
    freshness_policy=WEEKLY,
    check_specs=[
        dg.AssetCheckSpec("emailed", asset="delivered_recall_drill_report", description=EMAILED)
    ],
    description="The latest recall drill reports archived with their retention date and e-mailed.",
)
def delivered_recall_drill_report(
    context: dg.AssetExecutionContext, delivery: DeliveryConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    paths, source_run = _upstream_paths(context, "recall_drill_report")
    if not paths:
        raise dg.Failure("recall_drill_report recorded no PDF")
    return _deliver(
        context,
        delivery,
        "recall_drill",
        paths,
        f"Recall drill report {', '.join(p.stem for p in paths)}",
        _latest_expiry(warehouse.engine()),
        source_run,
    )


@dg.definitions
def delivery() -> dg.Definitions:
    """This module's assets and the `delivery` resource (a `@dg.definitions` function makes the
    defs loader take only what it returns from this module, so the assets are listed too)."""
    return dg.Definitions(
        assets=[delivered_expiry_report, recall_drill_report, delivered_recall_drill_report],
        resources={"delivery": DeliveryConfig.from_env()},
    )
