"""The central rules, checked against every route of the app's route table (so a route added
later is checked too), and secrets kept out of the database tables and the logs."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount, Route

from lotline.portal import users
from lotline.portal.auth import PUBLIC_PATHS, SAFE_METHODS, SESSION_PATHS

PARAM = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")


def sample_path(template: str) -> str:
    """A concrete path for a route template: each parameter filled with a plausible value."""

    def value(match: re.Match[str]) -> str:
        kind = match.group(2)
        return "1" if kind == "int" else "sample/x" if kind == "path" else "sample"

    return PARAM.sub(value, template)


def endpoints(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, template, concrete path) of every HTTP route of the app, those of included
    routers with their prefix, mounts included."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            found.append(("GET", context.path, sample_path(context.path) + "/x"))
        elif isinstance(route, Route):
            template = context.path_format or context.path
            for method in sorted(context.methods or {"GET"}):
                found.append((method, template, sample_path(template)))
    assert len(found) > 10, found
    return found


def unsafe(app: FastAPI) -> list[tuple[str, str, str]]:
    return [e for e in endpoints(app) if e[0] not in SAFE_METHODS]


def test_route_table_has_write_routes_to_check(portal: FastAPI) -> None:
    writes = {(m, t) for m, t, _ in unsafe(portal)}
    assert {("POST", "/users"), ("POST", "/users/{name}/disable"), ("POST", "/logout")} <= writes


def test_anonymous_requests_get_401_or_the_login_page(portal: FastAPI, new_client) -> None:
    client = new_client(portal)
    for method, template, path in endpoints(portal):
        if template in PUBLIC_PATHS:
            continue
        response = client.request(method, path, follow_redirects=False)
        if path.startswith("/api"):
            assert response.status_code == 401, (method, path, response.status_code)
        else:
            assert response.status_code in (401, 303), (method, path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login?next="), (method, path)


def test_public_paths_are_only_health_and_login(portal: FastAPI, new_client) -> None:
    assert {"/healthz", "/login"} == PUBLIC_PATHS
    client = new_client(portal)
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200


def test_auditor_gets_403_on_every_non_get_route(portal: FastAPI, sign_in) -> None:
    client, csrf = sign_in(portal, "aude")
    checked = 0
    for method, template, path in unsafe(portal):
        if template in SESSION_PATHS:
            continue
        for extra in ({}, {"X-CSRF-Token": csrf}):  # refused with or without a valid token
            response = client.request(method, path, headers=extra, follow_redirects=False)
            assert response.status_code == 403, (method, path, response.status_code)
        checked += 1
    assert checked >= 3


def test_auditor_token_gets_403_on_every_non_get_route(portal: FastAPI, new_client) -> None:
    token = users.new_token(portal.state.engine, "aude", "ada")
    client = new_client(portal)
    for method, template, path in unsafe(portal):
        if template in SESSION_PATHS:
            continue
        response = client.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, follow_redirects=False
        )
        assert response.status_code == 403, (method, path, response.status_code)


@pytest.mark.parametrize("name", ["olga", "ada"])
def test_post_without_csrf_fails_on_every_route(portal: FastAPI, sign_in, name: str) -> None:
    client, _ = sign_in(portal, name)
    other_session_token = sign_in(portal, "ada")[1]
    for method, template, path in unsafe(portal):
        if template == "/login":  # no session yet: its own double-submit token, tested apart
            continue
        for extra, data in (
            ({}, None),
            ({}, {"csrf_token": ""}),
            ({"X-CSRF-Token": other_session_token}, None),
            ({}, {"csrf_token": other_session_token}),
        ):
            response = client.request(
                method, path, headers=extra, data=data, follow_redirects=False
            )
            assert response.status_code == 403, (method, path, extra, data, response.status_code)
            assert "CSRF" in response.text, (method, path)
    assert client.get("/api/access-log").status_code in (200, 403)  # still logged in


def test_a_route_added_later_cannot_escape(portal: FastAPI, sign_in, new_client) -> None:
    """The rules are not a per-route decoration: a new route without any dependency is covered."""

    def change_something() -> dict[str, str]:
        return {"changed": "yes"}

    portal.add_api_route("/api/new-write", change_something, methods=["POST", "DELETE"])
    portal.add_api_route("/new-page-write", change_something, methods=["PUT"])
    portal.router.routes.append(Route("/raw-write", change_something, methods=["PATCH"]))
    anonymous = new_client(portal)
    assert anonymous.post("/api/new-write").status_code == 401
    assert anonymous.put("/new-page-write", follow_redirects=False).status_code == 303
    assert anonymous.patch("/raw-write", follow_redirects=False).status_code == 303
    auditor, csrf = sign_in(portal, "aude")
    for method, path in (
        ("POST", "/api/new-write"),
        ("DELETE", "/api/new-write"),
        ("PUT", "/new-page-write"),
        ("PATCH", "/raw-write"),
    ):
        assert auditor.request(method, path, headers={"X-CSRF-Token": csrf}).status_code == 403
    officer, csrf = sign_in(portal, "olga")
    assert officer.post("/api/new-write").status_code == 403  # no CSRF token
    assert officer.post("/api/new-write", headers={"X-CSRF-Token": csrf}).json() == {
        "changed": "yes"
    }


def test_injection_in_parameters_is_harmless(portal: FastAPI, sign_in) -> None:
    client, _ = sign_in(portal, "ada")
    payload = "<script>alert(1)</script>' OR 1=1 --"
    client.get("/healthz", params={"q": payload})
    rows = client.get("/api/access-log", params={"user": payload})
    assert rows.status_code == 200 and rows.json()["entries"] == []
    page = client.get("/access-log")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert client.get("/api/access-log", params={"before": "1 OR 1=1"}).status_code == 422


def test_secrets_never_reach_the_tables_or_the_logs(
    portal: FastAPI, new_client, login_form, passwords, caplog, capfd
) -> None:
    caplog.set_level(logging.DEBUG)
    engine = portal.state.engine
    token = users.new_token(engine, "olga", "ada")
    typed_as_name = "my-secret-passphrase-typed-into-the-name-field"
    client = new_client(portal)
    login_form(client, typed_as_name, "whatever whatever")
    login_form(client, "olga", "wrong password guess 1")
    assert login_form(client, "olga", passwords["olga"]).status_code == 303
    session_id = client.cookies.get("lotline_session")
    api = new_client(portal)
    api.get("/api/access-log", headers={"Authorization": f"Bearer {token}"})
    api.get(f"/api/access-log?token={token}&password={passwords['ada']}&user=olga")
    api.get("/api/access-log", headers={"Authorization": f"Bearer {token}x"})
    admin = new_client(portal)
    login_form(admin, "ada", passwords["ada"])
    csrf = admin.get("/users").text.split('name="csrf_token" value="')[1].split('"')[0]
    admin.post(
        "/users",
        data={
            "name": "bea",
            "role": "auditor",
            "password": "bea-new-passphrase",
            "csrf_token": csrf,
        },
    )
    admin.post("/api/nothing-here", json={"password": "json-body-passphrase", "token": token})
    secrets = [
        *passwords.values(),
        "wrong password guess 1",
        "bea-new-passphrase",
        "json-body-passphrase",
        typed_as_name,
        token,
        token[8:20],
        session_id,
        csrf,
    ]
    with engine.connect() as conn:
        dump = "\n".join(
            repr(tuple(row))
            for name in sa.inspect(engine).get_table_names()
            if name != "portal_session"  # holds each session's CSRF token, by design
            for row in conn.execute(sa.text(f'SELECT * FROM "{name}"'))
        )
        logged = conn.execute(sa.text("SELECT count(*) FROM access_log")).scalar_one()
    out, err = capfd.readouterr()
    # the server's log records (httpx's are the test client's, which logs the URLs it calls)
    server_log = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    )
    assert logged >= 9
    assert "[redacted]" in dump
    for secret in secrets:
        assert secret not in dump
        assert secret not in server_log
        assert secret not in out and secret not in err
