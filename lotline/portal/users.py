"""Portal accounts and API tokens: add, disable, list, authenticate, throttle failed logins.

Plain functions over an engine, so the CLI, the web application and the tests share them.
Passwords are hashed with argon2id (argon2-cffi's defaults, memory-hard); API tokens are 256 random
bits shown once and stored as SHA-256 (a token cannot be guessed, so a slow hash buys nothing and
the hash finds the token by primary key). Every change to an account or a token is sealed into
the audit hash chain in the same transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine

from lotline import store
from lotline.audit import chain
from models.access import ROLES

MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX_LENGTH = 8
"""Characters of a token kept in clear to tell tokens apart: 48 of its 256 bits."""
TOKEN_USE_RESOLUTION = timedelta(hours=1)
"""`last_used_at` of a token is written at most this often (each write joins the hash chain)."""
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_FAILURES = 5
"""This many failed logins for one account, or from one client address, within the window
refuse further attempts (HTTP 429) until the oldest of them leaves the window."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")

HASHER = PasswordHasher()
"""argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes). The
parameters are stored in each hash, so raising them later still verifies older hashes."""
_dummy_hashes: dict[int, str] = {}


def _dummy_hash() -> str:
    """Verified against when the name is unknown, so a wrong name costs as long as a wrong
    password (made once per hasher, on first use)."""
    key = id(HASHER)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = HASHER.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[key]


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Principal:
    """Who is asking: an enabled account, by session cookie or API token.

    `credential` is "session" or "token:<prefix>" (for the access log; never the secret)."""

    name: str
    role: str
    credential: str = "session"

    @property
    def can_write(self) -> bool:
        return self.role != "auditor"


class UserError(ValueError):
    """A refused account change: unknown or duplicate name, bad role, weak password."""


@dataclass(frozen=True)
class TokenListing:
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class UserListing:
    """An account as `users list` shows it: no password hash, token prefixes only."""

    name: str
    role: str
    disabled: bool
    created_at: datetime
    created_by: str
    changed_at: datetime
    changed_by: str
    tokens: tuple[TokenListing, ...]


@dataclass(frozen=True)
class LoginOutcome:
    """The answer to a login: a principal, or refused, or throttled for `retry_after` seconds."""

    principal: Principal | None = None
    retry_after: int | None = None

    @property
    def throttled(self) -> bool:
        return self.retry_after is not None


