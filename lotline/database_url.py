"""Which database a command uses, and the SQLite file a plain URL names, without SQLAlchemy.

Why: `lotline trace` reads an SQLite file through ADBC (`lotline.trace_sqlite`); importing
SQLAlchemy, SQLModel and the models only to resolve its URL cost most of a second of a command
whose target is two. `lotline.store.database_url` answers the same (a test holds them equal).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DATABASE_URL_ENV = "LOTLINE_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///lotline.sqlite"

_PLAIN_SQLITE = re.compile(r"^sqlite(?:\+pysqlite)?:///(?!file:)([^?#%]+)$")
"""`sqlite:///path`: no query, no URI filename, nothing percent-encoded (SQLAlchemy decodes
those; such URLs go through it)."""


def database_url(explicit: str | None = None) -> str:
    """`--database-url`, else `LOTLINE_DATABASE_URL`, else an SQLite file in the current folder."""
    return explicit or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def sqlite_file(url: str) -> Path | None:
    """The file of a plain `sqlite:///path` URL (relative to the current folder, as SQLAlchemy
    takes it); None for any other URL, in memory, or one only SQLAlchemy should read."""
    match = _PLAIN_SQLITE.match(url)
    if match is None or match.group(1) == ":memory:":
        return None
    return Path(match.group(1))
