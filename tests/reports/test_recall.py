"""The recall PDF read back with pypdf: content, page furniture, PDF/A-3 and attachments.

One database (the small supply chain plus a rejected shipment row of the subject lot, then a
later load with warned rows and a correction) and one rendering are shared by the module: loading
runs the validation suites and takes seconds.
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
from lotline.intake.ingest import load_folder
from lotline.trace import UnknownSubject
from reports import register
from reports.recall import FSMA_FILE, RecallRequest, build_recall, render_recall_report
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

STATUS_HEADER = "status_id,at,gtin,lot,serial,status,actor,reason,ref_doc_type,ref_doc_number\n"
# QA holds lot C2 (in the backward trace through the rework P6); a second file adds dough lot D2
# to the same decision QA-7: the audit extract must show that event as recorded in two files.
HOLD = STATUS_HEADER + (
    "QA-7,2026-09-20T10:00:00-05:00,00614141000043,C2,,hold,QA J. Doe,micro test pending,,\n"
)
HOLD_ADDED = STATUS_HEADER + (
    "QA-7,2026-09-20T10:00:00-05:00,00614141000036,D2,,hold,QA J. Doe,micro test pending,,\n"
)
MOVES_HEADER = (
    "move_id,moved_at,gtin,lot,serial,quantity,uom,from_location_id,to_location_id,reason\n"
)
# A later load. Two scraps naming a destination: they load with the warning
# scrap_without_destination; gift tin T1 is in the forward trace of C1, dough lot D4 (made from
# flour F2 for another product) is not, so only the first is the recall's business.
SCRAPS = MOVES_HEADER + (
    "M9,2026-09-09T09:00:00-05:00,00614141000050,T1,T1-0002,1,EA,SITE-1,WH-1,scrap\n"
    "M10,2026-09-09T10:00:00-05:00,00614141000036,D4,,5,KGM,SITE-1,SUP-SUGAR,scrap\n"
)
# ...and a correction of the subject lot's shipment SH1: only its bill of lading number changes.
SH1_FIX = (
    "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,serial,sscc,quantity,uom,"
    "ref_doc_type,ref_doc_number,correction_reason\n"
    "SH1,2026-09-10T07:00:00-05:00,WH-1,CUST-A,00614141000043,C1,,306141410000000013,50,CS,"
    "bol,BOL-510,BOL number keyed wrong\n"
)
REQUEST = RecallRequest.parse("FDA-2026-0042", "FDA CORE", "2026-11-26T09:00:00-05:00")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    root = tmp_path_factory.mktemp("recall")
    drop = root / "drop"
    shutil.copytree(SMALL, drop)
    (drop / "shipments_bad.csv").write_text(BAD_SHIPMENT)
    (drop / "status_hold.csv").write_text(HOLD)
    (drop / "status_hold_added.csv").write_text(HOLD_ADDED)
    engine = store.make_engine(store.sqlite_url(root / "lotline.sqlite"))
    load_folder(engine, drop)
    later = root / "later"
    later.mkdir()
    (later / "moves_late.csv").write_text(SCRAPS)
    (later / "shipments_fix.csv").write_text(SH1_FIX)
    load_folder(engine, later)
    return engine


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pdf")


@pytest.fixture(scope="module")
def report(engine: sa.Engine, out_dir: Path) -> Path:
    return render_recall_report(
        engine,
        GTIN,
        LOT,
        out_dir,
        generated_at=GENERATED,
        request=REQUEST,
        prepared_by="A. Analyst",
    )


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
        snapshot_id = conn.execute(  # the newest: lots a later load did not touch keep theirs
            sa.text("select snapshot_id from snapshot order by created_at desc limit 1")
        ).scalar()
    assert f"Snapshot {snapshot_id}" in body


def test_every_page_has_header_and_page_n_of_n(reader: pypdf.PdfReader, report: Path):
    pages = len(reader.pages)
    assert pages >= 1
    number = report.stem.split("_")[-1]
    for index, page in enumerate(reader.pages, start=1):
        page_text = page.extract_text()
        assert f"Page {index} of {pages}" in page_text
        assert number in page_text


SECTIONS = (
    "1 Summary and actions",
    "2 Lineage diagram and exposure",
    "3 Request and scope",
    "4 Quantities and direct accounts",
    "5 Backward trace",
    "6 Transformation lineage",
    "7 Forward trace",
    "8 Inventory and hold status",
    "9 Mass balance",
    "10 Data-quality exceptions",
    "11 Codes and glossary",
    "12 Audit extract",
    "13 Embedded data manifest",
    "14 Document control",
    "15 Signatures",
)


def test_sections_in_order(text: str):
    body = flat(text)
    positions = [body.index(title) for title in SECTIONS]
    assert positions == sorted(positions)


def test_request_and_due_time(reader: pypdf.PdfReader, text: str):
    """Received 09:00 -05:00, due 24 h later; rendered 14:30 the same day: in time. The
    reference and due time are in every page header."""
    body = flat(text)
    assert "Request reference FDA-2026-0042" in body
    assert "Requester FDA CORE" in body
    assert (
        "Request received 2026-11-26 14:00:00 UTC (2026-11-26 09:00:00 -05:00 as received)" in body
    )
    assert "Answer due 2026-11-27 14:00:00 UTC (received + 24 h) — answered in time" in body
    assert "version 1" in body and "code revision" in body
    for page in reader.pages:  # the page header, in UTC as every time of the body
        assert "Request FDA-2026-0042, due 2026-11-27 14:00 UTC" in flat(page.extract_text())


def test_late_answer_is_marked(engine: sa.Engine, out_dir: Path):
    late = RecallRequest.parse("FDA-2026-0043", "", "2026-11-25T09:00:00-05:00")
    path = render_recall_report(engine, GTIN, LOT, out_dir, generated_at=GENERATED, request=late)
    body = flat(pypdf.PdfReader(path).pages[0].extract_text())
    assert "LATE: generated after the due time" in body
    with pytest.raises(ValueError, match="needs a UTC offset"):
        RecallRequest.parse("X", "", "2026-11-25T09:00:00")


def test_inventory_and_hold_status(text: str):
    """C2 and D2 are held, D1 expired on 2026-09-15 (a hold outranks expiry), the rest
    sellable."""
    body = flat(text)
    section = body[body.index("8 Inventory and hold status") : body.index("9 Mass balance")]
    assert re.search(r"WH-1 00614141000043 C2 .*31 CS 2027-01-04 hold: micro test pending", section)
    assert "non_sellable_other" in section
    assert re.search(r"D1 Cookie dough 300 KGM 2026-09-15 — 0 expired", section)
    assert re.search(
        r"D2 Cookie dough 155 KGM 2026-09-15 hold: micro test pending 0 non_sellable_other", section
    )
    assert "sellable_accessible" in section


def test_mass_balance_with_tolerance(text: str):
    body = flat(text)
    section = body[body.index("9 Mass balance") : body.index("10 Data-quality exceptions")]
    assert "within 99.5 % – 101.5 % of inflow; 8 of 8 traced lots pass" in section
    assert re.search(
        r"00614141000043 C1 Butter cookies 12x200g subject CS 105 3 80 2 20 105 0 100.0 % pass",
        section,
    )
    assert re.search(r"KGM 5 0 3,405 1,950 0 1,455 3,405 0 100.0 % pass", section)
    assert "Mass balance of the subject lot: pass, 100.0 % accounted for" in body


def test_completeness_findings_of_the_traced_lots(text: str):
    body = flat(text)
    section = body[body.index("10 Data-quality exceptions") : body.index("11 Codes and glossary")]
    assert "output_outlives_input warning 3 3" in section
    assert "expiry 2027-01-04 is later than input lot D1 expiry 2026-09-15" in section


def test_glossary_maps_columns_to_the_rule(text: str):
    body = flat(text)
    section = body[body.index("11 Codes and glossary") : body.index("12 Audit extract")]
    assert "Receiving 21 CFR 1.1345(a)(1) Traceability Lot Code (TLC)" in section
    assert "Transformation 21 CFR 1.1350(a)(2)(iv)" in section
    assert "kilogram" in section and "bill of lading" in section


def test_audit_extract_names_input_files_and_repeated_events(text: str, engine: sa.Engine):
    body = flat(text)
    section = body[body.index("12 Audit extract") : body.index("13 Embedded data manifest")]
    with engine.connect() as conn:
        files = dict(conn.execute(sa.text("select file_name, sha256 from source_file")).all())
    for name in ("receipts.csv", "production.csv", "shipments.csv", "status_hold.csv"):
        assert name in section
        assert files[name] in section.replace(" ", "") or files[name][:20] in section
    assert re.search(r"status QA-7 2 2", section)


def test_signature_block_per_part_11(text: str):
    body = flat(text)
    section = body[body.index("15 Signatures") :]
    for role in ("Prepared by", "Reviewed by", "Approved by"):
        assert role in section
    assert "Meaning of the signature" in section and "printed name" in section
    assert "A. Analyst 2026-11-26 19:30:00 UTC I generated this report" in section


def test_document_number_is_registered_with_the_pdf_hash(engine: sa.Engine, report: Path):
    number = report.stem.split("_")[-1]
    entry = register.issued(engine, number)
    assert entry is not None and entry["kind"] == "recall"
    assert entry["pdf_sha256"] == hashlib.sha256(report.read_bytes()).hexdigest()
    assert entry["request_reference"] == "FDA-2026-0042"


def test_a_number_is_never_issued_twice(engine: sa.Engine):
    taken = register.issue_number(engine, "recall", "TST", GENERATED, "t")
    numbers = iter([taken, taken, "TST-fresh"])
    again = register.issue_number(
        engine, "recall", "TST", GENERATED, "t", number_source=lambda *_: next(numbers)
    )
    assert again == "TST-fresh"  # the clashing number was refused by the register
    with pytest.raises(register.NumberUnavailable):
        register.issue_number(
            engine, "recall", "TST", GENERATED, "t", number_source=lambda *_: taken
        )


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
    assert re.search(r"SH1 2026-09-10 12:00 Corner Grocer Inc 00614141000043 C1 .* 50 CS", body)
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


def test_warnings_of_the_traced_lots_are_listed_and_attached(
    text: str, reader: pypdf.PdfReader, engine: sa.Engine
):
    """The scrap of gift tin T1 loaded with a warning: listed by rule and as a row, in
    warnings.csv too; the scrap of D4, a lot outside the trace, is not."""
    from lotline import api

    stored = api.record_findings(engine)
    assert sorted(stored["lot"]) == ["D4", "T1"]  # both loaded with the warning
    body = flat(text)
    section = body[body.index("10 Data-quality exceptions") : body.index("11 Codes and glossary")]
    assert "rows that loaded although something looked wrong" in section
    assert "(1 warning on 1 lot)" in section
    assert "scrap_without_destination to_location_id moves 1 1 1 WH-1" in section
    assert re.search(
        r"moves_late.csv 2 moves 00614141000050 T1 to_location_id scrap_without_destination "
        r"WH-1 scrap/destroy names a destination",
        section,
    )
    assert "D4" not in section and "SUP-SUGAR" not in section and "moves_late.csv 3" not in section
    warnings = reader.attachments["warnings.csv"][0].decode()
    assert warnings.count("\n") == 2  # header + the T1 row
    assert "scrap_without_destination" in warnings and ",D4," not in warnings


def test_audit_extract_has_the_record_history(text: str, reader: pypdf.PdfReader):
    """The correction of SH1 (21 CFR 11.10(e)): who sent it (file and row), what changed from
    what to what, and why; the corrected value is what the shipment table shows."""
    body = flat(text)
    section = body[body.index("12 Audit extract") : body.index("13 Embedded data manifest")]
    assert "Record history: corrections and voids of the traced lots' records (1 change" in section
    assert re.search(
        r"shipments_fix.csv row 2 shipments SH1 / 00614141000043 / C1 / 306141410000000013 C1 1 "
        r"corrected ref_doc_number BOL-501 BOL-510 BOL number keyed wrong",
        section,
    )
    assert "bol BOL-510" in body and "bol BOL-501" not in body
    history = reader.attachments["record_history.csv"][0].decode()
    assert "BOL-501,BOL-510,BOL number keyed wrong" in history
    assert "shipments.csv row 2" in history  # where the replaced version was loaded from


def test_pdf_a_3_metadata(reader: pypdf.PdfReader):
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp)
    assert re.search(r'pdfaid:conformance(="|>)B', xmp)
    assert reader.metadata.title.startswith("Lot Traceability & Recall Report")


def test_output_intent_fonts_and_tags(reader: pypdf.PdfReader):
    """PDF/A needs an output intent with an embedded ICC profile and every font embedded; the
    structure tree makes the tables readable to screen readers (tagged PDF)."""
    root = reader.trailer["/Root"]
    (intent,) = [i.get_object() for i in root["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object().get_data()[36:40] == b"acsp"  # ICC magic
    fonts = 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if font["/Subtype"] == "/Type0":
                font = font["/DescendantFonts"][0].get_object()
            descriptor = font["/FontDescriptor"].get_object()
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font["/BaseFont"]
            assert "DejaVu" in str(descriptor["/FontName"]) or "Report" in str(font["/BaseFont"])
            fonts += 1
    assert fonts >= 2
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root
    assert root["/Lang"] == "en"


def test_attachments_round_trip_byte_identical(
    reader: pypdf.PdfReader, engine: sa.Engine, text: str
):
    expected = {f.name: f.data for f in build_recall(engine, GTIN, LOT).attachments()}
    assert set(expected) == {
        "lots.csv",
        "shipments.csv",
        "receipts.csv",
        "transformations.csv",
        "inventory.csv",
        "mass_balance.csv",
        "exceptions.csv",
        "warnings.csv",
        "record_history.csv",
        FSMA_FILE,
        "epcis.jsonld",  # the scope's EPCIS 2.0 events: tests/reports/test_recall_epcis.py
    }
    embedded = {name: contents[0] for name, contents in reader.attachments.items()}
    assert embedded == expected
    for name, data in expected.items():  # the manifest printed in the PDF matches the bytes
        assert hashlib.sha256(data).hexdigest() in text, name
    relationships = {
        spec.get_object()["/F"]: spec.get_object()["/AFRelationship"]
        for spec in reader.trailer["/Root"]["/AF"]
    }
    assert relationships == {**dict.fromkeys(expected, "/Data"), "provenance.json": "/Supplement"}
    assert b"Corner Grocer Inc" in expected["shipments.csv"]
    assert expected["lots.csv"].count(b"\n") == 1 + 8  # header + subject, 6 back, 1 forward


def test_embedded_spreadsheet_matches_the_trace(reader: pypdf.PdfReader, engine: sa.Engine):
    """The FSMA 204 workbook inside the PDF: one sheet per CTE with the KDE columns, one row
    per receipt line, shipment line and input lot of the trace, and the glossary."""
    import io

    import openpyxl

    from lotline import api, fsma204

    workbook = openpyxl.load_workbook(io.BytesIO(reader.attachments[FSMA_FILE][0]))
    assert workbook.sheetnames == list(fsma204.SHEETS)
    result = api.trace_lot(engine, GTIN, LOT)
    expected_rows = {
        fsma204.RECEIVING: result.receipts.height,
        fsma204.SHIPPING: result.shipments.height,
        fsma204.TRANSFORMATION: result.edges.height,
    }
    for sheet, rows in expected_rows.items():
        values = list(workbook[sheet].values)
        assert any("Traceability Lot Code (TLC)" in str(c) for c in values[0]), sheet
        assert len(values) - 1 == rows, sheet
    shipping = list(workbook[fsma204.SHIPPING].values)
    assert list(shipping[0]) == fsma204.SHIPPING_COLUMNS
    assert {row[shipping[0].index("Traceability Lot Code (TLC)")] for row in shipping[1:]} == {
        "C1",
        "T1",
    }


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


# --- page 1: the executive summary and actions (issue 10) ---------------------------------------


@pytest.fixture(scope="module")
def summary(engine: sa.Engine):
    from lotline import api

    return api.recall_summary(engine, GTIN, LOT)


@pytest.fixture(scope="module")
def first_page(reader: pypdf.PdfReader) -> str:
    return flat(reader.pages[0].extract_text())


def test_first_page_summary_equals_the_api(first_page: str, summary, engine: sa.Engine):
    """Every figure on page 1 is `lotline.api.recall_summary`'s, and its lot counts are the
    trace's."""
    from lotline import api
    from reports.render import fmt_qty_uom

    assert "1 Summary and actions" in first_page
    assert f"Lot {LOT} of GTIN {GTIN} — Butter cookies 12x200g (unit CS" in first_page
    result = api.trace_lot(engine, GTIN, LOT)
    backward = result.lots.filter(pl_col("direction") == "backward").height
    forward = result.lots.filter(pl_col("direction") == "forward").height
    assert (summary.lots_backward, summary.lots_forward) == (backward, forward) == (6, 1)
    assert f"Lots reached {backward} backward" in first_page
    assert f"· {forward} forward (lots made from it, 1 product)" in first_page
    assert summary.quantities.height >= 2
    for row in summary.quantities.iter_rows(named=True):
        figures = " ".join(
            fmt_qty_uom(row[k], row["uom"])
            for k in ("produced", "shipped", "returned", "on_hand", "unaccounted")
        )
        assert f"{row['scope']} {row['lots']} {figures}" in first_page, row
    # the subject lot: 105 CS in (100 produced + 5 returned is not production: 100), 80 shipped
    subject_row = summary.quantities.filter(pl_col("scope") == "subject lot").row(0, named=True)
    assert (subject_row["produced"], subject_row["shipped"], subject_row["returned"]) == (
        100.0,
        80.0,
        5.0,
    )
    assert f"Consignees reached {summary.consignee_count} outside the company" in first_page
    assert summary.consignee_count == 2
    for consignee in summary.top_consignees.iter_rows(named=True):
        assert consignee["name"] in first_page and consignee["phone"] in first_page
    assert "Corner Grocer Inc CUST-A +1 555 0104 50 CS 5 CS" in first_page  # returned column
    holds = {(r["gtin"], r["lot"]) for r in summary.holds.iter_rows(named=True)}
    assert holds == {("00614141000043", "C2"), ("00614141000036", "D2")}
    assert "00614141000043 lot C2 (Butter cookies 12x200g): hold since 2026-09-20 15:00 UTC" in (
        first_page
    )
    assert summary.balance["status"] == "pass"
    assert "Mass balance subject lot pass, 100.0 % accounted for" in first_page
    failing = summary.balance["failing_lots"]
    assert f"{failing} of {summary.balance['lots']} traced lots out of balance" in first_page
    count = summary.quality_count
    assert count == 5  # 3 completeness findings, 1 rejected row, 1 warning on traced lots
    assert f"Data quality {count} findings touch the trace: output_outlives_input" in first_page


