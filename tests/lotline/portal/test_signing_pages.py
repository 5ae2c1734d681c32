"""The portal's signing pages over real HTTP (TestClient): the form, CSRF, password re-entry,
roles, the new version and its download, on an expiry report of the small supply chain."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from lotline.cli import main
from lotline.signing import keys, pades
from reports.expiry import render_expiry_report

KEY_PASSWORD = "trial key password 3"


def configure_keys(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`lotline keys init` into `root`, configured by environment as in production."""
    monkeypatch.setattr("sys.stdin", io.StringIO(KEY_PASSWORD + "\n"))
    assert main(["keys", "init", "--out", str(root), "--password-stdin"]) == 0
    monkeypatch.setenv(keys.KEY_ENV, str(root / keys.KEY_FILE))
    monkeypatch.setenv(keys.PASSWORD_ENV, KEY_PASSWORD)
    monkeypatch.setenv(keys.TRUST_ROOTS_ENV, str(root / keys.TRUST_ROOT_FILE))
    monkeypatch.delenv(keys.TSA_URL_ENV, raising=False)
    return root


def test_officer_signs_in_the_portal(
    small_database: str, portal_on, sign_in, passwords, tmp_path: Path, monkeypatch
) -> None:
    configure_keys(tmp_path / "keys", monkeypatch)
    docs = tmp_path / "docs"
    monkeypatch.setenv("LOTLINE_DOCUMENTS_DIR", str(docs))
    app = portal_on(small_database)
    draft = render_expiry_report(
        app.state.engine, docs, generated_at=datetime(2026, 11, 26, 19, 30, tzinfo=UTC)
    )
    number = draft.stem.split("_")[-1]

    auditor, auditor_csrf = sign_in(app, "aude")
    assert auditor.get(f"/documents/{number}/sign").status_code == 403
    refused = auditor.post(
        f"/documents/{number}/sign",
        data={"password": passwords["aude"], "meaning": "approved", "csrf_token": auditor_csrf},
    )
    assert refused.status_code == 403
    assert auditor.get(f"/documents/{number}/versions").status_code == 200

    officer, csrf = sign_in(app, "olga")
    form = officer.get(f"/documents/{number}/sign")
    assert form.status_code == 200
    assert f'name="csrf_token" value="{csrf}"' in form.text and 'type="password"' in form.text
    no_csrf = officer.post(
        f"/documents/{number}/sign", data={"password": passwords["olga"], "meaning": "approved"}
    )
    assert no_csrf.status_code == 403
    wrong = officer.post(
        f"/documents/{number}/sign",
        data={"password": "not-olgas-password-9", "meaning": "approved", "csrf_token": csrf},
    )
    assert wrong.status_code == 422 and "password does not match" in wrong.text
    assert "not-olgas-password-9" not in wrong.text
    signed = officer.post(
        f"/documents/{number}/sign",
        data={"password": passwords["olga"], "meaning": "approved", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    versions_url = signed.headers["location"]
    new_number = re.fullmatch(r"/documents/(.+)/versions", versions_url).group(1)
    page = officer.get(versions_url)
    assert number in page.text and new_number in page.text and "APPROVED" in page.text
    assert "olga" in page.text and "approved" in page.text
    pdf = officer.get(f"/documents/{new_number}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    checks = pades.check_signatures(
        pdf.content, pades.load_trust_roots([tmp_path / "keys" / keys.TRUST_ROOT_FILE])
    )
    assert [c.field for c in checks] == [pades.ORG_FIELD, "Approval2"]
    assert all(not c.problems for c in checks)
    # the version signed is superseded: signing it again is refused with the reason
    again = officer.post(
        f"/documents/{number}/sign",
        data={"password": passwords["olga"], "meaning": "approved", "csrf_token": csrf},
    )
    assert again.status_code == 422 and "superseded by" in again.text
    # the access log records the signing requests, never the passwords re-entered
    with app.state.engine.connect() as conn:
        logged = str(conn.execute(sa.text("SELECT * FROM access_log")).all())
    assert f"/documents/{number}/sign" in logged
    assert passwords["olga"] not in logged and "not-olgas-password-9" not in logged
