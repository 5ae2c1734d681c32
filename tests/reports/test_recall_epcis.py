"""The recall PDF embeds the EPCIS 2.0 export of its scope beside the FSMA 204 spreadsheet."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pypdf
import pytest
import sqlalchemy as sa

from lotline import api, store
from lotline.gs1 import epcis_export
from lotline.gs1.event_hash import event_hashes
from lotline.intake.ingest import load_folder
from reports.recall import EPCIS_FILE, FSMA_FILE, render_recall_report

SMALL = Path(__file__).parents[1] / "data" / "small"
SCHEMA = Path(epcis_export.__file__).parent / "epcis-json-schema.json"
GTIN, LOT = "00614141000043", "C1"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    root = tmp_path_factory.mktemp("recall_epcis")
    shutil.copytree(SMALL, root / "drop")
    engine = store.make_engine(store.sqlite_url(root / "lotline.sqlite"))
    load_folder(engine, root / "drop")
    return engine


@pytest.fixture(scope="module")
def reader(engine: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> pypdf.PdfReader:
    """One rendering for the module: a recall PDF takes seconds."""
    path = render_recall_report(
        engine,
        GTIN,
        LOT,
        tmp_path_factory.mktemp("pdf"),
        generated_at=datetime(2026, 11, 26, 14, 30, tzinfo=timezone(timedelta(hours=-5))),
    )
    return pypdf.PdfReader(path)


def test_recall_report_embeds_the_epcis_export(reader: pypdf.PdfReader, engine: sa.Engine):
    assert {EPCIS_FILE, FSMA_FILE} <= set(reader.attachments)
    data = reader.attachments[EPCIS_FILE][0]
    doc = json.loads(data)
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()), format_checker=checker)
    assert [e.message for e in validator.iter_errors(doc)] == []
    listed = doc["epcisBody"]["eventList"]
    assert {e["type"] for e in listed} == {"ObjectEvent", "TransformationEvent"}
    assert event_hashes(doc) == [e["eventID"] for e in listed]
    # the scope of the report: the lot's trace in both directions, as `lotline export epcis`
    assert data == epcis_export.serialise(api.epcis_document(engine, GTIN, LOT, "both"))


def test_the_manifest_lists_it_with_its_media_type(reader: pypdf.PdfReader):
    text = re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))
    manifest = text[text.index("Embedded data manifest") :]
    assert EPCIS_FILE in manifest and "EPCIS 2.0 events of the scope" in manifest
    spec = next(
        spec.get_object()
        for spec in reader.trailer["/Root"]["/AF"]
        if spec.get_object()["/F"] == EPCIS_FILE
    )
    assert spec["/EF"]["/F"].get_object()["/Subtype"] == "/application/ld+json"


def test_a_large_scope_embeds_the_same_document_built_by_a_second_process(
    engine: sa.Engine, reader: pypdf.PdfReader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A hub's export is built by a second process (and deflated there for the PDF): the
    embedded file and the manifest are those of the rendering in one process."""
    monkeypatch.setattr(epcis_export, "WORKER_LINES", 0)
    started = []
    start = epcis_export.start_written
    monkeypatch.setattr(epcis_export, "start_written", lambda *a: started.append(a) or start(*a))
    path = render_recall_report(
        engine,
        GTIN,
        LOT,
        tmp_path,
        generated_at=datetime(2026, 11, 26, 14, 30, tzinfo=timezone(timedelta(hours=-5))),
    )
    assert started  # and the pending build had a process to stop
    again = pypdf.PdfReader(path)
    assert again.attachments[EPCIS_FILE][0] == reader.attachments[EPCIS_FILE][0]

    def manifest(pdf: pypdf.PdfReader) -> str:
        text = "\n".join(page.extract_text() for page in pdf.pages)
        text = re.sub(r"REC-\d{14}-[0-9a-f]{6}", "REC-…", text)  # each rendering's own number
        return text[text.index("Embedded data manifest") :].split("provenance.json")[0]

    assert EPCIS_FILE in manifest(again)
    assert manifest(again) == manifest(reader)
    assert len(again.pages) == len(reader.pages)
