"""Resources: where records come from, which database holds the tables, where reports go.

Defaults come from the environment (`LOTLINE_DATABASE_URL`, `LOTLINE_DROP_DIR`,
`LOTLINE_REPORT_DIR`) so `dagster dev` and the CLI agree; the CLI and tests pass explicit values.
"""

import os
from pathlib import Path

import dagster as dg
from sqlalchemy.engine import Engine

from lotline import store


class Warehouse(dg.ConfigurableResource):
    """The lotline database (SQLite by default, PostgreSQL in production)."""

    database_url: str = ""

    def engine(self) -> Engine:
        engine = store.make_engine(self.database_url or None)
        store.create_schema(engine)
        return engine


class DropFolder(dg.ConfigurableResource):
    """The folder partners and ERP exports drop CSV/Parquet files into."""

    path: str

    @property
    def folder(self) -> Path:
        return Path(self.path)


class ReportArchive(dg.ConfigurableResource):
    """Where rendered PDFs are written."""

    path: str

    @property
    def folder(self) -> Path:
        folder = Path(self.path)
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": Warehouse(database_url=os.environ.get(store.DATABASE_URL_ENV, "")),
        "drop_folder": DropFolder(path=os.environ.get("LOTLINE_DROP_DIR", "drop")),
        "report_archive": ReportArchive(path=os.environ.get("LOTLINE_REPORT_DIR", "reports-out")),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=default_resources())
