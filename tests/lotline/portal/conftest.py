"""Portal fixtures: an app on a fresh database with a fake clock, accounts of each role, and a
client that logs in through the real login form."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type, profiles
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lotline import store
from lotline.portal import users
from lotline.portal.app import create_app

PASSWORDS = {
    "ada": "ada-admin-passphrase-1",
    "olga": "olga-officer-passphrase-2",
    "aude": "aude-auditor-passphrase-3",
}
ROLES = {"ada": "admin", "olga": "officer", "aude": "auditor"}
BASE_URL = "https://testserver"
"""https: the session cookie is Secure, and the test client, like a browser, keeps it off http."""


PRODUCTION_HASHER = users.HASHER


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its cheapest (argon2-cffi's profile for tests): the production parameters
    cost ~0.4 s per hash on two cores. test_users checks the production hasher itself."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
    assert users.HASHER.type is Type.ID


@dataclass
class FakeClock:
    """The app's clock, moved by the test instead of sleeping."""

    now: datetime = field(default_factory=lambda: datetime(2026, 12, 7, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_portal(url: str, clock: FakeClock) -> FastAPI:
    app = create_app(url, clock=clock)
    for name, role in ROLES.items():
        users.add_user(app.state.engine, name, role, PASSWORDS[name], "test")
    return app


@pytest.fixture(scope="session")
def portal_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the schema and the three accounts, made once: copied for each test (the
    schema of every lotline table takes a second to create)."""
    path = tmp_path_factory.mktemp("portal") / "template.sqlite"
    engine = store.make_engine(store.sqlite_url(path))
    store.create_schema(engine)
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "HASHER", cheap)
        for name, role in ROLES.items():
            users.add_user(engine, name, role, PASSWORDS[name], "test")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def portal(tmp_path: Path, clock: FakeClock, portal_template: Path) -> FastAPI:
    """The portal on a fresh SQLite database with ada (admin), olga (officer), aude (auditor)."""
    path = tmp_path / "portal.sqlite"
    shutil.copyfile(portal_template, path)
    return create_app(store.sqlite_url(path), clock=clock)


def client_of(app: FastAPI, client_address: str = "testclient") -> TestClient:
    return TestClient(app, base_url=BASE_URL, client=(client_address, 50000))


CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def post_login(client: TestClient, name: str, password: str, next_path: str = "/users"):  # type: ignore[no-untyped-def]
    form = client.get("/login")
    token = CSRF.search(form.text).group(1)
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": next_path},
        follow_redirects=False,
    )


def logged_in(app: FastAPI, name: str) -> tuple[TestClient, str]:
    """A client with a session of `name` and that session's CSRF token."""
    client = client_of(app)
    response = post_login(client, name, PASSWORDS[name])
    assert response.status_code == 303, response.text
    return client, session_csrf(app, client)


def session_csrf(app: FastAPI, client: TestClient) -> str:
    """The CSRF token of the client's session, as its pages carry it."""
    import sqlalchemy as sa

    from lotline.portal.sessions import _digest

    session_id = client.cookies.get("lotline_session")
    sessions = store.table("portal_session")
    with app.state.engine.connect() as conn:
        return conn.execute(
            sa.select(sessions.c.csrf_token).where(sessions.c.session_sha256 == _digest(session_id))
        ).scalar_one()


Login = Callable[[FastAPI, str], tuple[TestClient, str]]


@pytest.fixture
def production_hasher() -> PasswordHasher:
    return PRODUCTION_HASHER


@pytest.fixture
def sign_in() -> Login:
    """`sign_in(app, name)` -> (client with a session of name, the session's CSRF token)."""
    return logged_in


@pytest.fixture
def login_form() -> Callable[..., object]:
    """`login_form(client, name, password, next_path)`: the login form filled in and posted."""
    return post_login


@pytest.fixture
def new_client() -> Callable[..., TestClient]:
    """`new_client(app, client_address="testclient")`: an https test client without session."""
    return client_of


@pytest.fixture
def passwords() -> dict[str, str]:
    """The passwords of ada (admin), olga (officer) and aude (auditor) in `portal`."""
    return dict(PASSWORDS)


@pytest.fixture
def portal_on(clock: FakeClock) -> Callable[[str], FastAPI]:
    """`portal_on(url)`: the portal with the three accounts on another database."""
    return lambda url: make_portal(url, clock)
