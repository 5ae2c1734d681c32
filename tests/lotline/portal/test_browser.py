"""End to end in a real headless Chromium against the portal served by uvicorn: an auditor logs
in, searches a lot and opens its page with the diagram, exports a table as CSV, downloads an
issued PDF and is refused a write. Screenshots: test-artifacts/portal-*.png.

The officer's part (log in, sign a document, download the signed version) is in
test_signing_browser.py, built on the same helpers (`browser_session`, `portal_client`)."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest
from browser_session import chromium, log_in, needs_chromium, screenshot, serve
from portal_client import PASSWORDS, Portal, make_portal

from lotline.portal import queries

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def portal(small_database: str, tmp_path_factory: pytest.TempPathFactory) -> Portal:
    return make_portal(small_database, tmp_path_factory.mktemp("documents"))


def test_auditor_browses_searches_exports_downloads_and_cannot_write(portal: Portal) -> None:
    with serve(portal.app) as base, chromium() as browser:
        page = browser.new_page(accept_downloads=True, viewport={"width": 1400, "height": 1000})

        # 1. log in as an auditor
        log_in(page, base, "pia-auditor", PASSWORDS["pia-auditor"])
        assert page.locator(".role").inner_text() == "auditor"

        # 2. search a lot and open its page with the diagram
        page.fill("#home-q", "D1")
        page.press("#home-q", "Enter")
        page.wait_for_url("**/search?q=D1")
        page.click("tr.hit-lot a:text-is('D1')")
        page.wait_for_url("**/lots/00614141000036/D1")
        diagram = page.locator("figure.diagram svg")
        diagram.wait_for(state="visible")
        assert diagram.locator("text", has_text="lot D1 · 600 KGM").count() == 1
        assert diagram.locator("text", has_text="lot F1").count() == 1  # backward
        assert diagram.locator("text", has_text="lot C1").count() == 1  # forward
        assert page.locator("table.genealogy-backward tbody tr").count() == 2
        screenshot(page, "portal-lot-page")

        # 3a. export a table to CSV
        page.goto(f"{base}/tables/lot?gtin=00614141000036")
        with page.expect_download() as download_info:
            page.click("text=Download CSV")
        download = download_info.value
        assert download.suggested_filename == "lot.csv"
        rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
        assert sorted(r["lot"] for r in rows) == ["D1", "D2", "D3", "D4"]
        screenshot(page, "portal-table")

        # 3b. download an issued PDF from the register
        page.goto(f"{base}/documents")
        entry = queries.document(portal.app.state.engine, portal.expiry_number)
        with page.expect_download() as download_info:
            page.click(f"a.pdf:text-is('{entry['file_name']}')")
        pdf = Path(download_info.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == entry["pdf_sha256"]
        screenshot(page, "portal-documents")

        # 4. refused a write route: a form posted to the recall report, with the CSRF token
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        status = page.evaluate(
            """async (token) => {
                const r = await fetch('/api/reports/recall', {method: 'POST',
                  headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
                  body: JSON.stringify({gtin: '00614141000036', lot: 'D1'})});
                return r.status; }""",
            token,
        )
        assert status == 403
        with page.expect_navigation():
            page.evaluate(
                """(token) => { const f = document.createElement('form'); f.method = 'post';
                f.action = '/api/reports/recall'; const i = document.createElement('input');
                i.name = 'csrf_token'; i.value = token; f.appendChild(i);
                document.body.appendChild(f); f.submit(); }""",
                token,
            )
        assert "auditors can only read" in page.content()
        screenshot(page, "portal-refused-write")
        assert len(queries.documents(portal.app.state.engine, kind="recall")) == 0
