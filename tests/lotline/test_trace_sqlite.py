"""`lotline trace` of a lot through `lotline.trace_sqlite` (plain SQL over ADBC, the JSON written
while the shipment lines are still read) against the full path through `api`: the same bytes in
every output form, the fall-backs where it does not apply, and a start without SQLAlchemy,
SQLModel or the models (the point of it: most of a second of a hub trace's two)."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from lotline import database_url, schema, store, trace_json, trace_sqlite
from lotline.cli import main
from lotline.intake.ingest import load_folder

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Generated data (hundreds of shipment lines, many lines per shipment: ties in the
    shipment order) loaded into an SQLite file."""
    from lotline.generate import generate

    root = tmp_path_factory.mktemp("generated")
    generate(root / "drop", seed=7, scale=0.3)
    url = store.sqlite_url(root / "lotline.sqlite")
    assert load_folder(store.make_engine(url), root / "drop").rejected.is_empty()
    return url


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The small chain with its pallets and its holds and recalls (the lots' status)."""
    root = tmp_path_factory.mktemp("packed")
    shutil.copytree(DATA / "small", root / "drop")
    for source in (DATA / "packing").glob("*.csv"):
        shutil.copy(source, root / "drop" / source.name)
    url = store.sqlite_url(root / "lotline.sqlite")
    assert load_folder(store.make_engine(url), root / "drop").rejected.is_empty()
    return url


def busiest_lot(url: str) -> tuple[str, str]:
    """The lot with the most descendants: the hub of the database."""
    with store.make_engine(url).connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT gtin, lot FROM lot JOIN (SELECT ancestor_key, count(*) AS n"
                " FROM lot_closure GROUP BY ancestor_key) ON ancestor_key = lot_key"
                " ORDER BY n DESC, lot_key LIMIT 1"
            )
        ).one()
    return row[0], row[1]


