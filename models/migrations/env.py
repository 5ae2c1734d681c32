"""Alembic's environment for lotline's tables: `lotline.schema` runs it on a connection it
passes in `config.attributes["connection"]`, inside the transaction that holds the database's
write lock, so one process upgrades while the others wait (see `lotline.store.create_schema`).

The target is `SQLModel.metadata` with every lotline model imported. On SQLite, column changes
are rendered and run in batch mode (copy the table, swap it in): SQLite's ALTER TABLE cannot
change or constrain a column in place.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import models  # noqa: F401  (registers every table on SQLModel.metadata)

target_metadata = SQLModel.metadata


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Revisions in plain SQLAlchemy types: SQLModel's AutoString is a VARCHAR (`sa.String()`),
    so a revision never depends on SQLModel's internals."""
    if kind == "type" and isinstance(obj, AutoString):
        return "sa.String()" if obj.length is None else f"sa.String(length={obj.length})"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:  # lotline.schema: the caller's transaction, committed by it
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from lotline import store

    url = context.config.get_main_option("sqlalchemy.url") or store.database_url()
    engine = store.make_engine(url)
    with engine.begin() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def run_offline() -> None:
    """`--sql`: the upgrade as a script, for a DBA who applies it by hand."""
    from lotline import store

    url = context.config.get_main_option("sqlalchemy.url") or store.database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=sa.make_url(url).get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
