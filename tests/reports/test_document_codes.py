"""Every lotline document carries a QR code with its number, snapshot and how to verify it."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import sqlalchemy as sa
import zxingcpp
from PIL import Image

from lotline import mock_recall
from reports import register
from reports.barcodes import parse_document_code
from reports.expiry import render_expiry_report
from reports.mock_recall import render_mock_recall_report


def _first_page_codes(pdf: Path, tmp_path: Path) -> list[str]:
    prefix = tmp_path / pdf.stem
    subprocess.run(
        ["pdftoppm", "-r", "300", "-png", "-f", "1", "-l", "1", str(pdf), str(prefix)], check=True
    )
    (page,) = sorted(tmp_path.glob(f"{pdf.stem}*.png"))
    found = zxingcpp.read_barcodes(Image.open(page), formats=zxingcpp.BarcodeFormat.QRCode)
    return [code.text for code in found]


def test_expiry_and_drill_documents_carry_their_code(
    small_engine: sa.Engine, tmp_path: Path
) -> None:
    expiry = render_expiry_report(small_engine, tmp_path, as_of=date(2026, 9, 15))
    drill = mock_recall.run_drill(small_engine, "00614141000043", "C1", "both", run_by="test")
    evidence = render_mock_recall_report(small_engine, drill, tmp_path)
    for pdf in (expiry, evidence):
        (text,) = _first_page_codes(pdf, tmp_path)
        fields = parse_document_code(text)
        number = pdf.stem.rsplit("_", 1)[-1]
        assert fields["number"] == number, fields
        assert register.issued(small_engine, number) is not None
        assert fields["verify"] == f"lotline verify {pdf.name}"
