"""Raw load and validation: one raw and one validated asset per record type of the contract.

Each validated asset reports every expectation of its Great Expectations suite as an asset check
(severity WARN: failing rows are quarantined with their reason, the rest flow on).
"""

import dagster as dg
import polars as pl

from lotline.intake.contract import RECORD_TYPES
from lotline.intake.ingest import RawBatch, read_raw, validate_batch
from lotline.intake.reading import discover
from lotline.intake.validation import References, Validation, build_rules
from pipelines.defs.resources import DropFolder, Warehouse

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
        kinds={"polars", "csv"},
        description=f"{RECORD_TYPES[record_type].doc} Read from the drop folder as text.",
    )
    def raw(
        context: dg.AssetExecutionContext, warehouse: Warehouse, drop_folder: DropFolder
    ) -> RawBatch:
        sources = discover(drop_folder.folder, record_type)
        batch = read_raw(warehouse.engine(), sources, record_type)
        context.add_output_metadata(
            {
                "files": dg.MetadataValue.json([f.__dict__ for f in batch.files]),
                "new_rows": batch.rows.height,
                "rows_unchanged": sum(f.rows_unchanged for f in batch.files),
            }
        )
        return batch

    return raw


def _validated_asset(record_type: str) -> dg.AssetsDefinition:
    rules = build_rules(RECORD_TYPES[record_type], References())
    specs = [
        dg.AssetCheckSpec(
            check_name(r.rule, r.column), asset=f"validated_{record_type}", description=r.message
        )
        for r in rules
    ]
    ins = {"raw": dg.AssetIn(f"raw_{record_type}")}
    ins.update({f"up_{u}": dg.AssetIn(f"validated_{u}") for u in UPSTREAM[record_type]})

    @dg.asset(
        name=f"validated_{record_type}",
        group_name="validated",
        kinds={"great_expectations", "polars"},
        ins=ins,
        check_specs=specs,
        description=f"{record_type}: rows that passed the Great Expectations suite, typed.",
    )
    def validated(
        context: dg.AssetExecutionContext,
        warehouse: Warehouse,
        raw: RawBatch,
        **upstream: ValidatedBatch,
    ):
        batch = {name.removeprefix("up_"): up.rows for name, up in upstream.items()}
        validation, rows = validate_batch(warehouse.engine(), raw, batch)
        outcomes = {check_name(o.rule, o.column): o for o in validation.outcomes}
        yield dg.Output(
            ValidatedBatch(validation, rows),
            metadata={"rows_valid": rows.height, "rows_rejected": validation.rows_rejected},
        )
        for spec in specs:
            outcome = outcomes.get(spec.name)
            failed = outcome.failed_rows if outcome else 0
            yield dg.AssetCheckResult(
                check_name=spec.name,
                passed=failed == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "failed_rows": failed,
                    "examples": ", ".join(outcome.examples) if outcome else "",
                },
            )
        context.log.info(f"{record_type}: {rows.height} valid, {validation.rows_rejected} rejected")

    return validated


@dg.definitions
def record_assets() -> dg.Definitions:
    return dg.Definitions(
        assets=[_raw_asset(name) for name in RECORD_TYPES]
        + [_validated_asset(name) for name in RECORD_TYPES]
    )
