"""The recall PDF read back with pypdf: content, page furniture, PDF/A-3 and attachments.

One database (the small supply chain plus a rejected shipment row of the subject lot) and one
rendering are shared by the module: loading runs the validation suites and takes seconds.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa

from lotline import store
from lotline.ingest import load_folder
from lotline.trace import UnknownSubject
from reports.recall import build_recall, render_recall_report
from reports.render import safe_name, write_pdf

SMALL = Path(__file__).parents[1] / "data" / "small"
GTIN = "00614141000043"
LOT = "C1"
GENERATED = datetime(2026, 11, 26, 14, 30, tzinfo=timezone(timedelta(hours=-5)))
# A shipment of the subject lot with a wrong SSCC check digit: rejected at load, and the report
# must list it among the data-quality exceptions of the trace.
BAD_SHIPMENT = (
    "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,serial,sscc,quantity,uom,"
    "ref_doc_type,ref_doc_number\n"
    "SH9,2026-09-13T07:00:00-05:00,WH-1,CUST-A,00614141000043,C1,,306141410000000014,5,CS,"
    "bol,BOL-509\n"
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    root = tmp_path_factory.mktemp("recall")
    drop = root / "drop"
    shutil.copytree(SMALL, drop)
    (drop / "shipments_bad.csv").write_text(BAD_SHIPMENT)
    engine = store.make_engine(store.sqlite_url(root / "lotline.sqlite"))
    load_folder(engine, drop)
    return engine


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pdf")


@pytest.fixture(scope="module")
def report(engine: sa.Engine, out_dir: Path) -> Path:
    return render_recall_report(engine, GTIN, LOT, out_dir, generated_at=GENERATED)


@pytest.fixture(scope="module")
def reader(report: Path) -> pypdf.PdfReader:
    return pypdf.PdfReader(report)


@pytest.fixture(scope="module")
def text(reader: pypdf.PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """Text with line breaks folded: table cells wrap."""
    return re.sub(r"\s+", " ", text)


def test_file_name_carries_gtin_lot_and_document_number(report: Path):
    assert re.fullmatch(rf"recall_{GTIN}_{LOT}_REC-20261126193000-[0-9a-f]{{6}}\.pdf", report.name)
    assert not list(report.parent.glob("*.part"))


def test_document_control(text: str, report: Path, engine: sa.Engine):
    number = report.stem.split("_")[-1]
    body = flat(text)
    assert number in body
    assert "DRAFT" in body
    assert "2026-11-26 14:30:00 -05:00" in body
    assert "2026-11-26 19:30:00 UTC" in body
    with engine.connect() as conn:
        snapshot_id = conn.execute(sa.text("select snapshot_id from lot limit 1")).scalar()
    assert f"Snapshot {snapshot_id}" in body


def test_every_page_has_header_and_page_n_of_n(reader: pypdf.PdfReader, report: Path):
    pages = len(reader.pages)
    assert pages >= 1
    number = report.stem.split("_")[-1]
    for index, page in enumerate(reader.pages, start=1):
        page_text = page.extract_text()
        assert f"Page {index} of {pages}" in page_text
        assert number in page_text


def test_sections_in_order(text: str):
    body = flat(text)
    positions = [
        body.index(title)
        for title in (
            "1 Document control",
            "2 Scope",
            "3 Summary",
            "4 Backward trace",
            "5 Transformation lineage",
            "6 Forward trace",
            "7 Data-quality exceptions",
            "8 Glossary",
        )
    ]
    assert positions == sorted(positions)


def test_subject_consignees_suppliers_and_quantities(text: str):
    body = flat(text)
    assert f"Lot {LOT} of GTIN {GTIN}" in body
    assert "Butter cookies 12x200g" in body
    for name in (
        "Corner Grocer Inc",
        "MegaMart Distribution",
        "Prairie Mill Co",
        "Gulf Sugar Refinery",
    ):
        assert name in body
    # consignee addresses and phones (21 CFR 7.46 / 806.10 need them to reach the accounts)
    assert "22 Main St, Springfield, IL 62701, US" in body
    assert "+1 555 0105" in body
    # shipped quantities: per consignee and per shipment line
    assert "C1 50 CS" in body  # Corner Grocer: lots, quantity
    assert "C1, T1 30 CS; 1 EA" in body  # MegaMart: never adds cases and eaches
    assert re.search(
        r"SH1 2026-09-10 07:00 -05:00 Corner Grocer Inc 00614141000043 C1 .* 50 CS", body
    )
    # summary quantities of the subject lot and direct accounts
    for figure in ("100 CS", "80 CS", "20 CS", "3 CS", "2 CS"):
        assert figure in body
    assert "2 consignees received traced stock" in body
    # supplier receipts with TLC source reference and quantities
    assert "1,000 KGM 0614141000012 po PO-1001" in body
    # a transformation with quantity used and quantity produced
    assert "400 KGM Cookie dough 00614141000036 D1 600 KGM" in body


def test_data_quality_exceptions_list_the_rejected_row_of_the_lot(text: str):
    body = flat(text)
    assert "shipments_bad.csv 2 shipments 00614141000043 C1 sscc sscc_check_digit" in body
    assert "All rejected rows by rule (1 failures in all loads)" in body


def test_pdf_a_3_metadata(reader: pypdf.PdfReader):
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp)
    assert re.search(r'pdfaid:conformance(="|>)B', xmp)
    assert reader.metadata.title.startswith("Lot Traceability & Recall Report")


def test_attachments_round_trip_byte_identical(
    reader: pypdf.PdfReader, engine: sa.Engine, text: str
):
    expected = {f.name: f.data for f in build_recall(engine, GTIN, LOT).csv_files()}
    assert set(expected) == {"lots.csv", "shipments.csv", "receipts.csv", "transformations.csv"}
    embedded = {name: contents[0] for name, contents in reader.attachments.items()}
    assert embedded == expected
    for name, data in expected.items():  # the manifest printed in the PDF matches the bytes
        assert hashlib.sha256(data).hexdigest() in text, name
    for spec in reader.trailer["/Root"]["/AF"]:
        assert spec.get_object()["/AFRelationship"] == "/Data"
    assert b"Corner Grocer Inc" in expected["shipments.csv"]
    assert expected["lots.csv"].count(b"\n") == 1 + 8  # header + subject, 6 back, 1 forward


def test_two_renderings_get_different_document_numbers(
    engine: sa.Engine, out_dir: Path, report: Path
):
    again = render_recall_report(engine, GTIN, LOT, out_dir, generated_at=GENERATED)
    assert again != report and again.exists() and report.exists()
    first, second = report.stem.split("_")[-1], again.stem.split("_")[-1]
    assert first != second
    assert second in pypdf.PdfReader(again).pages[0].extract_text()


def test_backward_only_with_bounded_tables(engine: sa.Engine, out_dir: Path):
    path = render_recall_report(
        engine, GTIN, LOT, out_dir, direction="backward", max_rows=2, generated_at=GENERATED
    )
    reader = pypdf.PdfReader(path)
    body = flat("\n".join(page.extract_text() for page in reader.pages))
    assert "Showing 2 of 7 rows: 5 more rows in the attached CSV lots.csv" in body
    assert "Not part of this report (trace direction: backward)" in body
    assert "Corner Grocer Inc" not in body
    assert "Prairie Mill Co" in body
    embedded = {name: contents[0] for name, contents in reader.attachments.items()}
    assert embedded["shipments.csv"].count(b"\n") == 1  # header only


def test_unknown_lot_and_direction_are_refused(engine: sa.Engine, out_dir: Path):
    with pytest.raises(UnknownSubject):
        render_recall_report(engine, GTIN, "NO-SUCH-LOT", out_dir)
    with pytest.raises(ValueError):
        render_recall_report(engine, GTIN, LOT, out_dir, direction="sideways")  # type: ignore[arg-type]


def test_file_name_parts_are_sanitised():
    assert safe_name("../A B/C") == "A_B_C"
    assert safe_name("LOT-7_x") == "LOT-7_x"
    assert safe_name("///") == "_"


def test_renderer_refuses_resources_outside_the_templates(tmp_path: Path):
    for html in (
        '<img src="https://example.com/logo.png">',
        '<link rel="stylesheet" href="file:///etc/hostname">',
        '<link rel="stylesheet" href="../recall.py">',
    ):
        with pytest.raises(RuntimeError, match="refused"):
            write_pdf(
                f"<html><head></head><body>{html}x</body></html>", tmp_path / "x.pdf", None, "x"
            )
    assert not list(tmp_path.iterdir())


def test_lineage_shows_shares_and_exposure(text: str):
    """Edges carry the share of the output each input made (P3: C1 is 3/4 D1, 1/4 D2; P1: D1
    is 2/3 F1, 1/3 S1), and downstream lots the share of the subject they contain."""
    body = flat(text)
    assert "Share of output" in body and "Contains of subject" in body
    for share in ("75.0 %", "25.0 %", "66.7 %", "33.3 %", "100.0 %"):
        assert share in body, share


def test_distribution_names_a_few_lots_and_counts_the_rest():
    """A hub lot's recall reaches thousands of lots: one table cell must not list them all."""
    from datetime import date

    import polars as pl

    from reports.recall import LOTS_LISTED, _distribution

    shipments = pl.DataFrame(
        {
            "gtin": ["00614141000043"] * 20 + ["00614141000050"],
            "uom": ["CS"] * 20 + ["EA"],
            "lot": [f"L{i:02d}" for i in range(20)] + ["T1"],
            "quantity": [1.0] * 21,
            "to_location_id": ["CUST-A"] * 21,
            "ship_date": [date(2026, 9, 10)] * 21,
        }
    )
    rows = _distribution(shipments).rows(named=True)
    many, one = rows
    assert many["lots"].startswith("L00, L01") and many["lots"].endswith(
        f"… (+{20 - LOTS_LISTED} more)"
    )
    assert one["lots"] == "T1" and many["quantity"] == 20.0
