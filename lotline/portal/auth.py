"""Who is asking and what they may do: sessions, API tokens, roles and CSRF for the portal.

Public API (routers of the portal code against this):

    from lotline.portal.auth import (
        Principal, check_csrf, current_user, require_role, verify_password,
    )

    @router.get("/lots/{gtin}/{lot}")
    def lot_page(request: Request, user: Principal = Depends(current_user)): ...

    @router.post("/api/reports/recall")
    def recall(user: Principal = Depends(require_role("officer", "admin"))): ...

- `Principal(name, role, credential)`: an enabled account; role is auditor | officer | admin;
  credential is "session" or "token:<prefix>".
- `current_user`: dependency -> Principal, from the session cookie `lotline_session` or an
  `Authorization: Bearer <token>` header. Without one, /api answers 401 and pages redirect to
  /login?next=….
- `require_role(*roles)`: dependency factory -> Principal, or 403.
- `check_csrf`: dependency; an unsafe request (POST, PUT, PATCH, DELETE) made with a session must
  carry the session's token in the form field `csrf_token` or the header `X-CSRF-Token`. Calls
  with a Bearer token need none (a browser never adds that header by itself). `create_app`
  applies it to every route; forms get the field from `{{ csrf_field() }}` (`views.render`).
- `verify_password(engine, name, password) -> bool`: the password again before an e-signature.

The rules hold centrally, whatever a router declares: `AuthGate` (ASGI middleware installed by
`create_app`) answers anonymous requests with 401 (/api) or a redirect to /login (pages), except
`PUBLIC_PATHS`, and answers an auditor's unsafe request (anything but GET, HEAD, OPTIONS) with 403
before any route runs — logout (`SESSION_PATHS`) excepted. The security tests enumerate the
app's route table against these rules.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import anyio
from fastapi import HTTPException, Request
from sqlalchemy.engine import Engine
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from lotline.portal import sessions
from lotline.portal.sessions import Session
from lotline.portal.users import Principal, principal_for_token, utc_now, verify_password

__all__ = [
    "PUBLIC_PATHS",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "AuthGate",
    "Principal",
    "check_csrf",
    "current_user",
    "require_role",
    "verify_password",
]

SESSION_COOKIE = "lotline_session"
LOGIN_CSRF_COOKIE = "lotline_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PATHS = frozenset({"/healthz", "/login"})
"""Paths answered without a session or token: the health check and the login form."""
SESSION_PATHS = frozenset({"/login", "/logout"})
"""POST routes an auditor may use: they open and close the auditor's own session and change no
record (logout is a POST so that a link or a prefetch cannot end a session)."""

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def clock_of(app: Any) -> datetime:
    clock = getattr(app.state, "clock", None)
    return clock() if clock is not None else utc_now()


# --- identifying the caller ---------------------------------------------------------------------


def identify(
    engine: Engine, headers: Headers, now: datetime
) -> tuple[Principal | None, Session | None, bool]:
    """(principal, session, bad_credential) from a request's headers.

    A Bearer header is the only credential looked at when present (a wrong token is not rescued
    by a cookie); `bad_credential` says a credential was given and refused."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, None, True
        principal = principal_for_token(engine, token.strip(), now)
        return principal, None, principal is None
    session_id = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
    if not session_id:
        return None, None, False
    session = sessions.find_session(engine, session_id, now)
    if session is None:
        return None, None, True
    return session.principal, session, False


def _state(scope: dict) -> dict:
    return scope.setdefault("state", {})


async def _identified(request: Request) -> tuple[Principal | None, Session | None]:
    """What `AuthGate` found, or (when a router runs without the gate) identify now."""
    state = _state(request.scope)
    if "principal" not in state:
        principal, session, _ = await anyio.to_thread.run_sync(
            identify, request.app.state.engine, request.headers, clock_of(request.app)
        )
        state.update(principal=principal, session=session)
    return state["principal"], state["session"]


# --- dependencies -------------------------------------------------------------------------------


async def current_user(request: Request) -> Principal:
    """The caller; without a valid session or token, 401 for /api and a redirect for pages."""
    principal, _ = await _identified(request)
    if principal is not None:
        return principal
    if is_api(request.url.path):
        raise HTTPException(401, "authentication required", {"WWW-Authenticate": "Bearer"})
    raise HTTPException(303, "login required", {"Location": login_location(request.scope)})


def require_role(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting only these roles (403 for the others)."""

    async def dependency(request: Request) -> Principal:
        principal = await current_user(request)
        if principal.role not in roles:
            raise HTTPException(403, f"this needs the role {' or '.join(roles)}")
        return principal

    return dependency


async def check_csrf(request: Request) -> None:
    """403 unless an unsafe request made with a session carries that session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    _, session = await _identified(request)
    if session is None:  # Bearer token, or a public form that checks its own (login)
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")


def csrf_token_of(request: Request) -> str:
    """The CSRF token for forms on this page ("" without a session)."""
    session = _state(request.scope).get("session")
    return session.csrf_token if session is not None else ""


def login_location(scope: dict) -> str:
    target = scope.get("path", "/")
    query = scope.get("query_string", b"").decode("latin-1")
    if query:
        target += "?" + query
    return "/login?next=" + quote(target, safe="")


def safe_next(target: str | None) -> str:
    """A same-site path to go to after login; anything else (another host, //evil) is /."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# --- the gate -----------------------------------------------------------------------------------


class AuthGate:
    """ASGI middleware: identifies the caller once per request (kept in `request.state`) and
    applies the two central rules before routing, so no route can forget them:

    - no valid credential → 401 for /api (and for any refused Bearer token), a redirect to
      /login for pages; `PUBLIC_PATHS` excepted;
    - an auditor's unsafe request → 403 (except logging in and out, `SESSION_PATHS`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        portal = scope["app"]
        principal, session, bad = await anyio.to_thread.run_sync(
            identify, portal.state.engine, Headers(scope=scope), clock_of(portal)
        )
        _state(scope).update(principal=principal, session=session)
        path, method = scope["path"], scope["method"]
        response: Response | None = None
        if path in PUBLIC_PATHS:
            pass
        elif principal is None:
            if is_api(path) or (bad and Headers(scope=scope).get("authorization")):
                response = JSONResponse(
                    {"detail": "authentication required: a session or a Bearer token"},
                    401,
                    {"WWW-Authenticate": "Bearer"},
                )
            else:
                response = RedirectResponse(login_location(scope), 303)
        elif method not in SAFE_METHODS and not principal.can_write and path not in SESSION_PATHS:
            detail = "auditors can only read: this request would change something"
            response = (
                JSONResponse({"detail": detail}, 403)
                if is_api(path)
                else PlainTextResponse(f"403 Forbidden: {detail}", 403)
            )
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
