"""The portal's own pages: user management (admins) and the access log (auditors and admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from lotline.portal import users
from lotline.portal.access_log import read_entries
from lotline.portal.auth import Principal, clock_of, require_role
from lotline.portal.views import render
from models.access import ROLES

router = APIRouter()
Admin = Annotated[Principal, Depends(require_role("admin"))]
LogReader = Annotated[Principal, Depends(require_role("auditor", "admin"))]
PAGE_ROWS = 100


def _users_page(request: Request, **context: Any) -> Response:
    context.setdefault("error", "")
    context.setdefault("notice", "")
    context.setdefault("new_token", None)
    status = context.pop("status_code", 200)
    return render(
        request,
        "portal/users.html.j2",
        status_code=status,
        users=users.list_users(request.app.state.engine),
        roles=ROLES,
        min_password=users.MIN_PASSWORD_LENGTH,
        **context,
    )


@router.get("/users", include_in_schema=False)
def users_page(request: Request, admin: Admin) -> Response:
    return _users_page(request)


@router.post("/users", include_in_schema=False)
def add_user(
    request: Request,
    admin: Admin,
    name: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form()],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    try:
        users.add_user(
            request.app.state.engine, name, role, password, admin.name, clock_of(request.app)
        )
    except users.UserError as exc:
        return _users_page(request, error=str(exc), status_code=400)
    return RedirectResponse("/users", 303)


@router.post("/users/{name}/disable", include_in_schema=False)
def disable_user(request: Request, admin: Admin, name: str) -> Response:
    if name == admin.name:
        return _users_page(request, error="You cannot disable your own account.", status_code=400)
    try:
        users.disable_user(request.app.state.engine, name, admin.name, clock_of(request.app))
    except users.UserError as exc:
        return _users_page(request, error=str(exc), status_code=404)
    return RedirectResponse("/users", 303)


@router.post("/users/{name}/token", include_in_schema=False)
def new_token(request: Request, admin: Admin, name: str) -> Response:
    """A new API token for `name`, shown on this page once."""
    try:
        token = users.new_token(request.app.state.engine, name, admin.name, clock_of(request.app))
    except users.UserError as exc:
        return _users_page(request, error=str(exc), status_code=400)
    return _users_page(request, new_token={"user": name, "token": token})


@router.get("/access-log", include_in_schema=False)
def access_log_page(
    request: Request,
    reader: LogReader,
    before: Annotated[int | None, Query(ge=1)] = None,
    user: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    entries = read_entries(request.app.state.engine, before, PAGE_ROWS, user or None)
    request.state.result_rows = len(entries)
    older = entries[-1]["id"] if len(entries) == PAGE_ROWS else None
    return render(
        request, "portal/access_log.html.j2", entries=entries, older=older, filter_user=user or ""
    )


@router.get("/api/access-log", tags=["access log"])
def access_log_api(
    request: Request,
    reader: LogReader,
    before: Annotated[int | None, Query(ge=1, description="entries with a smaller id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = PAGE_ROWS,
    user: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """The access log, newest first, keyset-paginated: pass `next_before` as `before`."""
    entries = read_entries(request.app.state.engine, before, limit, user or None)
    request.state.result_rows = len(entries)
    for entry in entries:
        entry["at"] = entry["at"].isoformat()
    return {
        "entries": entries,
        "next_before": entries[-1]["id"] if len(entries) == limit else None,
    }
