"""An officer signs a document in Debian's Chromium against the portal served by uvicorn on
127.0.0.1, downloads the signed version and pyHanko finds both signatures intact. Screenshots
of the form and the versions page go to `test-artifacts/` at the repository root."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from browser_session import chromium, needs_chromium, screenshot, serve
from fastapi import FastAPI

from lotline.signing import keys
from reports.expiry import render_expiry_report

KEY_PASSWORD = "trial key password 4"

pytestmark = needs_chromium


@pytest.fixture
def signed_portal(
    small_database: str, portal_on, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[FastAPI, str, Path]:
    """The portal on the small supply chain with one draft expiry report, signing configured."""
    from lotline.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(KEY_PASSWORD + "\n"))
    assert main(["keys", "init", "--out", str(tmp_path / "keys"), "--password-stdin"]) == 0
    monkeypatch.setenv(keys.KEY_ENV, str(tmp_path / "keys" / keys.KEY_FILE))
    monkeypatch.setenv(keys.PASSWORD_ENV, KEY_PASSWORD)
    monkeypatch.delenv(keys.TSA_URL_ENV, raising=False)
    monkeypatch.setenv("LOTLINE_DOCUMENTS_DIR", str(tmp_path / "docs"))
    app = portal_on(small_database)
    draft = render_expiry_report(
        app.state.engine, tmp_path / "docs", generated_at=datetime(2026, 11, 26, 19, 30, tzinfo=UTC)
    )
    return app, draft.stem.split("_")[-1], tmp_path / "keys" / keys.TRUST_ROOT_FILE


@pytest.fixture
def served(signed_portal: tuple[FastAPI, str, Path]) -> Iterator[str]:
    with serve(signed_portal[0]) as base_url:
        yield base_url


def test_officer_signs_and_downloads_the_signed_version(
    served: str, signed_portal: tuple[FastAPI, str, Path], passwords, tmp_path: Path
) -> None:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from lotline.signing import pades

    _, number, trust_root = signed_portal
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        page.goto(f"{served}/documents/{number}/sign")
        assert "/login" in page.url
        page.fill("#name", "olga")
        page.fill("#password", passwords["olga"])
        page.click("button[type=submit]")
        page.wait_for_url(f"{served}/documents/{number}/sign")
        page.select_option("#meaning", "approved")
        page.fill("#password", passwords["olga"])
        screenshot(page, "portal-sign-form")
        page.click("form[action$='/sign'] button[type=submit]")
        page.wait_for_url(f"{served}/documents/*/versions", timeout=120_000)
        assert "APPROVED" in page.inner_text("table.versions")
        assert "olga" in page.inner_text("table.signatures")
        screenshot(page, "portal-signed-versions")
        with page.expect_download() as download_info:
            page.locator("table.versions tbody tr").last.locator("a.pdf").click()
        saved = tmp_path / "signed.pdf"
        download_info.value.save_as(saved)
    reader = pades.pdf_reader(saved.read_bytes())
    embedded = reader.embedded_signatures
    assert [e.field_name for e in embedded] == [pades.ORG_FIELD, "Approval2"]
    roots = pades.load_trust_roots([trust_root])
    for signature in embedded:
        status = validate_pdf_signature(
            signature, ValidationContext(trust_roots=roots, allow_fetching=False)
        )
        assert status.intact and status.valid and status.trusted and status.bottom_line
