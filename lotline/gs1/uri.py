"""GS1 keys from the URIs EPCIS documents and scanners carry, and Digital Link URIs out.

Two notations name the same things: EPC URNs (`urn:epc:id:sgtin:0614141.107346.2017`, Tag Data
Standard) and GS1 Digital Link URIs (`https://id.gs1.org/01/00614141073467/21/2017`). An EPC URN
splits the key at the company prefix and moves the GTIN's indicator digit (or the SSCC's
extension digit) to the front of the second part, and it drops the check digit: the GTIN-14 is
rebuilt as indicator + company prefix + item reference + a recomputed check digit. A Digital
Link URI carries the key whole, so its check digit is verified instead.

Going out, lotline writes Digital Link URIs only: an EPC URN needs the length of the company
prefix, which a GTIN does not carry, and EPCIS 2.0 accepts either.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, quote, unquote, urlsplit

from lotline.gs1 import GTIN_LENGTHS, check_digit, has_valid_check_digit, parse_yymmdd

DEFAULT_BASE = "https://id.gs1.org"
_DL_SAFE = "-._~!$&'()*+,;=:@"
"""Characters a Digital Link path segment keeps as they are (RFC 3986 pchar minus '/');
everything else in a lot or serial is percent-encoded."""


def resolver_base() -> str:
    """The Digital Link resolver a company publishes its links under: `LOTLINE_DIGITAL_LINK_BASE`
    (an https URL, e.g. `https://id.example.com`), else GS1's own `https://id.gs1.org`."""
    configured = os.environ.get("LOTLINE_DIGITAL_LINK_BASE", "").strip()
    if not configured:
        return DEFAULT_BASE
    parts = urlsplit(configured)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"LOTLINE_DIGITAL_LINK_BASE {configured!r} is not an https URL without query or "
            "fragment, e.g. https://id.example.com"
        )
    return configured.rstrip("/")


@dataclass(frozen=True)
class GS1Key:
    """What a URI identifies; `kind` says which fields mean something."""

    kind: str  # 'sgtin' | 'lgtin' | 'sscc' | 'sgln' | 'gtin' | 'idpat' | 'other'
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    sscc: str | None = None
    gln: str | None = None
    gln_extension: str | None = None
    expiry: date | None = None


def parse_uri(uri: str) -> GS1Key:
    """The key an EPC URN or a GS1 Digital Link URI names; `ValueError` names the bad part."""
    text = uri.strip()
    if text.lower().startswith("urn:epc:"):
        return _parse_epc(text)
    if text.lower().startswith(("http://", "https://")):
        return _parse_digital_link(text)
    raise ValueError(f"{uri!r}: neither an EPC URN (urn:epc:…) nor a GS1 Digital Link URI")


def digital_link(
    gtin: str | None = None,
    lot: str | None = None,
    serial: str | None = None,
    sscc: str | None = None,
    gln: str | None = None,
    expiry: date | None = None,
    base: str | None = None,
) -> str:
    """The GS1 Digital Link URI of a trade item (lot or serial), a logistic unit or a location.

    Lot and serial are percent-encoded; the expiry goes in the query as `17=YYMMDD`. The
    resolver is `base`, else the company's own (`LOTLINE_DIGITAL_LINK_BASE`), else GS1's."""
    base = (base or resolver_base()).rstrip("/")
    if gtin:
        path = f"/01/{gtin.zfill(14)}"
        if lot:
            path += f"/10/{quote(lot, safe=_DL_SAFE)}"
        if serial:
            path += f"/21/{quote(serial, safe=_DL_SAFE)}"
    elif sscc:
        path = f"/00/{sscc}"
    elif gln:
        path = f"/414/{gln}"
    else:
        raise ValueError("a Digital Link needs a GTIN, an SSCC or a GLN")
    query = f"?17={expiry:%y%m%d}" if expiry and gtin else ""
    return base + path + query


# --- EPC URNs ----------------------------------------------------------------------------------

_EPC = re.compile(r"^urn:epc:(id|class|idpat):([a-z0-9]+):(.*)$", re.IGNORECASE)


