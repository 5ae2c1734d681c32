"""`lotline audit verify` and `lotline audit adopt`: the audit trail from the command line.

verify exits 0 when every chain links and every audited row is as lotline wrote it, 1 when
something was changed behind lotline's back (one line per problem on stdout, then the verdict),
2 when it cannot verify (no such database, no audit trail in it, database unreachable).
"""

from __future__ import annotations

import argparse
import sys

EXIT_INTACT, EXIT_TAMPERED, EXIT_CANNOT = 0, 1, 2


def register(sub, command, database) -> None:  # type: ignore[no-untyped-def]
    summary = "The tamper-evident audit trail: hash chains over every stored record."
    p = sub.add_parser("audit", help=summary, description=summary)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify",
        help="walk the chains and re-hash the tables: exit 0 intact, 1 tampered, 2 cannot verify",
        description="Walk every chain and re-hash every audited table. Names each row changed, "
        "deleted or inserted outside lotline by table and key. Exit 0 intact, 1 tampered, "
        "2 cannot verify.",
    )
    verify.set_defaults(handler=_verify)
    database(verify)
    adopt = actions.add_parser(
        "adopt",
        help="start the chains of a database loaded before the audit trail existed",
        description="Seal the rows of every audited table that has no chain yet (a database "
        "loaded before lotline kept an audit trail). Tables already chained are left alone: "
        "adopt never vouches for a row added behind lotline's back to a chained table.",
    )
    adopt.set_defaults(handler=_adopt)
    database(adopt)


def _verify(args: argparse.Namespace) -> int:
    from lotline import store
    from lotline.audit import chain

    verdict = chain.verify(store.make_engine(args.database_url))
    for problem in verdict.problems:
        print(problem.line())
    if verdict.missing:
        print(
            "cannot verify: this database has no audit trail "
            "(loaded before lotline kept one: `lotline audit adopt` starts it)",
            file=sys.stderr,
        )
        return EXIT_CANNOT
    chains = len(verdict.heads)
    if verdict.ok:
        print(
            f"audit trail intact: {chains} chains, {verdict.rows_checked} rows as lotline "
            "wrote them"
        )
        return EXIT_INTACT
    tables = sorted({p.table for p in verdict.problems})
    print(
        f"audit trail TAMPERED: {len(verdict.problems)} problems in {', '.join(tables)}",
    )
    return EXIT_TAMPERED


def _adopt(args: argparse.Namespace) -> int:
    import models
    from lotline import store
    from lotline.audit import chain

    engine = store.make_engine(args.database_url)
    store.create_schema(engine)  # a database without the audit tables is adopted here
    with engine.begin() as conn:
        store.lock_loads(conn, "lotline audit adopt")  # the write lock: no append in between
        chain.adopt(conn)
    entries = store.read_frame(
        engine,
        models.AuditEntry,
        where=store.table(models.AuditEntry).c.actor == chain.ADOPT_ACTOR,
        columns=["table_name", "rows", "at"],
    )
    for row in entries.sort("table_name").iter_rows(named=True):
        print(f"{row['table_name']}: {row['rows']} rows adopted at {row['at']:%Y-%m-%d %H:%M}Z")
    if entries.is_empty():
        print("nothing to adopt: every audited table was chained by lotline from its first row")
    return EXIT_INTACT
