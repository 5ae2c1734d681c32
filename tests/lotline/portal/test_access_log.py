"""The access log: one row per request, refused ones too, secrets redacted, sealed in the chain;
on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lotline.audit import chain
from lotline.portal import access_log, users


def entries(app: FastAPI) -> list[dict]:
    return list(reversed(access_log.read_entries(app.state.engine, limit=1000)))


def test_every_request_is_logged_with_who_route_parameters_and_size(
    portal: FastAPI, sign_in, new_client, clock
) -> None:
    anonymous = new_client(portal, "192.0.2.44")
    anonymous.get("/access-log?user=x", follow_redirects=False)
    client, csrf = sign_in(portal, "aude")
    before = len(entries(portal))
    page = client.get("/access-log", params={"user": "aude"})
    denied = client.post("/users/olga/disable", data={"csrf_token": csrf})
    missing = client.get("/api/no-such-thing")
    rows = entries(portal)
    assert len(rows) == before + 3
    first = rows[0]
    assert first["user_name"] is None and first["status"] == 303
    assert first["route"] == "/access-log" and first["parameters"] == {"user": "x"}
    assert first["client"] == "192.0.2.44"
    viewed, refused, unknown = rows[-3:]
    assert viewed["user_name"] == "aude" and viewed["credential"] == "session"
    assert (viewed["method"], viewed["route"], viewed["status"]) == ("GET", "/access-log", 200)
    assert viewed["result_bytes"] == len(page.content)
    assert viewed["result_rows"] == 1  # aude's login was the one entry of hers on the page
    assert viewed["at"] == clock.now
    assert (refused["route"], refused["path"], refused["status"]) == (
        "/users/{name}/disable",
        "/users/olga/disable",
        403,
    )
    assert refused["parameters"] == {}  # refused before its body was read
    assert denied.status_code == 403 and refused["result_bytes"] == len(denied.content)
    assert (unknown["route"], unknown["status"]) == (None, missing.status_code)


def test_login_records_the_account_not_what_was_typed(
    portal: FastAPI, new_client, login_form, passwords
) -> None:
    login_form(new_client(portal), "olga", passwords["olga"])
    login_form(new_client(portal), "not-an-account-maybe-a-password", "whatever whatever")
    posts = [e for e in entries(portal) if e["method"] == "POST" and e["path"] == "/login"]
    assert [(e["user_name"], e["parameters"], e["status"]) for e in posts] == [
        ("olga", {"name": "olga"}, 303),
        (None, {"name": "[unknown account]"}, 401),
    ]


def test_token_calls_are_logged_by_token_prefix(portal: FastAPI, new_client) -> None:
    token = users.new_token(portal.state.engine, "ada", "ada")
    client = new_client(portal)
    answer = client.get("/api/access-log?limit=2", headers={"Authorization": f"Bearer {token}"})
    last = entries(portal)[-1]
    assert last["credential"] == f"token:{token[:8]}" and last["user_name"] == "ada"
    assert last["parameters"] == {"limit": "2"}
    assert last["result_rows"] == len(answer.json()["entries"])


def test_redaction_of_secret_parameters() -> None:
    scope = {"query_string": b"q=lot&token=abc&Password=x&api_key=k&q=lot2", "state": {}}
    body = b'{"gtin": "04012345001044", "csrf_token": "t", "session": "s"}'
    assert access_log.request_parameters(scope, "application/json", body, True) == {
        "q": ["lot", "lot2"],
        "token": "[redacted]",
        "Password": "[redacted]",
        "api_key": "[redacted]",
        "gtin": "04012345001044",
        "csrf_token": "[redacted]",
        "session": "[redacted]",
    }
    assert access_log.request_parameters(
        scope | {"query_string": b""}, "text/plain", b"x", True
    ) == {"(body)": "text/plain"}


def test_keyset_pages_through_the_log(portal: FastAPI, sign_in) -> None:
    client, _ = sign_in(portal, "ada")
    for _ in range(5):
        client.get("/healthz")
    seen: list[int] = []
    before = None
    while True:
        page = client.get(
            "/api/access-log", params={"limit": 3} | ({"before": before} if before else {})
        )
        body = page.json()
        seen += [e["id"] for e in body["entries"]]
        before = body["next_before"]
        if before is None:
            break
    assert (
        seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 7
    )  # login form, login, 5 x healthz
    assert all(isinstance(e["at"], str) and e["at"].endswith("+00:00") for e in body["entries"])


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_log_and_accounts_are_chained_on_both_databases(
    backend: str, request: pytest.FixtureRequest, portal_on, sign_in
) -> None:
    app = portal_on(request.getfixturevalue(f"{backend}_url"))
    client, csrf = sign_in(app, "ada")
    client.get("/access-log?q=x&password=p")
    client.post("/users/olga/disable", data={"csrf_token": csrf}, follow_redirects=False)
    engine = app.state.engine
    assert not users.authenticate(engine, "olga", "olga-officer-passphrase-2")
    logged = access_log.read_entries(engine)
    assert logged[0]["path"] == "/users/olga/disable" and logged[0]["status"] == 303
    assert logged[1]["parameters"] == {"q": "x", "password": "[redacted]"}
    verdict = chain.verify(engine)
    assert verdict.ok, verdict.problems
    with engine.begin() as conn:  # someone hides a request from the log
        conn.execute(
            sa.text("UPDATE access_log SET parameters = :p WHERE id = :id"),
            {"p": json.dumps({"q": "y"}), "id": logged[1]["id"]},
        )
        conn.execute(sa.text("DELETE FROM access_log WHERE id = :id"), {"id": logged[2]["id"]})
    problems = chain.verify(engine).problems
    assert {p.table for p in problems} == {"access_log"}
    named = " ".join(p.line() for p in problems)
    assert str(logged[1]["id"]) in named and str(logged[2]["id"]) in named
    engine.dispose()


def test_a_response_that_cannot_be_logged_is_not_delivered(portal: FastAPI, sign_in) -> None:
    client, _ = sign_in(portal, "ada")
    assert client.get("/api/access-log").status_code == 200
    with portal.state.engine.begin() as conn:  # the log is gone (or its disk full, or locked)
        conn.execute(sa.text("ALTER TABLE access_log RENAME TO access_log_hidden"))
    strict = TestClient(portal, base_url="https://testserver", raise_server_exceptions=False)
    strict.cookies = client.cookies
    response = strict.get("/api/access-log")
    assert response.status_code == 500
    assert "entries" not in response.text
