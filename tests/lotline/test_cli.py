"""The `lotline` command as a user runs it: output, exit status, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

LOTLINE = str(Path(sys.executable).parent / "lotline")
HEADER = "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,quantity,uom\n"


def run(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LOTLINE, *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    import shutil

    from lotline import store

    folder = tmp_path_factory.mktemp("cli")
    drop = folder / "drop"
    shutil.copytree(Path(__file__).parents[1] / "data" / "small", drop)
    sqlite_url = store.sqlite_url(folder / "db.sqlite")
    result = run("ingest", str(drop), database_url=sqlite_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(
        line.split()[:6] == ["shipments.csv", "shipments", "4", "4", "0", "0"] for line in lines
    )
    assert any(line.startswith("snapshot: ") for line in lines)
    return sqlite_url, drop


@pytest.fixture
def loaded_url(loaded: tuple[str, Path]) -> str:
    return loaded[0]


def test_reingest_reports_nothing_new(loaded: tuple[str, Path]) -> None:
    result = run("ingest", str(loaded[1]), database_url=loaded[0])
    assert result.returncode == 0
    assert "nothing new: the database is unchanged" in result.stdout


def test_trace_json(loaded_url: str) -> None:
    result = run(
        "trace",
        "--gtin",
        "614141000012",
        "--lot",
        "F1",
        "--direction",
        "forward",
        "--format",
        "json",
        database_url=loaded_url,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {(lot["lot"], lot["depth"]) for lot in data["lots"]} >= {("F1", 0), ("C1", 2)}
    assert {s["to_location_id"] for s in data["shipments"]} == {"CUST-A", "CUST-B"}
    backward = json.loads(
        run(
            "trace",
            "--gtin",
            "00614141000043",
            "--lot",
            "C1",
            "--direction",
            "backward",
            "--format",
            "json",
            database_url=loaded_url,
        ).stdout
    )
    assert {r["receipt_id"] for r in backward["receipts"]} == {"R1", "R2", "R3"}


def test_trace_table_and_csv(loaded_url: str) -> None:
    table = run("trace", "--gtin", "00614141000050", "--serial", "T1-0001", database_url=loaded_url)
    assert table.returncode == 0 and "MegaMart Distribution" in table.stdout
    csv_out = run(
        "trace",
        "--gtin",
        "00614141000043",
        "--lot",
        "C1",
        "--format",
        "csv",
        database_url=loaded_url,
    )
    assert csv_out.stdout.splitlines()[0].startswith("section,gtin,lot,serial,depth")
    assert any(line.startswith("shipment,00614141000043,C1,") for line in csv_out.stdout.split())


def test_unknown_lot_is_a_clear_error(loaded_url: str) -> None:
    result = run("trace", "--gtin", "00614141000043", "--lot", "NOPE", database_url=loaded_url)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "lotline: no lot 'NOPE' of GTIN 00614141000043 in the lineage tables"
    )


BAD_INPUT = {
    "missing_folder": (None, "drop folder not found"),
    "other_encoding": (
        (HEADER + "SH9,2026-09-10T07:00:00-05:00,WH-1,CUST-\xc4,00614141000043,C1,5,CS\n").encode(
            "latin-1"
        ),
        "shipments.csv, row 2, column 'to_location_id': not UTF-8",
    ),
}
# (empty files and missing columns fail the same way: tests/lotline/test_reading.py and
# tests/pipelines/test_run.py cover them without paying for a process start each)


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_unreadable_input_fails_cleanly(case: str, small_drop: Path, sqlite_url: str) -> None:
    content, message = BAD_INPUT[case]
    folder = small_drop.parent / "missing" if content is None else small_drop
    if content is not None:
        (small_drop / "shipments.csv").write_bytes(content)
    result = run("ingest", str(folder), database_url=sqlite_url)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not result.stdout


def test_bad_values_are_summarised_per_rule_and_a_bad_file_exits_3(
    small_drop: Path, sqlite_url: str
) -> None:
    (small_drop / "shipments_extra.csv").write_text(
        HEADER
        + "SH9,2026-13-01T07:00:00-05:00,WH-1,CUST-A,00614141000043,C1,5,CS\n"
        + "SH10,2026-09-10T07:00:00-05:00,WH-1,CUST-A,00614141000043,C1,five,CS\n"
        + "SH11,2026-09-10T07:00:00-05:00,WH-1,CUST-A,00614141000043,C1,1,CS\n"
    )
    result = run("ingest", str(small_drop), database_url=sqlite_url)
    # one rule quarantined a third of the file: the valid rows load, the command says so
    assert result.returncode == 3, result.stderr
    out = result.stdout
    assert (
        "shipments_extra.csv: error timestamp_with_offset [shipped_at]: 1 rows; "
        "most frequent: '2026-13-01T07:00:00-05:00'" in out
    )
    assert "shipments_extra.csv: error number [quantity]: 1 rows; most frequent: 'five'" in out
    assert "snapshot: " in out
    assert "the file or its mapping is probably wrong" in result.stderr
    assert "Traceback" not in result.stderr


def test_other_spellings_load_and_unknown_values_warn(small_drop: Path, sqlite_url: str) -> None:
    (small_drop / "shipments_erp.csv").write_text(
        HEADER.strip()
        + ",ref_doc_type,ref_doc_number\n"
        + "".join(
            f"SH{20 + i},2026-09-10T07:00:00-05:00,WH-1,CUST-A,00614141000043,C1,1,cs,{t},D{i}\n"
            for i, t in enumerate(["ASN", "BOL", "INV", "PO", "Bill of Lading", "Fax", "fax"])
        )
    )
    result = run("ingest", str(small_drop), database_url=sqlite_url)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("shipments_erp"))
    # read, loaded, corrected, voided, unchanged, rejected, warned
    assert row.split()[2:9] == ["7", "7", "0", "0", "0", "0", "2"]
    assert (
        "shipments_erp.csv: warning allowed_value [ref_doc_type]: 2 rows; "
        "most frequent: 'Fax', 'fax'" in result.stdout
    )
    strict = run("ingest", str(small_drop), "--strict", database_url=sqlite_url)
    assert strict.returncode == 0  # already loaded: nothing new, whatever the rules


def test_strict_quarantines_warnings(small_drop: Path, sqlite_url: str) -> None:
    (small_drop / "shipments_erp.csv").write_text(
        HEADER.strip()
        + ",ref_doc_type,ref_doc_number\n"
        + "SH30,2026-09-10T07:00:00-05:00,WH-1,CUST-A,00614141000043,C1,1,CS,fax,D1\n"
    )
    result = run("ingest", str(small_drop), "--strict", database_url=sqlite_url)
    assert result.returncode == 3
    assert "shipments_erp.csv: error allowed_value [ref_doc_type]: 1 rows" in result.stdout


def test_demo_renders_a_sample_of_each_document(tmp_path: Path):
    """The README's first command: sample data → SQLite → the recall report, the expiry
    report and the mock recall evidence, each a PDF/A-3 that `lotline verify` accepts."""
    import pypdf

    folder = tmp_path / "demo"
    result = subprocess.run(
        [LOTLINE, "demo", "--dir", str(folder), "--scale", "0.3"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    pdfs = [
        Path(line.strip()) for line in result.stdout.splitlines() if line.strip().endswith(".pdf")
    ]
    kinds = sorted(p.name.split("_")[0] for p in pdfs)
    assert kinds == ["expiry", "mock", "recall"], result.stdout
    titles = {
        "recall": "Lot Traceability & Recall Report",
        "expiry": "Expiry / Shelf-life Report",
        "mock": "Mock Recall Drill",
    }
    for pdf in pdfs:
        first = pypdf.PdfReader(pdf).pages[0].extract_text()
        assert titles[pdf.name.split("_")[0]] in first, pdf.name
    recall = next(p for p in pdfs if p.name.startswith("recall_"))
    assert "SAMPLE-FDA-0001" in pypdf.PdfReader(recall).pages[0].extract_text()
    database_url = f"sqlite:///{folder / 'lotline.sqlite'}"
    verified = run("verify", str(recall), database_url=database_url)
    assert verified.returncode == 0 and verified.stdout.startswith("UNCHANGED"), verified.stdout


def test_a_load_that_only_stored_rejected_rows_does_not_say_unchanged(capsys) -> None:
    from lotline.cli import _print_load

    file = {
        "name": "shipments_bad.csv",
        "record_type": "shipments",
        "rows_read": 2,
        "rows_loaded": 0,
        "rows_unchanged": 0,
        "rows_rejected": 2,
        "already_loaded": False,
        "unused_columns": ["Bemerkung"],
    }
    _print_load([file], [], None, "sqlite:///x.sqlite")
    out = capsys.readouterr().out
    assert "no new records; 2 rejected rows stored in rejected_record" in out
    assert "unchanged" not in out.splitlines()[-2]
    assert "shipments_bad.csv: columns not used: Bemerkung" in out
    file = {**file, "name": "evil\x1b[31m.csv"}
    _print_load([file], [], None, "sqlite:///x.sqlite")
    assert "\x1b" not in capsys.readouterr().out
