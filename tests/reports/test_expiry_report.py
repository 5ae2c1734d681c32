"""The expiry PDF read back with pypdf, on the small supply chain plus two late dough shipments.

(Named test_expiry_report.py, not test_expiry.py: pytest's default import mode needs unique
test-module basenames and tests/lotline/test_expiry.py exists.)

As of 2026-09-16 the dough lots D1/D2 (expiry 2026-09-15) are expired and D3/D4 (2026-09-18)
are expiring in 2 days; cookies and tins (2027-01-04) are outside a 30-day window.
SHL1 leaves Chicago at 23:30 local on D3's expiry day (04:30 UTC the next day): flagged.
SHL2 leaves at 20:00 local the day before D4's expiry (01:00 UTC on the expiry day): not flagged.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa

from lotline import store
from lotline.ingest import load_folder
from reports.expiry import build_expiry, render_expiry_report

SMALL = Path(__file__).parents[1] / "data" / "small"
AS_OF = date(2026, 9, 16)
GENERATED = datetime(2026, 9, 16, 8, 0, tzinfo=timezone(timedelta(hours=-5)))
LATE_SHIPMENTS = (
    "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,serial,sscc,quantity,uom,"
    "ref_doc_type,ref_doc_number\n"
    "SHL1,2026-09-18T23:30:00-05:00,SITE-1,CUST-A,00614141000036,D3,,,10,KGM,bol,BOL-601\n"
    "SHL2,2026-09-17T20:00:00-05:00,SITE-1,CUST-B,00614141000036,D4,,,5,KGM,bol,BOL-602\n"
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    root = tmp_path_factory.mktemp("expiry")
    drop = root / "drop"
    shutil.copytree(SMALL, drop)
    (drop / "shipments_late.csv").write_text(LATE_SHIPMENTS)
    engine = store.make_engine(store.sqlite_url(root / "lotline.sqlite"))
    load_folder(engine, drop)
    return engine


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pdf")


@pytest.fixture(scope="module")
def report(engine: sa.Engine, out_dir: Path) -> Path:
    return render_expiry_report(
        engine, out_dir, as_of=AS_OF, within_days=30, generated_at=GENERATED
    )


@pytest.fixture(scope="module")
def reader(report: Path) -> pypdf.PdfReader:
    return pypdf.PdfReader(report)


@pytest.fixture(scope="module")
def body(reader: pypdf.PdfReader) -> str:
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))


def test_positions_and_late_shipments_from_the_database(engine: sa.Engine):
    data = build_expiry(engine, AS_OF, 30)
    assert data.positions.select(
        "lot", "location_id", "status", "days_to_expiry", "quantity"
    ).rows() == [
        ("D1", "SITE-1", "expired", -1, 300.0),
        ("D2", "SITE-1", "expired", -1, 155.0),
        ("D3", "SITE-1", "expiring", 2, 60.0),
        ("D4", "SITE-1", "expiring", 2, 25.0),
    ]
    assert data.late_shipments.select(
        "shipment_id", "ship_date", "days_after_expiry", "consignee_name"
    ).rows() == [("SHL1", date(2026, 9, 18), 0, "Corner Grocer Inc")]
    assert data.summary.select(
        "location_id", "expired_lots", "expired_quantity", "expiring_lots", "expiring_quantity"
    ).rows() == [("SITE-1", 2, "455 KGM", 2, "85 KGM")]


def test_window_boundary_from_the_database(engine: sa.Engine):
    # On 2026-09-15 D1/D2 expire today (0 days, still expiring); a 2-day window stops before
    # D3/D4 (2026-09-18 is 3 days away).
    data = build_expiry(engine, date(2026, 9, 15), 2)
    assert data.positions.select("lot", "status", "days_to_expiry").rows() == [
        ("D1", "expiring", 0),
        ("D2", "expiring", 0),
    ]


def test_file_name(report: Path):
    assert re.fullmatch(r"expiry_2026-09-16_EXP-20260916130000-[0-9a-f]{6}\.pdf", report.name)


def test_content(body: str):
    for section in (
        "1 Document control",
        "2 Parameters",
        "3 Summary",
        "4 Expired and expiring stock by location",
        "5 Shipments at or after expiry",
        "6 Glossary",
    ):
        assert section in body
    assert "Lotline Bakery Plant 1 (SITE-1) — 2 expired, 2 expiring" in body
    assert "expired 00614141000036 D1 Cookie dough 2026-09-15 -1 300 KGM" in body
    assert "expiring 00614141000036 D4 Cookie dough 2026-09-18 2 25 KGM" in body
    assert "SHL1 2026-09-18 Corner Grocer Inc" in body
    assert "SHL2" not in body
    assert (
        "C1" not in body.split("4 Expired and expiring stock by location")[1].split("6 Glossary")[0]
    )
    assert "2026-09-16 08:00:00 -05:00" in body


def test_page_furniture_and_pdf_a(reader: pypdf.PdfReader, report: Path):
    number = report.stem.split("_")[-1]
    pages = len(reader.pages)
    for index, page in enumerate(reader.pages, start=1):
        page_text = page.extract_text()
        assert f"Page {index} of {pages}" in page_text
        assert number in page_text
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp)


def test_attachments_round_trip(reader: pypdf.PdfReader, engine: sa.Engine):
    expected = {f.name: f.data for f in build_expiry(engine, AS_OF, 30).csv_files()}
    embedded = {name: contents[0] for name, contents in reader.attachments.items()}
    assert embedded == expected
    positions = expected["expiry_positions.csv"].decode().splitlines()
    assert positions[0].startswith("location_id,location_name,status,gtin,lot")
    assert len(positions) == 1 + 4


def test_default_as_of_is_the_utc_date_and_numbers_differ(
    engine: sa.Engine, out_dir: Path, report: Path
):
    # 21:00 on the 15th at -05:00 is already the 16th in UTC
    generated = datetime(2026, 9, 15, 21, 0, tzinfo=timezone(timedelta(hours=-5)))
    path = render_expiry_report(engine, out_dir, generated_at=generated)
    assert path.name.startswith("expiry_2026-09-16_EXP-20260916020000-")
    assert path.stem.split("_")[-1] != report.stem.split("_")[-1]
