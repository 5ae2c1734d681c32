"""`lotline verify` on PAdES-signed reports: each forgery the issue names fails, and says what.

One signed expiry report (the cheapest renderer) on the small supply chain is shared by the
module; every forgery works on a copy. The key comes from `lotline keys init` and is configured
through the environment, as in production.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa

from lotline import provenance, store
from lotline.cli import main
from lotline.signing import keys, pades
from reports import register
from reports.expiry import render_expiry_report

PASSWORD = "trial key password 1"


def init_keys(out: Path, monkeypatch: pytest.MonkeyPatch, org: str = "Acme Foods") -> Path:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["keys", "init", "--out", str(out), "--org", org, "--password-stdin"]) == 0
    return out


@pytest.fixture(scope="module")
def signing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keys made by `lotline keys init`, configured by environment for the whole module."""
    root = tmp_path_factory.mktemp("keys")
    with pytest.MonkeyPatch.context() as mp:
        init_keys(root, mp)
        mp.setenv(keys.KEY_ENV, str(root / keys.KEY_FILE))
        mp.setenv(keys.PASSWORD_ENV, PASSWORD)
        mp.setenv(keys.TRUST_ROOTS_ENV, str(root / keys.TRUST_ROOT_FILE))
        mp.delenv(keys.TSA_URL_ENV, raising=False)
        yield root


@pytest.fixture(scope="module")
def engine(small_database: str) -> sa.Engine:
    return store.make_engine(small_database)


@pytest.fixture(scope="module")
def report(signing: Path, engine: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("issued")
    generated = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)
    return render_expiry_report(engine, out, generated_at=generated)


def verify(path: Path, url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["verify", str(path), "--database-url", url])
    return code, capsys.readouterr().out


def number_of(path: Path) -> str:
    return path.stem.split("_")[-1]


def test_issued_report_is_signed_and_registered_signed(
    report: Path, engine: sa.Engine, signing: Path
):
    trust = pades.load_trust_roots([signing / keys.TRUST_ROOT_FILE])
    checks = pades.check_signatures(report.read_bytes(), trust)
    assert [c.field for c in checks] == [pades.ORG_FIELD]
    assert checks[0].problems == [] and checks[0].covers_whole_file
    entry = register.issued(engine, number_of(report))
    assert entry is not None
    assert entry["pdf_sha256"] == hashlib.sha256(report.read_bytes()).hexdigest()
    assert entry["file_path"] == str(report.resolve())
    assert (entry["version"], entry["status"], entry["supersedes"]) == (1, "DRAFT", None)
    # the signature is an incremental update: the PDF/A-3 identification is still there
    reader = pypdf.PdfReader(report)
    assert reader.xmp_metadata is not None and reader.xmp_metadata.pdfaid_part == "3"
    assert "provenance.json" not in reader.attachments  # still only in /AF


def test_signed_report_verifies(report: Path, small_database: str, capsys):
    code, out = verify(report, small_database, capsys)
    assert code == 0, out
    assert out.startswith("UNCHANGED")
    assert f"signature: {pades.ORG_FIELD}" in out and "intact and valid" in out
    assert "byte-identical to the PDF issued" in out


def test_one_byte_changed_in_a_page_content_stream(report: Path, small_database, tmp_path, capsys):
    data = bytearray(report.read_bytes())
    reader = pypdf.PdfReader(report)
    contents = reader.pages[0].raw_get("/Contents")
    offset = reader.xref[0][contents.idnum]  # written at top level, not in an object stream
    start = data.index(b"stream", offset) + len(b"stream\n") + 40
    data[start] ^= 0x01
    forged = tmp_path / report.name
    forged.write_bytes(bytes(data))
    code, out = verify(forged, small_database, capsys)
    assert code == 1, out
    assert out.startswith("TAMPERED")
    assert "the bytes it signed were changed after signing" in out
    assert "MODIFIED" in out
    assert "page 1: content stream was changed" in out


def _overlay_page() -> pypdf.PageObject:
    import weasyprint

    pdf = weasyprint.HTML(
        string="<p style='font-size:40pt;color:red'>APPROVED — all lots released</p>"
    ).write_pdf()
    return pypdf.PdfReader(io.BytesIO(pdf)).pages[0]


def test_visible_overlay_merged_into_a_page(report: Path, small_database, tmp_path, capsys):
    writer = pypdf.PdfWriter(clone_from=report)
    writer.pages[0].merge_page(_overlay_page())
    forged = tmp_path / report.name
    with forged.open("wb") as out:
        writer.write(out)
    code, out = verify(forged, small_database, capsys)
    assert code == 1, out
    assert out.startswith("TAMPERED")
    assert "page 1: content stream was changed" in out


def test_incremental_update_that_changes_a_page(report: Path, small_database, tmp_path, capsys):
    writer = pypdf.PdfWriter(report, incremental=True)
    writer.pages[1].merge_page(_overlay_page())
    forged = tmp_path / report.name
    with forged.open("wb") as out:
        writer.write(out)
    assert forged.read_bytes().startswith(report.read_bytes())  # really an appended update
    code, out = verify(forged, small_database, capsys)
    assert code == 1, out
    assert "a later incremental update modifies the document" in out
    assert "page 2: content stream was changed" in out
    # without the database the signed revision itself tells which page changed
    code, out = verify(forged, store.sqlite_url(tmp_path / "none.sqlite"), capsys)
    assert code == 1 and "since signature OrgSignature: page 2: content stream was" in out, out


