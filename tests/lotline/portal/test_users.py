"""Accounts and API tokens: argon2 hashes, tokens stored as hashes, changes sealed in the chain."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from lotline import store
from lotline.audit import chain
from lotline.portal import users
from lotline.portal.users import Principal


@pytest.fixture
def engine(sqlite_url: str) -> sa.Engine:
    engine = store.make_engine(sqlite_url)
    store.create_schema(engine)
    return engine


def _dump(engine: sa.Engine, *tables: str) -> str:
    with engine.connect() as conn:
        return "\n".join(
            repr(row) for name in tables for row in conn.execute(sa.select(store.table(name)))
        )


def test_password_is_stored_as_an_argon2id_hash(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, production_hasher
) -> None:
    monkeypatch.setattr(users, "HASHER", production_hasher)  # the real cost, once
    users.add_user(engine, "ada", "admin", "a long passphrase 1", "test")
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM portal_user")).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "a long passphrase 1" not in _dump(engine, "portal_user")
    assert users.authenticate(engine, "ada", "a long passphrase 1") == Principal("ada", "admin")
    assert not users.verify_password(engine, "ada", "a long passphrase 2")


def test_unknown_name_and_wrong_password_are_refused_alike(engine: sa.Engine) -> None:
    users.add_user(engine, "ada", "admin", "a long passphrase 1", "test")
    assert users.verify_password(engine, "ada", "a long passphrase 1")
    assert users.authenticate(engine, "ada", "a long passphrase 2") is None
    assert users.authenticate(engine, "nobody", "a long passphrase 1") is None
    assert users.authenticate(engine, "ADA", "a long passphrase 1") is None


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("ada", "admin", "long enough password", "exists already"),
        ("bob", "root", "long enough password", "role 'root'"),
        ("bob", "auditor", "short", "too short"),
        ("bob", "auditor", "long enough password\n", "white space"),
        ("bad name", "auditor", "long enough password", "user name"),
        ("", "auditor", "long enough password", "user name"),
    ],
)
def test_bad_accounts_are_refused(
    engine: sa.Engine, name: str, role: str, password: str, message: str
) -> None:
    users.add_user(engine, "ada", "admin", "a long passphrase 1", "test")
    with pytest.raises(users.UserError, match=message):
        users.add_user(engine, name, role, password, "test")


def test_token_is_shown_once_and_stored_as_sha256(engine: sa.Engine) -> None:
    users.add_user(engine, "olga", "officer", "a long passphrase 1", "test")
    token = users.new_token(engine, "olga", "ada")
    assert len(token) >= 43  # 32 random bytes, base64url
    assert token not in _dump(engine, "api_token")
    with engine.connect() as conn:
        row = conn.execute(sa.select(store.table("api_token"))).one()
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:8] and row.created_by == "ada"
    assert users.principal_for_token(engine, token) == Principal(
        "olga", "officer", f"token:{token[:8]}"
    )
    assert users.principal_for_token(engine, token + "x") is None
    assert users.principal_for_token(engine, "") is None


def test_token_last_use_is_recorded_at_most_hourly(engine: sa.Engine) -> None:
    users.add_user(engine, "olga", "officer", "a long passphrase 1", "test")
    token = users.new_token(engine, "olga", "ada")
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    for minutes in (0, 30, 61):
        users.principal_for_token(engine, token, start + timedelta(minutes=minutes))
    (listing,) = users.list_users(engine)
    assert listing.tokens[0].last_used_at == start + timedelta(minutes=61)
    with engine.connect() as conn:
        entries = conn.execute(
            sa.text("SELECT count(*) FROM audit_entry WHERE table_name = 'api_token'")
        ).scalar_one()
    assert entries == 3  # created, first use, use after an hour


def test_disabling_refuses_password_tokens_and_sessions(engine: sa.Engine) -> None:
    from lotline.portal import sessions

    users.add_user(engine, "aude", "auditor", "a long passphrase 1", "test")
    token = users.new_token(engine, "aude", "ada")
    now = datetime.now(UTC)
    session_id, _ = sessions.open_session(engine, Principal("aude", "auditor"), now)
    assert sessions.find_session(engine, session_id, now) is not None
    users.disable_user(engine, "aude", "ada")
    assert users.authenticate(engine, "aude", "a long passphrase 1") is None
    assert users.principal_for_token(engine, token) is None
    assert sessions.find_session(engine, session_id, now) is None
    (listing,) = users.list_users(engine)
    assert listing.disabled and listing.changed_by == "ada"
    assert listing.tokens[0].revoked_at is not None
    with pytest.raises(users.UserError, match="no user 'ghost'"):
        users.disable_user(engine, "ghost", "ada")
    with pytest.raises(users.UserError, match="disabled"):
        users.new_token(engine, "aude", "ada")


def test_listing_carries_no_secret(engine: sa.Engine) -> None:
    users.add_user(engine, "ada", "admin", "a long passphrase 1", "test")
    token = users.new_token(engine, "ada", "ada")
    text = repr(users.list_users(engine))
    assert "argon2" not in text and token not in text
    assert hashlib.sha256(token.encode()).hexdigest() not in text
    assert token[:8] in text


def test_account_changes_join_the_audit_chain(engine: sa.Engine) -> None:
    users.add_user(engine, "ada", "admin", "a long passphrase 1", "test")
    users.add_user(engine, "aude", "auditor", "a long passphrase 2", "ada")
    users.new_token(engine, "aude", "ada")
    users.disable_user(engine, "aude", "ada")
    assert chain.verify(engine).ok, chain.verify(engine).problems
    with engine.begin() as conn:  # behind the application's back: make the auditor an admin
        conn.execute(sa.text("UPDATE portal_user SET role = 'admin' WHERE name = 'aude'"))
    verdict = chain.verify(engine)
    assert not verdict.ok
    assert any(p.table == "portal_user" and "aude" in p.row_key for p in verdict.problems)
