"""Column helpers shared by the table modules: UTC timestamps and indexed text keys."""

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime
from sqlmodel import Field


def utc_timestamp(**kwargs: Any) -> Any:
    """A timezone-aware timestamp (timestamptz on PostgreSQL; UTC text on SQLite)."""
    return Field(sa_type=DateTime(timezone=True), **kwargs)


__all__ = ["datetime", "utc_timestamp"]
