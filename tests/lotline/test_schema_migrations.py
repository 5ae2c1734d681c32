"""Schema migrations: a database made by release 0.1.0 is upgraded to today's schema with its
rows, traces and audit trail intact; a new one is created at head; eight processes starting on
an old database at once upgrade it once.

The 0.1.0 databases are real ones, made once with the code of release 0.1.0 (git commit
99b9032) and committed under tests/data/migrations: `lotline ingest tests/data/small`, then a
recall report and a mock recall of lot D1 (so `issued_document` and `mock_recall` have rows).
SQLite as the gzipped file (18 KB; 536 KB unpacked), PostgreSQL as a pg_dump script (84 KB).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from lotline import schema, store
from lotline.cli import main

FIXTURES = Path(__file__).parents[1] / "data" / "migrations"
OLD_SQLITE = FIXTURES / "v0_1_0_small.sqlite.gz"
OLD_POSTGRES = FIXTURES / "v0_1_0_small.postgres.sql"
NEW_TABLES = {
    "association_record",
    "transaction_record",
    "portal_user",
    "api_token",
    "portal_session",
    "login_attempt",
    "access_log",
    "audit_entry",
    "audit_page",
    "document_signature",
}
NEW_DOCUMENT_COLUMNS = {"file_path", "version", "supersedes", "status", "parameters"}
HEAD = schema.head()
LOT = ["--gtin", "00614141000036", "--lot", "D1"]


def _old_sqlite(tmp_path: Path) -> str:
    path = tmp_path / "v0_1_0.sqlite"
    with gzip.open(OLD_SQLITE) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return store.sqlite_url(path)


def _old_postgres(url: str) -> str:
    """Restore the 0.1.0 dump into the empty database (on a connection of its own: the dump
    empties its search_path)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        raw.execute(OLD_POSTGRES.read_text())
        raw.commit()
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database made by release 0.1.0, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        yield _old_sqlite(tmp_path)
    else:
        yield _old_postgres(request.getfixturevalue("postgres_url"))


