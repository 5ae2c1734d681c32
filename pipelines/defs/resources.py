"""Resources: where records come from, which database holds the tables, where reports go.

Defaults come from the environment (`LOTLINE_DATABASE_URL`, `LOTLINE_DROP_DIR`, `LOTLINE_MAPPING`,
`LOTLINE_STRICT`, `LOTLINE_MAX_REJECT_SHARE`, `LOTLINE_SETTLE_SECONDS`, `LOTLINE_REPORT_DIR`) so
`dagster dev` and the CLI agree; the CLI and tests pass explicit values.
"""

import os
from pathlib import Path

import dagster as dg
from sqlalchemy.engine import Engine

from lotline import store
from lotline.intake.mapping import Mapping, load_mapping


class Warehouse(dg.ConfigurableResource):
    """The lotline database (SQLite by default, PostgreSQL in production)."""

    database_url: str = ""

    def engine(self) -> Engine:
        engine = store.make_engine(self.database_url or None)
        store.create_schema(engine)
        return engine


class DropFolder(dg.ConfigurableResource):
    """The folder partners and ERP exports drop CSV/XLSX/Parquet files into, and how to read it.

    `mapping` is a mapping file or a bundled profile name (`odoo`, `erpnext`), as
    `lotline ingest --mapping`; `strict` makes every validation warning an error;
    `max_reject_share` is the share of a file one rule may quarantine before the load is flagged
    as probably wrong; `settle_seconds` is how long a file must be unchanged before it loads."""

    path: str
    mapping: str = ""
    strict: bool = False
    max_reject_share: float = 0.05
    settle_seconds: float = 0.0

    @property
    def folder(self) -> Path:
        return Path(self.path)

    def file_mapping(self) -> Mapping | None:
        return load_mapping(self.mapping) if self.mapping else None


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
        "drop_folder": DropFolder(
            path=os.environ.get("LOTLINE_DROP_DIR", "drop"),
            mapping=os.environ.get("LOTLINE_MAPPING", ""),
            strict=os.environ.get("LOTLINE_STRICT", "") in ("1", "true", "yes"),
            max_reject_share=float(os.environ.get("LOTLINE_MAX_REJECT_SHARE", "0.05")),
            settle_seconds=float(os.environ.get("LOTLINE_SETTLE_SECONDS", "0")),
        ),
        "report_archive": ReportArchive(path=os.environ.get("LOTLINE_REPORT_DIR", "reports-out")),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=default_resources())
