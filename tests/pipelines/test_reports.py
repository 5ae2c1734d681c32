"""Report assets never use up a document number without issuing a document."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

import models
import reports.expiry
from lotline import store
from pipelines.run import run_pipeline
from reports import register

EXPIRY = {"as_of": "2026-09-15"}


def _register(engine: sa.Engine) -> list[dict]:
    return store.read_frame(engine, models.IssuedDocument).to_dicts()


def test_a_failed_rendering_gives_its_number_back(
    small_engine: sa.Engine, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[str] = []
    issue = register.issue_number

    def noting(*args, **kwargs):  # type: ignore[no-untyped-def]
        taken.append(issue(*args, **kwargs))
        return taken[-1]

    def disk_full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(register, "issue_number", noting)
    monkeypatch.setattr(reports.expiry, "write_pdf", disk_full)
    failed = run_pipeline(
        database_url=sqlite_url, report_dir=tmp_path / "out", load=False, expiry=EXPIRY
    )
    assert not failed.success and "No space left on device" in (failed.error or "")
    assert len(taken) == 1  # a number was reserved before rendering ...
    assert _register(small_engine) == []  # ... and given back when the rendering failed

    monkeypatch.undo()
    rendered = run_pipeline(
        database_url=sqlite_url, report_dir=tmp_path / "out", load=False, expiry=EXPIRY
    )
    assert rendered.success, rendered.error
    (entry,) = _register(small_engine)
    assert Path(rendered.reports[0]).name == entry["file_name"] and entry["pdf_sha256"]


def test_only_unconfirmed_numbers_are_given_back(small_engine: sa.Engine) -> None:
    now = datetime.now(UTC)
    with pytest.raises(RuntimeError), register.numbers_returned_on_failure(small_engine) as taken:
        kept = register.issue_number(small_engine, "expiry", "TST", now, "kept")
        path = Path(small_engine.url.database).with_name("kept.pdf")  # type: ignore[arg-type]
        path.write_bytes(b"%PDF-1.7 stand-in")
        register.record_file(small_engine, kept, path)
        register.issue_number(small_engine, "expiry", "TST", now, "lost")
        raise RuntimeError("rendering failed")
    assert len(taken) == 2
    assert [e["document_number"] for e in _register(small_engine)] == [kept]


def test_an_ingest_that_changed_nothing_renders_no_expiry_report(
    small_drop: Path, sqlite_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = run_pipeline(
        database_url=sqlite_url, drop_dir=small_drop, report_dir=out, expiry=EXPIRY
    )
    assert first.success and len(first.reports) == 1
    again = run_pipeline(
        database_url=sqlite_url, drop_dir=small_drop, report_dir=out, expiry=EXPIRY
    )
    assert again.success and again.snapshot_id is None and again.reports == []
    assert len(_register(store.make_engine(sqlite_url))) == 1
    assert len(list(out.glob("*.pdf"))) == 1
