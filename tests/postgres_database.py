"""Fresh PostgreSQL databases for tests, on the real server: created with a unique name and
dropped afterwards, connections still open to them (a crashed loader's) terminated first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


def _server(url: str | sa.URL) -> sa.Engine:
    """An autocommit engine on the server's `postgres` database (CREATE/DROP DATABASE)."""
    return sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


@contextmanager
def fresh_database(server_url: str | sa.URL, prefix: str = "lotline_test") -> Iterator[str]:
    """The URL of a new empty database on the server of `server_url`, dropped on exit."""
    engine = _server(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = sa.make_url(server_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        drop_database(url)


def drop_database(url: str | sa.URL) -> None:
    """Drop the database `url` names, ending the sessions still connected to it."""
    name = sa.make_url(url).database
    engine = _server(url)
    with engine.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    engine.dispose()
