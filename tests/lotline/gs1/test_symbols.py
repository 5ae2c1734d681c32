"""GS1 symbols: element strings checked and ordered, and every SVG symbol read back by a real
decoder after printing it (WeasyPrint PDF → pdftoppm at 300 dpi → zxing-cpp)."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from datetime import date

import pytest
import zxingcpp
from PIL import Image

from lotline.gs1 import symbols
from lotline.gs1.uri import digital_link, parse_uri

GTIN = "09506000134352"
PLAIN = symbols.element_string(GTIN, lot="ABC123", expiry=date(2026, 12, 31))
# a serial after the lot: the lot is variable-length and not last, so FNC1/GS must follow it;
# the lot holds parentheses, which the bracketed encoder input keeps apart from AIs
SERIAL = symbols.element_string(GTIN, lot="AB(C)/1", expiry=date(2027, 2, 28), serial="S-0042")
BEST_BEFORE = symbols.element_string(
    "614141000043", lot="C1", expiry=date(2027, 1, 4), expiry_ai="15"
)
LINK = digital_link(GTIN, lot="AB/C 1")


def test_fixed_length_first_and_group_separator_only_inside():
    assert PLAIN.hri == "(01)09506000134352(17)261231(10)ABC123"
    assert PLAIN.transmitted == "01095060001343521726123110ABC123"  # lot last: no separator
    assert SERIAL.hri == "(01)09506000134352(17)270228(10)AB(C)/1(21)S-0042"
    assert SERIAL.transmitted == "01095060001343521727022810AB(C)/1\x1d21S-0042"
    assert BEST_BEFORE.hri == "(01)00614141000043(15)270104(10)C1"  # GTIN-12 as GTIN-14
    assert SERIAL.lines() == ["(01)09506000134352", "(17)270228", "(10)AB(C)/1", "(21)S-0042"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gtin": "09506000134353", "lot": "A"}, r"AI \(01\): '09506000134353' is not a GTIN"),
        ({"gtin": GTIN, "lot": "L" * 21}, r"AI \(10\) lot 'L+': 21 characters, GS1 allows 1 to 20"),
        ({"gtin": GTIN, "lot": ""}, r"AI \(10\) lot '': 0 characters"),
        ({"gtin": GTIN, "lot": "C 1"}, r"AI \(10\) lot 'C 1': character ' ' at position 2"),
        ({"gtin": GTIN, "lot": "Charge-Ä"}, r"character 'Ä' at position 8 is not in GS1"),
        ({"gtin": GTIN, "serial": "S#1"}, r"AI \(21\) serial 'S#1': character '#'"),
        ({"gtin": GTIN, "expiry": date(2027, 1, 1), "expiry_ai": "11"}, r"AI \(11\) is not"),
    ],
)
def test_what_cannot_be_encoded_is_refused_naming_the_ai(kwargs: dict, message: str):
    with pytest.raises(ValueError, match=message):
        symbols.element_string(**kwargs)


def test_svg_is_minimal_and_sized_in_millimetres():
    matrix = symbols.datamatrix(PLAIN, module_mm=0.5)
    linear = symbols.gs1_128(PLAIN, module_mm=0.25, bar_height_mm=10)
    for symbol in (matrix, linear, symbols.qr(LINK)):
        root = ET.fromstring(symbol.svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert not [e for e in root.iter() if "id" in e.attrib]  # many per page: no ids
        assert root.attrib["viewBox"].split()[2] == str(symbol.modules)
        assert root.attrib["width"] == f"{symbol.width_mm:.3f}mm"
    assert matrix.width_mm == matrix.height_mm == matrix.modules * 0.5  # square, quiet zone in
    assert linear.width_mm == pytest.approx(linear.modules * 0.25)
    assert linear.height_mm == 10
    # Code 128: start, FNC1, 13 digit pairs, code B, 6 characters, check, stop, 10X quiet zones
    assert linear.modules == 11 + 11 + 13 * 11 + 11 + 6 * 11 + 11 + 13 + 20


PRINTED = [
    ("datamatrix", PLAIN, "]d2"),
    ("gs1_128", PLAIN, "]C1"),
    ("datamatrix", SERIAL, "]d2"),
    ("gs1_128", SERIAL, "]C1"),
    ("datamatrix", BEST_BEFORE, "]d2"),
]


@pytest.fixture(scope="module")
def decoded(tmp_path_factory: pytest.TempPathFactory) -> list[zxingcpp.Barcode]:
    """The symbols above and a Digital Link QR code on one PDF page, printed at 300 dpi, read."""
    import weasyprint

    drawn = [
        symbols.gs1_128(data, 0.25) if kind == "gs1_128" else symbols.datamatrix(data)
        for kind, data, _ in PRINTED
    ] + [symbols.qr(LINK)]
    html = "".join(f'<div style="margin: 6mm">{s.svg}</div>' for s in drawn)
    folder = tmp_path_factory.mktemp("symbols")
    weasyprint.HTML(string=f"<html><body>{html}</body></html>").write_pdf(folder / "s.pdf")
    subprocess.run(["pdftoppm", "-r", "300", "-png", folder / "s.pdf", folder / "page"], check=True)
    (png,) = folder.glob("page*.png")
    return zxingcpp.read_barcodes(Image.open(png))


def test_every_printed_symbol_decodes_to_its_element_string(decoded: list[zxingcpp.Barcode]):
    got = sorted((r.symbology_identifier, r.text, r.bytes) for r in decoded)
    expected = sorted(
        (identifier, data.hri, data.transmitted.encode()) for _, data, identifier in PRINTED
    )
    expected.append(("]Q1", LINK, LINK.encode()))
    assert got == sorted(expected)
    for r in decoded:  # ]d2 / ]C1: FNC1 in first position, i.e. GS1 data, not plain text
        gs1 = r.symbology_identifier in ("]d2", "]C1")
        assert (r.content_type == zxingcpp.ContentType.GS1) == gs1


def test_the_qr_code_resolves_back_to_the_lot(decoded: list[zxingcpp.Barcode]):
    (qr,) = [r for r in decoded if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert re.search(r"/10/AB%2FC%201$", qr.text)  # '/' and ' ' percent-encoded
    key = parse_uri(qr.text)
    assert (key.gtin, key.lot) == (GTIN, "AB/C 1")
