"""The access log: every request to the portal — page, API call, search, export, download,
refused or failed ones too — as one row of the append-only `access_log` table.

`AccessLogMiddleware` is the outermost middleware of the app, so it sees what the caller got:
the status (401/403 from the gate, 500 from a crash) and the bytes sent. It records who (the
principal the gate found), when (UTC), method, route template, path, parameters (query string
and a form or JSON body, secrets redacted) and the result size (bytes, and
`request.state.result_rows` when the route sets it). A route may replace the body parameters it
wants recorded with `request.state.logged_parameters = {...}` (the login form does, so a password
typed into the name field is never stored). A request refused before routing (401, an auditor's
403) is recorded with its query parameters only: its body is never read. One INSERT and one chain
seal per request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import anyio
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts
from sqlalchemy.engine import Engine
from starlette.datastructures import Headers
from starlette.routing import Match

from lotline import store
from lotline.audit import chain
from lotline.portal.auth import clock_of
from lotline.portal.users import as_utc

REDACTED = "[redacted]"
SECRET_NAME = re.compile(
    r"pass|token|secret|csrf|authori[sz]ation|api[_-]?key|private|session", re.I
)
"""Parameter names whose values are never stored."""
BODY_LIMIT = 65_536
"""Bodies up to this size are read for their parameters; larger ones are recorded as such."""


def redact(parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        name: REDACTED if SECRET_NAME.search(name) else value for name, value in parameters.items()
    }


def _pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Query or form pairs as a dict; a repeated name keeps all its values as a list."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[name] = value
    return out


def body_parameters(content_type: str, body: bytes, complete: bool) -> dict[str, Any]:
    if not body:
        return {}
    if not complete:
        return {"(body)": f"more than {BODY_LIMIT} bytes"}
    if content_type.startswith("application/x-www-form-urlencoded"):
        return _pairs(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if content_type.startswith("application/json"):
        try:
            value = json.loads(body)
        except ValueError:
            return {"(body)": "not JSON"}
        return value if isinstance(value, dict) else {"(body)": type(value).__name__}
    return {"(body)": content_type.split(";")[0] or "unknown"}


def request_parameters(scope: dict, content_type: str, body: bytes, complete: bool) -> dict:
    query = scope.get("query_string", b"").decode("latin-1")
    parameters = _pairs(parse_qsl(query, keep_blank_values=True))
    override = scope.get("state", {}).get("logged_parameters")
    parameters.update(
        override if override is not None else body_parameters(content_type, body, complete)
    )
    return redact(parameters)


def route_template(scope: dict) -> str | None:
    """The path template of the route this request matches (also for one refused before
    routing), with the prefix of an included router; a method mismatch still names it."""
    app = scope.get("app")
    partial = None
    for context in iter_route_contexts(getattr(getattr(app, "router", None), "routes", [])):
        match, _ = context.matches(scope)
        if match == Match.FULL:
            return context.path_format or context.path
        if match == Match.PARTIAL and partial is None:
            partial = context.path_format or context.path
    return partial


def write_entry(engine: Engine, entry: dict[str, Any]) -> int:
    """Append one request to the access log and seal it into the audit chain."""
    log_table = store.table("access_log")
    with engine.begin() as conn:
        key = conn.execute(log_table.insert().values(**entry)).inserted_primary_key[0]
        chain.seal_rows(
            conn, "access_log", where=log_table.c.id == key, actor=entry["user_name"] or "anonymous"
        )
    return int(key)


def read_entries(
    engine: Engine, before: int | None = None, limit: int = 100, user: str | None = None
) -> list[dict[str, Any]]:
    """Newest first, `limit` rows with id < `before` (keyset pagination), optionally one user's."""
    log_table = store.table("access_log")
    query = sa.select(log_table).order_by(log_table.c.id.desc()).limit(limit)
    if before is not None:
        query = query.where(log_table.c.id < before)
    if user:
        query = query.where(log_table.c.user_name == user)
    with engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query)]
    for row in rows:
        row["parameters"] = json.loads(row["parameters"] or "{}")
        row["at"] = as_utc(row["at"])
    return rows


class AccessLogMiddleware:
    """ASGI middleware writing one access log row per HTTP request before its response is sent
    (a streamed response: before its last part), or when the app fails."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        portal = scope["app"]
        at: datetime = clock_of(portal)
        state = scope.setdefault("state", {})
        content_type = Headers(scope=scope).get("content-type", "")
        keep_body = content_type.startswith(
            ("application/x-www-form-urlencoded", "application/json")
        )
        body = bytearray()
        complete = True
        status = 500
        sent = 0

        async def receive_logged() -> dict:
            nonlocal complete
            message = await receive()
            if keep_body and message["type"] == "http.request" and complete:
                chunk = message.get("body", b"")
                if len(body) + len(chunk) > BODY_LIMIT:
                    complete = False
                    body.clear()
                else:
                    body.extend(chunk)
            return message

        written = False

        async def write() -> None:
            nonlocal written
            written = True
            principal = state.get("principal")
            rows = state.get("result_rows")
            client = scope.get("client")
            entry = {
                "at": at,
                "user_name": principal.name if principal is not None else None,
                "credential": principal.credential if principal is not None else None,
                "method": scope["method"],
                "route": route_template(as_received),
                "path": as_received["path"],
                "parameters": json.dumps(
                    request_parameters(as_received, content_type, bytes(body), complete),
                    ensure_ascii=False,
                    default=str,
                    sort_keys=True,
                ),
                "status": status,
                "result_bytes": sent,
                "result_rows": int(rows) if rows is not None else None,
                "client": client[0] if client else None,
            }
            await anyio.to_thread.run_sync(write_entry, portal.state.engine, entry)

        pending_start: dict | None = None

        async def send_logged(message: dict) -> None:
            nonlocal status, sent, pending_start
            if message["type"] == "http.response.start":
                status = message["status"]
                pending_start = message  # held back until the entry is written
                return
            if message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                if not message.get("more_body", False):
                    # written before the response goes out: a response whose access cannot be
                    # logged is not delivered (the failure becomes a 500), and entries are in
                    # the order the client saw the responses
                    await write()
            if pending_start is not None:
                start, pending_start = pending_start, None
                await send(start)
            await send(message)

        as_received = dict(scope)  # routing rewrites the scope (mounts, path parameters)
        try:
            await self.app(scope, receive_logged, send_logged)
        finally:
            if not written:  # the app failed, or the client went away before the end
                await write()
