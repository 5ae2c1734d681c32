"""The commit step: store the load and rebuild the lineage tables in one transaction.

One multi-asset materialises every lineage table because they must change together: a trace must
never see edges from one snapshot and shipments from another.
"""

import json

import dagster as dg
import polars as pl
import sqlalchemy as sa

import models
from lotline import store
from lotline.completeness import CHECKS, check_summary
from lotline.intake.contract import RECORD_TYPES
from lotline.intake.ingest import commit
from pipelines.defs.records import ValidatedBatch
from pipelines.defs.resources import DropFolder, Warehouse

LINEAGE_DOCS = {
    "lot": "Lots with product, dates, origin, TLC source and quantity totals.",
    "lot_edge": "Input lot → output lot per transformation, with the quantity of the input used.",
    "serial": "Serials with their lot and where they were produced or received.",
    "lot_shipment": "Shipment lines resolved to lots: what went to which consignee, when.",
    "lot_receipt": "Receipt lines resolved to lots: what came from which supplier, when.",
    "lot_on_hand": "Stock on hand per lot and own location.",
    "lot_closure": "Every ancestor/descendant lot pair with depth and exposure (instant traces).",
    "trace_exception": "Findings of the trace completeness checks (broken chains, held shipments).",
    "lot_completeness": "Per lot, the share of the applicable completeness checks it passes.",
    "lot_mass_balance": "Per lot mass balance in the product's unit, with tolerance and pass/fail.",
    "rejected_record": "Rows that failed validation, with file, row, column, rule and value.",
}

UPSTREAM = [f"{stage}_{t}" for t in RECORD_TYPES for stage in ("raw", "validated")]


def _specs() -> list[dg.AssetSpec]:
    # built in a function: the defs loader would otherwise collect module-level specs twice
    return [
        dg.AssetSpec(name, group_name="lineage", kinds={"sqlmodel"}, description=doc, deps=UPSTREAM)
        for name, doc in LINEAGE_DOCS.items()
    ]


@dg.multi_asset(
    specs=_specs(),
    ins={name: dg.AssetIn(name) for name in UPSTREAM},
    check_specs=[
        dg.AssetCheckSpec(
            "every_row_accounted_for",
            asset="lot",
            blocking=True,
            description="rows read = loaded + unchanged + rejected, per file",
        ),
        dg.AssetCheckSpec(
            "edges_reference_known_lots",
            asset="lot_edge",
            blocking=True,
            description="every genealogy edge joins two lots of the lot table",
        ),
        # findings, not integrity failures: a recall report must still be rendered (and list
        # them), so these never block the report assets
        *(
            dg.AssetCheckSpec(check.name, asset="trace_exception", description=check.description)
            for check in CHECKS
        ),
    ],
)
def lineage_tables(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    drop_folder: DropFolder,
    **batches,
):
    raws = {t: batches[f"raw_{t}"] for t in RECORD_TYPES}
    validated: dict[str, ValidatedBatch] = {t: batches[f"validated_{t}"] for t in RECORD_TYPES}
    engine = warehouse.engine()
    report = commit(
        engine,
        raws,
        {t: v.validation for t, v in validated.items()},
        {t: v.rows for t, v in validated.items()},
        load_id=context.run_id,
        max_reject_share=drop_folder.max_reject_share,
    )
    files = [dict(f.__dict__, accounted=f.accounted) for f in report.files]
    summary = report.summary()
    for name in LINEAGE_DOCS:
        metadata = {"snapshot_id": report.snapshot_id or "unchanged"}
        if name in report.lineage_counts:
            metadata["rows"] = report.lineage_counts[name]
        if name == "lot":
            metadata["files"] = dg.MetadataValue.json(files)
            metadata["findings"] = dg.MetadataValue.json(summary.to_dicts())
            metadata["suspect_files"] = dg.MetadataValue.json([s.__dict__ for s in report.suspects])
        if name == "rejected_record":
            metadata["rows_rejected_this_load"] = report.rejected.height
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)

    unaccounted = [f["name"] for f in files if not f["accounted"]]
    yield dg.AssetCheckResult(
        check_name="every_row_accounted_for",
        asset_key="lot",
        passed=not unaccounted,
        metadata={"files": json.dumps(files, default=str), "unaccounted": ", ".join(unaccounted)},
    )
    with engine.connect() as conn:
        lot, edge = store.table(models.Lot), store.table(models.LotEdge)
        dangling = conn.execute(
            sa.select(sa.func.count())
            .select_from(edge)
            .where(
                ~edge.c.parent_key.in_(sa.select(lot.c.lot_key))
                | ~edge.c.child_key.in_(sa.select(lot.c.lot_key))
            )
        ).scalar_one()
    yield dg.AssetCheckResult(
        check_name="edges_reference_known_lots",
        asset_key="lot_edge",
        passed=dangling == 0,
        metadata={"dangling_edges": dangling},
    )
    yield from completeness_results(engine)


def completeness_results(engine: sa.Engine):  # type: ignore[no-untyped-def]
    """One check result per completeness check, from the stored `trace_exception` table."""
    exceptions = store.read_frame(engine, models.TraceException)
    summary = check_summary(exceptions)
    for row in summary.iter_rows(named=True):
        found = exceptions.filter(pl.col("check") == row["check"])
        yield dg.AssetCheckResult(
            check_name=row["check"],
            asset_key="trace_exception",
            passed=bool(row["passed"]),
            severity=dg.AssetCheckSeverity.ERROR
            if row["severity"] == "error"
            else dg.AssetCheckSeverity.WARN,
            metadata={
                "exceptions": int(row["n_exceptions"]),
                "lots": int(row["n_lots"]),
                "severity": row["severity"],
                "first": dg.MetadataValue.json(
                    found.head(10).select("gtin", "lot", "serial", "detail").to_dicts()
                ),
            },
        )
