"""The commit step: store the load and rebuild the lineage tables in one transaction.

One multi-asset materialises every lineage table because they must change together: a trace must
never see edges from one snapshot and shipments from another. The graph still shows what each
table is computed from (`READS`): `lot` is the hub (every lot any record names, with its totals),
the other tables add the records they read themselves, and only the load log (`source_file`)
reads the raw files.

The step is partitioned by drop like the assets it reads: partition `site-chi` of `lot` is the
commit of that drop's load, and the table itself is always the whole lineage of the snapshot it
names. It runs in the pool `lineage_commit` (limit 1): commits of concurrent drops queue in
Dagster, and the load lock taken first in `commit` serialises the transaction itself.
"""

import dagster as dg
import polars as pl
import sqlalchemy as sa
from sqlmodel import SQLModel

import models
from lotline import store
from lotline.audit import chain
from lotline.audit.canonical import shown_key
from lotline.completeness import CHECKS, check_summary
from lotline.intake.contract import RECORD_TYPES
from lotline.intake.ingest import LoadReport, commit
from pipelines.defs.drops import DROPS, LINEAGE_POOL
from pipelines.defs.records import OWNERS, TAGS, ValidatedBatch
from pipelines.defs.resources import DropFolder, Warehouse
from pipelines.metadata import (
    CheckLine,
    check_table,
    frame_markdown,
    model_schema,
    stored_table_metadata,
)

TABLES: dict[str, tuple[type[SQLModel], str]] = {
    "lot": (models.Lot, "Lots with product, dates, origin, TLC source and quantity totals."),
    "lot_edge": (
        models.LotEdge,
        "Input lot → output lot per transformation, with the quantity of the input used.",
    ),
    "lot_closure": (
        models.LotClosure,
        "Every ancestor/descendant lot pair with depth and exposure (instant traces).",
    ),
    "serial": (models.Serial, "Serials with their lot and where they were produced or received."),
    "lot_shipment": (
        models.LotShipment,
        "Shipment lines resolved to lots: what went to which consignee, when.",
    ),
    "lot_receipt": (
        models.LotReceipt,
        "Receipt lines resolved to lots: what came from which supplier, when.",
    ),
    "lot_on_hand": (models.LotOnHand, "Stock on hand per lot and own location."),
    "lot_mass_balance": (
        models.LotMassBalance,
        "Per lot mass balance in the product's unit, with tolerance and pass/fail.",
    ),
    "trace_exception": (
        models.TraceException,
        "Findings of the trace completeness checks (broken chains, held shipments).",
    ),
    "lot_completeness": (
        models.LotCompleteness,
        "Per lot, the share of the applicable completeness checks it passes.",
    ),
    "lot_status": (
        models.LotStatus,
        "Hold, release, recall or quarantine in force per lot or serial (from status records).",
    ),
    "rejected_record": (
        models.RejectedRecord,
        "Rows that failed validation, with file, row, column, rule and value.",
    ),
    "source_file": (
        models.SourceFile,
        "The load log: every file loaded, by SHA-256, with rows read, loaded, unchanged, rejected.",
    ),
}


def _validated(*record_types: str) -> list[str]:
    return [f"validated_{t}" for t in record_types]


READS: dict[str, list[str]] = {
    # every lot any record names, its totals and stock (the ledger of all flows)
    "lot": _validated(
        "products",
        "locations",
        "receipts",
        "production",
        "consumption",
        "moves",
        "packing",
        "shipments",
    ),
    "lot_edge": ["lot", *_validated("production", "consumption")],
    "lot_closure": ["lot_edge"],
    "serial": ["lot", *_validated("receipts", "production")],
    "lot_shipment": ["lot", *_validated("shipments", "packing")],
    "lot_receipt": ["lot", *_validated("receipts")],
    "lot_on_hand": ["lot", *_validated("locations")],
    "lot_mass_balance": ["lot", "lot_edge"],
    "trace_exception": [
        "lot",
        "lot_edge",
        "serial",
        "lot_shipment",
        "lot_mass_balance",
        *_validated("status"),
    ],
    "lot_completeness": ["lot", "trace_exception"],
    "lot_status": ["serial", *_validated("status")],
    "rejected_record": _validated(*RECORD_TYPES),
    "source_file": [f"raw_{t}" for t in RECORD_TYPES],
}
"""What each table is computed from: its asset dependencies."""