def printed(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> str:
    code = main(["trace", "--database-url", url, *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def fast_and_full(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str, *args: str
) -> tuple[str, str]:
    """What the command prints through `trace_sqlite` (checked to be taken) and through `api`."""
    taken: list[bool] = []
    opened = trace_sqlite.open_lot_trace

    def spy(*a: object, **k: object) -> trace_sqlite.LotTrace | None:
        lot_trace = opened(*a, **k)  # type: ignore[arg-type]
        taken.append(lot_trace is not None)
        return lot_trace

    monkeypatch.setattr(trace_sqlite, "open_lot_trace", spy)
    fast = printed(capsys, url, *args)
    assert taken == [True]
    monkeypatch.setattr(trace_sqlite, "open_lot_trace", lambda *a, **k: None)
    return fast, printed(capsys, url, *args)


OUTPUTS = {
    "json": ["--format", "json"],
    "json forward": ["--format", "json", "--direction", "forward"],
    "json backward": ["--format", "json", "--direction", "backward"],
    "json recall scope": ["--format", "json", "--direction", "forward", "--min-exposure", "0.2"],
    "json page": ["--format", "json", "--limit", "3", "--offset", "2"],
    "csv": ["--format", "csv"],
    "csv page": ["--format", "csv", "--limit", "2"],
    "table": [],
}


@pytest.mark.parametrize("output", OUTPUTS)
def test_the_sqlite_path_prints_what_the_api_path_prints(
    generated: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    output: str,
) -> None:
    monkeypatch.setattr(trace_json, "BATCH_ROWS", 7)  # several batches per list
    monkeypatch.setenv("COLUMNS", "200")
    gtin, lot = busiest_lot(generated)
    fast, full = fast_and_full(
        capsys, monkeypatch, generated, "--gtin", gtin, "--lot", lot, *OUTPUTS[output]
    )
    assert fast == full
    if output == "json":  # many shipment lines, several to a shipment: ties in their order
        lines = pl.DataFrame(json.loads(fast)["shipments"])
        assert lines.height > 100 and lines["shipment_id"].n_unique() < lines.height
    if output in ("csv", "table"):
        assert fast.count("\n") > 100
    if output == "json recall scope":
        assert "forward scope limited" in fast


@pytest.mark.parametrize(
    ("gtin", "lot", "direction"),
    [
        ("00614141000043", "C1", "both"),  # on hold, released, and shipped on pallets
        ("00614141000050", "T1", "forward"),  # recalled: a status in the lots list
        ("00614141000012", "F1", "both"),
    ],
)
def test_statuses_and_pallets_of_the_small_chain(
    packed: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    gtin: str,
    lot: str,
    direction: str,
) -> None:
    args = ("--gtin", gtin, "--lot", lot, "--direction", direction, "--format", "json")
    fast, full = fast_and_full(capsys, monkeypatch, packed, *args)
    assert fast == full
    if lot == "T1":
        assert '"status": "recall"' in fast


def test_an_unknown_lot_is_one_line_and_status_2(
    packed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["trace", "--database-url", packed, "--gtin", "00614141000043", "--lot", "NOPE"])
    assert code == 2
    assert capsys.readouterr().err == (
        "lotline: no lot 'NOPE' of GTIN 00614141000043 in the lineage tables\n"
    )


def test_where_it_does_not_apply_the_command_goes_through_api(packed: str, tmp_path: Path) -> None:
    def opened(url: str) -> trace_sqlite.LotTrace | None:
        lot_trace = trace_sqlite.open_lot_trace(url, "00614141000043", "C1")
        if lot_trace is not None:
            lot_trace.close()
        return lot_trace

    assert opened(packed) is not None
    assert opened("postgresql://postgres@127.0.0.1:5432/postgres") is None
    assert opened("sqlite://") is None
    not_a_database = tmp_path / "notes.sqlite"
    not_a_database.write_text("not a database " * 100)
    assert opened(store.sqlite_url(not_a_database)) is None
    older = tmp_path / "older.sqlite"
    with (
        sqlite3.connect(store.make_engine(packed).url.database) as source,
        sqlite3.connect(older) as copy,
    ):
        source.backup(copy)
    with store.make_engine(store.sqlite_url(older)).begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    assert opened(store.sqlite_url(older)) is None  # the full path upgrades it first


def test_a_trace_starts_without_sqlalchemy_or_the_models(packed: str) -> None:
    """The import cost this path exists to avoid: checked in a fresh interpreter."""
    script = (
        "import sys\n"
        "from lotline.cli import main\n"
        f"code = main(['trace', '--database-url', {packed!r}, '--gtin', '00614141000043',"
        " '--lot', 'C1', '--format', 'json'])\n"
        "heavy = sorted(m for m in ('sqlalchemy', 'sqlmodel', 'models') if m in sys.modules)\n"
        "print(code, heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr.strip().splitlines()[-1] == "0 []"
    assert '"lot": "C1"' in done.stdout


def test_a_closed_pipe_is_a_broken_pipe() -> None:
    """Polars reports a failed write as a plain OSError; the command exits 141 on a
    BrokenPipeError, so that is what the rows' writer must raise."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    rows = pl.DataFrame({"row": ['{"gtin": "00614141000043"}'] * 20_000})
    with io.FileIO(write_end, "wb") as pipe, pytest.raises(BrokenPipeError):
        trace_json._BytesSink(pipe).put(rows)  # unbuffered: nothing left to flush at close


def test_schema_head_and_column_types_agree_with_the_models() -> None:
    assert trace_sqlite.schema_head() == schema.head()
    for table, columns in trace_sqlite.COLUMNS.items():
        typed = store.polars_schema(table)
        assert {name: typed[name] for name in columns} == columns, table


def test_database_url_agrees_with_the_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(database_url.DATABASE_URL_ENV, raising=False)
    assert database_url.database_url(None) == store.database_url(None)
    monkeypatch.setenv(database_url.DATABASE_URL_ENV, "sqlite:////data/x.sqlite")
    assert database_url.database_url(None) == store.database_url(None) == "sqlite:////data/x.sqlite"
    assert database_url.database_url("sqlite:///a.db") == store.database_url("sqlite:///a.db")
    for url in ("sqlite:///rel/x.db", "sqlite:////abs/x.db", "sqlite+pysqlite:///x.db"):
        assert database_url.sqlite_file(url) == Path(sa.make_url(url).database), url
    for url in (
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///a%20b.db",  # SQLAlchemy decodes it: its reading is the one that counts
        "sqlite:///file:x.db?mode=ro&uri=true",
        "sqlite:///x.db?timeout=3",
        "postgresql://u@h/db",
    ):
        assert database_url.sqlite_file(url) is None, url


def test_the_bytes_writer_writes_what_dumps_gives(
    packed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lotline import api

    monkeypatch.setattr(trace_json, "BATCH_ROWS", 2)
    result = api.trace_lot(store.make_engine(packed), "00614141000012", "F1", "both")
    out = io.BytesIO()
    trace_json.write(result, out)
    assert out.getvalue().decode() == trace_json.dumps(result) + "\n"


def test_the_table_of_a_large_trace_is_a_page(
    generated: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person reads a page: without --limit the table format lists `TABLE_ROWS` of each list
    (rich took minutes over a hub lot's 284k rows), with the totals and the next offset."""
    from lotline import cli

    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(cli, "TABLE_ROWS", 40)
    gtin, lot = busiest_lot(generated)
    shown = printed(capsys, generated, "--gtin", gtin, "--lot", lot)
    assert shown == printed(capsys, generated, "--gtin", gtin, "--lot", lot, "--limit", "40")
    assert "Shipments (40)" in shown and "next page: --offset 40" in shown
    whole = json.loads(printed(capsys, generated, "--gtin", gtin, "--lot", lot, "--format", "json"))
    assert len(whole["shipments"]) > 40  # json (and csv) list everything
    small = printed(capsys, generated, "--gtin", gtin, "--lot", lot, "--direction", "backward")
    assert "next page" not in small  # lists within a page: the table as it always was
