"""The portal web application: `create_app(database_url)` wires routers, the auth gate, CSRF
and the access log around one database engine.

Request path, outermost first: `AccessLogMiddleware` (records whatever happens below) →
`AuthGate` (who is asking; 401/redirect for anonymous, 403 for an auditor's unsafe request) →
the route, whose dependencies always include `check_csrf`.

The OpenAPI schema and its Swagger page (`/api/openapi.json`, `/api/docs`) need a login like the
rest of the API: the issue lets only /healthz answer anonymously, and the route list tells an
outsider which lineage questions the portal answers. (The Swagger page loads its script from the
jsdelivr CDN, so offline it shows blank; the JSON schema works everywhere.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

import lotline
from lotline import store
from lotline.portal import admin, api, login, pages, signing
from lotline.portal.access_log import AccessLogMiddleware
from lotline.portal.auth import AuthGate, check_csrf, is_api
from lotline.portal.users import utc_now
from lotline.portal.views import render


def create_app(
    database_url: str | None = None, *, clock: Callable[[], datetime] | None = None
) -> FastAPI:
    """The portal on `database_url` (default: `LOTLINE_DATABASE_URL`, then ./lotline.sqlite).

    Missing tables (the portal's own on an older database) are created. `clock` replaces the
    wall clock for sessions, throttling and the access log (tests)."""
    engine = store.make_engine(database_url)
    store.create_schema(engine)
    app = FastAPI(
        title="lotline portal",
        summary="Read-only lineage, traces and documents; every request is logged.",
        version=getattr(lotline, "__version__", "0"),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(check_csrf)],
    )
    app.state.engine = engine
    app.state.clock = clock or utc_now
    app.include_router(login.router)
    app.include_router(admin.router)
    app.include_router(pages.router)
    app.include_router(api.router, prefix="/api")
    app.include_router(signing.router)
    app.add_exception_handler(HTTPException, _error_page)
    app.add_api_route("/api/openapi.json", _openapi, methods=["GET"], include_in_schema=False)
    app.add_api_route("/api/docs", _docs, methods=["GET"], include_in_schema=False)
    app.add_middleware(AuthGate)
    app.add_middleware(AccessLogMiddleware)  # added last: outermost
    return app


async def _error_page(request: Request, exc: Exception) -> Response:
    """A refused or failed page as a page (the API keeps FastAPI's JSON `detail`)."""
    assert isinstance(exc, HTTPException)
    if is_api(request.url.path) or exc.status_code < 400:
        return await http_exception_handler(request, exc)
    response = render(
        request,
        "portal/error.html.j2",
        status_code=exc.status_code,
        status=exc.status_code,
        detail=str(exc.detail),
    )
    response.headers.update(exc.headers or {})
    return response


def _openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


def _docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/api/openapi.json", title="lotline portal API")
