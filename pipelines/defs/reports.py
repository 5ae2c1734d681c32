"""Report assets: the daily expiry report and recall reports for the lots a run asks for.

They depend on the lineage tables, whose blocking checks guarantee that no regulator PDF is
rendered from a load that failed its integrity checks.
"""

from datetime import date

import dagster as dg

from pipelines.defs.resources import ReportArchive, Warehouse


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


@dg.asset(
    group_name="reports",
    kinds={"pdf"},
    deps=["lot", "lot_on_hand", "lot_shipment"],
    description="Lots expired or expiring on hand by location; shipments after expiry.",
)
def expiry_report(
    context: dg.AssetExecutionContext,
    config: ExpiryReportConfig,
    warehouse: Warehouse,
    report_archive: ReportArchive,
) -> dg.MaterializeResult:
    from reports.expiry import render_expiry_report

    as_of = date.fromisoformat(config.as_of) if config.as_of else None
    path = render_expiry_report(
        warehouse.engine(),
        report_archive.folder,
        as_of=as_of,
        within_days=config.within_days,
        run_id=context.run_id,
    )
    context.log.info(f"expiry report: {path}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})


@dg.asset(
    group_name="reports",
    kinds={"pdf"},
    deps=["lot", "lot_edge", "lot_shipment", "lot_receipt"],
    description="Traceability / recall report per requested lot (backward and forward).",
)
def recall_reports(
    context: dg.AssetExecutionContext,
    config: RecallReportConfig,
    warehouse: Warehouse,
    report_archive: ReportArchive,
) -> dg.MaterializeResult:
    from reports.recall import RecallRequest, render_recall_report

    request = RecallRequest.parse(config.request_reference, config.requester, config.received_at)
    paths = []
    for item in config.lots:
        gtin, _, lot = item.partition("/")
        paths.append(
            str(
                render_recall_report(
                    warehouse.engine(),
                    gtin,
                    lot,
                    report_archive.folder,
                    direction=config.direction,
                    request=request,
                    prepared_by=config.prepared_by or None,
                    run_id=context.run_id,
                )
            )
        )
        context.log.info(f"recall report for {item}: {paths[-1]}")
    return dg.MaterializeResult(
        metadata={"paths": dg.MetadataValue.json(paths), "reports": len(paths)}
    )
