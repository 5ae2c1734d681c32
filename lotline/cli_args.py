"""What the `lotline` command accepts: argparse `type=` checks whose errors name the bad part.

A wrong check digit or a share of 5 must stop the command with a message saying what is wrong
and what was expected, not turn into "no lot" or a silently empty recall scope. argparse prefixes
each message with the option (`argument --gtin: GTIN 00614141000044: check digit should be 3`)
and exits with status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lotline.gs1.uri import GS1Key

SSCC_LENGTH = 18
GTIN_LENGTHS = (8, 12, 13, 14)  # lotline.gs1.GTIN_LENGTHS, without importing Polars for --help


def gtin(text: str) -> str:
    """A GTIN-8/12/13/14 with a correct check digit, as the 14-digit form stored everywhere."""
    value = text.strip()
    _digits_with_check("GTIN", value, GTIN_LENGTHS, "8, 12, 13 or 14")
    return value.zfill(14)


def sscc(text: str) -> str:
    """An 18-digit SSCC (a pallet or case) with a correct check digit."""
    value = text.strip()
    _digits_with_check("SSCC", value, (SSCC_LENGTH,), str(SSCC_LENGTH))
    return value


def _digits_with_check(kind: str, value: str, lengths: tuple[int, ...], expected: str) -> None:
    from lotline import gs1

    if not value:
        raise argparse.ArgumentTypeError(f"{kind} is empty")
    if not (value.isascii() and value.isdigit()):
        bad = next(c for c in value if not (c.isascii() and c.isdigit()))
        raise argparse.ArgumentTypeError(
            f"{kind} {value!r}: digits only ({bad!r} at position {value.index(bad) + 1})"
        )
    if len(value) not in lengths:
        raise argparse.ArgumentTypeError(
            f"{kind} {value}: {len(value)} digits, expected {expected}"
        )
    expected_check = gs1.check_digit(value[:-1])
    if int(value[-1]) != expected_check:
        raise argparse.ArgumentTypeError(
            f"{kind} {value}: check digit should be {expected_check}, not {value[-1]}"
        )


def code(text: str) -> str:
    """A lot code or serial: any text but empty (codes are compared as written)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty; give the code as printed on the label")
    return text


def scan(text: str) -> GS1Key:
    """What a scan names (`lotline.gs1.scan.resolve`), when it is a lot, a serial or an SSCC: the
    scanner's data, the element string printed under a barcode, a Digital Link or an EPC URI."""
    from lotline.gs1 import scan as scans

    try:
        return scans.require_subject(scans.resolve(text), text)
    except scans.ScanError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def share(text: str) -> float:
    """A share of material, 0 to 1 (`--min-exposure 0.01` is one percent)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a number") from None
    if not 0.0 <= value <= 1.0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"{text}: must be between 0 and 1 (a share)")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text}: must be a positive number of days")
    return value


def calendar_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a date (YYYY-MM-DD)") from None


def instant(text: str) -> datetime:
    """An ISO 8601 time with its UTC offset, in UTC: without an offset the hour is ambiguous."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: not an ISO 8601 time (e.g. 2026-09-09T09:00:00-05:00)"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text}: no UTC offset; add it, e.g. {text}-05:00 or {text}Z"
        )
    return value.astimezone(UTC)


def instant_text(text: str) -> str:
    """`instant`, kept as the text given (with its own offset) for pipeline config; empty stays
    empty (argparse passes a string default through here too)."""
    if text.strip():
        instant(text)
    return text.strip()


VALUE_OPTIONS = frozenset({"--lot", "--serial", "--sscc", "--gtin", "--request-ref", "--by"})
"""Options whose value may start with '-' (a lot code `-1+1`)."""


def attach_dash_values(argv: Sequence[str], options: frozenset[str] = VALUE_OPTIONS) -> list[str]:
    """`--lot -1+1` as `--lot=-1+1`: argparse would read `-1+1` as an unknown option.

    Only a following word that starts with a single '-' and is not `-h` is attached: `--lot
    --direction` stays a missing value, which argparse reports."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        following = argv[i + 1] if i + 1 < len(argv) else None
        if (
            word in options
            and following is not None
            and following.startswith("-")
            and not following.startswith("--")
            and following != "-h"
        ):
            out.append(f"{word}={following}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out