def _rows(url: str) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    """Every row of every table, as stored (old columns only), sorted."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        rows = {
            name: sorted(conn.execute(sa.select(table)).tuples(), key=repr)
            for name, table in metadata.tables.items()
        }
    engine.dispose()
    return rows


def _schema_diff(url: str) -> list:  # type: ignore[type-arg]
    """What Alembic's autogenerate would still change: empty when the database's tables,
    columns, types, nullability, indexes and unique constraints are today's models'. Server
    defaults are not compared (Alembic's default): revision 0002 gives `issued_document.version`
    and `.status` server defaults, so that 0.1.0 processes still running during an upgrade keep
    issuing documents; tables made by `create_all` have none, and the models' values agree."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    return diff


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_a_release_0_1_0_database_is_upgraded_with_its_rows_traces_and_audit_trail(
    old_database: str, small_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _rows(old_database)
    assert {"issued_document", "mock_recall", "lot_closure"} <= set(before)
    assert len(before["issued_document"]) == 2 and len(before["lot_closure"]) == 27
    assert not NEW_TABLES & set(before)

    code, out = _run(capsys, "db", "current", "--database-url", old_database)
    assert code == 1 and "revision: none" in out

    code, out = _run(capsys, "db", "upgrade", "--database-url", old_database)
    assert code == 0
    assert "revision before: none" in out
    assert f"revision after:  {schema.head()}" in out

    after = _rows(old_database)
    for name, rows in before.items():  # every row still there, its old columns unchanged
        width = len(rows[0]) if rows else 0
        assert [r[:width] for r in after[name]] == rows, name
    engine = sa.create_engine(old_database)
    inspector = sa.inspect(engine)
    assert set(inspector.get_table_names()) >= NEW_TABLES
    document_columns = {c["name"] for c in inspector.get_columns("issued_document")}
    assert document_columns >= NEW_DOCUMENT_COLUMNS
    unique = {i["name"] for i in inspector.get_indexes("issued_document") if i["unique"]}
    assert "ix_issued_document_supersedes" in unique
    with engine.connect() as conn:  # the documents 0.1.0 issued: first versions, drafts
        versions = conn.execute(sa.text("SELECT version, status FROM issued_document")).all()
    assert sorted(versions) == [(1, "DRAFT"), (1, "DRAFT")]
    engine.dispose()
    assert _schema_diff(old_database) == []

    # traces answer as on a database loaded by today's code
    trace = ["trace", *LOT, "--format", "json", "--database-url"]
    code, upgraded = _run(capsys, *trace, old_database)
    assert code == 0
    code, fresh = _run(capsys, *trace, small_database)
    assert code == 0
    assert json.loads(upgraded) == json.loads(fresh)

    # the rows of 0.1.0 were adopted into the audit trail
    code, out = _run(capsys, "audit", "verify", "--database-url", old_database)
    assert code == 0, out

    code, out = _run(capsys, "db", "upgrade", "--database-url", old_database)
    assert code == 0 and "(unchanged)" in out
    assert _rows(old_database) == after


def test_a_0_1_0_process_still_issues_documents_after_the_upgrade(tmp_path: Path) -> None:
    """The server defaults of the new NOT NULL columns: an INSERT as release 0.1.0 writes it."""
    url = _old_sqlite(tmp_path)
    schema.upgrade(store.make_engine(url))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO issued_document (document_number, kind, title, generated_at) "
                "VALUES ('REC-1', 'recall', 'Recall', '2026-12-07 10:00:00.000000')"
            )
        )
        row = conn.execute(
            sa.text("SELECT version, status FROM issued_document WHERE document_number = 'REC-1'")
        ).one()
    assert tuple(row) == (1, "DRAFT")


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_new_database_is_created_at_head_as_the_revisions_would_make_it(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        fresh = store.sqlite_url(tmp_path / "fresh.sqlite")
        migrated = store.sqlite_url(tmp_path / "migrated.sqlite")
    else:
        fresh = migrated = request.getfixturevalue("postgres_url")  # emptied in between
    engine = store.make_engine(fresh)
    store.create_schema(engine)
    assert schema.current(engine) == schema.head()
    engine.dispose()
    assert _schema_diff(fresh) == []
    if backend == "postgres":  # the same database, emptied: every revision from an empty one
        with sa.create_engine(fresh).begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine = sa.create_engine(migrated)
    with engine.begin() as conn:  # all revisions, from nothing: no table forgotten in one
        command.upgrade(schema.alembic_config(conn), "head")
    assert schema.current(engine) == schema.head()
    engine.dispose()
    assert _schema_diff(migrated) == []


def test_a_database_of_a_development_build_without_a_revision_is_stamped(tmp_path: Path) -> None:
    """Today's tables by `create_all`, no version table (development builds after 0.1.0): the
    upgrade from 0001 skips what is there."""
    url = store.sqlite_url(tmp_path / "dev.sqlite")
    engine = store.make_engine(url)
    SQLModel.metadata.create_all(engine)
    assert schema.upgrade(engine) == (None, schema.head())
    assert _schema_diff(url) == []


def test_a_database_upgraded_by_a_newer_release_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = store.sqlite_url(tmp_path / "newer.sqlite")
    engine = store.make_engine(url)
    store.create_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(schema.SchemaTooNew, match="9999"):
        store.create_schema(engine)
    assert main(["db", "upgrade", "--database-url", url]) == 2
    assert "newer than this lotline" in capsys.readouterr().err
    assert main(["db", "current", "--database-url", url]) == 1


def test_head_is_alembics_single_head_and_revision_ids_are_file_prefixes() -> None:
    scripts = ScriptDirectory.from_config(schema.alembic_config())
    assert scripts.get_current_head() == schema.head()  # raises on two heads
    ids = sorted(s.revision for s in scripts.walk_revisions())
    assert ids == schema.revisions()
    assert schema.revisions()[0] == schema.BASELINE


def test_a_new_revision_of_unchanged_models_is_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The developers' command, on a copy of the script folder: today's models equal head, so
    the autogenerated revision changes nothing (no noise from SQLite's reflection either)."""
    copy = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(schema, "MIGRATIONS", copy)
    schema.head.cache_clear()
    try:
        path = schema.new_revision("nothing")
        assert path.parent == copy / "versions"
        assert path.name == f"{int(HEAD) + 1:04d}_nothing.py"
        assert schema.head() == path.name[:4]
        upgrade = path.read_text().split("def upgrade() -> None:")[1].split("def downgrade")[0]
        assert "op." not in upgrade and "pass" in upgrade, upgrade
    finally:
        schema.head.cache_clear()


RACER = """
import sys, time
from pathlib import Path
from lotline import store

url, gate = sys.argv[1], Path(sys.argv[2])
(gate / f"ready-{sys.argv[3]}").touch()
while not (gate / "go").exists():
    time.sleep(0.01)
store.create_schema(store.make_engine(url))
"""


def _race(url: str, gate: Path, processes: int = 8) -> list[str]:
    """`processes` lotline processes starting on one database at the same instant: each imports
    lotline, says it is ready, and waits for the go. Separate interpreters, not forks: a fork of
    a process whose Polars thread pool has run deadlocks in Polars (the audit adoption)."""
    gate.mkdir()
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, url, str(gate), str(n)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    deadline = time.monotonic() + 120
    while len(list(gate.glob("ready-*"))) < processes and time.monotonic() < deadline:
        time.sleep(0.05)
    (gate / "go").touch()
    failures = []
    for racer in racers:
        _, stderr = racer.communicate(timeout=120)
        if racer.returncode:
            failures.append(stderr.strip().splitlines()[-1] if stderr.strip() else "no output")
    return failures


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_eight_processes_starting_on_an_old_database_upgrade_it_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = _old_sqlite(tmp_path)
    else:
        url = _old_postgres(request.getfixturevalue("postgres_url"))
    before = _rows(url)
    assert _race(url, tmp_path / "gate") == []
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
        assert list(versions) == [schema.head()]
        # adopted once: one entry per audited table that had rows (a second adoption, or an
        # upgrade run twice, would show as seq 2 or fail on the existing tables)
        chains = conn.execute(
            sa.text("SELECT table_name, count(*), max(seq) FROM audit_entry GROUP BY table_name")
        ).all()
    engine.dispose()
    assert chains and all(entries == 1 and seq == 1 for _, entries, seq in chains)
    assert {name for name, _, _ in chains} >= {"issued_document", "mock_recall", "source_file"}
    after = _rows(url)
    assert all(len(after[name]) == len(rows) for name, rows in before.items())
