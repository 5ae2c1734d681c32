"""`lotline db upgrade` and `lotline db current`: the schema revision from the command line.

Every lotline command upgrades the database it opens (`lotline.store.create_schema`); these
let an operator do it explicitly, before deploying a new release to many processes, and check
where a database stands. `current` exits 0 at head, 1 when an upgrade is pending.
"""

from __future__ import annotations

import argparse

EXIT_AT_HEAD, EXIT_BEHIND = 0, 1


def register(sub, command, database) -> None:  # type: ignore[no-untyped-def]
    summary = "The database schema: upgrade it to this release, or show its revision."
    p = sub.add_parser("db", help=summary, description=summary)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = actions.add_parser(
        "upgrade",
        help="upgrade the schema to this release's revision (every command does it on start)",
        description="Upgrade the schema to this release's revision under the database's write "
        "lock, as every lotline command does when it starts; prints the revision before and "
        "after. A database made by release 0.1.0 (no revision) is upgraded from 0001.",
    )
    upgrade.set_defaults(handler=_upgrade)
    database(upgrade)
    current = actions.add_parser(
        "current",
        help="print the database's schema revision and this release's: exit 0 at head, 1 behind",
        description="Print the schema revision of the database and the one this release "
        "needs. Exit 0 when they match, 1 when `lotline db upgrade` has work to do.",
    )
    current.set_defaults(handler=_current)
    database(current)


def _shown(revision: str | None) -> str:
    return revision or "none (release 0.1.0, or an empty database)"


def _where(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


def _upgrade(args: argparse.Namespace) -> int:
    from lotline import schema, store

    before, after = schema.upgrade(store.make_engine(args.database_url))
    print(f"database: {_where(store.database_url(args.database_url))}")
    print(f"revision before: {_shown(before)}")
    print(f"revision after:  {_shown(after)}" + (" (unchanged)" if before == after else ""))
    return EXIT_AT_HEAD


def _current(args: argparse.Namespace) -> int:
    from lotline import schema, store

    revision = schema.current(store.make_engine(args.database_url))
    print(f"database: {_where(store.database_url(args.database_url))}")
    print(f"revision: {_shown(revision)}")
    print(f"head:     {schema.head()}")
    return EXIT_AT_HEAD if revision == schema.head() else EXIT_BEHIND
