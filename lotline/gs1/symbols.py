"""GS1 barcodes as vector SVG: GS1 DataMatrix, GS1-128 and QR codes for labels and documents.

Why these choices:

- The encoder is zxing-cpp (`zxingcpp.create_barcode`, Zint inside): it encodes GS1 mode itself
  (FNC1 in first position, the FNC1 group separator after a variable-length element followed by
  another) and writes SVG, so a symbol stays vector from the encoder to the PDF. Its decoder is
  the one the tests read the printed symbols back with.
- Element strings are built and checked here, before the encoder sees them: Zint accepts a GTIN
  with a wrong check digit, an impossible date or a lot code with a space. A wrong label is
  worse than none, so a bad GTIN, lot or date raises `ValueError` naming the AI.
- Fixed-length AIs go first and variable-length ones last — (01)(17)(10) — as the GS1 General
  Specifications recommend: a lot then needs no separator, and a serial after it gets one.
- The encoder's SVG is redrawn as a minimal one (its paths only, no ids, no DTD) sized in
  millimetres with a viewBox, so many symbols can be inlined in one HTML page and scaled to the
  X-dimension (module width) a label calls for.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date

from lotline.gs1 import is_gtin

LOT_MAX, SERIAL_MAX = 20, 20
GS = "\x1d"
"""ASCII group separator: how a scanner transmits an FNC1 that ends a variable-length element."""
CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
"""GS1 AI encodable character set 82: what AI (10) lot and (21) serial may contain."""
FIXED_LENGTH = {"00": 18, "01": 14, "11": 6, "13": 6, "15": 6, "16": 6, "17": 6}
AI_NAMES = {"01": "GTIN", "10": "lot", "15": "best before", "17": "expiry", "21": "serial"}
EXPIRY_AIS = {"17": "use_by", "15": "best_before"}
"""Date AI of a product's expiry by what its date means (`Product.expiry_kind`)."""
_SVG_NS = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class ElementString:
    """GS1 application identifiers and their values, in symbol order."""

    elements: tuple[tuple[str, str], ...]

    @property
    def hri(self) -> str:
        """Human-readable interpretation: `(01)09506000134352(17)261231(10)ABC123`."""
        return "".join(f"({ai}){value}" for ai, value in self.elements)

    @property
    def bracketed(self) -> str:
        """The encoder's input: AIs in square brackets, which no CSET 82 value can contain."""
        return "".join(f"[{ai}]{value}" for ai, value in self.elements)

    @property
    def transmitted(self) -> str:
        """What a scanner sends after the symbology identifier: AIs and values run together,
        a group separator after each variable-length value that is not the last."""
        parts = []
        for i, (ai, value) in enumerate(self.elements):
            parts.append(ai + value)
            if ai not in FIXED_LENGTH and i < len(self.elements) - 1:
                parts.append(GS)
        return "".join(parts)

    def lines(self) -> list[str]:
        """The HRI one element a line, for under a 2D symbol."""
        return [f"({ai}){value}" for ai, value in self.elements]


def element_string(
    gtin: str,
    lot: str | None = None,
    expiry: date | None = None,
    serial: str | None = None,
    expiry_ai: str = "17",
) -> ElementString:
    """(01) GTIN-14, (17) expiry YYMMDD, (10) lot, (21) serial — checked, fixed-length first.

    `expiry_ai` is "15" for a best-before date: (17) is the use-by/expiration date, and a
    product whose date means best before carries (15) instead (GS1 General Specifications)."""
    if not is_gtin(gtin):
        raise ValueError(f"AI (01): {gtin!r} is not a GTIN with a valid check digit")
    if expiry_ai not in EXPIRY_AIS:
        raise ValueError(f"AI ({expiry_ai}) is not a date AI for expiry: use 17 or 15")
    elements = [("01", gtin.zfill(14))]
    if expiry is not None:
        elements.append((expiry_ai, expiry.strftime("%y%m%d")))
    if lot is not None:
        elements.append(("10", _cset82("10", lot, LOT_MAX)))
    if serial is not None:
        elements.append(("21", _cset82("21", serial, SERIAL_MAX)))
    return ElementString(tuple(elements))


def _cset82(ai: str, value: str, max_length: int) -> str:
    if not 1 <= len(value) <= max_length:
        raise ValueError(
            f"AI ({ai}) {AI_NAMES[ai]} {value!r}: {len(value)} characters, GS1 allows 1 to "
            f"{max_length}"
        )
    bad = next((c for c in value if c not in CSET82), None)
    if bad is not None:
        raise ValueError(
            f"AI ({ai}) {AI_NAMES[ai]} {value!r}: character {bad!r} at position "
            f"{value.index(bad) + 1} is not in GS1 character set 82"
        )
    return value


