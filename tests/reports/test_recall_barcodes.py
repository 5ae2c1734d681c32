"""Barcodes on the recall report: the page-1 QR code read back by a real decoder from the printed
page, and a GS1 Digital Link on every lot code of its tables.

One database (the small supply chain) and one rendering are shared by the module."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pypdf
import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from lotline import api, store
from lotline.gs1.uri import parse_uri
from reports import barcodes, register
from reports.recall import build_recall, render_recall_report
from reports.render import Column, table
from reports.verify import verify

GTIN, LOT = "00614141000043", "C1"


@pytest.fixture(scope="module")
def engine(small_database: str) -> sa.Engine:
    return store.make_engine(small_database)


@pytest.fixture(scope="module")
def report(engine: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_recall_report(
        engine,
        GTIN,
        LOT,
        tmp_path_factory.mktemp("pdf"),
        generated_at=datetime(2026, 11, 26, tzinfo=UTC),
    )


def test_page_one_qr_code_names_the_document_snapshot_and_check(
    report: Path, engine: sa.Engine, small_database: str
):
    subprocess.run(
        ["pdftoppm", "-r", "300", "-png", "-f", "1", "-l", "1", report, report.with_suffix("")],
        check=True,
    )
    (png,) = report.parent.glob(f"{report.stem}-*1.png")
    (code,) = zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode)
    fields = barcodes.parse_document_code(code.text)
    number = report.stem.rsplit("_", 1)[1]
    assert fields == {
        "number": number,
        "snapshot": api.current_snapshot(engine)["snapshot_id"],
        "verify": f"lotline verify {report.name}",
    }
    assert register.issued(engine, number)["file_name"] == report.name
    assert verify(report, small_database).code == 0  # the code changes nothing verify checks
    # section 14 prints what the code says (wrapped anywhere: compared without white space)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(report).pages[-3:])
    assert "".join(code.text.split()) in "".join(text.split())


def links(path: Path) -> list[str]:
    uris = []
    for page in pypdf.PdfReader(path).pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation["/Subtype"] == "/Link" and "/URI" in annotation["/A"]:
                assert annotation["/F"] & 4  # printable: PDF/A requires the print flag
                uris.append(str(annotation["/A"]["/URI"]))
    return uris


def test_every_traced_lot_links_to_its_digital_link(report: Path, engine: sa.Engine):
    uris = links(report)
    keys = [parse_uri(u) for u in uris]
    assert {k.kind for k in keys} == {"lgtin"}
    linked = {(k.gtin, k.lot) for k in keys}
    traced = set(build_recall(engine, GTIN, LOT).lots.select("gtin", "lot").iter_rows())
    assert linked == traced
    assert uris.count(f"https://id.gs1.org/01/{GTIN}/10/{LOT}") >= 4  # in several tables


def test_lot_codes_are_percent_encoded_and_only_with_a_valid_gtin():
    frame = pl.DataFrame(
        {
            "gtin": ["00614141000043", "00614141000044", "00614141000036"],
            "lot": ["A/B 1", "X", None],
            "input_gtin": ["00614141000012", None, None],
            "input_lot": ["F#2", None, None],
        }
    )
    columns = [Column(k, k, 25) for k in frame.columns]
    rows = barcodes.with_digital_links(table(frame, columns)).rows
    assert rows[0][1].href == "https://id.gs1.org/01/00614141000043/10/A%2FB%201"
    assert rows[0][3].href == "https://id.gs1.org/01/00614141000012/10/F%232"
    assert parse_uri(rows[0][1].href).lot == "A/B 1"
    assert rows[0][1] == "A/B 1"  # the printed text is unchanged
    assert not hasattr(rows[1][1], "href")  # wrong check digit: no link
    assert not hasattr(rows[2][1], "href")  # no lot
