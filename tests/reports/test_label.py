"""The label sheet PDF: its symbols read back by a real decoder from the printed page, its text,
its data from the database, and `lotline label`.

One database (the small supply chain) and one three-label sheet are shared by the module."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from lotline import store
from lotline.cli import main
from lotline.gs1 import symbols
from lotline.gs1.symbols import ElementString
from lotline.trace import UnknownSubject
from reports import label

GTIN, LOT, EXPIRY = "00614141000043", "C1", date(2027, 1, 4)  # lot C1's expiry in production.csv
HRI = "(01)00614141000043(17)270104(10)C1"
COUNT = 3
DPI = 300


@pytest.fixture(scope="module")
def engine(small_database: str) -> sa.Engine:
    return store.make_engine(small_database)


@pytest.fixture(scope="module")
def sheet(engine: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return label.render_label_sheet(engine, GTIN, LOT, tmp_path_factory.mktemp("pdf"), count=COUNT)


def read_labels(pdf: Path, page: int, element: ElementString) -> list[list[zxingcpp.Barcode]]:
    """Print one page at 300 dpi (pdftoppm) and decode the symbols of each label slot on it, one
    slot at a time: a decoder reading a whole page may report identical symbols only once."""
    prefix = pdf.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", "-f", str(page), "-l", str(page), pdf, prefix],
        check=True,
    )
    (png,) = pdf.parent.glob(f"{prefix.name}-*{page}.png")
    image = Image.open(png)
    sheet = label.layout(symbols.gs1_128(element, 1.0).modules)
    px = DPI / 25.4
    found = []
    for slot in range(sheet.per_sheet):
        row, column = divmod(slot, sheet.across)
        left = label.MARGIN_MM + column * sheet.width_mm
        top = label.MARGIN_MM + row * sheet.height_mm
        box = (left, top, left + sheet.width_mm, top + sheet.height_mm)
        found.append(zxingcpp.read_barcodes(image.crop(tuple(round(v * px) for v in box))))
    return found


def assert_lot_symbols(slot: list[zxingcpp.Barcode], element: ElementString) -> None:
    """One GS1 DataMatrix (]d2) and one GS1-128 (]C1), both GS1 mode (FNC1 first) and both
    exactly the element string: the HRI text and the bytes a scanner transmits."""
    assert sorted(str(r.format) for r in slot) == ["Code 128", "Data Matrix"]
    for r in slot:
        assert r.content_type == zxingcpp.ContentType.GS1
        assert r.symbology_identifier == ("]d2" if "Matrix" in str(r.format) else "]C1")
        assert (r.text, r.bytes) == (element.hri, element.transmitted.encode())


def test_every_symbol_on_the_sheet_decodes_to_the_lot(sheet: Path):
    """(01)(17)(10) with the lot last, so no separator; the empty slots hold nothing."""
    element = symbols.element_string(GTIN, LOT, EXPIRY)
    assert element.transmitted == "01" + GTIN + "17270104" + "10C1"
    slots = read_labels(sheet, 1, element)
    for slot in slots[:COUNT]:
        assert_lot_symbols(slot, element)
    assert slots[COUNT:] == [[]] * (len(slots) - COUNT)


def test_labels_print_the_data_and_its_interpretation(sheet: Path):
    reader = pypdf.PdfReader(sheet)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert text.count("Butter cookies 12x200g") == COUNT
    assert len(re.findall(r"^GTIN\s+00614141000043$", text, re.M)) == COUNT
    assert len(re.findall(r"^LOT\s+C1$", text, re.M)) == COUNT
    assert len(re.findall(r"^EXP\s+2027-01-04$", text, re.M)) == COUNT
    assert text.count(HRI) == COUNT  # under each GS1-128
    assert text.count("(01)00614141000043\n(17)270104\n(10)C1") == COUNT  # under each DataMatrix
    assert f"GTIN {GTIN} · lot {LOT} · {COUNT} labels" in text  # the sheet's footer


def test_symbols_are_vector_and_the_file_is_pdf_a(sheet: Path):
    reader = pypdf.PdfReader(sheet)
    assert list(reader.pages[0].images) == []  # no bitmap: symbols are paths
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp)
    assert reader.metadata.title == f"GS1 label sheet — {GTIN} / {LOT}"


def test_label_data_comes_from_the_database(engine: sa.Engine):
    data = label.label_data(engine, "614141000043", LOT)
    assert (data.gtin, data.product_name, data.expiry) == (GTIN, "Butter cookies 12x200g", EXPIRY)
    assert data.element.hri == HRI
    assert label.label_data(engine, GTIN, LOT, EXPIRY).element == data.element
    with pytest.raises(ValueError, match="expires 2027-01-04 in the database, not 2027-01-05"):
        label.label_data(engine, GTIN, LOT, date(2027, 1, 5))
    with pytest.raises(UnknownSubject, match="give --expiry to label a lot"):
        label.label_data(engine, GTIN, "C99")
    ahead = label.label_data(engine, GTIN, "C99", date(2027, 3, 1))  # not loaded yet
    assert ahead.element.hri == "(01)00614141000043(17)270301(10)C99"
    with pytest.raises(UnknownSubject, match="no product with GTIN 00614141000067"):
        label.label_data(engine, "00614141000067", "X1", date(2027, 3, 1))


def test_a_best_before_product_carries_ai_15(engine: sa.Engine):
    """(17) is a use-by/expiration date; a product whose date means best before gets (15)."""
    update = sa.text("update product set expiry_kind = :kind where gtin = :gtin")
    with engine.begin() as conn:
        conn.execute(update, {"kind": "best_before", "gtin": GTIN})
    try:
        data = label.label_data(engine, GTIN, LOT)
    finally:  # the module's database is shared
        with engine.begin() as conn:
            conn.execute(update, {"kind": "use_by", "gtin": GTIN})
    assert data.element.hri == "(01)00614141000043(15)270104(10)C1"
    assert "BEST BEFORE" in label.sheet_html(data, 1)


def test_a_long_symbol_gets_a_full_width_label():
    narrow = label.layout(250)
    assert (narrow.across, narrow.per_sheet, narrow.x_mm) == (2, 8, 0.33)
    assert label.layout(300).x_mm == pytest.approx(87 / 300, abs=1e-3)  # shrunk, still ≥ 0.25
    wide = label.layout(400)
    assert (wide.across, wide.per_sheet) == (1, 4)
    with pytest.raises(ValueError, match="too long for a label"):
        label.layout(800)


def test_cli_label(small_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """A lot not loaded yet, with a lot code of 20 characters: its GS1-128 does not fit a
    half-width label, so the sheet holds 4 full-width labels and 5 labels take two pages."""
    out = tmp_path / "labels"
    long_lot = "LOT-2026/12-ABCDEFGH"
    code = main(["label", "--gtin", GTIN, "--lot", long_lot, "--expiry", "2027-03-31",
                 "--count", "5", "--out", str(out), "--database-url", small_database])  # fmt: skip
    assert code == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == out / f"labels_{GTIN}_LOT-2026_12-ABCDEFGH.pdf"
    assert len(pypdf.PdfReader(path).pages) == 2
    element = symbols.element_string(GTIN, long_lot, date(2027, 3, 31))
    for slot in read_labels(path, 1, element):
        assert_lot_symbols(slot, element)

    assert main(["label", "--gtin", GTIN, "--lot", LOT, "--count", "0",
                 "--database-url", small_database]) == 2  # fmt: skip
    assert "--count: 0: must be at least 1 label" in capsys.readouterr().err
    assert main(["label", "--gtin", "00614141000044", "--lot", LOT,
                 "--database-url", small_database]) == 2  # fmt: skip
    assert "check digit should be 3" in capsys.readouterr().err
    assert main(["label", "--gtin", GTIN, "--lot", "C 1", "--expiry", "2027-01-01",
                 "--database-url", small_database]) == 2  # fmt: skip
    assert "AI (10) lot 'C 1': character ' '" in capsys.readouterr().err


def test_cli_label_from_a_scan(
    small_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The label of the lot a scanner read: the same sheet as --gtin/--lot."""
    scanned = main(["label", "--scan", f"(01){GTIN}(10){LOT}", "--count", "1",
                    "--out", str(tmp_path / "scan"), "--database-url", small_database])  # fmt: skip
    assert scanned == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.name == f"labels_{GTIN}_{LOT}.pdf"
    assert main(["label", "--gtin", GTIN, "--database-url", small_database]) == 2
    assert "label needs --gtin and --lot, or --scan" in capsys.readouterr().err
