"""Resources: where records come from, which database holds the tables, where reports go.

Defaults come from the environment (`LOTLINE_DATABASE_URL`, `LOTLINE_DROP_DIR`, `LOTLINE_MAPPING`,
`LOTLINE_STRICT`, `LOTLINE_MAX_REJECT_SHARE`, `LOTLINE_SETTLE_SECONDS`, `LOTLINE_REPORT_DIR`) so
`dagster dev` and the CLI agree; the CLI and tests pass explicit values. The database URL is
passed as `dg.EnvVar`: the UI and the stored resource snapshot show the variable's name, never
the URL, which may hold a password.
"""

import os
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from pydantic import PrivateAttr
from sqlalchemy.engine import Engine, make_url

import models
from lotline import store
from lotline.intake.mapping import Mapping, load_mapping


class Warehouse(dg.ConfigurableResource):
    """The lotline database (SQLite by default, PostgreSQL in production).

    In a run, the engine is made and the schema created once, when Dagster sets the resource up
    (once per run with the in-process executor, before any step); `store.create_schema` is safe
    when processes race, so a multi-process run on a fresh database works as well."""

    database_url: str = ""
    _engine: Engine | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if context.dagster_run is not None:  # a sensor only reads: it never creates tables
            self.engine()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def engine(self) -> Engine:
        """The engine, on a database whose schema exists."""
        if self._engine is None:
            engine = store.make_engine(self.database_url or None)
            store.create_schema(engine)
            self._engine = engine
        return self._engine

    def loaded_files(self) -> set[str]:
        """SHA-256 of every file in the load log, without creating anything: an SQLite file
        that does not exist yet or a database without tables has loaded nothing."""
        url = store.database_url(self.database_url or None)
        database = make_url(url).database
        if url.startswith("sqlite") and (not database or not Path(database).exists()):
            return set()
        engine = store.make_engine(url)
        try:
            source_file = store.table(models.SourceFile)
            if not sa.inspect(engine).has_table(source_file.name):
                return set()
            with engine.connect() as conn:
                return set(conn.execute(sa.select(source_file.c.sha256)).scalars())
        finally:
            engine.dispose()


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


def warehouse_from_env() -> Warehouse:
    """The database named by `LOTLINE_DATABASE_URL` (read when a run starts, shown by name), or
    the default SQLite file when the variable is not set."""
    if os.environ.get(store.DATABASE_URL_ENV):
        return Warehouse(database_url=dg.EnvVar(store.DATABASE_URL_ENV))
    return Warehouse()


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": warehouse_from_env(),
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
