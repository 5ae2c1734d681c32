"""Server-rendered portal pages from the reports' Jinja2 environment.

    from lotline.portal.views import render
    return render(request, "portal/lot.html.j2", lot=lot, title="Lot " + lot.code)

Every page template extends `portal/base.html.j2` (blocks `title`, `content`) and gets, besides
its own context: `request`, `user` (the Principal, or None on the login page), `csrf_token`,
`csrf_field()` (the hidden input every `<form method="post">` must contain), `nav` (the menu for
this user's role, the current entry marked) and the reports' filters (qty, utc, offset_time …).
Templates are autoescaped and undefined names are errors, as in the reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from lotline.portal.auth import CSRF_FIELD, csrf_token_of
from reports.render import environment


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: tuple[str, ...] = ("auditor", "officer", "admin")


NAV = (
    NavItem("Search", "/search"),
    NavItem("Tables", "/tables"),
    NavItem("Loads", "/loads"),
    NavItem("Documents", "/documents"),
    NavItem("Access log", "/access-log", ("auditor", "admin")),
    NavItem("Users", "/users", ("admin",)),
)
"""The portal menu; each page lives under its entry's path (a lot page under /lots is found
through Search)."""


@cache
def portal_environment() -> jinja2.Environment:
    """The reports' environment (filters, autoescape, strict undefined), portal templates under
    `reports/templates/portal/`."""
    return environment()


def render(
    request: Request, template: str, status_code: int = 200, **context: object
) -> HTMLResponse:
    """The page `template` for this request, with the user, the CSRF field and the menu."""
    state = request.scope.get("state", {})
    user = state.get("principal")
    token = csrf_token_of(request)
    path = request.url.path
    nav = [
        {
            "label": item.label,
            "href": item.href,
            "active": path == item.href or path.startswith(item.href + "/"),
        }
        for item in NAV
        if user is not None and user.role in item.roles
    ]
    html = (
        portal_environment()
        .get_template(template)
        .render(
            request=request,
            user=user,
            csrf_token=token,
            csrf_field=lambda: csrf_field(token),
            nav=nav,
            **context,
        )
    )
    return HTMLResponse(html, status_code, headers=SECURITY_HEADERS)


def csrf_field(token: str) -> Markup:
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""Pages carry lineage data: not cached, not framed, no script but the portal's own."""
