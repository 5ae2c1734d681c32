"""`lotline serve` and `lotline users …`: the portal's commands (registered in lotline.cli).

Passwords are read from stdin only (`--password-stdin`), never from an option: options end up in
shell history and in `ps`. A new API token is printed once on stdout and never stored in clear.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import sys

from models.access import ROLES


def register(sub, command, database) -> None:  # type: ignore[no-untyped-def]
    p = command(
        "serve",
        _serve,
        "Serve the auditor portal: read-only lineage pages and the JSON API, every request logged.",
        epilog="examples:\n  lotline users add ada --role auditor --password-stdin < pw.txt\n"
        "  lotline serve --port 8000   # then open http://127.0.0.1:8000",
    )
    net = p.add_argument_group("network")
    net.add_argument("--host", default="127.0.0.1", help="address to listen on")
    net.add_argument("--port", type=int, default=8000, help="TCP port")
    database(p)

    p = command("users", None, "Manage portal accounts and API tokens.")
    actions = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    a = actions.add_parser("add", help="add an account", description="Add an account.")
    a.set_defaults(handler=_add)
    a.add_argument("name", metavar="NAME")
    a.add_argument(
        "--role",
        choices=ROLES,
        required=True,
        help="auditor reads; officer also issues and signs reports; admin also manages users",
    )
    a.add_argument(
        "--full-name",
        metavar="NAME",
        help="printed name shown on the person's e-signatures (default: the account name)",
    )
    a.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (required: passwords are never options)",
    )
    database(a)

    a = actions.add_parser(
        "password", help="set a new password of NAME from stdin (its sessions end)"
    )
    a.set_defaults(handler=_password)
    a.add_argument("name", metavar="NAME")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    database(a)

    a = actions.add_parser("disable", help="disable an account, revoke its tokens, end sessions")
    a.set_defaults(handler=_disable)
    a.add_argument("name", metavar="NAME")
    database(a)

    a = actions.add_parser("token", help="print a new API token of NAME (shown once)")
    a.set_defaults(handler=_token)
    a.add_argument("name", metavar="NAME")
    database(a)

    a = actions.add_parser("list", help="accounts with role, state and token prefixes")
    a.set_defaults(handler=_list)
    database(a)


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from lotline import store

    engine = store.make_engine(args.database_url)
    store.create_schema(engine)
    return engine


def actor() -> str:
    """Who changes accounts from the command line: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def read_password(stream=None) -> str:  # type: ignore[no-untyped-def]
    """The password on stdin: one line, its line ending removed, nothing else touched."""
    from lotline.portal.users import check_password

    text = (stream or sys.stdin).read()
    if text.endswith("\n"):
        text = text[:-1].removesuffix("\r")
    if not text:
        raise ValueError("no password on stdin")
    if "\n" in text:
        raise ValueError("the password on stdin spans several lines")
    return check_password(text)


def _add(args: argparse.Namespace) -> int:
    from lotline.portal import users

    if not args.password_stdin:
        raise ValueError("give the password on stdin with --password-stdin")
    try:
        users.add_user(
            _engine(args),
            args.name,
            args.role,
            read_password(),
            actor(),
            full_name=args.full_name,
        )
    except users.UserError as exc:
        raise ValueError(str(exc)) from None
    print(f"added {args.name} ({args.role})", file=sys.stderr)
    return 0


def _password(args: argparse.Namespace) -> int:
    from lotline.portal import users

    if not args.password_stdin:
        raise ValueError("give the password on stdin with --password-stdin")
    try:
        users.set_password(_engine(args), args.name, read_password(), actor())
    except users.UserError as exc:
        raise ValueError(str(exc)) from None
    print(f"new password of {args.name} set; its sessions ended", file=sys.stderr)
    return 0


def _disable(args: argparse.Namespace) -> int:
    from lotline.portal import users

    try:
        users.disable_user(_engine(args), args.name, actor())
    except users.UserError as exc:
        raise ValueError(str(exc)) from None
    print(f"disabled {args.name}: tokens revoked, sessions ended", file=sys.stderr)
    return 0


def _token(args: argparse.Namespace) -> int:
    from lotline.portal import users

    try:
        token = users.new_token(_engine(args), args.name, actor())
    except users.UserError as exc:
        raise ValueError(str(exc)) from None
    print(token)
    print(
        f"new API token of {args.name}: shown this once, only its hash is kept; "
        "send it as 'Authorization: Bearer <token>'",
        file=sys.stderr,
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from lotline.portal import users

    rows = [("NAME", "ROLE", "STATE", "CHANGED (UTC)", "CHANGED BY", "TOKENS")]
    for user in users.list_users(_engine(args)):
        live = [t for t in user.tokens if t.revoked_at is None]
        tokens = ", ".join(
            f"{t.prefix}… (used {t.last_used_at:%Y-%m-%d %H:%M})"
            if t.last_used_at
            else f"{t.prefix}… (unused)"
            for t in live
        )
        rows.append(
            (
                user.name,
                user.role,
                "disabled" if user.disabled else "enabled",
                f"{user.changed_at:%Y-%m-%d %H:%M}",
                user.changed_by,
                tokens or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
        )
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from lotline.portal.app import create_app

    if not _loopback(args.host):
        print(
            f"note: listening on {args.host}: session cookies are Secure, so browsers other than "
            "on this machine need HTTPS (put a TLS proxy in front)",
            file=sys.stderr,
        )
    # uvicorn's own access log is off: it prints query strings, the portal's access log
    # (in the database) records every request with secrets redacted
    uvicorn.run(
        create_app(args.database_url),
        host=args.host,
        port=args.port,
        access_log=False,
        server_header=False,
    )
    return 0


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