def _rewrite_csv(report: Path, writer: pypdf.PdfWriter, name: str) -> None:
    """Replace the CSV `name` and put its new hash and size into provenance.json."""
    streams = {}
    for spec in writer._root_object["/AF"]:
        spec = spec.get_object()
        streams[str(spec["/UF"])] = spec["/EF"]["/F"].get_object()
    forged_csv = streams[name].get_data().replace(b"\n", b"\n", 1) + b"forged,row\n"
    streams[name].set_data(forged_csv)
    record = json.loads(streams[provenance.FILE_NAME].get_data())
    for entry in record["attachments"]:
        if entry["name"] == name:
            entry["sha256"] = hashlib.sha256(forged_csv).hexdigest()
            entry["size"] = len(forged_csv)
    streams[provenance.FILE_NAME].set_data(provenance.to_bytes(record))


def test_csv_replaced_with_its_hash_and_size_in_provenance(
    report: Path, small_database, tmp_path, capsys
):
    writer = pypdf.PdfWriter(clone_from=report)
    _rewrite_csv(report, writer, "expiry_positions.csv")
    forged = tmp_path / report.name
    with forged.open("wb") as out:
        writer.write(out)
    code, out = verify(forged, small_database, capsys)
    assert code == 1, out
    assert out.startswith("TAMPERED")
    assert "expiry_positions.csv was replaced" in out
    # without the database: no longer "document intact"
    code, out = verify(forged, store.sqlite_url(tmp_path / "none.sqlite"), capsys)
    assert code == 1, out
    assert out.startswith("TAMPERED") and "document intact" not in out
    assert "signature OrgSignature" in out


def test_attachment_rewritten_in_an_incremental_update(
    report: Path, small_database, tmp_path, capsys
):
    writer = pypdf.PdfWriter(report, incremental=True)
    _rewrite_csv(report, writer, "record_retention.csv")
    forged = tmp_path / report.name
    with forged.open("wb") as out:
        writer.write(out)
    assert forged.read_bytes().startswith(report.read_bytes())
    code, out = verify(forged, store.sqlite_url(tmp_path / "none.sqlite"), capsys)
    assert code == 1, out
    assert "record_retention.csv was replaced" in out
    assert "a later incremental update modifies the document" in out


def test_forgery_signed_again_with_another_key_is_not_trusted(
    report: Path, small_database, tmp_path, monkeypatch, capsys
):
    other = init_keys(tmp_path / "forger", monkeypatch, org="Forger Ltd")
    writer = pypdf.PdfWriter(clone_from=report)
    _rewrite_csv(report, writer, "expiry_positions.csv")
    del writer._root_object["/AcroForm"]  # drop the organisation's signature field
    for page in writer.pages:
        if "/Annots" in page:
            del page["/Annots"]
    forged = tmp_path / report.name
    with forged.open("wb") as out:
        writer.write(out)
    key = keys.SigningKey(other / keys.KEY_FILE, PASSWORD.encode())
    pades.sign_file(forged, key, reason="issued by lotline", certify=True)
    code, out = verify(forged, store.sqlite_url(tmp_path / "none.sqlite"), capsys)
    assert code == 1, out
    assert "does not chain to a configured trust root" in out


def test_signed_report_without_trust_roots_cannot_be_verified(
    report: Path, signing: Path, tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv(keys.TRUST_ROOTS_ENV)
    code, out = verify(report, store.sqlite_url(tmp_path / "none.sqlite"), capsys)
    assert code == 2, out
    assert "without trust roots" in out
    code = main(["verify", str(report), "--trust-roots", str(signing / keys.TRUST_ROOT_FILE)])
    out = capsys.readouterr().out
    assert code == 2 and "signed and intact" in out, out  # no database: the data is unchecked


def test_unsigned_report_is_never_called_intact_without_the_register(
    small_database: str, engine: sa.Engine, tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv(keys.KEY_ENV)
    unsigned = render_expiry_report(
        engine, tmp_path, generated_at=datetime(2026, 11, 26, 19, 30, tzinfo=UTC)
    )
    assert pades.check_signatures(unsigned.read_bytes(), None) == []
    code, out = verify(unsigned, small_database, capsys)
    assert code == 0 and "not signed" in out, out  # the register vouches for the bytes
    code, out = verify(unsigned, store.sqlite_url(tmp_path / "none.sqlite"), capsys)
    assert code == 2 and "not signed" in out and "document intact" not in out, out
    copy = tmp_path / "copy.pdf"
    shutil.copy(unsigned, copy)
    writer = pypdf.PdfWriter(clone_from=unsigned)
    _rewrite_csv(unsigned, writer, "expiry_positions.csv")
    with copy.open("wb") as out_file:
        writer.write(out_file)
    code, out = verify(copy, small_database, capsys)
    assert code == 1 and "MODIFIED" in out and "expiry_positions.csv was replaced" in out, out
