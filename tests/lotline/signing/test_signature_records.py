"""The register's version chain and the e-signature rows on SQLite and PostgreSQL: the signed
version keeps its hash, the new one supersedes it, the signing time keeps its offset, and both
tables join the audit chain (an edit behind lotline's back is named)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from lotline import store
from lotline.audit import chain
from lotline.signing import approval
from reports import register


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> sa.Engine:
    if request.param == "sqlite":
        url = store.sqlite_url(tmp_path / "lotline.sqlite")
    else:
        url = request.getfixturevalue("postgres_url")
    engine = store.make_engine(url)
    store.create_schema(engine)
    return engine


def issue(engine: sa.Engine, path: Path, content: bytes, revision=None) -> str:  # type: ignore[no-untyped-def]
    generated = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)
    path.write_bytes(content)
    if revision is None:
        number = register.issue_number(engine, "expiry", "EXP", generated, "Expiry report")
    else:
        with approval.revising(revision):
            number = register.issue_number(engine, "expiry", "EXP", generated, "Expiry report")
    register.record_file(engine, number, path)
    return number


def test_versions_and_signature_rows(engine: sa.Engine, tmp_path: Path) -> None:
    draft = issue(engine, tmp_path / "v1.pdf", b"%PDF-1.7 draft")
    entry = register.issued(engine, draft)
    assert entry is not None and (entry["version"], entry["status"]) == (1, "DRAFT")
    signed_at = datetime.fromisoformat("2026-12-07T16:15:00+01:00")
    signature = approval.ESignature(
        "approved", "Olga Officer", "olga", signed_at, draft, 1, str(entry["pdf_sha256"])
    )
    revision = approval.Revision(draft, 2, "APPROVED", (signature,), {})
    new = issue(engine, tmp_path / "v2.pdf", b"%PDF-1.7 approved", revision)
    approval._record_signature(engine, signature, new)

    assert [v["document_number"] for v in approval.versions(engine, draft)] == [draft, new]
    assert [v["document_number"] for v in approval.versions(engine, new)] == [draft, new]
    latest = register.issued(engine, new)
    assert latest is not None
    assert (latest["version"], latest["status"], latest["supersedes"]) == (2, "APPROVED", draft)
    assert latest["file_path"] == str((tmp_path / "v2.pdf").resolve())
    (stored,) = approval.signatures_of_chain(engine, new)
    assert stored == signature
    assert stored.signed_local == "2026-12-07 16:15:00 +01:00"
    assert chain.verify(engine).ok

    with engine.begin() as conn:  # behind lotline's back
        conn.execute(sa.text("UPDATE document_signature SET meaning = 'reviewed'"))
    verdict = chain.verify(engine)
    assert not verdict.ok
    assert any(p.table == "document_signature" for p in verdict.problems), verdict.problems
