"""The resources: a schema created once and safely under a race, a URL never shown with its
password."""

from __future__ import annotations

import multiprocessing
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.remote_representation.external_data import (
    RepositorySnap,
    ResourceConfigEnvVarSnap,
)
from dagster._serdes import serialize_value
from sqlmodel import SQLModel

from lotline import store
from pipelines.defs.resources import Warehouse

PASSWORD = "s3cret-pw"


def _set_up(url: str, start: Barrier, results: Queue) -> None:  # type: ignore[type-arg]
    start.wait()
    try:
        Warehouse(database_url=url).engine()
        results.put("ok")
    except BaseException as exc:  # noqa: BLE001  (reported to the parent)
        results.put(f"{type(exc).__name__}: {exc}")


def _race(url: str, processes: int = 8) -> list[str]:
    """Set up `processes` warehouses on one database at the same instant, one per process, as
    step processes of a multi-process run do (forked: no imports to wait for)."""
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_set_up, args=(url, start, results)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join()
    return [o for o in outcomes if o != "ok"]


def test_a_fresh_sqlite_database_survives_racing_setups(tmp_path: Path) -> None:
    url = store.sqlite_url(tmp_path / "fresh.sqlite")
    assert _race(url) == []
    tables = set(sa.inspect(store.make_engine(url)).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables


def test_a_fresh_postgres_database_survives_racing_setups(postgres_url: str) -> None:
    assert _race(postgres_url) == []
    engine = store.make_engine(postgres_url)
    assert set(SQLModel.metadata.tables) <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_a_run_sets_the_schema_up_before_its_steps(tmp_path: Path) -> None:
    """The resource's setup (once per run in process) creates the schema a step then reads."""
    url = store.sqlite_url(tmp_path / "fresh.sqlite")

    @dg.asset
    def tables(warehouse: Warehouse) -> None:
        names = set(sa.inspect(warehouse.engine()).get_table_names())
        assert {"lot", "source_file", "load_lock"} <= names

    assert not (tmp_path / "fresh.sqlite").exists()
    result = dg.materialize([tables], resources={"warehouse": Warehouse(database_url=url)})
    assert result.success


def test_the_sensor_side_reads_without_creating_a_database(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite"
    assert Warehouse(database_url=store.sqlite_url(path)).loaded_files() == set()
    assert not path.exists()


def test_the_database_url_is_shown_by_name_never_with_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the UI and the stored snapshot of the code location hold: the variable's name."""
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:5432/postgres"
    monkeypatch.setenv(store.DATABASE_URL_ENV, url)
    from pipelines.definitions import defs

    repository = defs().get_repository_def()
    snapshot = serialize_value(RepositorySnap.from_def(repository))
    assert PASSWORD not in snapshot
    resources = {r.name: r for r in RepositorySnap.from_def(repository).resources or []}
    configured = resources["warehouse"].configured_values["database_url"]
    assert configured == ResourceConfigEnvVarSnap(name=store.DATABASE_URL_ENV)
    # the value is read when a run sets the resource up
    warehouse = repository.get_top_level_resources()["warehouse"]
    assert PASSWORD not in repr(warehouse)
