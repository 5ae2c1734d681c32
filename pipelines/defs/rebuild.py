"""The `lineage_rebuild` job: every lineage and quality table built again from the stored records.

A load recomputes only what its records can change; this job is the full rebuild beside it (the
same as `lotline rebuild`), for after a change of the lineage rules or to check an incremental
build. It runs in the commit's pool, so it never runs while a drop commits, and
`lotline.intake.ingest.rebuild` takes the load lock itself for callers without Dagster.
"""

import dagster as dg
import polars as pl

from pipelines.defs.drops import LINEAGE_POOL
from pipelines.defs.resources import Warehouse
from pipelines.metadata import frame_markdown


def counts_table(counts: dict[str, int]) -> pl.DataFrame:
    """Rows written per table, in the order the rebuild wrote them."""
    return pl.DataFrame(
        {"table": list(counts), "rows": list(counts.values())},
        schema={"table": pl.String, "rows": pl.Int64},
    )


@dg.op(pool=LINEAGE_POOL, description="Rebuild every lineage and quality table from the records.")
def rebuild_lineage_tables(context: dg.OpExecutionContext, warehouse: Warehouse) -> dict[str, int]:
    from lotline.intake.ingest import rebuild  # imported when it runs: a long import chain

    counts = rebuild(warehouse.engine(), load_id=context.run_id)
    context.log.info(", ".join(f"{name}: {rows}" for name, rows in counts.items()))
    table = counts_table(counts)
    context.add_output_metadata(
        {
            "rows_written": frame_markdown(table, rows=max(table.height, 1)),
            "total_rows": int(table["rows"].sum()),
        }
    )
    return counts


@dg.job(
    executor_def=dg.in_process_executor,
    description="Full rebuild of the lineage tables from the stored records (`lotline rebuild`).",
)
def lineage_rebuild() -> None:
    rebuild_lineage_tables()
