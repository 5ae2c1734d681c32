"""The `lineage_rebuild` job rebuilds every lineage table from the stored records: after a load
it writes the same rows the load wrote, and says how many per table."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from lotline import store
from pipelines.definitions import defs
from pipelines.defs.drops import LINEAGE_POOL
from pipelines.defs.rebuild import counts_table
from pipelines.defs.resources import Warehouse

LINEAGE = ("lot", "lot_edge", "lot_closure", "lot_shipment", "trace_exception", "lot_status")


def _tables(engine: sa.Engine) -> dict[str, pl.DataFrame]:
    """The lineage tables as content: surrogate row ids left out, rows in one order."""
    tables = {}
    for name in LINEAGE:
        frame = store.read_frame(engine, name).drop("id", strict=False)
        tables[name] = frame.sort(frame.columns, nulls_last=True)
    return tables


def test_the_rebuild_job_writes_what_the_load_wrote(
    small_engine: sa.Engine, sqlite_url: str
) -> None:
    loaded = _tables(small_engine)
    job = defs().resolve_job_def("lineage_rebuild")
    assert job.graph.node_named("rebuild_lineage_tables").definition.pool == LINEAGE_POOL
    result = job.execute_in_process(resources={"warehouse": Warehouse(database_url=sqlite_url)})
    assert result.success
    counts = result.output_for_node("rebuild_lineage_tables")
    assert counts["lot"] == loaded["lot"].height == 10
    assert counts["lot_closure"] == loaded["lot_closure"].height
    for name, frame in _tables(small_engine).items():
        assert_frame_equal(frame, loaded[name], check_exact=False)


def test_rows_written_are_shown_as_a_table() -> None:
    table = counts_table({"lot": 10, "lot_edge": 4})
    assert table.to_dicts() == [{"table": "lot", "rows": 10}, {"table": "lot_edge", "rows": 4}]
