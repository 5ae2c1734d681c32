"""Raw load and validation: one raw and one validated asset per record type of the contract.

Each validated asset reports every expectation of its Great Expectations suite as an asset check.
A failed warning rule (the rows load, with a finding) and a failed error rule that quarantined a
few rows are severity WARN: the rest flows on. An error rule that quarantined more than the drop
folder's `max_reject_share` of a file fails with severity ERROR: the file or its mapping is
probably wrong. Each check shows its result as a Markdown table (rule, severity, count,
examples); each validated asset carries its column schema, row count and a preview.

Both are partitioned by drop (`pipelines.defs.drops`): a run reads and validates one drop, so
runs of different drops go side by side and each keeps its own stored outputs.
"""

import dagster as dg
import polars as pl

from lotline.intake.contract import RECORD_TYPES
from lotline.intake.ingest import RawBatch, read_raw, validate_batch
from lotline.intake.reading import printable, scan
from lotline.intake.validation import References, Validation, build_rules
from pipelines.defs.drops import DROPS, TOP, drop_dir
from pipelines.defs.resources import DropFolder, Warehouse
from pipelines.metadata import CheckLine, check_table, contract_schema, frame_schema, table_metadata

OWNERS = ["team:data-engineering"]
TAGS = {"domain": "traceability"}

# which validated batches a record type may refer to (the contract's references, plus the
# serial-uniqueness link from production back to receipts)
UPSTREAM: dict[str, tuple[str, ...]] = {
    "products": (),
    "locations": (),
    "receipts": ("products", "locations"),
    "production": ("products", "locations", "receipts"),
    "consumption": ("products", "production"),
    "moves": ("products", "locations"),
    "packing": ("products", "locations", "receipts", "production"),
    "shipments": ("products", "locations", "packing"),
    "status": ("products", "receipts", "production"),
    "associations": ("products", "locations"),
    "transactions": ("products", "locations"),
}


class ValidatedBatch:
    """What a validated asset hands on: the GX outcome and the valid rows, typed."""

    def __init__(self, validation: Validation, rows: pl.DataFrame) -> None:
        self.validation, self.rows = validation, rows


def check_name(rule: str, column: str) -> str:
    return f"{rule}__{column.replace(',', '_')}"


def _raw_asset(record_type: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{record_type}",
        group_name="raw",
        partitions_def=DROPS,
        kinds={"polars", "csv"},
        owners=OWNERS,
        tags=TAGS,
        description=f"{RECORD_TYPES[record_type].doc} Read from the drop's folder as text.",
    )
    def raw(
        context: dg.AssetExecutionContext, warehouse: Warehouse, drop_folder: DropFolder
    ) -> RawBatch:
        drop = context.partition_key
        found = scan(
            drop_dir(drop_folder.folder, drop),
            record_type,
            mapping=drop_folder.file_mapping(),
            settle_seconds=drop_folder.settle_seconds,
        )
        batch = read_raw(warehouse.engine(), found.files, record_type)
        metadata = {
            "files": dg.MetadataValue.json([f.__dict__ for f in batch.files]),
            "new_rows": batch.rows.height,
            "rows_unchanged": sum(f.rows_unchanged for f in batch.files),
            "dagster/row_count": batch.rows.height,
            "dagster/column_schema": frame_schema(batch.rows),
        }
        # the top drop's subfolders are drops of their own, not files left out
        skipped = [s for s in found.skipped if not (drop == TOP and s.reason == "subfolder")]
        if skipped:
            metadata["skipped"] = dg.MetadataValue.md(
                "\n".join(f"- `{printable(s.name)}`: {s.reason}" for s in skipped)
            )
        context.add_output_metadata(metadata)
        return batch

    return raw


