"""The audit trail: every row lotline stores is on a hash chain, and anything changed behind
lotline's back — a row, a chain entry, an audit row — is named by table and key."""

from __future__ import annotations

import json
import random
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

import models
from lotline import store
from lotline.audit import canonical, chain
from lotline.audit.verify import CHANGED, MISSING, UNKNOWN
from lotline.intake.ingest import load_folder
from reports import register

SMALL = Path(__file__).parents[2] / "data" / "small"
SHIPMENT_FIX = (
    "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,sscc,quantity,uom,"
    "ref_doc_type,ref_doc_number,correction_reason\n"
    "SH1,2026-09-10T07:00:00-05:00,WH-1,CUST-B,00614141000043,C1,306141410000000013,55,CS,"
    "BOL,BOL-501,consignee and quantity keyed wrong\n"
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small supply chain loaded once; each test gets its own copy of the file."""
    root = tmp_path_factory.mktemp("audit")
    shutil.copytree(SMALL, root / "drop")
    engine = store.make_engine(store.sqlite_url(root / "lotline.sqlite"))
    load_folder(engine, root / "drop")
    engine.dispose()  # the last connection checkpoints the write-ahead log into the file
    return root / "lotline.sqlite"


@pytest.fixture
def small_engine(template: Path, tmp_path: Path) -> sa.Engine:
    shutil.copy(template, tmp_path / "lotline.sqlite")
    return store.make_engine(store.sqlite_url(tmp_path / "lotline.sqlite"))


@pytest.fixture
def small_drop(tmp_path: Path) -> Path:
    shutil.copytree(SMALL, tmp_path / "drop")
    return tmp_path / "drop"


def _entries(engine: sa.Engine) -> list[tuple]:
    entries = store.table(models.AuditEntry)
    with engine.connect() as conn:
        return conn.execute(
            sa.select(entries.c.table_name, entries.c.seq, entries.c.entry_hash).order_by(
                entries.c.table_name, entries.c.seq
            )
        ).all()


def _first_key(engine: sa.Engine, table: str) -> str:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(f'SELECT record_hash FROM "{table}" ORDER BY record_hash LIMIT 1')
        ).scalar_one()


def _found(verdict: chain.Verdict) -> set[tuple[str, str, str]]:
    return {(p.table, p.row_key, p.what) for p in verdict.problems}


def test_a_load_chains_every_stored_table_and_verifies(small_engine) -> None:
    verdict = chain.verify(small_engine)
    assert verdict.ok, [p.line() for p in verdict.problems]
    for table in ("receipt_record", "shipment_record", "product", "location", "source_file"):
        assert verdict.heads[table][0] == 1, table
    assert "lot_edge" not in verdict.heads  # lineage is derived: rebuilt, not chained
    with small_engine.connect() as conn:
        receipts = conn.execute(sa.text("SELECT count(*) FROM receipt_record")).scalar_one()
        sealed = conn.execute(
            sa.text("SELECT rows FROM audit_entry WHERE table_name = 'receipt_record'")
        ).scalar_one()
    assert sealed == receipts == 3
    assert verdict.rows_checked >= 40


def test_direct_update_delete_and_insert_are_named_by_table_and_row(small_engine) -> None:
    receipt = _first_key(small_engine, "receipt_record")
    move = _first_key(small_engine, "move_record")
    with small_engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE receipt_record SET quantity = quantity + 1 WHERE record_hash = :k"),
            {"k": receipt},
        )
        conn.execute(sa.text("DELETE FROM move_record WHERE record_hash = :k"), {"k": move})
        conn.execute(
            sa.text(
                "INSERT INTO location (location_id, kind, business_name, record_hash) "
                "VALUES ('GHOST', 'site', 'Nobody', 'x')"
            )
        )
    verdict = chain.verify(small_engine)
    assert _found(verdict) == {
        ("receipt_record", receipt, CHANGED),
        ("move_record", move, MISSING),
        ("location", "GHOST", UNKNOWN),
    }
    changed = next(p for p in verdict.problems if p.table == "receipt_record")
    assert changed.line_key and changed.line_key.startswith("R")  # the business key, too
    assert "(line R" in changed.line()


def test_a_tampered_chain_entry_or_audit_page_is_named(small_engine) -> None:
    pages = store.table(models.AuditPage)
    with small_engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE audit_entry SET actor = 'someone' WHERE table_name = 'product'")
        )
        # a page rewritten with one row hash forged (the row itself left alone)
        text = conn.execute(
            sa.select(pages.c.rows_json).where(pages.c.table_name == "location")
        ).scalar_one()
        rows = json.loads(text)
        rows[0][1] = "0" * 64
        conn.execute(
            pages.update()
            .where(pages.c.table_name == "location")
            .values(rows_json=json.dumps(rows))
        )
        conn.execute(
            pages.update().where(pages.c.table_name == "move_record").values(rows_json="[[junk")
        )
    found = _found(chain.verify(small_engine))
    assert ("product", "entry 1", "chain entry changed: its hash does not match") in found
    first = rows[0][0]
    assert found >= {
        ("location", "entry 1", "audit rows of the entry changed: digest does not match"),
        ("location", first, CHANGED),  # the row no longer matches what the forged page says
        ("move_record", "entry 1", "audit page 0 unreadable"),
    }


def test_a_cut_chain_entry_is_named(small_engine, tmp_path: Path) -> None:
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "shipments_fix.csv").write_text(SHIPMENT_FIX)
    load_folder(small_engine, tmp_path / "more")
    assert chain.verify(small_engine).ok
    with small_engine.begin() as conn:  # the first entry of shipment_record, rows and all
        conn.execute(
            sa.text("DELETE FROM audit_entry WHERE table_name = 'shipment_record' AND seq = 1")
        )
    found = _found(chain.verify(small_engine))
    assert ("shipment_record", "entry 2", "chain broken: previous hash does not match") in found
    assert ("shipment_record", "entry 1", "audit rows of no chain entry") in found


def test_a_correction_and_a_reload_keep_the_trail_intact(small_engine, small_drop, tmp_path):
    before = _entries(small_engine)
    load_folder(small_engine, small_drop)  # the same files again: nothing written
    assert _entries(small_engine) == before

    (tmp_path / "fix").mkdir()
    (tmp_path / "fix" / "shipments_fix.csv").write_text(SHIPMENT_FIX)
    report = load_folder(small_engine, tmp_path / "fix")
    assert report.files[0].rows_corrected == 1
    verdict = chain.verify(small_engine)
    assert verdict.ok, [p.line() for p in verdict.problems]
    entries = store.read_frame(small_engine, models.AuditEntry)
    shipments = entries.filter(pl.col("table_name") == "shipment_record").sort("seq")
    # the replaced version deleted, the corrected one written; its history row chained
    assert shipments.select("action", "rows").rows() == [("write", 4), ("delete", 1), ("write", 1)]
    assert entries.filter(pl.col("table_name") == "record_history")["rows"].to_list() == [1]
    assert set(shipments["actor"][1:]) == {f"lotline load {report.load_id}"}


def test_an_issued_document_is_chained_from_number_to_file(small_engine, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    number = register.issue_number(small_engine, "expiry", "EXP", now, "Expiry report")
    kept = register.issue_number(small_engine, "expiry", "EXP", now, "Expiry report")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7 not really")
    register.record_file(small_engine, kept, pdf)
    assert register.return_unconfirmed(small_engine, [number, kept]) == 1
    verdict = chain.verify(small_engine)
    assert verdict.ok, [p.line() for p in verdict.problems]
    assert verdict.heads["issued_document"][0] == 4  # issue, issue, file recorded, returned

    with small_engine.begin() as conn:  # swap the issued file's hash for a forgery's
        conn.execute(sa.text("UPDATE issued_document SET pdf_sha256 = 'forged'"))
    assert _found(chain.verify(small_engine)) == {("issued_document", kept, CHANGED)}


def test_a_database_older_than_the_trail_is_adopted_when_its_tables_appear(
    small_engine,
) -> None:
    with small_engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE audit_entry"))
        conn.execute(sa.text("DROP TABLE audit_page"))
    verdict = chain.verify(small_engine)
    assert verdict.missing and not verdict.ok
    store.create_schema(small_engine)
    verdict = chain.verify(small_engine)
    assert verdict.ok and verdict.heads["receipt_record"][0] == 1
    actors = set(store.read_frame(small_engine, models.AuditEntry)["actor"])
    assert actors == {chain.ADOPT_ACTOR}


def test_seal_rows_works_for_any_table_by_its_primary_key(small_engine) -> None:
    """Composite keys (record_history) and the API other writers call."""
    history = store.table(models.RecordHistory)
    row = {
        "record_type": "receipts",
        "line_key": "R9\x1f00614141000012\x1fF1\x1f",
        "version": 1,
        "record_hash": "h",
        "record": "{}",
        "source_file": "receipts.csv",
        "source_row": 2,
        "load_id": "l",
        "change": "voided",
        "changes": "{}",
        "changed_by_file": "x.csv",
        "changed_by_row": 2,
        "changed_by_load": "m",
        "changed_at": datetime(2026, 12, 1, 8, tzinfo=UTC),
    }
    with small_engine.begin() as conn:
        conn.execute(history.insert().values(**row))
        assert chain.seal_rows(conn, "record_history", history.c.load_id == "l", "tester") == 1
    assert chain.verify(small_engine).ok
    key = "receipts\x1fR9\x1f00614141000012\x1fF1\x1f\x1f1"
    with small_engine.begin() as conn:
        conn.execute(sa.text("UPDATE record_history SET reason = 'later'"))
    assert _found(chain.verify(small_engine)) == {("record_history", key, CHANGED)}
    with small_engine.begin() as conn:
        conn.execute(history.delete())
        assert chain.seal_deleted(conn, "record_history", [("receipts", row["line_key"], 1)]) == 1
    assert chain.verify(small_engine).ok


def test_the_vectorised_row_hash_equals_the_reference_text() -> None:
    """The Polars serialisation is the documented canonical text, value for value."""
    rng = random.Random(12)
    floats = [0.1, 1.0, -0.0, 1e-07, 1e16, 1.5e300, 5e-324, 123.456, 1e-05, 0.0001, 2.5e-10]
    floats += [rng.uniform(-1e6, 1e6) for _ in range(200)]
    floats += [rng.random() * 10 ** rng.randint(-30, 30) for _ in range(200)]
    n = len(floats)
    texts = ["", "a|b", "line\nbreak", "é ☃ 𝄞", "x=3:y\n", "\x1f"] * (n // 6 + 1)
    base = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
    rows = [
        {
            "k": f"key{i}",
            "f": floats[i],
            "s": texts[i] if i % 7 else None,
            "i": i * 1_000_003 - 5,
            "b": i % 3 == 0,
            "t": base + timedelta(seconds=i * 3607.5),
            "d": date(2026, 1, 1) + timedelta(days=i),
        }
        for i in range(n)
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "k": pl.String,
            "f": pl.Float64,
            "s": pl.String,
            "i": pl.Int64,
            "b": pl.Boolean,
            "t": pl.Datetime("us", "UTC"),
            "d": pl.Date,
        },
    )
    table = sa.Table("t", sa.MetaData(), sa.Column("k", sa.String, primary_key=True))
    hashed = canonical.row_hashes(frame, table)
    assert hashed["row_key"].to_list() == [r["k"] for r in rows]
    assert hashed["row_hash"].to_list() == [canonical.row_hash(r) for r in rows]
    # an offset is the same instant: the text is UTC
    east = datetime(2026, 3, 29, 3, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert canonical.value_text(east) == "2026-03-29T01:30:15.123456Z"
    assert canonical.row_text({"a": 1.0, "b": None, "c": "x"}) == "a=3:1.0\nc=1:x\n"


def _append_concurrently(url: str, writers: int = 4, each: int = 8) -> None:
    """Writers in threads, each with its own connection, inserting and sealing locations."""
    engine = store.make_engine(url)
    store.create_schema(engine)
    location = store.table(models.Location)

    def write(writer: int) -> None:
        for n in range(each):
            with engine.begin() as conn:
                key = f"LOC-{writer}-{n}"
                conn.execute(
                    location.insert().values(
                        location_id=key, kind="site", business_name=key, record_hash=key
                    )
                )
                chain.seal_rows(conn, "location", location.c.location_id == key, f"w{writer}")

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(write, range(writers)))
    verdict = chain.verify(engine)
    assert verdict.ok, [p.line() for p in verdict.problems]
    assert verdict.heads["location"][0] == writers * each  # one unbroken chain, no fork
    engine.dispose()


def test_concurrent_writers_append_one_unbroken_chain_on_sqlite(sqlite_url: str) -> None:
    _append_concurrently(sqlite_url)


@pytest.mark.postgres
def test_concurrent_writers_append_one_unbroken_chain_on_postgres(postgres_url: str) -> None:
    _append_concurrently(postgres_url)


def _seal_tricky_receipts(url: str) -> chain.Verdict:
    """Receipts with values a driver could change on the way in, inserted as a load does and
    sealed from the frame: verify re-hashes what the database holds."""
    engine = store.make_engine(url)
    store.create_schema(engine)
    quantities = [0.1, -0.0, 1e-07, 1e16, 123456789.123456, 5e-324, 3.0, 1e-05]
    rows = pl.DataFrame(
        {
            "record_hash": [f"h{i}" for i in range(8)],
            "line_key": [f"R{i}\x1f0061\x1fL\x1f" for i in range(8)],
            "version": [1] * 8,
            "source_sha256": ["s"] * 8,
            "source_file": ["é ☃ 𝄞.csv", "a|b", "new\nline", "", "x", "y", "z", "w"],
            "source_row": list(range(2, 10)),
            "load_id": ["tricky"] * 8,
            "gtin": ["00614141000012"] * 8,
            "lot": ["L"] * 8,
            "quantity": quantities,
            "uom": ["KGM"] * 8,
            "receipt_id": [f"R{i}" for i in range(8)],
            "received_at": [datetime(2026, 3, 28, 20, 29, 59, 999999, tzinfo=UTC)] * 8,
            "tz_offset": ["+05:30"] * 8,
            "from_location_id": ["SUP"] * 8,
            "to_location_id": ["WH"] * 8,
            "production_date": [date(2026, 2, 28), None] * 4,
        },
        schema_overrides={"quantity": pl.Float64},
    ).with_columns(pl.col("received_at").dt.convert_time_zone("Asia/Kolkata"))  # not UTC
    with engine.begin() as conn:
        store.lock_loads(conn, "tricky")
        store.insert_frame(conn, models.ReceiptRecord, rows)
        chain.seal_frame(conn, "receipt_record", rows, "tester")
    verdict = chain.verify(engine)
    engine.dispose()
    return verdict


def test_a_frame_sealed_as_inserted_hashes_like_the_stored_row_on_sqlite(sqlite_url: str) -> None:
    verdict = _seal_tricky_receipts(sqlite_url)
    assert verdict.ok, [p.line() for p in verdict.problems]
    assert verdict.rows_checked == 8


@pytest.mark.postgres
def test_a_frame_sealed_as_inserted_hashes_like_the_stored_row_on_postgres(
    postgres_url: str,
) -> None:
    verdict = _seal_tricky_receipts(postgres_url)
    assert verdict.ok, [p.line() for p in verdict.problems]
