"""An entry's seal written without a Python object per row: its audit pages byte for byte what
`json.dumps` writes, its digest the same in any chunking, row hashes the reference text's."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

import models
from lotline import store
from lotline.audit import canonical, chain

TRICKY_KEYS = [
    'quote"d',
    "back\\slash",
    "ctl\x01\x1f",
    "new\nline\ttab",
    "é ☃ 𝄞",
    "\u2028sep\x7f",
    "",
]


def _rows(keys: list[str]) -> pl.DataFrame:
    hashes = [
        None if i % 3 == 1 else hashlib.sha256(k.encode()).hexdigest() for i, k in enumerate(keys)
    ]
    return pl.DataFrame(
        {"row_key": keys, "row_hash": hashes}, schema={"row_key": pl.String, "row_hash": pl.String}
    )


def _dumps(rows: pl.DataFrame) -> str:
    return json.dumps(rows.rows(), ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize(
    "keys",
    [
        [hashlib.sha256(str(i).encode()).hexdigest() for i in range(50)],  # a load's record keys
        ["L1\x1e0061", "é ☃ 𝄞", "\u2028sep\x7f", "plain/key", ""],  # nothing to escape
        TRICKY_KEYS,  # escapes: written by json.dumps
        [f"key{i}" for i in range(20)] + ['one "quoted"'],
    ],
)
def test_an_audit_page_is_what_json_dumps_writes(keys: list[str]) -> None:
    rows = _rows(keys)
    assert chain._page_json(rows) == _dumps(rows)
    assert json.loads(chain._page_json(rows)) == [list(r) for r in rows.rows()]


def _reference_digest(rows: pl.DataFrame) -> str:
    text = "".join(
        f"{len(k.encode())}:{k}{h if h is not None else canonical.NO_HASH}\n"
        for k, h in sorted(rows.rows())
    )
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("chunk", [1, 3, 1000])
def test_an_entry_digest_is_the_same_in_any_chunking(chunk: int, monkeypatch) -> None:
    rows = _rows([f"k{i:03d}" for i in range(10, 0, -1)] + TRICKY_KEYS)
    monkeypatch.setattr(canonical, "DIGEST_CHUNK", chunk)
    assert canonical.digest(rows) == _reference_digest(rows)
    assert canonical.digest(rows.clear()) == hashlib.sha256(b"").hexdigest()


def test_seal_of_splits_pages_and_sorts_rows(monkeypatch) -> None:
    monkeypatch.setattr(chain, "PAGE_ROWS", 4)
    rows = _rows([f"k{i:02d}" for i in range(10, 0, -1)])
    sealed = chain.seal_of(rows)
    ordered = rows.sort("row_key")
    assert sealed.rows == 10
    assert sealed.digest == _reference_digest(rows)
    assert sealed.pages == [_dumps(ordered.slice(s, 4)) for s in (0, 4, 8)]


def test_a_column_never_null_and_one_always_null_hash_like_the_reference() -> None:
    frame = pl.DataFrame(
        {
            "k": ["a", "b", "c"],
            "always": [None, None, None],
            "never": ["x", "", "z"],
            "some": [1.5, None, -0.0],
        },
        schema={"k": pl.String, "always": pl.String, "never": pl.String, "some": pl.Float64},
    )
    table = sa.Table("t", sa.MetaData(), sa.Column("k", sa.String, primary_key=True))
    hashed = canonical.row_hashes(frame, table)
    assert hashed["row_hash"].to_list() == [canonical.row_hash(r) for r in frame.to_dicts()]


def test_a_chain_of_many_pages_verifies_and_a_changed_page_is_named(
    tmp_path: Path, monkeypatch
) -> None:
    """Entries split over several pages, sealed from a frame on SQLite, verify; a page whose
    rows were edited does not."""
    monkeypatch.setattr(chain, "PAGE_ROWS", 3)
    engine = store.make_engine(store.sqlite_url(tmp_path / "pages.sqlite"))
    store.create_schema(engine)
    rows = pl.DataFrame(
        {
            "location_id": [f'L"{i}' if i == 4 else f"L{i}" for i in range(8)],
            "kind": ["site"] * 8,
            "business_name": [f"Site {i}" for i in range(8)],
            "record_hash": [f"h{i}" for i in range(8)],
        }
    )
    sealed = chain.frame_seal("location", rows)
    assert sealed is not None and len(sealed.pages) == 3
    with engine.begin() as conn:
        store.insert_frame(conn, models.Location, rows)
        assert chain.seal_frame(conn, "location", rows, "tester", sealed) == 8
    verdict = chain.verify(engine)
    assert verdict.ok, [p.line() for p in verdict.problems]
    assert verdict.rows_checked == 8
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE audit_page SET rows_json = replace(rows_json, '\"L1\"', '\"LX\"') "
                "WHERE table_name = 'location'"
            )
        )
    assert not chain.verify(engine).ok
    engine.dispose()


@pytest.mark.postgres
def test_large_pages_are_lz4_compressed_on_postgres_and_verify(
    postgres_url: str, monkeypatch
) -> None:
    """A large entry's pages go in with lz4 (pglz took longer than hashing them); they read
    back the same, the chain verifies, and the session's setting is what it was."""
    monkeypatch.setattr(chain, "FAST_COMPRESSION_ROWS", 50)
    engine = store.make_engine(postgres_url)
    store.create_schema(engine)
    rows = pl.DataFrame(
        {
            "location_id": [f"LOC-{i:05d}" for i in range(400)],
            "kind": ["site"] * 400,
            "business_name": [f"Site {i}" for i in range(400)],
            "record_hash": [hashlib.sha256(str(i).encode()).hexdigest() for i in range(400)],
        }
    )
    with engine.begin() as conn:
        before = conn.execute(sa.text("SHOW default_toast_compression")).scalar()
        store.insert_frame(conn, models.Location, rows)
        chain.seal_frame(conn, "location", rows, "tester")
        assert conn.execute(sa.text("SHOW default_toast_compression")).scalar() == before
    with engine.connect() as conn:
        method = conn.execute(
            sa.text("SELECT pg_column_compression(rows_json) FROM audit_page")
        ).scalar()
        text = conn.execute(sa.text("SELECT rows_json FROM audit_page")).scalar()
    assert method == "lz4"
    assert text == chain.frame_seal("location", rows).pages[0]
    verdict = chain.verify(engine)
    assert verdict.ok, [p.line() for p in verdict.problems]
    engine.dispose()
