"""`lotline audit verify` as an inspector runs it: one line per problem naming table and row,
a verdict, and the exit status — on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

import models
from lotline import store
from lotline.audit import chain
from lotline.cli import main
from lotline.intake.ingest import load_folder

SMALL = Path(__file__).parents[2] / "data" / "small"
LOAD_ID = "the-same-load"
RECORD_TABLES = [store.table(m).name for m in models.RECORD_TABLES.values()]


def audit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["audit", *args])
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small supply chain loaded once; each test gets its own copy of the file."""
    root = tmp_path_factory.mktemp("audit-cli")
    shutil.copytree(SMALL, root / "drop")
    engine = store.make_engine(store.sqlite_url(root / "lotline.sqlite"))
    load_folder(engine, root / "drop", load_id=LOAD_ID)
    engine.dispose()  # the last connection checkpoints the write-ahead log into the file
    return root / "lotline.sqlite"


@pytest.fixture
def loaded(template: Path, tmp_path: Path) -> str:
    shutil.copytree(SMALL, tmp_path / "drop")
    shutil.copy(template, tmp_path / "lotline.sqlite")
    return store.sqlite_url(tmp_path / "lotline.sqlite")


def _one_key(engine: sa.Engine, table: str) -> tuple[str, str]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(
                sa.text(f'SELECT record_hash, line_key FROM "{table}" ORDER BY record_hash LIMIT 1')
            ).one()
        )


def test_sqlite_intact_then_an_edit_and_a_delete_are_named(capsys, loaded: str) -> None:
    code, lines, _ = audit(capsys, "verify", "--database-url", loaded)
    assert code == 0 and lines[-1].startswith("audit trail intact: ")

    engine = store.make_engine(loaded)
    shipment, line_key = _one_key(engine, "shipment_record")
    receipt, _ = _one_key(engine, "receipt_record")
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE shipment_record SET to_location_id = 'CUST-X' WHERE record_hash = :k"),
            {"k": shipment},
        )
        conn.execute(sa.text("DELETE FROM receipt_record WHERE record_hash = :k"), {"k": receipt})
    code, lines, _ = audit(capsys, "verify", "--database-url", loaded)
    assert code == 1
    shown_line = line_key.replace("\x1f", " / ")
    assert lines == [
        f"receipt_record {receipt}: row missing (DELETE outside lotline)",
        f"shipment_record {shipment} (line {shown_line}): row changed (UPDATE outside lotline)",
        "audit trail TAMPERED: 2 problems in receipt_record, shipment_record",
    ]


def test_no_database_or_no_trail_cannot_be_verified(capsys, loaded: str, tmp_path: Path) -> None:
    missing = store.sqlite_url(tmp_path / "nowhere.sqlite")
    code, lines, err = audit(capsys, "verify", "--database-url", missing)
    assert code == 2 and not lines and "no database at" in err
    assert not (tmp_path / "nowhere.sqlite").exists()

    engine = store.make_engine(loaded)
    with engine.begin() as conn:  # a database from before the audit trail
        conn.execute(sa.text("DROP TABLE audit_page"))
        conn.execute(sa.text("DROP TABLE audit_entry"))
    code, lines, err = audit(capsys, "verify", "--database-url", loaded)
    assert code == 2 and "lotline audit adopt" in err
    code, lines, _ = audit(capsys, "adopt", "--database-url", loaded)
    assert code == 0 and any(line.startswith("receipt_record: 3 rows adopted") for line in lines)
    code, lines, _ = audit(capsys, "verify", "--database-url", loaded)
    assert code == 0, lines
    code, lines, _ = audit(capsys, "adopt", "--database-url", loaded)  # adopting is once only
    assert code == 0 and all("adopted at" in line for line in lines)


@pytest.mark.postgres
def test_postgres_hashes_equal_sqlite_and_an_edit_and_a_delete_are_named(
    capsys, postgres_url: str, loaded: str, tmp_path: Path
) -> None:
    pg = store.make_engine(postgres_url)
    load_folder(pg, tmp_path / "drop", load_id=LOAD_ID)
    code, lines, _ = audit(capsys, "verify", "--database-url", postgres_url)
    assert code == 0, lines

    def record_hashes(engine: sa.Engine) -> set[tuple]:
        with engine.connect() as conn:
            return {
                (name, row_hash)
                for name in ["product", "location", *RECORD_TABLES]
                for row_hash in chain.sealed_rows(conn, name)[0]["row_hash"]
            }

    # the same records (same load id) hash alike on both databases: timestamps, dates, floats
    hashes = record_hashes(pg)
    assert hashes == record_hashes(store.make_engine(loaded)) and len(hashes) > 40

    move, line_key = _one_key(pg, "move_record")
    receipt, _ = _one_key(pg, "receipt_record")
    with pg.begin() as conn:
        conn.execute(
            sa.text("UPDATE receipt_record SET quantity = 999 WHERE record_hash = :k"),
            {"k": receipt},
        )
        conn.execute(sa.text("DELETE FROM move_record WHERE record_hash = :k"), {"k": move})
    code, lines, _ = audit(capsys, "verify", "--database-url", postgres_url)
    assert code == 1
    assert f"move_record {move}: row missing (DELETE outside lotline)" in lines
    assert any(
        line.startswith(f"receipt_record {receipt} (line ")
        and line.endswith("row changed (UPDATE outside lotline)")
        for line in lines
    )
    pg.dispose()
