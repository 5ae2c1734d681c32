"""Report assets never use up a document number without issuing a document."""

from __future__ import annotations

from datetime import UTC, date, datetime
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
    with (
        pytest.raises(RuntimeError),
        register.number_for_document(small_engine, "expiry", "TST", now, "kept") as kept,
    ):
        path = Path(small_engine.url.database).with_name("kept.pdf")  # type: ignore[arg-type]
        path.write_bytes(b"%PDF-1.7 stand-in")
        register.record_file(small_engine, kept, path)
        raise RuntimeError("failed after the document was written")
    with (
        pytest.raises(RuntimeError),
        register.number_for_document(small_engine, "expiry", "TST", now, "lost") as lost,
    ):
        raise RuntimeError("rendering failed")
    numbers = [e["document_number"] for e in _register(small_engine)]
    assert numbers == [kept] and lost not in numbers


def test_a_failed_rendering_outside_dagster_gives_its_number_back(
    small_engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The renderers themselves give the number back: notebooks and the CLI are covered too."""

    def disk_full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(reports.expiry, "write_pdf", disk_full)
    with pytest.raises(OSError):
        reports.expiry.render_expiry_report(small_engine, tmp_path, as_of=date(2026, 9, 15))
    assert _register(small_engine) == []


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
