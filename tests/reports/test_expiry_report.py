"""The expiry PDF read back with pypdf: on the small supply chain plus two late dough shipments,
and on the generated sample supply chain (scale 0.2), whose planted cases fill every section.

(Named test_expiry_report.py, not test_expiry.py: pytest's default import mode needs unique
test-module basenames and tests/lotline/test_expiry.py exists.)

As of 2026-09-16 the dough lots D1/D2 (expiry 2026-09-15) are expired and D3/D4 (2026-09-18)
are expiring in 2 days; cookies and tins (2027-01-04) are outside a 30-day window.
SHL1 leaves Chicago at 23:30 local on D3's expiry day (04:30 UTC the next day): flagged.
SHL2 leaves at 20:00 local the day before D4's expiry (01:00 UTC on the expiry day): not flagged.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pypdf
import pytest
import sqlalchemy as sa
from test_charts import pdf_figures

from lotline import store
from lotline.generate import DEFAULT_ANCHOR, generate
from lotline.intake.ingest import load_folder
from reports.expiry import build_expiry, render_expiry_report

SMALL = Path(__file__).parents[1] / "data" / "small"
SECTIONS = (
    "1 Summary",
    "1.1 Stock by location and days-to-expiry bucket",
    "2 Use-by stock on hand by location",
    "3 FEFO violations",
    "4 Shipments at or after expiry",
    "5 Customers holding short-dated stock",
    "6 Best-before dates",
    "6.1 Best-before stock on hand",
    "6.2 Shipments on or after the best-before date",
    "6.3 Customers holding stock near or past its best-before date",
    "7 Record retention",
    "8 Parameters",
    "9 Glossary",
    "10 Document control",
)
CSV_NAMES = {
    "expiry_positions.csv",
    "expiry_buckets.csv",
    "fefo_violations.csv",
    "shipped_at_or_after_expiry.csv",
    "short_dated_at_customers.csv",
    "record_retention.csv",
}


def section(body: str, start: str, end: str) -> str:
    """The text between two headings (the headings are printed once each)."""
    return body.split(start, 1)[1].split(end, 1)[0]


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
    assert data.summary.drop("location_name").rows() == [
        ("SITE-1", "use_by", "expired", "KGM", 2, 455.0, 0, 0.0),
        ("SITE-1", "use_by", "0-30 d", "KGM", 2, 85.0, 0, 0.0),
    ]
    assert data.fefo.is_empty()
    # the customers of the small chain received cookies (2027-01-04), not short-dated
    assert data.short_dated.is_empty()
    assert data.retention.height == data.retention.select("gtin", "lot").n_unique() > 0


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
    for heading in SECTIONS:
        assert heading in body
    assert "Lotline Bakery Plant 1 (SITE-1) — 2 expired, 2 expiring, 0 on hold" in body
    assert "expired expired 00614141000036 D1 Cookie dough 2026-09-15 -1 300 KGM" in body
    assert "expiring 0-30 d 00614141000036 D4 Cookie dough 2026-09-18 2 25 KGM" in body
    assert "SHL1 2026-09-18 Corner Grocer Inc" in body
    assert "SHL2" not in body
    stock = section(body, "2 Use-by stock on hand by location", "3 FEFO violations")
    assert "C1" not in stock
    assert "Generated at 2026-09-16 13:00:00 UTC" in body  # 08:00 at -05:00, printed in UTC


TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?(?P<zone>\S*(?: UTC)?)")


def test_every_time_is_printed_in_utc(body: str):
    times = list(TIME.finditer(body))
    assert len(times) >= 3  # footer of each page, generated at, snapshot created, last movement
    assert {t["zone"] for t in times} == {" UTC"}
    assert "All times are UTC (offset +00:00)" in body


def test_page_one_holds_the_summary_and_a_vector_bucket_chart(
    reader: pypdf.PdfReader, engine: sa.Engine, out_dir: Path
):
    page = reader.pages[0]
    text = re.sub(r"\s+", " ", page.extract_text())
    assert "1 Summary" in text and "1.1 Stock by location and days-to-expiry bucket" in text
    assert "455 KGM" in text and "85 KGM" in text  # the summary table: expired, 0-30 d
    (chart,) = pdf_figures(page)
    assert chart.drawing_operators > 50  # bars, axes, ticks and legend drawn as paths
    # location, unit panel and bucket legend are text; the bars are the table's quantities
    for label in ("SITE-1", "KGM (kilogram)", "expired", "0-30 d", "455", "85", "540"):
        assert label in chart.texts, label
    empty = render_expiry_report(
        engine, out_dir, as_of=date(2020, 1, 1), within_days=1, generated_at=GENERATED
    )
    first = pypdf.PdfReader(empty).pages[0]
    assert pdf_figures(first) == [] and "No dated stock on hand" in first.extract_text()


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
    assert set(expected) == CSV_NAMES
    assert embedded == expected
    positions = expected["expiry_positions.csv"].decode().splitlines()
    assert positions[0].startswith("location_id,location_name,status,bucket,gtin,lot")
    assert positions[0].endswith("hold_status,hold_since,hold_reason,serials_restricted,keep_until")
    assert len(positions) == 1 + 4


def test_default_as_of_is_the_utc_date_and_numbers_differ(
    engine: sa.Engine, out_dir: Path, report: Path
):
    # 21:00 on the 15th at -05:00 is already the 16th in UTC
    generated = datetime(2026, 9, 15, 21, 0, tzinfo=timezone(timedelta(hours=-5)))
    path = render_expiry_report(engine, out_dir, generated_at=generated)
    assert path.name.startswith("expiry_2026-09-16_EXP-20260916020000-")
    assert path.stem.split("_")[-1] != report.stem.split("_")[-1]
    from reports import register

    for pdf in (path, report):  # both numbers are in the register with their PDF's hash
        entry = register.issued(engine, pdf.stem.split("_")[-1])
        assert entry is not None and entry["kind"] == "expiry"
        assert entry["pdf_sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()


# --- the generated sample supply chain ----------------------------------------------------------

SAMPLE_AS_OF = DEFAULT_ANCHOR
BUTTER_COOKIES = "18719327101015"


@pytest.fixture(scope="module")
def sample_engine(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    root = tmp_path_factory.mktemp("sample")
    generate(root / "drop", seed=7, scale=0.2)
    engine = store.make_engine(store.sqlite_url(root / "lotline.sqlite"))
    load_folder(engine, root / "drop")
    return engine


@pytest.fixture(scope="module")
def sample(sample_engine: sa.Engine):  # type: ignore[no-untyped-def]
    return build_expiry(sample_engine, SAMPLE_AS_OF)


@pytest.fixture(scope="module")
def sample_pdf(sample_engine: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_expiry_report(
        sample_engine, tmp_path_factory.mktemp("sample_pdf"), as_of=SAMPLE_AS_OF
    )


@pytest.fixture(scope="module")
def sample_body(sample_pdf: Path) -> str:
    reader = pypdf.PdfReader(sample_pdf)
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))


def test_the_sample_data_fills_every_section(sample):  # type: ignore[no-untyped-def]
    assert sample.within_days == 180
    # PLANTED in the generator: one Joliet butter-cookie line picked from a newer lot
    assert sample.fefo.select("from_location_id", "gtin", "earlier_lot_count").rows() == [
        ("WH-JOL", BUTTER_COOKIES, 1)
    ]
    # PLANTED: the crumb lots on QA hold, still on hand at the bakery
    held = sample.positions.filter(pl.col("hold_status") == "hold")
    assert held["location_id"].unique().to_list() == ["SITE-CHI"]
    assert "expired" in held["status"].to_list()
    assert sample.summary["held_lots"].sum() == held.height
    # industrial customers hold crumb that expired after they received it
    assert sample.short_dated.filter(pl.col("status") == "expired").height > 0
    # pralines and bars are best-before: on hand in the best-before section only
    best_before = sample.positions.filter(pl.col("expiry_kind") == "best_before")
    assert best_before.height > 0 and "expired" not in best_before["status"].to_list()
    # every lot of the snapshot has a retention date; every position shows its keep-until
    assert sample.retention["keep_until"].null_count() == 0
    assert sample.positions["keep_until"].null_count() == 0
    assert set(sample.positions["bucket"]) <= {"expired", "0-30 d", "31-90 d", "91-180 d"}


def test_the_sample_pdf_shows_each_new_section_with_its_rows(sample, sample_body):  # type: ignore[no-untyped-def]
    body = sample_body
    for heading in SECTIONS:
        assert heading in body
    positions = section(body, "2 Use-by stock on hand by location", "3 FEFO violations")
    held = sample.positions.filter(pl.col("hold_status").is_not_null()).row(0, named=True)
    assert f"{held['lot']} " in positions and "hold since" in positions
    summary = section(body, "1.1 Stock by location and days-to-expiry bucket", "2 Use-by")
    assert "SITE-CHI use-by expired" in summary and "91-180 d" in summary

    fefo = section(body, "3 FEFO violations", "4 Shipments at or after expiry")
    violation = sample.fefo.row(0, named=True)
    earlier = violation["earlier_lots"].split(" ")[0]
    for text in (violation["shipment_id"], violation["lot"], earlier, BUTTER_COOKIES):
        assert text in fefo

    late = section(body, "4 Shipments at or after expiry", "5 Customers holding")
    assert sample.late_shipments["shipment_id"][0] in late

    customers = section(body, "5 Customers holding short-dated stock", "6 Best-before dates")
    short = sample.short_dated.row(0, named=True)
    assert short["lot"] in customers and short["consignee_phone"] in customers
    assert short["consignee_name"].split(" ")[0] in customers

    best_before = section(body, "6.1 Best-before stock on hand", "6.2 Shipments")
    lot = sample.positions.filter(pl.col("expiry_kind") == "best_before")["lot"][0]
    assert lot in best_before and "best-before soon" in best_before
    assert lot not in positions

    retention = section(body, "7 Record retention", "8 Parameters")
    # lot codes are shared by co-products (cookie cases and tins): the lot is gtin + lot
    row = sample.retention.filter(
        (pl.col("gtin") == violation["gtin"]) & (pl.col("lot") == violation["lot"])
    ).row(0, named=True)
    assert f"{row['lot']} " in retention and row["keep_until"].isoformat() in retention
    assert f"All {sample.retention.height} lots of the data snapshot" in retention

    glossary = section(body, "9 Glossary", "10 Document control")
    for term in ("Bucket", "FEFO violation", "FSMA 204", "DSCSA", "EU FMD/GMP", "211.150"):
        assert term in glossary


def test_the_sample_chart_shows_every_location_and_bucket_on_page_one(sample, sample_pdf):  # type: ignore[no-untyped-def]
    (chart,) = pdf_figures(pypdf.PdfReader(sample_pdf).pages[0])
    for location, kind in sample.summary.select("location_id", "expiry_kind").unique().rows():
        assert (location if kind == "use_by" else f"{location} best-before") in chart.texts
    for bucket in sample.summary["bucket"].unique():
        assert bucket in chart.texts
    for unit in sample.summary["uom"].unique():  # a panel per unit, titled by it
        assert any(t.startswith(f"{unit} (") for t in chart.texts)


def test_the_sample_csvs_round_trip_byte_identical(sample, sample_pdf):  # type: ignore[no-untyped-def]
    reader = pypdf.PdfReader(sample_pdf)
    embedded = {name: contents[0] for name, contents in reader.attachments.items()}
    # build_expiry is deterministic for a snapshot: the same bytes as the rendering embedded
    assert embedded == {f.name: f.data for f in sample.csv_files()}
    assert set(embedded) == CSV_NAMES
    fefo = pl.read_csv(embedded["fefo_violations.csv"], infer_schema=False)
    assert fefo["lot"].to_list() == sample.fefo["lot"].to_list()
    retention = pl.read_csv(embedded["record_retention.csv"], infer_schema=False)
    assert retention.height == sample.retention.height