def _parse_epc(urn: str) -> GS1Key:
    match = _EPC.match(urn)
    if not match:
        raise ValueError(f"{urn!r}: not an EPC URN (urn:epc:id|class|idpat:<scheme>:…)")
    family, scheme, rest = match.group(1).lower(), match.group(2).lower(), match.group(3)
    parts = rest.split(".")
    if scheme in ("sgtin", "lgtin"):
        if len(parts) < 3:
            raise ValueError(f"{urn!r}: expected <company prefix>.<indicator+item ref>.<value>")
        company, item = parts[0], parts[1]
        value = unquote(".".join(parts[2:]))
        gtin = _gtin_from_epc(urn, company, item)
        if family == "idpat":
            return GS1Key("idpat", gtin=gtin)
        if scheme == "lgtin":
            return GS1Key("lgtin", gtin=gtin, lot=value)
        return GS1Key("sgtin", gtin=gtin, serial=value)
    if scheme == "sscc":
        if len(parts) != 2 or not (parts[0] + parts[1]).isdigit() or len(parts[0] + parts[1]) != 17:
            raise ValueError(
                f"{urn!r}: an SSCC URN has <company prefix>.<extension+serial ref>, 17 digits"
            )
        body = parts[1][0] + parts[0] + parts[1][1:]
        return GS1Key("sscc", sscc=body + str(check_digit(body)))
    if scheme == "sgln":
        if len(parts) != 3 or not (parts[0] + parts[1]).isdigit() or len(parts[0] + parts[1]) != 12:
            raise ValueError(
                f"{urn!r}: an SGLN URN has <company prefix>.<location ref>.<extension>, 12 digits"
            )
        body = parts[0] + parts[1]
        extension = unquote(parts[2])
        return GS1Key(
            "sgln",
            gln=body + str(check_digit(body)),
            gln_extension=None if extension in ("", "0") else extension,
        )
    return GS1Key("other")


def _gtin_from_epc(urn: str, company: str, item: str) -> str:
    digits = company + item
    if not digits.isdigit() or len(digits) != 13 or not item:
        raise ValueError(
            f"{urn!r}: company prefix and indicator+item reference must be 13 digits together, "
            f"got {company!r}.{item!r}"
        )
    body = item[0] + company + item[1:]
    return body + str(check_digit(body))


# --- Digital Link ------------------------------------------------------------------------------

_PRIMARY = {"01", "00", "414", "8004", "8003", "8018", "253", "255", "401", "402", "417", "8006"}


def _parse_digital_link(uri: str) -> GS1Key:
    parts = urlsplit(uri)
    segments = [s for s in parts.path.split("/") if s]
    # a Digital Link may sit under any path prefix: the key starts at the first primary AI
    start = next(
        (i for i, s in enumerate(segments) if s in _PRIMARY and i + 1 < len(segments)), None
    )
    if start is None:
        raise ValueError(f"{uri!r}: no GS1 primary key (/01/, /00/, /414/ …) in the path")
    values: dict[str, str] = {}
    pairs = segments[start:]
    if len(pairs) % 2:
        raise ValueError(f"{uri!r}: AI {pairs[-1]!r} has no value")
    for ai, value in zip(pairs[::2], pairs[1::2], strict=True):
        values[ai] = unquote(value)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    expiry = _yymmdd(uri, query["17"]) if "17" in query else None
    if "01" in values:
        gtin = values["01"]
        if not has_valid_check_digit(gtin, GTIN_LENGTHS):
            raise ValueError(f"{uri!r}: (01) {gtin}: {_check_message(gtin, GTIN_LENGTHS)}")
        gtin = gtin.zfill(14)
        if "21" in values:
            return GS1Key(
                "sgtin", gtin=gtin, serial=values["21"], lot=values.get("10"), expiry=expiry
            )
        if "10" in values:
            return GS1Key("lgtin", gtin=gtin, lot=values["10"], expiry=expiry)
        return GS1Key("gtin", gtin=gtin, expiry=expiry)
    if "00" in values:
        sscc = values["00"]
        if not has_valid_check_digit(sscc, (18,)):
            raise ValueError(f"{uri!r}: (00) {sscc}: {_check_message(sscc, (18,))}")
        return GS1Key("sscc", sscc=sscc)
    if "414" in values:
        gln = values["414"]
        if not has_valid_check_digit(gln, (13,)):
            raise ValueError(f"{uri!r}: (414) {gln}: {_check_message(gln, (13,))}")
        return GS1Key("sgln", gln=gln, gln_extension=values.get("254"))
    return GS1Key("other")


def _check_message(key: str, lengths: tuple[int, ...]) -> str:
    if not key.isdigit():
        return "digits only"
    if len(key) not in lengths:
        return f"{len(key)} digits, expected {' or '.join(map(str, lengths))}"
    return f"check digit should be {check_digit(key[:-1])}, not {key[-1]}"


def _yymmdd(uri: str, text: str) -> date:
    """GS1 dates: YYMMDD, century by the 50-year rule of the General Specifications, DD=00 the
    last day of the month."""
    if not re.fullmatch(r"\d{6}", text):
        raise ValueError(f"{uri!r}: (17) {text!r} is not YYMMDD")
    return parse_yymmdd(text)