ACCOUNTED = "rows read = loaded + unchanged + rejected, per file"
AUDIT_TRAIL = (
    "every audit hash chain links and every audited row is as lotline wrote it "
    "(`lotline audit verify`)"
)


def _specs() -> list[dg.AssetSpec]:
    # built in a function: the defs loader would otherwise collect module-level specs twice
    return [
        dg.AssetSpec(
            name,
            group_name="lineage",
            kinds={"sqlmodel"},
            description=doc,
            deps=READS[name],
            owners=OWNERS,
            tags=TAGS,
            metadata={"dagster/column_schema": model_schema(model), "dagster/table_name": name},
        )
        for name, (model, doc) in TABLES.items()
    ]


@dg.multi_asset(
    specs=_specs(),
    partitions_def=DROPS,
    pool=LINEAGE_POOL,
    ins={
        **{f"raw_{t}": dg.AssetIn(f"raw_{t}") for t in RECORD_TYPES},
        **{f"validated_{t}": dg.AssetIn(f"validated_{t}") for t in RECORD_TYPES},
    },
    check_specs=[
        dg.AssetCheckSpec(
            "every_row_accounted_for", asset="source_file", blocking=True, description=ACCOUNTED
        ),
        # an integrity alarm for people, not a gate: the data of the load itself is fine
        dg.AssetCheckSpec(
            "audit_trail_intact", asset="source_file", blocking=False, description=AUDIT_TRAIL
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
    with engine.connect() as conn:
        for name, (model, _doc) in TABLES.items():
            metadata = {
                "snapshot_id": report.snapshot_id or "unchanged",
                **stored_table_metadata(conn, model, report.lineage_counts.get(name)),
            }
            metadata.update(_load_metadata(name, report, files))
            yield dg.MaterializeResult(asset_key=name, metadata=metadata)
    yield _accounted(files)
    yield audit_trail_intact(engine)
    yield _edges_reference_known_lots(engine)
    yield from completeness_results(engine)


def _load_metadata(name: str, report: LoadReport, files: list[dict]) -> dict:
    """What the load log and the quarantine say about this load (read by `pipelines.run`)."""
    if name == "source_file":
        return {
            "files": dg.MetadataValue.json(files),
            "findings": dg.MetadataValue.json(report.summary().to_dicts()),
            "suspect_files": dg.MetadataValue.json([s.__dict__ for s in report.suspects]),
        }
    if name == "rejected_record":
        return {"rows_rejected_this_load": report.rejected.height}
    return {}


FILE_COLUMNS = {
    "name": pl.String,
    "record_type": pl.String,
    "rows_read": pl.Int64,
    "rows_loaded": pl.Int64,
    "rows_unchanged": pl.Int64,
    "rows_rejected": pl.Int64,
    "rows_warned": pl.Int64,
    "accounted": pl.Boolean,
}


def _accounted(files: list[dict]) -> dg.AssetCheckResult:
    unaccounted = [f["name"] for f in files if not f["accounted"]]
    table = pl.DataFrame(
        {c: [f[c] for f in files] for c in FILE_COLUMNS},
        schema=FILE_COLUMNS,
    )
    return dg.AssetCheckResult(
        check_name="every_row_accounted_for",
        asset_key="source_file",
        passed=not unaccounted,
        metadata={
            "result": check_table([CheckLine(ACCOUNTED, len(unaccounted), unaccounted)]),
            "files": frame_markdown(table, rows=max(len(files), 1)),
        },
    )


def audit_trail_intact(engine: sa.Engine) -> dg.AssetCheckResult:
    """`lotline audit verify` after the load: each problem a row of a Markdown table, and the
    chain heads, to compare with a copy kept outside the database (a cut tail shows there)."""
    verdict = chain.verify(engine)
    problems = pl.DataFrame(
        {
            "table": [p.table for p in verdict.problems],
            "row": [shown_key(p.row_key) for p in verdict.problems],
            "line": [shown_key(p.line_key) if p.line_key else "" for p in verdict.problems],
            "what": [p.what for p in verdict.problems],
        },
        schema={"table": pl.String, "row": pl.String, "line": pl.String, "what": pl.String},
    )
    heads = pl.DataFrame(
        {
            "table": list(verdict.heads),
            "entries": [seq for seq, _ in verdict.heads.values()],
            "head_hash": [head for _, head in verdict.heads.values()],
        },
        schema={"table": pl.String, "entries": pl.Int64, "head_hash": pl.String},
    )
    return dg.AssetCheckResult(
        check_name="audit_trail_intact",
        asset_key="source_file",
        passed=verdict.ok,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "result": check_table(
                [
                    CheckLine(
                        AUDIT_TRAIL,
                        len(verdict.problems),
                        [f"{p.table} {shown_key(p.row_key)}" for p in verdict.problems],
                    )
                ]
            ),
            "problems": frame_markdown(problems, rows=50),
            "rows_checked": verdict.rows_checked,
            "chain_heads": frame_markdown(heads, rows=max(heads.height, 1)),
        },
    )


def _edges_reference_known_lots(engine: sa.Engine) -> dg.AssetCheckResult:
    lot, edge = store.table(models.Lot), store.table(models.LotEdge)
    dangling = ~edge.c.parent_key.in_(sa.select(lot.c.lot_key)) | ~edge.c.child_key.in_(
        sa.select(lot.c.lot_key)
    )
    with engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).select_from(edge).where(dangling)
        ).scalar_one()
        examples = conn.execute(
            sa.select(edge.c.parent_key, edge.c.child_key, edge.c.production_id)
            .where(dangling)
            .limit(3)
        ).all()
    return dg.AssetCheckResult(
        check_name="edges_reference_known_lots",
        asset_key="lot_edge",
        passed=count == 0,
        metadata={
            "result": check_table(
                [
                    CheckLine(
                        "every genealogy edge joins two lots of the lot table",
                        count,
                        [f"{p} → {c} ({production})" for p, c, production in examples],
                    )
                ]
            ),
            "dangling_edges": count,
        },
    )


def completeness_results(engine: sa.Engine):  # type: ignore[no-untyped-def]
    """One check result per completeness check, from the stored `trace_exception` table."""
    exceptions = store.read_frame(engine, models.TraceException)
    summary = check_summary(exceptions)
    for row in summary.iter_rows(named=True):
        found = exceptions.filter(pl.col("check") == row["check"])
        examples = [
            "/".join(str(v) for v in (r["gtin"], r["lot"], r["serial"]) if v)
            for r in found.head(3).iter_rows(named=True)
        ]
        yield dg.AssetCheckResult(
            check_name=row["check"],
            asset_key="trace_exception",
            passed=bool(row["passed"]),
            severity=dg.AssetCheckSeverity.ERROR
            if row["severity"] == "error"
            else dg.AssetCheckSeverity.WARN,
            metadata={
                "result": check_table(
                    [
                        CheckLine(
                            f"{row['check']}: {row['description']}",
                            int(row["n_exceptions"]),
                            examples,
                            row["severity"],
                        )
                    ]
                ),
                "exceptions": int(row["n_exceptions"]),
                "lots": int(row["n_lots"]),
                "severity": row["severity"],
                "first": frame_markdown(found.select("gtin", "lot", "serial", "detail")),
            },
        )
