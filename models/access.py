"""Who may use the portal and what they did there: accounts, API tokens, sessions, login attempts
and the append-only access log.

No secret is stored in a form that can be used again: passwords as argon2 hashes, API tokens and
session ids as SHA-256 hashes (a token is 256 random bits, so a fast hash is enough and lets a
request find its token by primary key). The access log is only ever inserted into; its rows and
the account and token rows join the audit hash chain (`lotline.audit.chain`), so an edit made
behind the application's back shows in `lotline audit verify`.
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models._columns import utc_timestamp

ROLES = ("auditor", "officer", "admin")
"""auditor reads; officer also issues and signs reports; admin also manages users."""


class PortalUser(SQLModel, table=True):
    """One account. Never deleted: a disabled account keeps its name, so the access log and the
    signatures keep pointing at one person."""

    __tablename__ = "portal_user"
    name: str = Field(primary_key=True)
    role: str = Field(description="auditor | officer | admin")
    full_name: str | None = Field(
        default=None, description="the printed name an e-signature shows (21 CFR 11.50)"
    )
    password_hash: str = Field(description="argon2id, PHC string")
    disabled: bool = False
    created_at: datetime = utc_timestamp()
    created_by: str
    changed_at: datetime = utc_timestamp()
    changed_by: str


class ApiToken(SQLModel, table=True):
    """A bearer token of one user for other systems. Only its SHA-256 is kept; the prefix (the
    first characters of the token, too short to guess the rest from) tells tokens apart in
    `lotline users list`."""

    __tablename__ = "api_token"
    token_sha256: str = Field(primary_key=True)
    prefix: str
    user_name: str = Field(index=True)
    created_at: datetime = utc_timestamp()
    created_by: str
    last_used_at: datetime | None = utc_timestamp(default=None)
    revoked_at: datetime | None = utc_timestamp(default=None)


class PortalSession(SQLModel, table=True):
    """A browser session, server side: the cookie carries a random id, the table its SHA-256, so
    a copy of the database opens no session. Logout deletes the row."""

    __tablename__ = "portal_session"
    session_sha256: str = Field(primary_key=True)
    user_name: str = Field(index=True)
    created_at: datetime = utc_timestamp()
    expires_at: datetime = utc_timestamp(index=True)
    csrf_token: str = Field(description="random, sent back in every form of this session")


class LoginAttempt(SQLModel, table=True):
    """One password check at /login, kept for throttling (failures per name and per client
    address in a sliding window)."""

    __tablename__ = "login_attempt"
    id: int | None = Field(default=None, primary_key=True)
    user_name: str = Field(index=True)
    client: str = Field(index=True)
    at: datetime = utc_timestamp(index=True)
    succeeded: bool


class AccessLogEntry(SQLModel, table=True):
    """One HTTP request to the portal, denied ones included. Append-only: the application never
    updates or deletes a row, and each row joins the audit hash chain."""

    __tablename__ = "access_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_timestamp(index=True)
    user_name: str | None = Field(default=None, index=True, description="None: anonymous")
    credential: str | None = Field(
        default=None, description="session | token:<prefix>; never the secret itself"
    )
    method: str
    route: str | None = Field(default=None, description="route template, e.g. /lots/{gtin}/{lot}")
    path: str
    parameters: str = Field(default="{}", description="JSON; secrets replaced by [redacted]")
    status: int
    result_bytes: int = 0
    result_rows: int | None = None
    client: str | None = None