def _validated_asset(record_type: str) -> dg.AssetsDefinition:
    contract = RECORD_TYPES[record_type]
    rules = build_rules(contract, References())
    specs = [
        dg.AssetCheckSpec(
            check_name(r.rule, r.column), asset=f"validated_{record_type}", description=r.message
        )
        for r in rules
    ]
    ins = {"raw": dg.AssetIn(f"raw_{record_type}")}
    ins.update({f"up_{u}": dg.AssetIn(f"validated_{u}") for u in UPSTREAM[record_type]})

    # the GX suite's rules, each with the severity it has before `strict`
    severities = {check_name(r.rule, r.column): r.severity for r in rules}
    docs = {f.name: f.doc for f in contract.fields}

    @dg.asset(
        name=f"validated_{record_type}",
        group_name="validated",
        partitions_def=DROPS,
        kinds={"great_expectations", "polars"},
        ins=ins,
        check_specs=specs,
        owners=OWNERS,
        tags=TAGS,
        metadata={"dagster/column_schema": contract_schema(contract)},
        description=f"{record_type}: rows that passed the Great Expectations suite, typed.",
    )
    def validated(
        context: dg.AssetExecutionContext,
        warehouse: Warehouse,
        drop_folder: DropFolder,
        raw: RawBatch,
        **upstream: ValidatedBatch,
    ):
        batch = {name.removeprefix("up_"): up.rows for name, up in upstream.items()}
        validation, rows = validate_batch(warehouse.engine(), raw, batch, drop_folder.strict)
        outcomes = {check_name(o.rule, o.column): o for o in validation.outcomes}
        yield dg.Output(
            ValidatedBatch(validation, rows),
            metadata={
                "rows_valid": rows.height,
                "rows_rejected": validation.rows_rejected,
                "rows_with_warnings": validation.findings.select("row_number").n_unique()
                if not validation.findings.is_empty()
                else 0,
                # every row ran through the suite's rules as generated Polars checks; GX itself
                # validated the rows those failed, and its verdict is the checks' outcome
                "rows_validated_by_great_expectations": validation.gx_rows,
                **table_metadata(rows, rows.height, frame_schema(rows, docs)),
            },
        )
        shares = _largest_reject_share(raw, validation)
        for rule, spec in zip(rules, specs, strict=True):
            outcome = outcomes.get(spec.name)
            failed = outcome.failed_rows if outcome else 0
            severity = outcome.severity if outcome else severities[spec.name]
            share = shares.get(spec.name, 0.0)
            too_many = severity == "error" and share > drop_folder.max_reject_share
            yield dg.AssetCheckResult(
                check_name=spec.name,
                passed=failed == 0,
                severity=dg.AssetCheckSeverity.ERROR if too_many else dg.AssetCheckSeverity.WARN,
                description=(
                    f"{share:.0%} of a file quarantined by this rule: the file or its mapping "
                    "is probably wrong"
                    if too_many
                    else None
                ),
                metadata={
                    "result": check_table(
                        [
                            CheckLine(
                                f"{rule.rule} on {rule.column}: {rule.message}",
                                failed,
                                outcome.examples if outcome else (),
                                severity,
                            )
                        ]
                    ),
                    "severity": severity,
                    "failed_rows": failed,
                    "expectation": rule.expectation.kind,
                    "checked_by": "Great Expectations (on the rows the Polars check failed)"
                    if failed
                    else "Polars check generated from the expectation (no row failed)",
                    "largest_share_of_a_file": share,
                },
            )
        context.log.info(
            f"{record_type}: {rows.height} valid, {validation.rows_rejected} rejected, "
            f"{validation.findings.height} warnings"
        )

    return validated


def _largest_reject_share(raw: RawBatch, validation: Validation) -> dict[str, float]:
    """Per check: the largest share of one file's rows that its rule quarantined."""
    if validation.rejected.is_empty():
        return {}
    read = {f.sha256: f.rows_read for f in raw.files}
    shares: dict[str, float] = {}
    counts = validation.rejected.group_by("source_sha256", "rule", "column").agg(
        pl.col("row_number").n_unique().alias("rows")
    )
    for row in counts.iter_rows(named=True):
        total = read.get(row["source_sha256"]) or 0
        name = check_name(row["rule"], row["column"])
        if total:
            shares[name] = max(shares.get(name, 0.0), row["rows"] / total)
    return shares


@dg.definitions
def record_assets() -> dg.Definitions:
    return dg.Definitions(
        assets=[_raw_asset(name) for name in RECORD_TYPES]
        + [_validated_asset(name) for name in RECORD_TYPES]
    )