@dataclass(frozen=True)
class Symbol:
    """One barcode as SVG drawn `width_mm` × `height_mm`, quiet zones included."""

    kind: str  # 'datamatrix' | 'gs1-128' | 'qr'
    svg: str
    width_mm: float
    height_mm: float
    modules: int  # across, quiet zones included
    text: str  # the HRI for GS1 symbols, the encoded text for a QR code


def datamatrix(data: ElementString, module_mm: float = 0.5) -> Symbol:
    """GS1 DataMatrix (ECC 200, FNC1 first), `module_mm` per module; square, the shape GS1
    recommends (for short data the encoder would otherwise pick a rectangle)."""
    import zxingcpp

    barcode = zxingcpp.create_barcode(
        data.bracketed, zxingcpp.BarcodeFormat.DataMatrix, gs1=True, force_square=True
    )
    _check_gs1(barcode, data)
    marks, across, down = _marks(zxingcpp.write_barcode_to_svg(barcode))
    width, height = across * module_mm, down * module_mm
    svg = _svg(marks, across, down, width, height, f"GS1 DataMatrix {data.hri}")
    return Symbol("datamatrix", svg, width, height, across, data.hri)


def gs1_128(data: ElementString, module_mm: float = 0.33, bar_height_mm: float = 12.0) -> Symbol:
    """GS1-128 (Code 128, FNC1 first) with `module_mm` X-dimension and bars `bar_height_mm` high.

    The encoder draws bars in module units; they are stretched vertically only, which keeps
    every bar's width exact."""
    import zxingcpp

    barcode = zxingcpp.create_barcode(data.bracketed, zxingcpp.BarcodeFormat.Code128, gs1=True)
    _check_gs1(barcode, data)
    marks, across, down = _marks(zxingcpp.write_barcode_to_svg(barcode))
    width = across * module_mm
    svg = _svg(marks, across, down, width, bar_height_mm, f"GS1-128 {data.hri}", stretch=True)
    return Symbol("gs1-128", svg, width, bar_height_mm, across, data.hri)


def qr(text: str, module_mm: float = 0.4, ec_level: str = "M") -> Symbol:
    """A QR code (model 2) of `text`: a GS1 Digital Link URI, a document reference."""
    import zxingcpp

    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=ec_level)
    if barcode.text != text:
        raise ValueError(f"the QR encoder changed the text: {barcode.text!r}, not {text!r}")
    marks, across, down = _marks(zxingcpp.write_barcode_to_svg(barcode))
    width, height = across * module_mm, down * module_mm
    return Symbol(
        "qr",
        _svg(marks, across, down, width, height, f"QR code {text}"),
        width,
        height,
        across,
        text,
    )


def _check_gs1(barcode: object, data: ElementString) -> None:
    """The encoder took GS1 mode and the data as meant (it ignores options it does not know)."""
    import zxingcpp

    content = barcode.content_type  # type: ignore[attr-defined]
    if content != zxingcpp.ContentType.GS1 or barcode.text != data.hri:  # type: ignore[attr-defined]
        raise ValueError(f"the encoder did not produce the GS1 element string {data.hri}")


def _marks(source: str) -> tuple[str, int, int]:
    """The dark modules of the encoder's SVG as path/rect elements, and its size in modules."""
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", source))
    across, down = int(float(root.attrib["width"])), int(float(root.attrib["height"]))
    marks = [
        f'<path d="{_attr(p.attrib["d"])}"/>'
        for p in root.iter(f"{{{_SVG_NS}}}path")
        if p.attrib.get("d", "").strip()
    ]
    marks += [
        '<rect x="{}" y="{}" width="{}" height="{}"/>'.format(
            *(_attr(r.attrib.get(k, "0")) for k in ("x", "y", "width", "height"))
        )
        for r in root.iter(f"{{{_SVG_NS}}}rect")
        if r.attrib.get("fill", "").lower() not in ("#ffffff", "#fff", "white")
    ]
    if not marks:
        raise ValueError("the encoder drew no modules")
    return "".join(marks), across, down


def _svg(
    marks: str,
    across: int,
    down: int,
    width_mm: float,
    height_mm: float,
    name: str,
    stretch: bool = False,
) -> str:
    """A minimal inline SVG: no ids (many symbols share a page), no DTD, sized in millimetres."""
    aspect = "none" if stretch else "xMidYMid meet"
    return (
        f'<svg xmlns="{_SVG_NS}" viewBox="0 0 {across} {down}" width="{width_mm:.3f}mm" '
        f'height="{height_mm:.3f}mm" preserveAspectRatio="{aspect}" shape-rendering="crispEdges" '
        f'role="img" aria-label="{_attr(name)}">'
        f'<rect width="{across}" height="{down}" fill="#ffffff"/>'
        f'<g fill="#000000">{marks}</g></svg>'
    )


def _attr(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