# --- accounts -----------------------------------------------------------------------------------


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UserError(
            f"user name {name!r}: 1-64 letters, digits or . _ @ -, starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    if password != password.strip():
        raise UserError("password starts or ends with white space (a stray newline?)")
    return password


def add_user(
    engine: Engine,
    name: str,
    role: str,
    password: str,
    actor: str,
    now: datetime | None = None,
    full_name: str | None = None,
) -> None:
    """`full_name` is the printed name the person's e-signatures show (else the account name)."""
    check_name(name)
    if role not in ROLES:
        raise UserError(f"role {role!r}: one of {', '.join(ROLES)}")
    check_password(password)
    now = now or utc_now()
    users = store.table("portal_user")
    with engine.begin() as conn:
        if conn.execute(sa.select(users.c.name).where(users.c.name == name)).first():
            raise UserError(f"user {name!r} exists already")
        conn.execute(
            users.insert().values(
                name=name,
                role=role,
                full_name=(full_name or "").strip() or None,
                password_hash=HASHER.hash(password),
                disabled=False,
                created_at=now,
                created_by=actor,
                changed_at=now,
                changed_by=actor,
            )
        )
        _seal(conn, "portal_user", users.c.name == name, actor)


def disable_user(engine: Engine, name: str, actor: str, now: datetime | None = None) -> None:
    """Refuse the account from now on: its tokens are revoked and its sessions closed."""
    now = now or utc_now()
    users, tokens = store.table("portal_user"), store.table("api_token")
    with engine.begin() as conn:
        _existing(conn, name)
        conn.execute(
            users.update()
            .where(users.c.name == name)
            .values(disabled=True, changed_at=now, changed_by=actor)
        )
        _seal(conn, "portal_user", users.c.name == name, actor)
        live = sa.and_(tokens.c.user_name == name, tokens.c.revoked_at.is_(None))
        keys = [
            row.token_sha256 for row in conn.execute(sa.select(tokens.c.token_sha256).where(live))
        ]
        if keys:
            conn.execute(
                tokens.update().where(tokens.c.token_sha256.in_(keys)).values(revoked_at=now)
            )
            _seal(conn, "api_token", tokens.c.token_sha256.in_(keys), actor)
        sessions = store.table("portal_session")
        conn.execute(sessions.delete().where(sessions.c.user_name == name))


def set_password(
    engine: Engine, name: str, password: str, actor: str, now: datetime | None = None
) -> None:
    """Replace the password of `name` (forgotten, or suspected known): its sessions end, its
    API tokens stay."""
    check_password(password)
    now = now or utc_now()
    users = store.table("portal_user")
    with engine.begin() as conn:
        _existing(conn, name)
        conn.execute(
            users.update()
            .where(users.c.name == name)
            .values(password_hash=HASHER.hash(password), changed_at=now, changed_by=actor)
        )
        _seal(conn, "portal_user", users.c.name == name, actor)
        sessions = store.table("portal_session")
        conn.execute(sessions.delete().where(sessions.c.user_name == name))


def new_token(engine: Engine, name: str, actor: str, now: datetime | None = None) -> str:
    """A new API token of `name`, returned once: only its hash is kept."""
    now = now or utc_now()
    token = secrets.token_urlsafe(32)
    tokens = store.table("api_token")
    with engine.begin() as conn:
        if _existing(conn, name).disabled:
            raise UserError(f"user {name!r} is disabled")
        digest = token_digest(token)
        conn.execute(
            tokens.insert().values(
                token_sha256=digest,
                prefix=token[:TOKEN_PREFIX_LENGTH],
                user_name=name,
                created_at=now,
                created_by=actor,
            )
        )
        _seal(conn, "api_token", tokens.c.token_sha256 == digest, actor)
    return token


def list_users(engine: Engine) -> list[UserListing]:
    users, tokens = store.table("portal_user"), store.table("api_token")
    with engine.connect() as conn:
        by_user: dict[str, list[TokenListing]] = {}
        for row in conn.execute(sa.select(tokens).order_by(tokens.c.created_at)):
            by_user.setdefault(row.user_name, []).append(
                TokenListing(
                    row.prefix,
                    as_utc(row.created_at),
                    as_utc(row.last_used_at),
                    as_utc(row.revoked_at),
                )
            )
        return [
            UserListing(
                name=row.name,
                role=row.role,
                disabled=bool(row.disabled),
                created_at=as_utc(row.created_at),
                created_by=row.created_by,
                changed_at=as_utc(row.changed_at),
                changed_by=row.changed_by,
                tokens=tuple(by_user.get(row.name, ())),
            )
            for row in conn.execute(sa.select(users).order_by(users.c.name))
        ]


def _existing(conn: Connection, name: str) -> sa.Row:
    users = store.table("portal_user")
    row = conn.execute(sa.select(users).where(users.c.name == name)).first()
    if row is None:
        raise UserError(f"no user {name!r}")
    return row


# --- credentials --------------------------------------------------------------------------------


def authenticate(engine: Engine, name: str, password: str) -> Principal | None:
    """The principal of an enabled account whose password matches; None otherwise (same cost
    whether the name exists or not)."""
    users = store.table("portal_user")
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.name == name)).first()
    stored = row.password_hash if row is not None else _dummy_hash()
    try:
        HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    return Principal(row.name, row.role)