def test_first_page_actions_match_the_data(first_page: str, summary, engine: sa.Engine):
    """Notify the two consignees by name; hold exactly the stock on hand that no hold,
    quarantine or recall covers; retrieve what was shipped less what came back; resolve the
    findings by rule."""
    kinds = [a.kind for a in summary.actions]
    assert kinds == ["notify", "hold", "retrieve", "resolve"]
    notify, hold, retrieve, resolve = summary.actions
    assert notify.items == ["Corner Grocer Inc", "MegaMart Distribution"]  # largest first
    texts = [a.text for a in summary.actions]
    positions = [first_page.index(t) for t in texts]  # printed in order (an <ol>: 1. to 4.)
    assert positions == sorted(positions)
    assert texts[0] == "Notify 2 consignees of the recall."
    assert "Corner Grocer Inc, MegaMart Distribution — addresses and phones" in first_page

    data = build_recall(engine, GTIN, LOT)
    unheld = data.inventory.filter(
        (pl_col("quantity") > 0)
        & ~pl_col("status").is_in(["hold", "quarantine", "recall"]).fill_null(False)
    )
    held = data.inventory.filter(pl_col("status") == "hold")
    assert held.height >= 2 and unheld.height == len(hold.items)
    assert {(r["gtin"], r["lot"]) for r in unheld.iter_rows(named=True)} == {
        (r["gtin"], r["lot"]) for r in summary.to_hold.iter_rows(named=True)
    }
    assert texts[1].startswith(f"Place a hold on {unheld.height} lot positions still on hand")
    for item in hold.items:
        assert item in first_page, item
    for row in held.iter_rows(named=True):  # already held: not in the hold action
        assert not any(f"{row['gtin']} lot {row['lot']}," in item for item in hold.items)
    assert texts[2] == "Retrieve the quantities shipped and not returned from 2 consignees."
    assert "Corner Grocer Inc: 45 CS (shipped 50 CS, returned 5 CS)" in first_page
    assert "MegaMart Distribution: 30 CS; 1 EA" in first_page
    assert texts[3] == "Resolve 5 data-quality findings on the traced lots."
    assert "output_outlives_input (completeness): 3" in first_page
    assert "sscc_check_digit (rejected row): 1" in first_page


