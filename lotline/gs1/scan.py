"""Scans in: what a scanner, a label or a URI says, as the GS1 key lotline traces by.

One lot reaches lotline in four notations: a GS1 element string as printed under a barcode
(`(01)09506000134352(10)ABC123(17)261231`), the same data as a scanner sends it (no brackets,
variable-length fields ended by the FNC1 separator, ASCII GS, often behind a symbology identifier
such as `]d2`), a GS1 Digital Link URI (`https://id.gs1.org/01/09506000134352/10/ABC123`) and an
EPC URI (`urn:epc:class:lgtin:9506000.013435.ABC123`). `resolve` turns each into a `GS1Key`.

biip parses the first three (a maintained parser with GS1's table of Application Identifiers);
EPC URIs, which biip does not read, go through `lotline.gs1.uri.parse_uri`. A Digital Link that
biip refuses only for the characters or length of its lot or serial is read by `parse_uri` too:
lotline writes such links for lot codes outside GS1's character set, and scanning them back must
find the lot. Every error names the input and the bad Application Identifier or check digit.
"""

from __future__ import annotations

import re

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString, GS1ElementStrings
from biip.gs1_messages import GS1Message
from biip.symbology import GS1Symbology, SymbologyIdentifier

from lotline.gs1 import DATE_AIS, GTIN_LENGTHS, check_digit, parse_yymmdd, yymmdd_problem
from lotline.gs1.uri import GS1Key, parse_uri

SSCC_LENGTH = 18
GS = "\x1d"
FNC1_STAND_INS = re.compile(r"<GS>|\{GS\}|\u241d|\^", re.IGNORECASE)
"""What keyboard-wedge scanners and the tools around them write for the GS separator when they
cannot send the control character: `<GS>` or `{GS}` (scanner configuration tools, ZXing apps)
and the visible symbol ␝. `^`, the FNC1 of GS1's Barcode Syntax Engine, is outside GS1's
character set for AI values, so it is read as a separator too."""
_PARSE_CONFIG = ParseConfig(separator_chars=(GS,))
_GS1_MESSAGE_SYMBOLOGIES = GS1Symbology.with_gs1_messages()


class ScanError(ValueError):
    """A scan that names no GS1 key, or names one wrongly (a check digit, a date, an AI)."""


def resolve(text: str) -> GS1Key:
    """The GS1 key a scan, an element string, a Digital Link URI or an EPC URI names.

    `kind` is 'lgtin' (GTIN + lot), 'sgtin' (GTIN + serial, with the lot when the scan has one),
    'sscc', 'sgln', 'gtin' (a GTIN alone, as in an EAN-13), 'idpat' or 'other'; AI (17) gives
    `expiry`. Raises `ScanError` naming the input and what is wrong with it."""
    scan = text.strip()  # str.strip drops a leading or trailing GS (FNC1) too
    if not scan:
        raise ScanError("empty scan: give the barcode's data, a Digital Link URI or an EPC URI")
    if scan.lower().startswith("urn:epc:"):
        try:
            return parse_uri(scan)
        except ValueError as exc:  # parse_uri names the URN and its bad part
            raise ScanError(str(exc)) from None
    try:
        return _resolve(scan)
    except (ParseError, _Bad, ValueError) as exc:
        raise ScanError(f"{text!r}: {_explain(exc)}") from None


def require_subject(key: GS1Key, scan: str) -> GS1Key:
    """`key` when it names something traceable (a lot, a serial or an SSCC), else `ScanError`
    saying what is missing: a GTIN alone is a product, not a lot."""
    if key.sscc or (key.gtin and (key.lot or key.serial)):
        return key
    if key.gtin:
        raise ScanError(
            f"{scan!r} names GTIN {key.gtin} but no lot (10) or serial (21): a trace needs one"
        )
    if key.gln:
        raise ScanError(f"{scan!r} names a location (GLN {key.gln}), not a lot, serial or SSCC")
    raise ScanError(f"{scan!r} names no lot, serial or SSCC")


class _Bad(Exception):
    """A problem found here, worded for the user (the caller adds the input)."""


def _resolve(scan: str) -> GS1Key:
    symbology, body = _split_symbology(scan)
    if body.lower().startswith(("http://", "https://")):
        return _digital_link(body)
    if body.startswith("("):
        return _key(GS1Message.parse_hri(body, config=_PARSE_CONFIG).element_strings)
    gs1_symbol = symbology is not None and symbology.gs1_symbology in _GS1_MESSAGE_SYMBOLOGIES
    if body.isascii() and body.isdigit() and not gs1_symbol:
        # a bare number: an EAN/UPC (a GTIN alone) or an SSCC, not an element string
        if len(body) in GTIN_LENGTHS:
            _check("GTIN", body)
            return GS1Key("gtin", gtin=body.zfill(14))
        if len(body) == SSCC_LENGTH:
            _check("SSCC", body)
            return GS1Key("sscc", sscc=body)
    return _key(_raw_message(FNC1_STAND_INS.sub(GS, body).strip(GS)))


