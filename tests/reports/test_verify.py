"""Provenance in rendered PDFs and `lotline verify`: real SQLite database, real PDFs.

One database and one recall rendering are shared by the module (loading takes seconds); tests
that change data work on a copy of the database file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa

from lotline import provenance, store
from lotline.cli import main
from lotline.intake.ingest import load_folder
from reports.expiry import render_expiry_report
from reports.recall import render_recall_report
from reports.render import write_pdf
from reports.verify import embedded_files, read_record

SMALL = Path(__file__).parents[1] / "data" / "small"
GTIN = "00614141000043"
LOT = "C1"
NEW_SHIPMENT = (
    "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,serial,sscc,quantity,uom,"
    "ref_doc_type,ref_doc_number\n"
    "SH10,2026-09-14T07:00:00-05:00,WH-1,CUST-A,00614141000043,C1,,,5,CS,bol,BOL-510\n"
)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("verify")


@pytest.fixture(scope="module")
def db_path(root: Path) -> Path:
    path = root / "lotline.sqlite"
    engine = store.make_engine(store.sqlite_url(path))
    load_folder(engine, SMALL)
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def engine(db_path: Path) -> sa.Engine:
    return store.make_engine(store.sqlite_url(db_path))


@pytest.fixture(scope="module")
def report(engine: sa.Engine, root: Path) -> Path:
    generated = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)
    return render_recall_report(engine, GTIN, LOT, root / "pdf", generated_at=generated)


def record_of(path: Path) -> dict:
    return read_record(embedded_files(path))


def cli(path: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["verify", str(path), "--database-url", store.sqlite_url(db)])
    return code, capsys.readouterr().out


def test_record_names_snapshot_inputs_code_and_attachments(report: Path, engine: sa.Engine):
    record = record_of(report)
    with engine.connect() as conn:
        snapshot = conn.execute(sa.text("select snapshot_id, input_sha256 from snapshot")).one()
        inputs = sorted(r[0] for r in conn.execute(sa.text("select sha256 from source_file")))
    assert record["format"] == provenance.FORMAT
    assert record["snapshot"]["snapshot_id"] == snapshot.snapshot_id
    assert record["snapshot"]["input_sha256"] == inputs == sorted(json.loads(snapshot[1]))
    # the id formula in lotline.provenance is the one ingest uses
    assert provenance.snapshot_id_of(inputs) == snapshot.snapshot_id
    assert len(inputs) == len(list(SMALL.iterdir()))
    assert record["code"]["version"] and record["code"]["package"] == "lotline"
    assert record["pipeline_run_id"] is None
    assert record["document"]["number"] in report.name
    reader = pypdf.PdfReader(report)
    # the data attachments a reader lists are unchanged; the record is an associated file
    assert provenance.FILE_NAME not in reader.attachments
    listed = {a["name"]: a["sha256"] for a in record["attachments"]}
    assert listed == {
        name: hashlib.sha256(contents[0]).hexdigest()
        for name, contents in reader.attachments.items()
    }
    names = [str(s.get_object()["/UF"]) for s in reader.trailer["/Root"]["/AF"]]
    assert sorted(names) == sorted([*listed, provenance.FILE_NAME])


def test_fresh_report_verifies(report: Path, db_path: Path, capsys: pytest.CaptureFixture[str]):
    code, out = cli(report, db_path, capsys)
    assert code == 0, out
    assert out.startswith("UNCHANGED")
    assert "this file is byte-identical to the PDF issued" in out


def test_new_input_file_is_reported_as_data_changed(
    report: Path, db_path: Path, root: Path, capsys: pytest.CaptureFixture[str]
):
    copy = root / "changed.sqlite"
    shutil.copy(db_path, copy)
    drop = root / "drop2"
    drop.mkdir()
    (drop / "shipments_more.csv").write_text(NEW_SHIPMENT)
    engine = store.make_engine(store.sqlite_url(copy))
    assert load_folder(engine, drop).changed
    engine.dispose()
    code, out = cli(report, copy, capsys)
    assert code == 1, out
    assert out.startswith("DATA CHANGED SINCE")
    assert "not the current one" in out
    assert "input loaded since: shipments_more.csv" in out
    assert "tampered" not in out


def test_altered_attachment_is_reported_as_tampered(
    report: Path, db_path: Path, root: Path, capsys: pytest.CaptureFixture[str]
):
    writer = pypdf.PdfWriter(clone_from=report)
    replaced = 0
    for spec in writer._root_object["/AF"]:
        spec = spec.get_object()
        if str(spec["/UF"]) == "shipments.csv":
            stream = spec["/EF"]["/F"].get_object()
            stream.set_data(stream.get_data().replace(b"Corner Grocer Inc", b"Other Grocer Inc"))
            replaced += 1
    assert replaced == 1
    forged = root / "forged.pdf"
    with forged.open("wb") as out:
        writer.write(out)
    assert pypdf.PdfReader(forged).attachments["shipments.csv"][0].count(b"Other Grocer") >= 1
    code, out = cli(forged, db_path, capsys)
    assert code == 1, out
    assert out.startswith("TAMPERED")
    assert "tampered: shipments.csv has SHA-256" in out
    assert "data changed" not in out
    assert "this file is not byte-identical to the PDF issued" in out


def test_edited_record_is_reported_as_tampered(
    report: Path, db_path: Path, root: Path, capsys: pytest.CaptureFixture[str]
):
    writer = pypdf.PdfWriter(clone_from=report)
    for spec in writer._root_object["/AF"]:
        spec = spec.get_object()
        if str(spec["/UF"]) == provenance.FILE_NAME:
            stream = spec["/EF"]["/F"].get_object()
            record = json.loads(stream.get_data())
            record["snapshot"]["snapshot_id"] = "0" * 32
            stream.set_data(provenance.to_bytes(record))
    forged = root / "forged_record.pdf"
    with forged.open("wb") as out:
        writer.write(out)
    code, out = cli(forged, db_path, capsys)
    assert code == 1, out
    assert "does not match the recorded input hashes" in out


def test_pdf_without_record_and_missing_database_cannot_be_verified(
    report: Path, db_path: Path, root: Path, capsys: pytest.CaptureFixture[str]
):
    plain = write_pdf(
        "<p>not a lotline report</p>", root / "plain.pdf", [("a.csv", b"x\n", "text/csv")]
    )
    code, out = cli(plain, db_path, capsys)
    assert code == 2 and "not a lotline document" in out
    text = root / "text.pdf"
    text.write_text("hello")
    code, out = cli(text, db_path, capsys)
    assert code == 2 and "CANNOT VERIFY" in out
    code, out = cli(report, root / "no-such.sqlite", capsys)
    # unsigned (no key configured) and no register to compare with: nothing proves it intact
    assert code == 2 and "no database" in out and "not signed" in out
    assert "document intact" not in out
    assert not (root / "no-such.sqlite").exists()


def test_rendering_again_reproduces_attachments_and_record(
    engine: sa.Engine, report: Path, root: Path
):
    again = render_recall_report(
        engine, GTIN, LOT, root / "pdf2", generated_at=datetime(2026, 12, 1, 8, tzinfo=UTC)
    )
    first, second = embedded_files(report), embedded_files(again)
    assert first.keys() == second.keys()
    for name in first.keys() - {provenance.FILE_NAME}:
        assert first[name] == second[name], name
    one, two = record_of(report), record_of(again)
    assert one["document"]["number"] != two["document"]["number"]
    assert one["document"]["generated_at"] != two["document"]["generated_at"]
    for record in (one, two):
        del record["document"]["number"], record["document"]["generated_at"]
    assert one == two


def test_expiry_report_records_the_pipeline_run(
    engine: sa.Engine, db_path: Path, root: Path, capsys: pytest.CaptureFixture[str]
):
    path = render_expiry_report(
        engine, root / "pdf3", as_of=date(2026, 9, 16), run_id="dagster-run-42"
    )
    record = record_of(path)
    assert record["pipeline_run_id"] == "dagster-run-42"
    assert {a["name"] for a in record["attachments"]} == set(pypdf.PdfReader(path).attachments)
    code, out = cli(path, db_path, capsys)
    assert code == 0, out