def test_compact_document_control_on_page_one(first_page: str, report: Path):
    number = report.stem.split("_")[-1]
    assert f"{number} · DRAFT, version 1 · generated 2026-11-26 19:30:00 UTC" in first_page
    assert "due 2026-11-27 14:00:00 UTC — answered in time" in first_page
    assert "document control: section 14" in first_page


def _page_drawing(page: pypdf.PageObject) -> tuple[bytes, list[pypdf.generic.DictionaryObject]]:
    """The page's content stream and every Form XObject it draws (nested), concatenated."""
    streams, forms, seen = [page.get_contents().get_data()], [], set()
    pending = [page["/Resources"]]
    while pending:
        resources = pending.pop()
        for ref in (resources.get("/XObject") or {}).values():
            xobject = ref.get_object()
            if id(xobject) in seen or xobject.get("/Subtype") != "/Form":
                continue
            seen.add(id(xobject))
            forms.append(xobject)
            streams.append(xobject.get_data())
            if "/Resources" in xobject:
                pending.append(xobject["/Resources"])
    return b"\n".join(streams), forms


def test_lineage_diagram_is_a_vector_figure_with_its_labels(
    reader: pypdf.PdfReader, engine: sa.Engine
):
    """The diagram page draws paths (boxes, curved arrows) rather than an image, its node
    labels are text, and the SVG's font is embedded (PDF/A)."""
    from lotline import api, lineage_diagram

    (page,) = [p for p in reader.pages if "2 Lineage diagram and exposure" in p.extract_text()]
    drawing, forms = _page_drawing(page)
    ops = re.findall(rb"(?<=\s)(re|l|c|f|f\*|S|B|b)(?=\s)", drawing)
    result = api.trace_lot(engine, GTIN, LOT)
    diagram = lineage_diagram.build(
        result.lots, result.edges, result.receipts, result.shipments, api.locations(engine)
    )
    assert diagram.level == 0 and diagram.nodes.height == 12  # 8 lots, 2 suppliers, 2 consignees
    curves = ops.count(b"c")
    assert curves >= diagram.edges.height + 4 * diagram.nodes.height  # arrows + rounded corners
    assert ops.count(b"f") + ops.count(b"B") + ops.count(b"b") >= diagram.nodes.height
    images = [
        x
        for resources in [page["/Resources"], *(f.get("/Resources", {}) for f in forms)]
        for x in (resources.get("/XObject") or {}).values()
        if x.get_object().get("/Subtype") == "/Image"
    ]
    assert images == []  # drawn, not pasted in as a picture
    text = flat(page.extract_text())
    for label in ("Corner Grocer Inc", "MegaMart Distribution", "Prairie Mill Co", "lot C1"):
        assert label in text, label
    assert "GTIN 00614141000043" in text
    embedded = 0
    for form in forms:
        for font in (form.get("/Resources", {}).get("/Font") or {}).values():
            embedded += 1
            font = font.get_object()
            if font["/Subtype"] == "/Type0":
                font = font["/DescendantFonts"][0].get_object()
            descriptor = font["/FontDescriptor"].get_object()
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor)
            assert "Report" in str(font["/BaseFont"])
    assert embedded > 0  # the SVG's text is set in the embedded report font


