"""`lotline keys init`: a self-signed key pair to try signed documents out.

The password protects the PKCS#12 file. With `--password-stdin` it is read from standard
input (the first line; nothing is echoed); without it a random one is generated and written to
`signing-key.password` (owner-only), never printed. stdout gets the environment lines to
configure signing; nothing secret is in them.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

DEFAULT_DIR = Path("lotline-keys")


def register(sub, command, database) -> None:  # type: ignore[no-untyped-def]
    summary = "The organisation's document signing key."
    p = sub.add_parser("keys", help=summary, description=summary)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    init = actions.add_parser(
        "init",
        help="create a self-signed key pair to try signing out (PKCS#12 + trust root PEM)",
        description="Create a trial CA certificate and a document signing key it certifies: "
        "signing-key.p12 (key and chain, password protected) and trust-root.pem (what "
        "`lotline verify` trusts). Prints the environment variables to set. For production, "
        "use a key from your organisation's PKI.",
    )
    init.set_defaults(handler=_init)
    init.add_argument("--out", type=Path, default=DEFAULT_DIR, help="folder for the files")
    init.add_argument("--org", default="lotline trial", help="organisation name in the certificate")
    init.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the key's password from stdin (default: generate one into a 0600 file)",
    )


def _init(args: argparse.Namespace) -> int:
    from lotline.signing import keys

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < 8:
            print("lotline: the password must have at least 8 characters", file=sys.stderr)
            return 2
    else:
        password = secrets.token_urlsafe(24)
    try:
        pair = keys.init(
            args.out, args.org, password.encode(), write_password=not args.password_stdin
        )
    except FileExistsError as error:
        print(f"lotline: {error}", file=sys.stderr)
        return 2
    print(f"export {keys.KEY_ENV}={pair.key_file.resolve()}")
    if pair.password_file is not None:
        print(f"export {keys.PASSWORD_FILE_ENV}={pair.password_file.resolve()}")
    else:
        print(f"# and {keys.PASSWORD_ENV} (or {keys.PASSWORD_FILE_ENV}) with your password")
    print(f"export {keys.TRUST_ROOTS_ENV}={pair.trust_root.resolve()}")
    print(
        "trial key: documents signed with it prove nothing to anyone who does not trust "
        f"{pair.trust_root.name}",
        file=sys.stderr,
    )
    return 0