def _split_symbology(scan: str) -> tuple[SymbologyIdentifier | None, str]:
    """`]d2…`: the symbology identifier a scanner may put first (ISO/IEC 15424), and the data."""
    if not scan.startswith("]"):
        return None, scan
    try:
        symbology = SymbologyIdentifier.extract(scan)
    except ParseError as exc:
        raise _Bad(str(exc)) from None
    body = scan[len(symbology) :].strip()
    if not body:
        raise _Bad(f"no data after the symbology identifier {symbology}")
    return symbology, body


def _raw_message(raw: str) -> GS1ElementStrings:
    """Element strings without brackets, variable-length fields ended by GS: biip's own loop
    (`GS1Message.parse`), kept here to say after which element a scan stops making sense."""
    elements = GS1ElementStrings()
    rest = raw
    while rest:
        try:
            element = GS1ElementString.extract(rest, config=_PARSE_CONFIG)
        except ParseError as exc:
            if not str(exc).startswith("Failed to get GS1 Application Identifier"):
                raise
            if not elements:
                raise _Bad(f"no GS1 Application Identifier at the start ({rest[:8]!r}…)") from None
            last = elements[-1]
            raise _Bad(
                f"no GS1 Application Identifier at {rest!r}, after ({last.ai.ai}) "
                f"{last.value!r}{_max_length_hint(last)}"
            ) from None
        elements.append(element)
        rest = rest[len(element) :].lstrip(GS)
    return elements


def _max_length_hint(element: GS1ElementString) -> str:
    """A variable-length field at its maximum length probably ran into the next field."""
    size = re.search(r"\.\.(\d+)$", element.ai.format)
    if size and len(element.value) == int(size.group(1)):
        return f" (at most {size.group(1)} characters; a longer value is cut there)"
    return ""


def _digital_link(uri: str) -> GS1Key:
    try:
        elements = GS1DigitalLinkURI.parse(uri, config=_PARSE_CONFIG).element_strings
    except ParseError as refused:
        try:  # a lot or serial outside GS1's characters or length: as lotline writes them
            return parse_uri(uri)
        except ValueError:
            raise refused from None
    return _key(elements)


def _key(elements: GS1ElementStrings) -> GS1Key:
    """The key of parsed element strings: SSCC (00), else GTIN (01) with lot (10), serial (21)
    and expiry (17), else GLN (414) with its extension (254)."""
    for element in elements:
        _check_element(element)
    values = {element.ai.ai: element.value for element in elements}
    if "00" in values:
        return GS1Key("sscc", sscc=values["00"])
    if "01" in values:
        lot, serial = values.get("10"), values.get("21")
        expiry = parse_yymmdd(values["17"]) if "17" in values else None
        kind = "sgtin" if serial else "lgtin" if lot else "gtin"
        return GS1Key(kind, gtin=values["01"], lot=lot, serial=serial, expiry=expiry)
    if "414" in values:
        return GS1Key("sgln", gln=values["414"], gln_extension=values.get("254"))
    found = ", ".join(f"({e.ai.ai}) {e.value}" for e in elements) or "nothing"
    raise _Bad(f"no GTIN (01), SSCC (00) or GLN (414) in it; it holds {found}")


def _check_element(element: GS1ElementString) -> None:
    error = element.gtin_error or element.sscc_error or element.gln_error
    if error is None:
        return
    value = element.value
    if value.isdigit() and check_digit(value[:-1]) != int(value[-1]):
        error = f"check digit should be {check_digit(value[:-1])}, not {value[-1]}"
    raise _Bad(f"({element.ai.ai}) {value}: {error}")


def _check(kind: str, value: str) -> None:
    expected = check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise _Bad(f"{kind} {value}: check digit should be {expected}, not {value[-1]}")


_NOT_MATCHED = re.compile(r"Failed to match '(?P<data>.*)' with GS1 AI \((?P<ai>\d+)\) pattern")
_BAD_DATE = re.compile(r"Failed to parse GS1 AI \((?P<ai>\d+)\) date/time from '(?P<value>.*)'\.")
_UNKNOWN_AI = re.compile(r"Unknown GS1 Application Identifier '(?P<ai>\d+)'")


def _explain(exc: Exception) -> str:
    """biip's message, reworded where it shows a regular expression or a generic date failure:
    the AI, its value and what is wrong ("(17) 261341: month 13 is not 01-12")."""
    text = str(exc)
    if isinstance(exc, _Bad):
        return text
    if match := _NOT_MATCHED.match(text):
        ai = match.group("ai")
        return _bad_value(ai, match.group("data").removeprefix(ai))
    if match := _BAD_DATE.match(text):
        return _bad_value(match.group("ai"), match.group("value"))
    if match := _UNKNOWN_AI.match(text):
        return f"unknown GS1 Application Identifier ({match.group('ai')})"
    return text


def _bad_value(ai: str, value: str) -> str:
    if ai in DATE_AIS:
        reason = yymmdd_problem(value)
        return f"({ai}) {value}: {reason or 'not a valid date'}"
    identifier = GS1ApplicationIdentifier.extract(ai)
    layout = identifier.format.split("+", 1)[-1]
    return f"({ai}) {value!r}: not a valid {identifier.data_title} (GS1 format {layout})"