def test_exposure_chart_is_drawn(reader: pypdf.PdfReader):
    body = flat("\n".join(p.extract_text() for p in reader.pages[:3]))
    assert "Forward lots by exposure" in body
    assert "Cookie gift tin · T1" in body and "100.0 % · 1 EA on hand" in body


def test_shipment_serial_lines_print_as_ranges(engine: sa.Engine):
    """Forty 1-EA serial lines of one shipment line print as one row naming the range; the
    embedded shipments.csv keeps every line."""
    from dataclasses import replace
    from datetime import UTC
    from datetime import datetime as dt

    import polars as pl

    from reports.recall import _context

    data = build_recall(engine, GTIN, LOT)
    template = data.shipments.filter(pl.col("serial").is_not_null()).head(1)
    serials = pl.concat(
        [
            template.with_columns(
                pl.lit("SH-40").alias("shipment_id"),
                pl.lit(f"SN-{i:04d}").alias("serial"),
                pl.lit(dt(2026, 9, 12, 12, tzinfo=UTC))
                .alias("shipped_at")
                .cast(template.schema["shipped_at"]),
            )
            for i in range(1, 41)
        ]
    )
    data = replace(data, shipments=pl.concat([data.shipments, serials]))
    rows = _context(data, 100)["shipments"].rows
    serial_rows = [r for r in rows if r[0] == "SH-40"]
    assert len(serial_rows) == 1
    assert "SN-0001…SN-0040 (40)" in serial_rows[0] and "40" in serial_rows[0]
    assert any(r[0] == "SH3" and "T1-0001" in r for r in rows)
    csv = data.attachments()[1].data.decode()
    assert csv.count(",SH-40,") == 40 or csv.count("SH-40") == 40


