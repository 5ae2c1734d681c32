"""The portal on the loaded small supply chain, for the page, API and browser tests: the real
app (`create_app`), accounts of each role made with `users.add_user`, a documents folder holding
one issued expiry report, and https test clients logged in through the login form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lotline.portal import users
from lotline.portal.app import create_app

PASSWORDS = {
    "pia-auditor": "pia-auditor-passphrase-1",
    "otto-officer": "otto-officer-passphrase-2",
}
ROLES = {"pia-auditor": "auditor", "otto-officer": "officer"}
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class Portal:
    app: FastAPI
    url: str
    documents: Path
    expiry_number: str | None


def make_portal(url: str, documents: Path, issue: bool = True) -> Portal:
    """The app on `url` with the two accounts and (`issue`) an expiry report issued into
    `documents`."""
    from reports.expiry import render_expiry_report

    with pytest.MonkeyPatch.context() as patch:  # argon2 at its cheapest: tests, not secrets
        patch.setattr(users, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
        app = create_app(url)
        for name, role in ROLES.items():
            if not users.account_exists(app.state.engine, name):
                users.add_user(app.state.engine, name, role, PASSWORDS[name], "test")
    documents.mkdir(parents=True, exist_ok=True)
    app.state.documents_dir = documents
    if not issue:
        return Portal(app, url, documents, None)
    path = render_expiry_report(app.state.engine, documents, as_of=date(2026, 9, 10))
    return Portal(app, url, documents, path.stem.split("_")[-1])


def login(app: FastAPI, name: str) -> TestClient:
    """An https client (the session cookie is Secure) logged in as `name` by the login form."""
    client = TestClient(app, base_url="https://testserver")
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login",
        data={"name": name, "password": PASSWORDS[name], "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def csrf_of(page_html: str) -> str:
    return CSRF.search(page_html).group(1)  # type: ignore[union-attr]
