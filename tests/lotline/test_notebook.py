"""A notebook's database (from LOTLINE_DATABASE_URL or the demo), printed without its
password; frames that print whole names; statuses that read `released`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from lotline import notebook, store


def _copy_database(engine: sa.Engine, target: Path) -> None:
    """A copy of a loaded SQLite database (through SQLite's backup: the WAL is included)."""
    with sqlite3.connect(str(engine.url.database)) as source, sqlite3.connect(target) as copy:
        source.backup(copy)


def test_the_environment_wins_over_the_demo(
    monkeypatch: pytest.MonkeyPatch, small_engine: sa.Engine, tmp_path: Path
) -> None:
    monkeypatch.setenv("LOTLINE_DATABASE_URL", "postgresql://u:s3cret@db.example/x")
    url, source = notebook.database_url(tmp_path / "never-built")
    assert (url, source) == ("postgresql://u:s3cret@db.example/x", "LOTLINE_DATABASE_URL")
    assert not (tmp_path / "never-built").exists()

    monkeypatch.delenv("LOTLINE_DATABASE_URL")
    demo_dir = tmp_path / "demo"
    demo_dir.mkdir()
    _copy_database(small_engine, demo_dir / "lotline.sqlite")
    url, source = notebook.database_url(demo_dir)
    assert url == store.sqlite_url(demo_dir.resolve() / "lotline.sqlite")
    assert source == f"demo database in {demo_dir.resolve()}"


def test_masked_hides_the_password() -> None:
    assert notebook.masked("postgresql://u:s3cret@db.example:5432/x") == (
        "postgresql://u:***@db.example:5432/x"
    )
    assert notebook.masked("sqlite:////tmp/a.sqlite") == "sqlite:////tmp/a.sqlite"
    assert "s3cret" not in notebook.masked("not a url s3cret")


@pytest.mark.postgres
def test_open_database_prints_which_without_the_password(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with_password = sa.make_url(postgres_url).set(password="s3cret")  # trust auth ignores it
    monkeypatch.setenv("LOTLINE_DATABASE_URL", with_password.render_as_string(hide_password=False))
    engine = notebook.open_database()
    try:
        printed = capsys.readouterr().out
        assert "s3cret" not in printed
        assert printed.startswith("database: postgresql") and "(LOTLINE_DATABASE_URL)" in printed
        assert printed.count("***") == 1
    finally:
        engine.dispose()


def test_show_frames_prints_whole_names_and_wraps_wide_frames() -> None:
    name = "Hearthstone Confectionery B.V. - Breda Chocolate Works"
    narrow = pl.DataFrame({"location_id": ["SITE-BRD"], "business_name": [name]})
    wide = pl.DataFrame({f"column_{i}": [name] for i in range(12)})
    with pl.Config():
        assert name not in str(narrow)  # Polars' default cuts it at 30 characters
        assert "…" in str(wide)  # ... and leaves columns out
        notebook.show_frames(width=120)
        assert name in str(narrow)
        text = str(wide)
        assert "…" not in text  # every column and every character is printed,
        assert max(len(line) for line in text.splitlines()) <= 120  # wrapped at the width
    assert name not in str(narrow)  # the context restored the defaults


def test_status_label_reads_released() -> None:
    frame = pl.DataFrame(
        {"status": [None, "release", "hold", "recall"]}, schema={"status": pl.String}
    )
    assert frame.select(notebook.status_label())["status"].to_list() == [
        "released",
        "released",
        "hold",
        "recall",
    ]
