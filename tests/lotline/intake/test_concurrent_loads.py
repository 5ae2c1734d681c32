"""Two loads at once never corrupt the snapshot: two processes load two drops into one fresh
database at the same time, and the tables equal those of the same drops loaded one after the
other. The same drop loaded by two processes at once is stored once.

The drops are the generated world split by region, as two sites' landing folders would hold it:
the US chain (SITE-CHI, WH-JOL) and the EU chain (SITE-BRD, WH-VNL), each with the same product
and location lists. Neither refers to a record of the other, so the order of their commits
cannot matter (checked: both orders give the same tables). Processes are *spawned*, never
forked after Polars is imported.

The last test does the same through Dagster: two partitions' runs of the load assets at once, on
one instance with the pool limit of `deploy/dagster.yaml`: they validate side by side and their
commits run one after the other.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from postgres_database import fresh_database

import models
from lotline import store
from lotline.audit import chain
from lotline.generate import generate
from lotline.intake.ingest import load_folder

ROOT = Path(__file__).parents[3]
REGIONS = {"SITE-CHI": "us", "WH-JOL": "us", "SITE-BRD": "eu", "WH-VNL": "eu"}
"""Own locations, by the drop (region) whose exports hold their records."""
MASTER = ("products", "locations")
LINEAGE_TABLES = (
    "lot",
    "lot_edge",
    "lot_closure",
    "serial",
    "lot_shipment",
    "lot_receipt",
    "lot_on_hand",
    "lot_mass_balance",
    "trace_exception",
    "lot_completeness",
    "lot_status",
)
LOT_KEYS = ("lot_key", "parent_key", "child_key", "ancestor_key", "descendant_key")
"""Columns holding the lot surrogate key: compared as `gtin/lot`."""
RECORD_TABLES = (
    "product",
    "location",
    *(store.table(m).name for m in models.RECORD_TABLES.values()),
    "record_history",
    "record_finding",
    "rejected_record",
    "source_file",
)
PER_LOAD = ("id", "snapshot_id", "load_id", "loaded_at", "changed_by_load", "changed_at")
"""Columns that name or time the load that wrote a row: they differ between any two runs."""


# --- the drops ----------------------------------------------------------------------------------


def _own_location(name: str, frame: pl.DataFrame) -> pl.Expr:
    """The own location whose export holds a row of record type `name`."""
    if name == "receipts":
        return pl.col("to_location_id")
    if name in ("production", "packing"):
        return pl.col("location_id")
    if name == "shipments":
        return pl.col("from_location_id")
    if name == "moves":  # a transfer out of a site, or a return into a warehouse
        own = pl.col("from_location_id").is_in(list(REGIONS))
        return pl.when(own).then(pl.col("from_location_id")).otherwise(pl.col("to_location_id"))
    raise ValueError(name)


def split_by_region(world: Path, root: Path) -> dict[str, Path]:
    """The generated files as two drops, `us` and `eu`: master data copied into both, each
    event row in the drop of the own location it happened at (consumption with its production
    order, a status with its lot's origin)."""
    frames = {p.stem: pl.read_csv(p, infer_schema=False) for p in sorted(world.glob("*.csv"))}
    region = pl.col("_own").replace_strict(REGIONS, default=None)
    placed: dict[str, pl.DataFrame] = {}
    for name in ("receipts", "production", "packing", "shipments", "moves"):
        frame = frames[name]
        placed[name] = frame.with_columns(_own_location(name, frame).alias("_own")).with_columns(
            region.alias("_drop")
        )
    orders = placed["production"].select("production_id", "_drop").unique("production_id")
    placed["consumption"] = frames["consumption"].join(orders, on="production_id", how="left")
    origins = pl.concat(
        [placed[n].select("gtin", "lot", "_drop") for n in ("production", "receipts")]
    ).unique(["gtin", "lot"], keep="first")
    placed["status"] = frames["status"].join(origins, on=["gtin", "lot"], how="left")
    drops = {}
    for drop in ("us", "eu"):
        folder = root / drop
        folder.mkdir(parents=True)
        for name in MASTER:
            (folder / f"{name}.csv").write_bytes((world / f"{name}.csv").read_bytes())
        for name, frame in placed.items():
            rows = frame.filter(pl.col("_drop") == drop).select(frames[name].columns)
            assert rows.height, f"{drop} has no {name}"
            rows.write_csv(folder / f"{name}.csv")
        drops[drop] = folder
    unplaced = sum(f.filter(pl.col("_drop").is_null()).height for f in placed.values())
    assert unplaced == 0, "every event row belongs to one region"
    return drops


@pytest.fixture(scope="module")
def drops(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("drops")
    generate(root / "world", seed=7, scale=0.1)
    return split_by_region(root / "world", root)


# --- databases ----------------------------------------------------------------------------------


@pytest.fixture
def other_postgres_url(postgres_url: str) -> Iterator[str]:
    """A second fresh database on the server of `postgres_url`, for the one-after-the-other
    load to compare with."""
    with fresh_database(postgres_url) as url:
        yield url


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def two_databases(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Two fresh, empty databases of one backend: (concurrent, one after the other)."""
    if request.param == "sqlite":
        return store.sqlite_url(tmp_path / "concurrent.sqlite"), store.sqlite_url(
            tmp_path / "sequential.sqlite"
        )
    return request.getfixturevalue("postgres_url"), request.getfixturevalue("other_postgres_url")


# --- loading ------------------------------------------------------------------------------------


class Loaded(NamedTuple):
    folder: str
    began: float
    ended: float
    snapshot_id: str | None
    error: str = ""


def _load(url: str, folder: str, start, validated, results) -> None:  # type: ignore[no-untyped-def]
    """In a spawned process: wait for the other loader, load the drop, say when it ran (or
    why it failed: a loader that fails says so rather than leaving the test waiting). With a
    `validated` barrier, the commit waits until every loader has validated."""
    engine = store.make_engine(url)
    store.create_schema(engine)
    start.wait(timeout=120)
    began = time.time()

    def stage(text: str) -> None:
        if validated is not None and text.startswith("storing"):
            validated.wait(timeout=300)

    try:
        report = load_folder(engine, Path(folder), progress=stage)
    except Exception:
        if validated is not None:
            validated.abort()  # the other loader stops waiting for this one
        results.put(Loaded(folder, began, time.time(), None, traceback.format_exc()))
    else:
        results.put(Loaded(folder, began, time.time(), report.snapshot_id))
    finally:
        engine.dispose()


def load_at_once(
    url: str, folders: list[Path], commit_after_all_validated: bool = False
) -> list[Loaded]:
    """Load each folder in a spawned process of its own, all starting at the same moment;
    `commit_after_all_validated`: no commit starts before every loader has validated (each
    then finds the other's commit only under the load lock)."""
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(len(folders)), spawn.Queue()
    validated = spawn.Barrier(len(folders)) if commit_after_all_validated else None
    loaders = [
        spawn.Process(target=_load, args=(url, str(folder), start, validated, results))
        for folder in folders
    ]
    for loader in loaders:
        loader.start()
    done: list[Loaded] = []
    deadline = time.monotonic() + 300
    while len(done) < len(loaders):
        try:
            done.append(results.get(timeout=1))
        except queue.Empty:
            died = [p.exitcode for p in loaders if p.exitcode not in (None, 0)]
            assert not died, f"a loader died without a word (exit codes {died})"
            assert time.monotonic() < deadline, "the loaders did not finish in 5 minutes"
    for loader in loaders:
        loader.join(timeout=60)
    failed = [d.error for d in done if d.error]
    assert not failed, "\n".join(failed)
    return done


def load_in_turn(url: str, folders: list[Path]) -> None:
    engine = store.make_engine(url)
    for folder in folders:
        load_folder(engine, folder)
    engine.dispose()


# --- comparing ----------------------------------------------------------------------------------


def canonical(frame: pl.DataFrame, lots: pl.DataFrame) -> pl.DataFrame:
    """A table as content: lot surrogate keys as `gtin/lot`, load ids and times left out, rows
    in one order."""
    names = dict(zip(lots["lot_key"], lots["gtin"] + "/" + lots["lot"], strict=True))
    frame = frame.drop([c for c in PER_LOAD if c in frame.columns])
    frame = frame.with_columns(
        pl.col(c).replace_strict(names, return_dtype=pl.String) for c in LOT_KEYS if c in frame
    )
    return frame.sort(frame.columns, nulls_last=True)


def tables(url: str) -> dict[str, pl.DataFrame]:
    engine = store.make_engine(url)
    try:
        lots = store.read_frame(engine, models.Lot, columns=["lot_key", "gtin", "lot"])
        return {
            name: canonical(store.read_frame(engine, name), lots)
            for name in (*LINEAGE_TABLES, *RECORD_TABLES)
        }
    finally:
        engine.dispose()


def assert_same_tables(got: dict[str, pl.DataFrame], expected: dict[str, pl.DataFrame]) -> None:
    for name, frame in expected.items():
        try:
            assert_frame_equal(got[name], frame, check_exact=False, rel_tol=1e-9)
        except AssertionError as exc:
            raise AssertionError(f"table {name}: {exc}") from None


def latest_snapshot_inputs(url: str) -> list[str]:
    engine = store.make_engine(url)
    try:
        snapshots = store.read_frame(engine, models.Snapshot).sort("created_at")
        return sorted(json.loads(snapshots["input_sha256"][-1]))
    finally:
        engine.dispose()


def audit_clean(url: str) -> None:
    engine = store.make_engine(url)
    try:
        verdict = chain.verify(engine)
        assert verdict.ok, [p.what for p in verdict.problems]
    finally:
        engine.dispose()


# --- tests --------------------------------------------------------------------------------------


def test_two_drops_at_once_equal_the_same_drops_one_after_the_other(
    drops: dict[str, Path], two_databases: tuple[str, str]
) -> None:
    concurrent, sequential = two_databases
    one, other = load_at_once(concurrent, [drops["us"], drops["eu"]])
    assert one.began < other.ended and other.began < one.ended, "the loads ran at the same time"
    assert one.snapshot_id and other.snapshot_id and one.snapshot_id != other.snapshot_id

    load_in_turn(sequential, [drops["us"], drops["eu"]])
    expected = tables(sequential)
    assert expected["lot"].height > 50 and expected["lot_closure"].height > expected["lot"].height
    assert expected["source_file"].height == 2 * 9 - 2  # master data loaded once
    assert_same_tables(tables(concurrent), expected)
    # the last snapshot covers every file of both drops, whichever committed last
    assert latest_snapshot_inputs(concurrent) == latest_snapshot_inputs(sequential)
    audit_clean(concurrent)


def test_the_order_of_the_two_drops_does_not_matter(drops: dict[str, Path], tmp_path: Path) -> None:
    """What makes the first test's comparison fair: whichever drop commits first."""
    one, other = store.sqlite_url(tmp_path / "a.sqlite"), store.sqlite_url(tmp_path / "b.sqlite")
    load_in_turn(one, [drops["us"], drops["eu"]])
    load_in_turn(other, [drops["eu"], drops["us"]])
    assert_same_tables(tables(other), tables(one))


def test_one_drop_loaded_by_two_processes_at_once_is_stored_once(
    drops: dict[str, Path], two_databases: tuple[str, str]
) -> None:
    concurrent, sequential = two_databases
    ran = load_at_once(concurrent, [drops["eu"], drops["eu"]], commit_after_all_validated=True)
    # the second found every file loaded: nothing new, no snapshot
    assert sum(loaded.snapshot_id is not None for loaded in ran) == 1

    load_in_turn(sequential, [drops["eu"]])
    expected = tables(sequential)
    assert expected["source_file"].height == 9
    assert_same_tables(tables(concurrent), expected)
    audit_clean(concurrent)


# --- the same through Dagster: two partitions' runs at once -------------------------------------


class Ran(NamedTuple):
    drop: str
    run_id: str
    error: str = ""


def _materialize_drop(home: str, url: str, folder: str, drop: str, start, results) -> None:  # type: ignore[no-untyped-def]
    """In a spawned process: one run of the load assets for partition `drop` of the drop
    folder, on the Dagster instance in `home` (which holds the pool limit)."""
    os.environ["DAGSTER_HOME"] = home
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.run import LOAD_ASSETS, _failure_message, _resources

    assets = list(defs().assets or [])
    instance = dg.DagsterInstance.get()
    start.wait(timeout=120)
    result = dg.materialize(
        assets=assets,
        selection=LOAD_ASSETS,
        partition_key=drop,
        instance=instance,
        resources=_resources(url, Path(folder), None),
        raise_on_error=False,
    )
    results.put(Ran(drop, result.run_id, "" if result.success else _failure_message(result)))


def step_windows(instance, run_id: str) -> dict[str, tuple[float, float]]:  # type: ignore[no-untyped-def]
    """When each step of a run started and succeeded."""
    from dagster import DagsterEventType

    windows: dict[str, list[float]] = {}
    for entry in instance.all_logs(
        run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}
    ):
        windows.setdefault(entry.step_key, []).append(entry.timestamp)
    return {step: (min(times), max(times)) for step, times in windows.items()}


def test_two_partition_runs_at_once_queue_their_commits_and_equal_one_after_the_other(
    drops: dict[str, Path], tmp_path: Path
) -> None:
    import dagster as dg
    import yaml

    from pipelines.defs.drops import DROPS

    home = tmp_path / "dagster_home"
    home.mkdir()
    deployed = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    instance_yaml = {"concurrency": {"pools": deployed["concurrency"]["pools"]}}
    (home / "dagster.yaml").write_text(
        yaml.safe_dump({**instance_yaml, "telemetry": {"enabled": False}})
    )
    folder = drops["us"].parent  # the drop folder: its subfolders `us` and `eu` are two drops
    instance = dg.DagsterInstance.local_temp(str(home))  # reads home/dagster.yaml
    instance.add_dynamic_partitions(DROPS.name, ["us", "eu"])
    concurrent = store.sqlite_url(tmp_path / "concurrent.sqlite")
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(2), spawn.Queue()
    runs = [
        spawn.Process(
            target=_materialize_drop,
            args=(str(home), concurrent, str(folder), drop, start, results),
        )
        for drop in ("us", "eu")
    ]
    for run in runs:
        run.start()
    ran = [results.get(timeout=300) for _ in runs]
    for run in runs:
        run.join(timeout=60)
    assert not [r.error for r in ran if r.error], ran

    one, other = (step_windows(instance, r.run_id) for r in ran)
    instance.dispose()
    reading = [
        (min(w[0] for s, w in steps.items() if s != "lineage_tables"), steps["lineage_tables"][0])
        for steps in (one, other)
    ]
    assert reading[0][0] < reading[1][1] and reading[1][0] < reading[0][1], (
        "the two runs read and validated side by side"
    )
    commits = sorted(steps["lineage_tables"] for steps in (one, other))
    assert commits[0][1] <= commits[1][0], "the commits ran one after the other (the pool)"

    sequential = store.sqlite_url(tmp_path / "sequential.sqlite")
    load_in_turn(sequential, [drops["us"], drops["eu"]])
    assert_same_tables(tables(concurrent), tables(sequential))
    audit_clean(concurrent)
