"""Server-side browser sessions: the cookie holds 256 random bits, the table their SHA-256.

Sessions are security state, not records: they expire and logout deletes them, so they stay out
of the audit hash chain (the access log records every login and logout).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lotline import store
from lotline.portal.users import Principal

SESSION_LIFETIME = timedelta(hours=8)
"""A session ends this long after login, used or not (a working day)."""


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf_token: str
    expires_at: datetime


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(
    engine: Engine, principal: Principal, now: datetime, lifetime: timedelta = SESSION_LIFETIME
) -> tuple[str, Session]:
    """A new session of `principal`: (the id for the cookie, the session). Expired sessions of
    everyone are dropped on the way."""
    session_id = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    sessions = store.table("portal_session")
    with engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.expires_at <= now))
        conn.execute(
            sessions.insert().values(
                session_sha256=_digest(session_id),
                user_name=principal.name,
                created_at=now,
                expires_at=now + lifetime,
                csrf_token=csrf_token,
            )
        )
    return session_id, Session(principal, csrf_token, now + lifetime)


def find_session(engine: Engine, session_id: str, now: datetime) -> Session | None:
    """The live session of an enabled account with this id, else None."""
    sessions, users = store.table("portal_session"), store.table("portal_user")
    query = (
        sa.select(users.c.name, users.c.role, sessions.c.csrf_token, sessions.c.expires_at)
        .select_from(sessions.join(users, users.c.name == sessions.c.user_name))
        .where(sessions.c.session_sha256 == _digest(session_id), users.c.disabled.is_(False))
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    expires = row.expires_at
    expires = expires.replace(tzinfo=UTC) if expires.tzinfo is None else expires
    if expires <= now:
        return None
    return Session(Principal(row.name, row.role, "session"), row.csrf_token, expires)


def close_session(engine: Engine, session_id: str) -> None:
    sessions = store.table("portal_session")
    with engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.session_sha256 == _digest(session_id)))