def test_returned_column_where_returns_exist(text: str):
    """C1 came back from Corner Grocer (move M5, reason return): the consignee table and the
    forward lots carry a Returned column."""
    body = flat(text)
    section = body[body.index("7 Forward trace") : body.index("8 Inventory and hold status")]
    assert "Returned" in section
    assert "C1 50 CS 5 CS MegaMart Distribution" in section  # Corner Grocer's row ends so


def test_times_are_utc_and_the_glossary_says_so(text: str):
    body = flat(text)
    assert "All times are UTC (offset +00:00)" in body
    assert "Shipped (UTC)" in body and "Received (UTC)" in body
    assert "Shipped (local)" not in body and "-05:00 Corner Grocer" not in body


def pl_col(name: str):  # noqa: ANN201 - a short alias for the tests above
    import polars as pl

    return pl.col(name)


def test_without_graphviz_the_report_renders_with_a_note(
    engine: sa.Engine, out_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog, tmp_path: Path
):
    """No `dot` on the PATH: the PDF is still issued, with a note where the diagram would be and
    a warning in the log."""
    import logging

    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to run in here
    with caplog.at_level(logging.WARNING, logger="reports.recall"):
        path = render_recall_report(engine, GTIN, LOT, out_dir, generated_at=GENERATED)
    body = flat(pypdf.PdfReader(path).pages[1].extract_text())
    assert "The lineage diagram could not be drawn: Graphviz 'dot' is not installed" in body
    assert "lineage diagram left out" in caplog.text


