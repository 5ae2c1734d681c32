"""Report assets: the daily expiry report and recall reports for the lots a run asks for.

They depend on the lineage tables, whose blocking checks guarantee that no regulator PDF is
rendered from a load that failed its integrity checks. Every document number is issued with its PDF
or given back when the rendering fails (`reports.register.number_for_document`, inside each
renderer), and an ingest that changed nothing (files already loaded) renders no new expiry
report.
"""

from datetime import date, timedelta

import dagster as dg

from pipelines.defs.resources import ReportArchive, Warehouse

OWNERS = ["team:compliance"]
TAGS = {"domain": "traceability"}
DAILY = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=49), warn_window=timedelta(hours=25)
)
"""A daily document: late after a day and an hour, failing after two missed days."""
RECALL_READS = [
    "lot",
    "lot_edge",
    "lot_closure",
    "lot_shipment",
    "lot_receipt",
    "lot_on_hand",
    "lot_status",
    "trace_exception",
]
"""The lineage tables a recall report reads (through `lotline.api.trace_lot`)."""


class ExpiryReportConfig(dg.Config):
    as_of: str = ""
    """ISO date the report is as of; empty means today (UTC)."""
    within_days: int = 180
    """Days ahead the report lists stock (lotline.expiry.DEFAULT_WINDOW_DAYS): every bucket up to
    91-180 d."""


class RecallReportConfig(dg.Config):
    lots: list[str] = []
    """Lots to report on, each `GTIN/LOT`; an empty list renders nothing."""
    direction: str = "both"
    request_reference: str = ""
    """FDA request id, recall number or Form 3911 incident number the reports answer."""
    requester: str = ""
    received_at: str = ""
    """ISO 8601 time with offset the request was received; the answer is due 24 h later."""
    prepared_by: str = ""


def load_changed_nothing(context: dg.AssetExecutionContext) -> bool:
    """Whether this run loaded data and the load changed nothing: every file was already
    loaded, so a report would only repeat the last one under a new document number."""
    event = context.instance.get_latest_materialization_event(dg.AssetKey("lot"))
    if event is None or event.run_id != context.run_id or event.asset_materialization is None:
        return False
    snapshot = event.asset_materialization.metadata.get("snapshot_id")
    return snapshot is not None and snapshot.value == "unchanged"


@dg.asset(
    group_name="reports",
    kinds={"pdf"},
    deps=["lot", "lot_on_hand", "lot_shipment", "lot_status"],
    owners=OWNERS,
    tags=TAGS,
    freshness_policy=DAILY,
    output_required=False,
    description="Lots expired or expiring on hand by location; shipments after expiry. Not "
    "rendered again by an ingest that changed nothing.",
)
def expiry_report(
    context: dg.AssetExecutionContext,
    config: ExpiryReportConfig,
    warehouse: Warehouse,
    report_archive: ReportArchive,
):
    from reports.expiry import render_expiry_report

    if load_changed_nothing(context):
        context.log.info("the load changed nothing: no new expiry report")
        return
    as_of = date.fromisoformat(config.as_of) if config.as_of else None
    engine = warehouse.engine()
    path = render_expiry_report(
        engine,
        report_archive.folder,
        as_of=as_of,
        within_days=config.within_days,
        run_id=context.run_id,
    )
    context.log.info(f"expiry report: {path}")
    yield dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})


@dg.asset(
    group_name="reports",
    kinds={"pdf"},
    deps=RECALL_READS,
    owners=OWNERS,
    tags=TAGS,
    description="Traceability / recall report per requested lot (backward and forward), on "
    "request: no freshness expectation.",
)
def recall_reports(
    context: dg.AssetExecutionContext,
    config: RecallReportConfig,
    warehouse: Warehouse,
    report_archive: ReportArchive,
) -> dg.MaterializeResult:
    from reports.recall import RecallRequest, render_recall_report

    request = RecallRequest.parse(config.request_reference, config.requester, config.received_at)
    engine = warehouse.engine()
    paths = []
    for item in config.lots:
        gtin, _, lot = item.partition("/")
        path = render_recall_report(
            engine,
            gtin,
            lot,
            report_archive.folder,
            direction=config.direction,
            request=request,
            prepared_by=config.prepared_by or None,
            run_id=context.run_id,
        )
        paths.append(str(path))
        context.log.info(f"recall report for {item}: {paths[-1]}")
    return dg.MaterializeResult(
        metadata={"paths": dg.MetadataValue.json(paths), "reports": len(paths)}
    )
