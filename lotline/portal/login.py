"""Logging in and out of the portal, and the unauthenticated health check.

The login form is protected against login CSRF with a double-submit token (a random cookie,
`Path=/login`, echoed in a hidden field): there is no session yet whose token could be used.
The session cookie is Secure, HttpOnly and SameSite=Strict; browsers accept a Secure cookie from
http://127.0.0.1 and http://localhost (secure contexts), so the flag stays on everywhere.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from lotline.portal import sessions, users
from lotline.portal.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, clock_of, safe_next
from lotline.portal.views import render

router = APIRouter()


def _cookie(response: Response, name: str, value: str, max_age: int, path: str = "/") -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=path, secure=True, httponly=True, samesite="strict"
    )


def _login_page(
    request: Request, next_path: str, name: str = "", error: str = "", status_code: int = 200
) -> Response:
    # the browser's token stays the same across renderings: a second tab, or a favicon request
    # answered with this page, must not invalidate the form already shown
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if len(token) != 43:
        token = secrets.token_urlsafe(32)
    response = render(
        request,
        "portal/login.html.j2",
        status_code=status_code,
        login_csrf=token,
        next=next_path,
        name=name,
        error=error,
    )
    _cookie(response, LOGIN_CSRF_COOKIE, token, max_age=3600, path="/login")
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/") -> Response:  # noqa: A002 (query name)
    if request.state.principal is not None:
        return RedirectResponse(safe_next(next), 303)
    return _login_page(request, safe_next(next))


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    engine = request.app.state.engine
    known = users.account_exists(engine, name)
    request.state.logged_parameters = {"name": name if known else "[unknown account]"}
    target = safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf_token.encode(), expected.encode()):
        return _login_page(request, target, name, "The form expired: please log in again.", 403)
    client = request.client.host if request.client else "unknown"
    outcome = users.login(engine, name, password, client, clock_of(request.app))
    if outcome.throttled:
        response = _login_page(
            request,
            target,
            name,
            f"Too many failed logins: try again in {(outcome.retry_after or 0) // 60 + 1} minutes.",
            429,
        )
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if outcome.principal is None:
        return _login_page(request, target, name, "Wrong user name or password.", 401)
    session_id, session = sessions.open_session(engine, outcome.principal, clock_of(request.app))
    request.state.principal = outcome.principal  # the access log names who logged in
    response = RedirectResponse(target, 303)
    _cookie(
        response,
        SESSION_COOKIE,
        session_id,
        max_age=int(sessions.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login", secure=True, httponly=True)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        sessions.close_session(request.app.state.engine, session_id)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.get("/healthz", tags=["health"])
def healthz(request: Request) -> Response:
    """200 when the database answers a trivial query, 503 otherwise. No authentication."""
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return JSONResponse({"status": "database unavailable"}, 503)
    return JSONResponse({"status": "ok"})