def verify_password(engine: Engine, name: str, password: str) -> bool:
    """True when `password` is the current password of the enabled account `name` (re-entry
    before an e-signature, 21 CFR 11.200)."""
    return authenticate(engine, name, password) is not None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def principal_for_token(
    engine: Engine, token: str, now: datetime | None = None
) -> Principal | None:
    """The principal of a live API token of an enabled account, else None."""
    now = now or utc_now()
    users, tokens = store.table("portal_user"), store.table("api_token")
    digest = token_digest(token)
    query = (
        sa.select(users.c.name, users.c.role, tokens.c.prefix, tokens.c.last_used_at)
        .select_from(tokens.join(users, users.c.name == tokens.c.user_name))
        .where(
            tokens.c.token_sha256 == digest,
            tokens.c.revoked_at.is_(None),
            users.c.disabled.is_(False),
        )
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    if row.last_used_at is None or now - as_utc(row.last_used_at) >= TOKEN_USE_RESOLUTION:
        with engine.begin() as conn:
            conn.execute(
                tokens.update().where(tokens.c.token_sha256 == digest).values(last_used_at=now)
            )
            _seal(conn, "api_token", tokens.c.token_sha256 == digest, row.name)
    return Principal(row.name, row.role, f"token:{row.prefix}")


# --- login with throttling ----------------------------------------------------------------------


def login(engine: Engine, name: str, password: str, client: str, now: datetime) -> LoginOutcome:
    """Check a password at the login form, unless too many attempts failed lately.

    Failures count per account (since its last successful login) and per client address; a
    throttled attempt checks nothing and is not counted, so the lock lifts on time."""
    wait = throttle_wait(engine, name, client, now)
    if wait is not None:
        return LoginOutcome(retry_after=wait)
    principal = authenticate(engine, name, password)
    attempts = store.table("login_attempt")
    with engine.begin() as conn:
        # attempts older than the window count for nothing (the access log keeps every login)
        conn.execute(attempts.delete().where(attempts.c.at < now - THROTTLE_WINDOW))
        conn.execute(
            attempts.insert().values(
                user_name=_attempt_name(conn, name),
                client=client,
                at=now,
                succeeded=principal is not None,
            )
        )
    return LoginOutcome(principal=principal)


def throttle_wait(engine: Engine, name: str, client: str, now: datetime) -> int | None:
    """Seconds until another attempt is allowed, or None when it is allowed now."""
    attempts = store.table("login_attempt")
    since = now - THROTTLE_WINDOW
    with engine.connect() as conn:
        account = _attempt_name(conn, name)
        last_success = conn.execute(
            sa.select(sa.func.max(attempts.c.at)).where(
                attempts.c.user_name == account, attempts.c.succeeded.is_(True)
            )
        ).scalar()
        account_since = max(since, as_utc(last_success)) if last_success is not None else since
        waits = []
        for where in (
            sa.and_(attempts.c.user_name == account, attempts.c.at > account_since),
            sa.and_(attempts.c.client == client, attempts.c.at > since),
        ):
            failures = conn.execute(
                sa.select(attempts.c.at)
                .where(where, attempts.c.succeeded.is_(False))
                .order_by(attempts.c.at.desc())
                .limit(THROTTLE_FAILURES)
            ).scalars()
            times = [as_utc(at) for at in failures]
            if len(times) >= THROTTLE_FAILURES:
                waits.append(times[-1] + THROTTLE_WINDOW - now)
    if not waits:
        return None
    return max(1, int(max(waits).total_seconds() + 0.999))


def _attempt_name(conn: Connection, name: str) -> str:
    """The name an attempt is counted under: the account's, or a hash when there is no such
    account (a password typed into the name field must not be stored)."""
    users = store.table("portal_user")
    if conn.execute(sa.select(users.c.name).where(users.c.name == name)).first():
        return name
    return "?" + hashlib.sha256(name.encode()).hexdigest()[:16]


def account_exists(engine: Engine, name: str) -> bool:
    users = store.table("portal_user")
    with engine.connect() as conn:
        return conn.execute(sa.select(users.c.name).where(users.c.name == name)).first() is not None


# --- helpers ------------------------------------------------------------------------------------


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _seal(conn: Connection, table: str, where: sa.ColumnElement, actor: str) -> None:
    """Append the rows just written to the audit hash chain, in the writer's transaction."""
    chain.seal_rows(conn, table, where=where, actor=actor)