def test_api_lineage_diagram_for_notebooks(engine: sa.Engine):
    from lotline import api

    svg = api.lineage_diagram(engine, GTIN, LOT)
    assert svg.startswith("<svg") and "Corner Grocer Inc" in svg and "lot C1" in svg
    assert api.lineage_diagram(engine, GTIN, LOT, max_nodes=5).count('class="node"') <= 5


def test_exposure_chart_ranks_the_forward_lots():
    """Top lots by share of the subject's material, largest first, with what is on hand; text
    stays text in the report font; no forward lots, no chart."""
    import polars as pl

    from reports.charts import exposure_chart

    lots = pl.DataFrame(
        {
            "direction": ["subject"] + ["forward"] * 14,
            "gtin": ["G0"] + [f"G{i}" for i in range(1, 15)],
            "lot": ["S"] + [f"L{i:02d}" for i in range(1, 15)],
            "product_name": ["Sugar"] + ["Cookies"] * 14,
            "exposure": [1.0] + [i / 20 for i in range(1, 15)],
            "quantity_on_hand": [0.0] * 14 + [7.0],
            "uom": ["KGM"] + ["CS"] * 14,
        }
    )
    svg = exposure_chart(lots, top=10)
    assert svg is not None and svg.startswith("<svg")
    assert "Forward lots by exposure (top 10 of 14)" in svg
    assert svg.index("Cookies · L14") < svg.index("Cookies · L05")  # largest drawn first
    assert "Cookies · L04" not in svg
    assert "70.0 % · 7 CS on hand" in svg
    assert svg.count('id="exposure-') == 10 and "font-family: 'Report Sans'" in svg
    assert exposure_chart(lots.filter(pl.col("direction") == "subject")) is None
