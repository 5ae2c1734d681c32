"""Logging in: session cookie, login CSRF, Bearer tokens, roles, expiry, throttling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI

from lotline.portal import sessions, users


def test_login_sets_a_secure_httponly_strict_session_cookie(
    portal: FastAPI, new_client, login_form, passwords
) -> None:
    client = new_client(portal)
    response = login_form(client, "aude", passwords["aude"], "/access-log")
    assert response.status_code == 303
    assert response.headers["location"] == "/access-log"
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if "lotline_session=" in c]
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= flags
    assert f"max-age={int(sessions.SESSION_LIFETIME.total_seconds())}" in flags
    page = client.get("/access-log")
    assert page.status_code == 200
    assert '<span class="user-name">aude</span>' in page.text


def test_wrong_password_and_unknown_name_get_the_same_answer(
    portal: FastAPI, new_client, login_form, passwords
) -> None:
    client = new_client(portal)
    wrong = login_form(client, "aude", passwords["ada"])
    unknown = login_form(client, "nobody", passwords["aude"])
    assert wrong.status_code == unknown.status_code == 401
    assert (
        "Wrong user name or password." in wrong.text
        and "Wrong user name or password." in unknown.text
    )
    assert "lotline_session" not in client.cookies


def test_login_form_without_its_csrf_cookie_is_refused(
    portal: FastAPI, new_client, passwords
) -> None:
    """Login CSRF: another site cannot log a victim's browser into the attacker's account."""
    client = new_client(portal)
    response = client.post(
        "/login",
        data={"name": "aude", "password": passwords["aude"], "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "lotline_session" not in client.cookies


def test_next_after_login_stays_on_the_site(
    portal: FastAPI, new_client, login_form, passwords
) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = login_form(new_client(portal), "aude", passwords["aude"], target)
        assert response.headers["location"] == "/"


def test_anonymous_page_redirects_to_login_and_back(portal: FastAPI, new_client, passwords) -> None:
    client = new_client(portal)
    first = client.get("/access-log?user=aude", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=%2Faccess-log%3Fuser%3Daude"
    form = client.get(first.headers["location"])
    assert 'name="next" value="/access-log?user=aude"' in form.text


def test_logout_ends_the_session_on_the_server(portal: FastAPI, sign_in, new_client) -> None:
    client, csrf = sign_in(portal, "aude")
    session_id = client.cookies.get("lotline_session")
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    replay = new_client(portal)
    replay.cookies.set("lotline_session", session_id)
    assert replay.get("/api/access-log").status_code == 401


def test_session_expires(portal: FastAPI, sign_in, clock) -> None:
    client, _ = sign_in(portal, "aude")
    assert client.get("/api/access-log").status_code == 200
    clock.advance(sessions.SESSION_LIFETIME - timedelta(seconds=1))
    assert client.get("/api/access-log").status_code == 200
    clock.advance(timedelta(seconds=1))
    assert client.get("/api/access-log").status_code == 401
    assert client.get("/access-log", follow_redirects=False).status_code == 303


def test_bearer_token_authenticates_api_calls(portal: FastAPI, new_client) -> None:
    token = users.new_token(portal.state.engine, "aude", "ada")
    client = new_client(portal)
    assert client.get("/api/access-log").status_code == 401
    ok = client.get("/api/access-log", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    for bad in (f"Bearer {token[:-1]}", f"Basic {token}", "Bearer", token):
        refused = client.get("/api/access-log", headers={"Authorization": bad})
        assert refused.status_code == 401, bad
        assert refused.headers["www-authenticate"] == "Bearer"
    # a refused token is not rescued by a page redirect either
    assert client.get("/users", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_bearer_calls_need_no_csrf_but_auditor_tokens_cannot_write(
    portal: FastAPI, new_client
) -> None:
    engine = portal.state.engine
    admin = users.new_token(engine, "ada", "ada")
    auditor = users.new_token(engine, "aude", "ada")
    client = new_client(portal)
    form = {"name": "bea", "role": "auditor", "password": "bea-passphrase-123"}
    refused = client.post("/users", data=form, headers={"Authorization": f"Bearer {auditor}"})
    assert refused.status_code == 403
    done = client.post(
        "/users", data=form, headers={"Authorization": f"Bearer {admin}"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert [u.name for u in users.list_users(engine)] == ["ada", "aude", "bea", "olga"]


@pytest.mark.parametrize(
    ("name", "path", "status"),
    [
        ("aude", "/users", 403),
        ("olga", "/users", 403),
        ("ada", "/users", 200),
        ("olga", "/access-log", 403),
        ("olga", "/api/access-log", 403),
        ("aude", "/access-log", 200),
        ("ada", "/api/access-log", 200),
    ],
)
def test_roles(portal: FastAPI, sign_in, name: str, path: str, status: int) -> None:
    client, _ = sign_in(portal, name)
    assert client.get(path).status_code == status


def test_admin_manages_users_in_the_portal(
    portal: FastAPI, sign_in, login_form, new_client
) -> None:
    client, csrf = sign_in(portal, "ada")
    page = client.get("/users")
    assert f'name="csrf_token" value="{csrf}"' in page.text
    added = client.post(
        "/users",
        data={
            "name": "bea",
            "role": "officer",
            "password": "bea-passphrase-123",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    short = client.post(
        "/users", data={"name": "cy", "role": "officer", "password": "short", "csrf_token": csrf}
    )
    assert short.status_code == 400 and "too short" in short.text
    token_page = client.post("/users/bea/token", data={"csrf_token": csrf})
    assert token_page.status_code == 200
    shown = token_page.text.split('<code class="new-token">')[1].split("</code>")[0]
    assert users.principal_for_token(portal.state.engine, shown).name == "bea"
    assert shown not in client.get("/users").text  # shown once
    assert client.post("/users/bea/disable", data={"csrf_token": csrf}).status_code == 200
    assert login_form(new_client(portal), "bea", "bea-passphrase-123").status_code == 401
    own = client.post("/users/ada/disable", data={"csrf_token": csrf})
    assert own.status_code == 400


def test_healthz_answers_without_login(portal: FastAPI, new_client) -> None:
    response = new_client(portal).get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_failed_logins_are_throttled_per_account(
    portal: FastAPI, new_client, login_form, passwords, clock
) -> None:
    client = new_client(portal)
    for _ in range(users.THROTTLE_FAILURES):
        assert login_form(client, "aude", "wrong password 123").status_code == 401
        clock.advance(timedelta(seconds=10))
    # the right password does not help now, nor does another client address
    blocked = login_form(new_client(portal, "192.0.2.7"), "aude", passwords["aude"])
    assert blocked.status_code == 429
    retry = int(blocked.headers["retry-after"])
    assert retry == 15 * 60 - 50  # the oldest failure leaves the window then
    assert "lotline_session" not in blocked.headers.get("set-cookie", "")
    # other accounts from another address are not affected
    assert login_form(new_client(portal, "192.0.2.8"), "olga", passwords["olga"]).status_code == 303
    clock.advance(timedelta(seconds=retry - 1))
    assert login_form(client, "aude", passwords["aude"]).status_code == 429
    clock.advance(timedelta(seconds=1))
    assert login_form(client, "aude", passwords["aude"]).status_code == 303


def test_failed_logins_are_throttled_per_client_address(
    portal: FastAPI, new_client, login_form, passwords, clock
) -> None:
    """Guessing across many names from one address is throttled too."""
    client = new_client(portal, "198.51.100.9")
    for name in ("n1", "n2", "n3", "n4", "n5"):
        assert login_form(client, name, "guess guess guess").status_code == 401
    assert login_form(client, "ada", passwords["ada"]).status_code == 429
    assert (
        login_form(new_client(portal, "198.51.100.10"), "ada", passwords["ada"]).status_code == 303
    )
    clock.advance(users.THROTTLE_WINDOW)
    assert login_form(client, "ada", passwords["ada"]).status_code == 303


def test_a_successful_login_resets_the_account_count(
    portal: FastAPI, new_client, login_form, passwords
) -> None:
    for _ in range(2):
        for _ in range(users.THROTTLE_FAILURES - 1):
            login_form(new_client(portal, "203.0.113.1"), "aude", "wrong password 123")
        assert login_form(new_client(portal), "aude", passwords["aude"]).status_code == 303
