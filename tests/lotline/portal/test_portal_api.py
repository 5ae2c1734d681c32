"""The JSON API through the real app: /api/trace is the CLI's JSON, keyset-paged lists, the lot
and document endpoints, and the recall report an officer (not an auditor) can issue."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from portal_client import Portal, csrf_of, login, make_portal

from lotline import cli
from lotline.portal import queries

COOKIES = "00614141000043"


@pytest.fixture(scope="module")
def portal(small_database: str, tmp_path_factory: pytest.TempPathFactory) -> Portal:
    return make_portal(small_database, tmp_path_factory.mktemp("documents"))


@pytest.fixture(scope="module")
def auditor(portal: Portal) -> TestClient:
    return login(portal.app, "pia-auditor")


@pytest.fixture(scope="module")
def officer(portal: Portal) -> TestClient:
    return login(portal.app, "otto-officer")


def cli_json(capsys: pytest.CaptureFixture[str], url: str, *options: str) -> str:
    capsys.readouterr()
    assert cli.main(["trace", *options, "--format", "json", "--database-url", url]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("params", "options"),
    [
        ({"gtin": COOKIES, "lot": "C1"}, ["--gtin", COOKIES, "--lot", "C1"]),
        (
            {"gtin": "00614141000036", "lot": "D1", "direction": "backward"},
            ["--gtin", "00614141000036", "--lot", "D1", "--direction", "backward"],
        ),
        (
            {"gtin": "00614141000012", "lot": "F1", "direction": "forward"},
            ["--gtin", "00614141000012", "--lot", "F1", "--direction", "forward"],
        ),
        (
            {"gtin": "00614141000050", "serial": "T1-0001"},
            ["--gtin", "00614141000050", "--serial", "T1-0001"],
        ),
        ({"gtin": "614141000043", "lot": "C2"}, ["--gtin", "614141000043", "--lot", "C2"]),
        (
            {"scan": f"https://id.gs1.org/01/{COOKIES}/10/C2"},
            ["--scan", f"https://id.gs1.org/01/{COOKIES}/10/C2"],
        ),
    ],
)
def test_trace_is_exactly_the_cli_json(
    portal: Portal,
    auditor: TestClient,
    capsys: pytest.CaptureFixture[str],
    params: dict,
    options: list[str],
) -> None:
    response = auditor.get("/api/trace", params=params)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    printed = cli_json(capsys, portal.url, *options)
    assert response.text + "\n" == printed
    assert json.loads(response.text)["lots"]


def test_trace_errors_are_400_and_404(auditor: TestClient) -> None:
    assert auditor.get("/api/trace", params={"gtin": COOKIES, "lot": "nope"}).status_code == 404
    assert auditor.get("/api/trace", params={"gtin": COOKIES}).status_code == 400
    bad = auditor.get("/api/trace", params={"gtin": COOKIES, "lot": "C1", "direction": "up"})
    assert bad.status_code == 422
    assert auditor.get("/api/trace", params={"scan": "(01)123"}).status_code == 400
    empty = auditor.get("/api/trace", params={"sscc": "306141410000000020"})  # no packing data
    assert empty.status_code == 404 and "held nothing" in empty.json()["detail"]


def test_api_needs_a_session_or_token(portal: Portal) -> None:
    anonymous = TestClient(portal.app, base_url="https://testserver")
    for path in ("/api/trace?gtin=1&lot=2", "/api/lots", "/api/documents"):
        assert anonymous.get(path).status_code == 401


def test_lots_are_keyset_paged(auditor: TestClient) -> None:
    seen, after = [], None
    while True:
        page = auditor.get("/api/lots", params={"limit": 3, **({"after": after} if after else {})})
        assert page.status_code == 200
        body = page.json()
        seen += [(r["gtin"], r["lot"]) for r in body["items"]]
        after = body["next_cursor"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == 10
    filtered = auditor.get("/api/lots", params={"lot": "D*"}).json()["items"]
    assert sorted(r["lot"] for r in filtered) == ["D1", "D2", "D3", "D4"]
    assert auditor.get("/api/lots", params={"after": "garbage"}).status_code == 400
    assert auditor.get("/api/lots", params={"limit": 100_000}).status_code == 422


def test_lot_detail(auditor: TestClient) -> None:
    body = auditor.get("/api/lots/00614141000036/D1").json()
    assert body["lot"]["lot"] == "D1" and body["backward"]["total"] == 2
    assert {r["lot"] for r in body["backward"]["rows"]} == {"F1", "S1"}
    assert "diagram" not in body
    assert auditor.get(f"/api/lots/{COOKIES}/nope").status_code == 404


def test_shipments_filtered(auditor: TestClient) -> None:
    body = auditor.get("/api/shipments", params={"to_location_id": "CUST-B"}).json()
    assert sorted((r["shipment_id"], r["lot"]) for r in body["items"]) == [
        ("SH2", "C1"),
        ("SH2", "C2"),
        ("SH3", "T1"),
    ]


def test_documents_register(portal: Portal, auditor: TestClient) -> None:
    listing = auditor.get("/api/documents").json()
    assert portal.expiry_number in [d["document_number"] for d in listing]
    one = auditor.get(f"/api/documents/{portal.expiry_number}").json()
    assert one["kind"] == "expiry" and one["download"] == f"/documents/{portal.expiry_number}/pdf"
    assert auditor.get("/api/documents/NOPE").status_code == 404


def test_openapi_documents_the_api(auditor: TestClient) -> None:
    schema = auditor.get("/api/openapi.json").json()
    for path in (
        "/api/trace",
        "/api/lots",
        "/api/shipments",
        "/api/documents",
        "/api/reports/recall",
    ):
        assert path in schema["paths"]
    parameters = {p["name"] for p in schema["paths"]["/api/trace"]["get"]["parameters"]}
    assert {"gtin", "lot", "serial", "sscc", "scan", "direction"} <= parameters


def test_loads_and_a_load(auditor: TestClient) -> None:
    loads = auditor.get("/api/loads").json()
    assert len(loads) == 1 and loads[0]["files"] == 7
    detail = auditor.get(f"/api/loads/{loads[0]['load_id']}").json()
    assert {f["file_name"] for f in detail["files"]} >= {"receipts.csv", "shipments.csv"}
    assert detail["rejected_total"] == len(detail["rejected"])
    assert auditor.get("/api/loads/nope").status_code == 404


def test_an_officer_issues_a_recall_report(portal: Portal, officer: TestClient) -> None:
    token = csrf_of(officer.get("/").text)
    response = officer.post(
        "/api/reports/recall",
        json={"gtin": COOKIES, "lot": "C1", "request_reference": "FDA-1"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    number = response.headers["content-disposition"].split("_")[-1].removesuffix('.pdf"')
    entry = queries.document(portal.app.state.engine, number)
    assert entry["request_reference"] == "FDA-1" and entry["kind"] == "recall"
    assert (portal.documents / entry["file_name"]).read_bytes() == response.content
    missing = officer.post(
        "/api/reports/recall",
        json={"gtin": COOKIES, "lot": "nope"},
        headers={"X-CSRF-Token": token},
    )
    assert missing.status_code == 404


def test_an_auditor_may_not_issue_a_report(portal: Portal, auditor: TestClient) -> None:
    before = len(queries.documents(portal.app.state.engine))
    token = csrf_of(auditor.get("/").text)
    response = auditor.post(
        "/api/reports/recall", json={"gtin": COOKIES, "lot": "C1"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 403
    assert len(queries.documents(portal.app.state.engine)) == before


def test_api_calls_are_logged_with_their_size(portal: Portal, auditor: TestClient) -> None:
    auditor.get("/api/lots", params={"limit": 4})
    with portal.app.state.engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT route, result_rows FROM access_log WHERE route = '/api/lots' "
                "ORDER BY id DESC LIMIT 1"
            )
        ).one()
    assert row.result_rows == 4
