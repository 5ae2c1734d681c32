"""The portal's pages through the real app and a logged-in session: search, the lot page, tables
with keyset paging and CSV export, loads, the document register and its downloads, and what
injection in search and filters does (nothing)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from portal_client import Portal, login, make_portal

from lotline import store
from lotline.intake.ingest import load_folder
from lotline.portal import queries

COOKIES = "00614141000043"


@pytest.fixture(scope="module")
def portal(small_database: str, tmp_path_factory: pytest.TempPathFactory) -> Portal:
    return make_portal(small_database, tmp_path_factory.mktemp("documents"))


@pytest.fixture(scope="module")
def auditor(portal: Portal) -> TestClient:
    return login(portal.app, "pia-auditor")


def lot_count(portal: Portal) -> int:
    with portal.app.state.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM lot")).scalar_one()


def test_pages_need_a_login(portal: Portal) -> None:
    anonymous = TestClient(portal.app, base_url="https://testserver")
    for path in ("/", "/search?q=C1", f"/lots/{COOKIES}/C1", "/tables/lot", "/tables/lot.csv"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    pdf = anonymous.get(f"/documents/{portal.expiry_number}/pdf", follow_redirects=False)
    assert pdf.status_code == 303


def test_home_has_the_search_box_loads_and_counts(auditor: TestClient) -> None:
    page = auditor.get("/")
    assert page.status_code == 200
    assert 'action="/search"' in page.text and "Recent loads" in page.text
    assert re.search(r'href="/tables/lot">lot</a></td><td class="num">10<', page.text)


def test_search_page_links_to_the_lot(auditor: TestClient) -> None:
    page = auditor.get("/search", params={"q": f"https://id.gs1.org/01/{COOKIES}/10/C1"})
    assert page.status_code == 200
    assert f'href="/lots/{COOKIES}/C1"' in page.text


def test_lot_page_shows_both_directions_and_the_diagram(auditor: TestClient) -> None:
    page = auditor.get("/lots/00614141000036/D1")
    assert page.status_code == 200
    html = page.text
    assert "Backward: what it was made from (2 lots)" in html
    assert "Forward: what was made from it" in html
    assert html.count("<svg") == 1 and "lot D1 · 600 KGM" in html
    assert 'href="/lots/00614141000012/F1"' in html and 'href="/lots/00614141000043/C1"' in html
    assert "66.7 %" in html  # F1's exposure in D1: 400 of 600 kg
    assert "Mass balance" in html and "Status history" in html and "Completeness" in html


def test_a_large_forward_scope_is_summed_not_listed(
    auditor: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "DISTRIBUTION_LOTS", 1)  # as for a hub lot
    html = auditor.get("/lots/00614141000036/D1").text
    assert "Shipped: 80 CS, 1 EA." in html and "The forward scope holds 3 lots" in html
    assert "Shipments / consignees" not in html


def test_lot_page_of_an_unknown_lot_is_404(auditor: TestClient) -> None:
    assert auditor.get(f"/lots/{COOKIES}/nope").status_code == 404


def test_lot_page_lists_documents_issued_for_the_lot(portal: Portal, auditor: TestClient) -> None:
    from reports.recall import render_recall_report

    path = render_recall_report(portal.app.state.engine, COOKIES, "C2", portal.documents)
    number = path.stem.split("_")[-1]
    page = auditor.get(f"/lots/{COOKIES}/C2").text
    assert f'href="/documents/{number}/pdf"' in page
    assert number not in auditor.get(f"/lots/{COOKIES}/C1").text
    download = auditor.get(f"/documents/{number}/pdf")
    assert download.status_code == 200 and download.content == path.read_bytes()


# --- tables -------------------------------------------------------------------------------------


def next_link(html: str) -> str | None:
    match = re.search(r'<a href="([^"]+)" rel="next">', html)
    return unescape(match.group(1)) if match else None


def test_table_pages_follow_the_keyset_to_every_row(portal: Portal, auditor: TestClient) -> None:
    url: str | None = "/tables/lot_closure?sort=-exposure&limit=3"
    pairs: list[tuple[str, str]] = []
    while url:
        page = auditor.get(url)
        assert page.status_code == 200
        body = page.text.split("<tbody>")[1].split("</tbody>")[0]
        rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>", body)
        assert 0 < len(rows) <= 3
        pairs += rows
        url = next_link(page.text)
    with portal.app.state.engine.connect() as conn:
        everything = conn.execute(sa.text("SELECT ancestor_key, descendant_key FROM lot_closure"))
        expected = {(str(a), str(d)) for a, d in everything}
    assert len(pairs) == len(set(pairs)) == len(expected) and set(pairs) == expected


def test_table_filter_sort_and_csv_link(auditor: TestClient) -> None:
    page = auditor.get("/tables/lot", params={"gtin": "00614141000036", "sort": "-lot"})
    assert page.status_code == 200
    lots = re.findall(r"<td>(D\d)</td>", page.text)
    assert lots == ["D4", "D3", "D2", "D1"]
    assert 'href="/tables/lot.csv?gtin=00614141000036&amp;sort=-lot"' in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/tables/no_such_table",
        "/tables/portal_user",
        "/tables/lot?no_such_column=1",
        "/tables/lot?sort=no_such_column",
        "/tables/lot?sort=lot%3B%20DROP%20TABLE%20lot",
        "/tables/lot?lot_key=abc",
        "/tables/lot?after=garbage",
        "/tables/lot?limit=0",
        "/tables/lot?limit=x",
        "/tables/lot.csv?no_such_column=1",
        "/tables/portal_session.csv",
    ],
)
def test_unknown_tables_columns_and_cursors_are_400(
    portal: Portal, auditor: TestClient, path: str
) -> None:
    assert auditor.get(path).status_code == 400
    assert lot_count(portal) == 10


@pytest.mark.parametrize(
    "value",
    ["' OR 1=1 --", '"; DROP TABLE lot; --', "<script>alert(1)</script>", "x' UNION SELECT"],
)
def test_injection_in_filters_and_search_is_harmless(
    portal: Portal, auditor: TestClient, value: str
) -> None:
    for response in (
        auditor.get("/tables/lot", params={"lot": value}),
        auditor.get("/tables/lot", params={"lot": value + "*", "sort": "-lot"}),
        auditor.get("/search", params={"q": value}),
        auditor.get("/tables/lot.csv", params={"lot": value}),
    ):
        assert response.status_code == 200, response.text[:300]
        assert "<script>alert(1)" not in response.text
    page = auditor.get("/search", params={"q": value}).text
    assert "0 results" in page
    if "<" in value:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert lot_count(portal) == 10


def test_csv_export_downloads_the_filtered_table(auditor: TestClient) -> None:
    response = auditor.get("/tables/lot.csv", params={"gtin": COOKIES})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="lot.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(r["lot"] for r in rows) == ["C1", "C2"]


def test_loads_and_a_load_page(auditor: TestClient) -> None:
    loads = auditor.get("/loads")
    assert loads.status_code == 200
    load_id = re.search(r'href="/loads/([^"]+)"', loads.text).group(1)  # type: ignore[union-attr]
    page = auditor.get(f"/loads/{load_id}")
    assert page.status_code == 200 and "receipts.csv" in page.text and "Rejected rows" in page.text
    assert auditor.get("/loads/no-such-load").status_code == 404


# --- documents ----------------------------------------------------------------------------------


def test_document_register_and_download(portal: Portal, auditor: TestClient) -> None:
    register = auditor.get("/documents")
    assert register.status_code == 200 and portal.expiry_number in register.text
    found = auditor.get("/search", params={"q": portal.expiry_number}).text
    assert f'href="/documents/{portal.expiry_number}/pdf"' in found
    pdf = auditor.get(f"/documents/{portal.expiry_number}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    entry = queries.document(portal.app.state.engine, portal.expiry_number)
    assert hashlib.sha256(pdf.content).hexdigest() == entry["pdf_sha256"]
    assert auditor.get("/documents/NO-SUCH/pdf").status_code == 404


def forged_entry(portal: Portal, number: str, file_name: str, data: bytes) -> None:
    """A register row pointing at `file_name` with the SHA-256 of `data` (what a tampered
    register or a hostile lot-derived name could hold)."""
    table = store.table("issued_document")
    with portal.app.state.engine.begin() as conn:
        conn.execute(
            table.insert().values(
                document_number=number,
                kind="recall",
                title="forged",
                generated_at=sa.func.current_timestamp(),
                file_name=file_name,
                pdf_sha256=hashlib.sha256(data).hexdigest(),
                pdf_bytes=len(data),
            )
        )


def test_document_download_cannot_leave_its_folder(portal: Portal, auditor: TestClient) -> None:
    secret = portal.documents.parent / "outside.pdf"
    data = b"%PDF-1.7 not for download"
    secret.write_bytes(data)
    (portal.documents / "link.pdf").symlink_to(secret)
    for i, name in enumerate(["../outside.pdf", str(secret), "link.pdf", "a/../../outside.pdf"]):
        forged_entry(portal, f"FORGED-{i}", name, data)
        response = auditor.get(f"/documents/FORGED-{i}/pdf")
        assert response.status_code == 404 and data not in response.content
    for path in ("/documents/..%2F..%2Fetc%2Fpasswd/pdf", "/documents/../../etc/passwd/pdf"):
        assert auditor.get(path).status_code == 404


def test_a_changed_file_is_not_served(portal: Portal, auditor: TestClient) -> None:
    entry = queries.document(portal.app.state.engine, portal.expiry_number)
    original = portal.documents / entry["file_name"]
    copy = portal.documents.parent / "keep.pdf"
    shutil.copy(original, copy)
    try:
        original.write_bytes(original.read_bytes() + b"\n% appended")
        response = auditor.get(f"/documents/{portal.expiry_number}/pdf")
        assert response.status_code == 404 and "not the issued document" in response.text
    finally:
        shutil.copy(copy, original)
    assert auditor.get(f"/documents/{portal.expiry_number}/pdf").status_code == 200


def test_list_pages_tell_the_access_log_their_size(portal: Portal, auditor: TestClient) -> None:
    auditor.get("/tables/lot", params={"gtin": COOKIES})
    log = store.table("access_log")
    with portal.app.state.engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(log).where(log.c.route == "/tables/{name}").order_by(log.c.id.desc())
            )
            .mappings()
            .first()
        )
    assert row is not None and row["result_rows"] == 2


# --- a lot whose code and names are markup -----------------------------------------------------


def test_markup_in_lot_codes_and_names_is_escaped_everywhere(
    small_drop: Path, tmp_path: Path
) -> None:
    hostile = "<script>x</script>"  # 18 characters: GS1 allows 20 for a lot code
    quoted = '"' + hostile.replace('"', '""') + '"'
    receipts = small_drop / "receipts.csv"
    receipts.write_text(
        receipts.read_text()
        + f"R9,2026-09-03T08:00:00-05:00,SUP-MILL,SITE-1,00614141000012,{quoted},,10,KGM,"
        "2026-08-25,2027-02-21,0614141000012,po,PO-9\n"
    )
    locations = small_drop / "locations.csv"
    locations.write_text(
        locations.read_text().replace("Prairie Mill Co", "Prairie <img src=x onerror=alert(1)>")
    )
    url = store.sqlite_url(tmp_path / "hostile.sqlite")
    load_folder(store.make_engine(url), small_drop)
    portal = make_portal(url, tmp_path / "documents", issue=False)
    client = login(portal.app, "pia-auditor")
    search = client.get("/search", params={"q": "<script>"})
    assert search.status_code == 200
    link = re.search(r'href="(/lots/00614141000012/[^"]+)"', search.text).group(1)  # type: ignore[union-attr]
    page = client.get(unescape(link))
    assert page.status_code == 200
    assert "<script>" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text
    svg = page.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "&lt;script&gt;" in svg and "<img" not in svg
    assert re.search(r"<[^>]*\son\w+\s*=", svg) is None  # no event handler attribute
    table = client.get("/tables/location", params={"location_id": "SUP-MILL"})
    assert "<img src=x" not in table.text and "&lt;img src=x onerror=alert(1)&gt;" in table.text
