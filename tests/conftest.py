"""Shared fixtures: a loaded SQLite database of the small hand-made supply chain, PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from postgres_database import fresh_database

from lotline import store
from lotline.intake.ingest import load_folder

SMALL = Path(__file__).parent / "data" / "small"
POSTGRES_URL_ENV = "LOTLINE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(autouse=True)
def _writes_allowed_again() -> Iterator[None]:
    """`lotline trace` run in-process switches this process to ADBC reads (it only reads); the
    next test may write, so it starts with them off again."""
    yield
    from lotline import arrow_reads

    arrow_reads._enabled = False


@pytest.fixture
def small_drop(tmp_path: Path) -> Path:
    """A writable copy of the small supply chain's drop folder."""
    drop = tmp_path / "drop"
    shutil.copytree(SMALL, drop)
    return drop


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return store.sqlite_url(tmp_path / "lotline.sqlite")


@pytest.fixture
def small_engine(sqlite_url: str, small_drop: Path) -> sa.Engine:
    engine = store.make_engine(sqlite_url)
    load_folder(engine, small_drop)
    return engine


@pytest.fixture(scope="module")
def small_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The small supply chain loaded once for a test module whose tests only read it (or only
    add documents to it): the URL of its SQLite file."""
    root = tmp_path_factory.mktemp("small")
    shutil.copytree(SMALL, root / "drop")
    url = store.sqlite_url(root / "lotline.sqlite")
    load_folder(store.make_engine(url), root / "drop")
    return url


def _postgres_admin_url() -> str:
    return os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the real server, dropped afterwards."""
    admin = sa.make_url(_postgres_admin_url())
    try:
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        if os.environ.get("LOTLINE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but not reachable at {admin}: {exc.orig}")
        pytest.skip(f"PostgreSQL not reachable at {admin}")
    engine.dispose()
    with fresh_database(admin) as url:
        yield url
