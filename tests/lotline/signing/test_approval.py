"""Part 11 approval: a new version that shows the signature, PAdES-signed twice, on a real
expiry report of the small supply chain, and `lotline keys init`.

One draft is rendered and approved once for the module (rendering costs seconds); the tests
read that outcome. Refusals are checked before anything is rendered, so they cost little.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa

from lotline import store
from lotline.audit import chain
from lotline.cli import main
from lotline.portal import users
from lotline.signing import approval, keys, pades
from reports import register
from reports.expiry import render_expiry_report

KEY_PASSWORD = "trial key password 2"
OFFICER, OFFICER_PASSWORD = "olga", "olga-officer-passphrase-2"
PRINTED_NAME = "Olga Okafor"
AUDITOR, AUDITOR_PASSWORD = "aude", "aude-auditor-passphrase-3"


@pytest.fixture(scope="module")
def signing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("keys")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.stdin", io.StringIO(KEY_PASSWORD + "\n"))
        assert main(["keys", "init", "--out", str(root), "--password-stdin"]) == 0
        mp.setenv(keys.KEY_ENV, str(root / keys.KEY_FILE))
        mp.setenv(keys.PASSWORD_ENV, KEY_PASSWORD)
        mp.setenv(keys.TRUST_ROOTS_ENV, str(root / keys.TRUST_ROOT_FILE))
        mp.delenv(keys.TSA_URL_ENV, raising=False)
        yield root


@pytest.fixture(scope="module")
def engine(small_database: str) -> sa.Engine:
    engine = store.make_engine(small_database)
    store.create_schema(engine)
    users.add_user(engine, OFFICER, "officer", OFFICER_PASSWORD, "test", full_name=PRINTED_NAME)
    users.add_user(engine, AUDITOR, "auditor", AUDITOR_PASSWORD, "test")
    return engine


@pytest.fixture(scope="module")
def draft(signing: Path, engine: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    generated = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)
    return render_expiry_report(engine, tmp_path_factory.mktemp("docs"), generated_at=generated)


@pytest.fixture(scope="module")
def draft_sha256(draft: Path) -> str:
    return hashlib.sha256(draft.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def approved(draft: Path, draft_sha256: str, engine: sa.Engine) -> approval.Approved:
    signed_at = datetime.fromisoformat("2026-12-07T10:15:00-05:00")
    return approval.approve(
        engine, number(draft), OFFICER, OFFICER_PASSWORD, "approved", now=signed_at
    )


def number(path: Path) -> str:
    return path.stem.split("_")[-1]


def test_approval_adds_a_second_signature_in_an_incremental_update(
    approved: approval.Approved, signing: Path
):
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    data = approved.path.read_bytes()
    reader = pades.pdf_reader(data)  # pyHanko's reader, object streams indexed once
    embedded = reader.embedded_signatures
    assert [e.field_name for e in embedded] == [pades.ORG_FIELD, "Approval2"]
    roots = pades.load_trust_roots([signing / keys.TRUST_ROOT_FILE])
    statuses = [
        validate_pdf_signature(e, ValidationContext(trust_roots=roots, allow_fetching=False))
        for e in embedded
    ]
    assert all(s.intact and s.valid and s.trusted and s.bottom_line for s in statuses)
    org, officer = statuses
    assert org.coverage == SignatureCoverageLevel.ENTIRE_REVISION  # the approval came after
    assert org.modification_level == ModificationLevel.FORM_FILLING and org.docmdp_ok
    assert officer.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert embedded[1].signed_revision == embedded[0].signed_revision + 1
    assert str(embedded[1].sig_object["/Reason"]) == f"approved by {PRINTED_NAME}"
    # the org-signed revision is the file up to the first signature's byte range
    end = pades.signed_revision_end(data, pades.ORG_FIELD)
    assert end is not None and 0 < end < len(data)


def test_new_version_shows_approved_status_and_filled_signature_block(
    approved: approval.Approved, draft: Path, draft_sha256: str
):
    reader = pypdf.PdfReader(approved.path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "APPROVED" in text and "DRAFT ·" not in text
    assert f"{PRINTED_NAME} ({OFFICER})" in text  # printed name, then the account
    assert "2026-12-07 10:15:00 -05:00" in text
    assert draft_sha256[:16] in text and draft_sha256[-8:] in text
    assert f"supersedes document {number(draft)}" in text
    # same data: every embedded data file is byte-identical to the draft's
    assert approval.data_file_hashes(approved.path) == approval.data_file_hashes(draft)
    assert "DRAFT" in pypdf.PdfReader(draft).pages[0].extract_text()


def test_register_and_signature_rows(
    approved: approval.Approved, draft: Path, draft_sha256: str, engine: sa.Engine
):
    old = register.issued(engine, number(draft))
    new = register.issued(engine, approved.document_number)
    assert old is not None and new is not None
    assert old["pdf_sha256"] == draft_sha256  # the signed version was never altered
    assert hashlib.sha256(draft.read_bytes()).hexdigest() == draft_sha256
    assert (new["version"], new["status"], new["supersedes"]) == (2, "APPROVED", number(draft))
    assert new["pdf_sha256"] == hashlib.sha256(approved.path.read_bytes()).hexdigest()
    assert new["file_path"] == str(approved.path.resolve())
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select * from document_signature")).mappings().all()
    assert len(rows) == 1
    row = rows[0]
    assert (row["document_number"], row["version"], row["issued_as"]) == (
        number(draft),
        1,
        approved.document_number,
    )
    assert (row["user_name"], row["printed_name"], row["meaning"]) == (
        OFFICER,
        PRINTED_NAME,
        "approved",
    )
    assert row["document_sha256"] == draft_sha256 and row["signed_at_offset"] == "-05:00"
    assert [v["document_number"] for v in approval.versions(engine, number(draft))] == [
        number(draft),
        approved.document_number,
    ]
    verdict = chain.verify(engine)
    assert verdict.ok, verdict.problems


def test_both_versions_verify(
    approved: approval.Approved, draft: Path, small_database: str, capsys
):
    for path in (draft, approved.path):
        code = main(["verify", str(path), "--database-url", small_database])
        out = capsys.readouterr().out
        assert code == 0, out
    assert "signature: Approval2 (approved by Olga Okafor)" in out


def test_refusals_name_the_reason_and_never_the_password(
    approved: approval.Approved, draft: Path, engine: sa.Engine
):
    cases = [
        (number(draft), OFFICER, OFFICER_PASSWORD, "approved", "superseded by"),
        (approved.document_number, OFFICER, "not my password", "approved", "password"),
        (approved.document_number, AUDITOR, AUDITOR_PASSWORD, "approved", "only officers"),
        (approved.document_number, OFFICER, OFFICER_PASSWORD, "liked", "meaning"),
        ("EXP-19990101000000-000000", OFFICER, OFFICER_PASSWORD, "approved", "not in the register"),
    ]
    for document, user, password, meaning, reason in cases:
        with pytest.raises(approval.ApprovalRefused, match=reason) as refused:
            approval.approve(engine, document, user, password, meaning)
        assert password not in str(refused.value)
    assert len(approval.versions(engine, number(draft))) == 2  # nothing was rendered


def test_modified_draft_file_cannot_be_signed(
    approved: approval.Approved, engine: sa.Engine, tmp_path: Path
):
    original = approved.path.read_bytes()
    try:
        approved.path.write_bytes(original + b"\n% appended\n")
        with pytest.raises(approval.ApprovalRefused, match="modified"):
            approval.approve(
                engine, approved.document_number, OFFICER, OFFICER_PASSWORD, "reviewed"
            )
    finally:
        approved.path.write_bytes(original)


def test_keys_init_writes_owner_only_files_and_prints_no_secret(tmp_path: Path, capsys):
    assert main(["keys", "init", "--out", str(tmp_path), "--org", "Acme"]) == 0
    out, err = capsys.readouterr()
    password = (tmp_path / keys.PASSWORD_FILE).read_text().strip()
    assert len(password) >= 24 and password not in out + err
    for name in (keys.KEY_FILE, keys.PASSWORD_FILE):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    assert f"export {keys.KEY_ENV}=" in out and f"export {keys.TRUST_ROOTS_ENV}=" in out
    env = {
        keys.KEY_ENV: str(tmp_path / keys.KEY_FILE),
        keys.PASSWORD_FILE_ENV: str(tmp_path / keys.PASSWORD_FILE),
    }
    key = keys.configured_key(env)
    assert key is not None and password not in repr(key)
    assert pades.load_signer(key) is not None
    # never overwritten
    assert main(["keys", "init", "--out", str(tmp_path)]) == 2
    assert "will not overwrite" in capsys.readouterr().err
    # a wrong password: the error names the file, not the password given
    wrong = keys.SigningKey(tmp_path / keys.KEY_FILE, b"wrong-password-xyz")
    with pytest.raises(keys.SigningKeyError) as error:
        pades.load_signer(wrong)
    assert str(tmp_path / keys.KEY_FILE) in str(error.value)
    assert "wrong-password-xyz" not in str(error.value) and password not in str(error.value)


def test_two_approvals_of_one_version_at_once_the_second_is_refused(engine: sa.Engine):
    """Both officers passed every check before either took its number: the register lets one
    new version supersede a document, never two."""
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    signed = register.issue_number(engine, "expiry", "EXP", at, "race")
    revision = approval.Revision(
        supersedes=signed, version=2, status="APPROVED", signatures=(), data_files={}
    )
    with approval.revising(revision):
        register.issue_number(engine, "expiry", "EXP", at, "race, first")
        with pytest.raises(approval.ApprovalRefused, match="at the same time"):
            register.issue_number(engine, "expiry", "EXP", at, "race, second")
    table = store.table("issued_document")
    with engine.connect() as conn:
        later = conn.execute(sa.select(table.c.title).where(table.c.supersedes == signed)).all()
    assert later == [("race, first",)]
