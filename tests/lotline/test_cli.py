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


# --- a Unix tool: errors, help, version, pipes, the database, safe outputs -----------------------


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from lotline.cli import main

    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


BAD_VALUES = {
    "gtin_check_digit": (
        ["trace", "--gtin", "00614141000044", "--lot", "C1"],
        "argument --gtin: GTIN 00614141000044: check digit should be 3",
    ),
    "gtin_letters": (
        ["trace", "--gtin", "ABC", "--lot", "C1"],
        "argument --gtin: GTIN 'ABC': digits only ('A' at position 1)",
    ),
    "sscc_length": (
        ["trace", "--sscc", "30614141000001001"],
        "argument --sscc: SSCC 30614141000001001: 17 digits, expected 18",
    ),
    "sscc_check_digit": (
        ["trace", "--sscc", "306141410000010013"],
        "argument --sscc: SSCC 306141410000010013: check digit should be 2",
    ),
    "min_exposure_range": (
        ["trace", "--gtin", "00614141000043", "--lot", "C1", "--min-exposure", "5"],
        "argument --min-exposure: 5: must be between 0 and 1 (a share)",
    ),
    "time_without_offset": (
        ["trace", "--sscc", "306141410000010029", "--at", "2026-09-09T09:00"],
        "argument --at: 2026-09-09T09:00: no UTC offset",
    ),
    "within_days": (
        ["report", "expiry", "--within-days", "0"],
        "argument --within-days: 0: must be a positive number of days",
    ),
    "received_at": (
        ["report", "recall", "--gtin", "614141000012", "--lot", "F1"]
        + ["--received-at", "2026-12-01 09:30"],
        "argument --received-at: 2026-12-01 09:30: no UTC offset",
    ),
    "export_date": (
        ["export", "fsma204", "--from", "2026-13-01", "--to", "2026-12-31"],
        "argument --from: '2026-13-01': not a date (YYYY-MM-DD)",
    ),
    "reject_share": (
        ["ingest", "drop", "--max-reject-share", "1.5"],
        "argument --max-reject-share: 1.5: must be between 0 and 1 (a share)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_bad_value_exits_2_naming_the_option_and_the_bad_part(
    case: str, capsys: pytest.CaptureFixture[str], loaded_url: str
) -> None:
    args, message = BAD_VALUES[case]
    code, out, err = in_process(capsys, *args, "--database-url", loaded_url)
    assert code == 2
    assert message in err, err
    assert not out and "Traceback" not in err


@pytest.mark.parametrize(
    "command",
    [
        ["trace", "--gtin", "00614141000043", "--lot", "C1"],
        ["report", "expiry"],
        ["export", "fsma204", "--from", "2026-09-01", "--to", "2026-09-30"],
        ["mock-recall", "--gtin", "00614141000043", "--lot", "C1"],
    ],
    ids=lambda command: command[0],
)
def test_a_database_that_does_not_exist_is_an_error_not_created(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.sqlite"
    url = f"sqlite:///{missing}"
    code, out, err = in_process(capsys, *command, "--database-url", url)
    assert code == 2
    assert err.startswith(f"lotline: no database at {missing} ({url}): load data first"), err
    assert not missing.exists() and not out


def test_the_database_path_may_be_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOTLINE_DATABASE_URL", raising=False)
    code, _, err = in_process(capsys, "trace", "--gtin", "00614141000043", "--lot", "C1")
    assert code == 2
    assert f"no database at {tmp_path / 'lotline.sqlite'} (sqlite:///lotline.sqlite)" in err
    assert not (tmp_path / "lotline.sqlite").exists()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    code, out, _ = in_process(capsys, "--version")
    assert code == 0
    assert out.startswith(f"lotline {version('lotline')}")


def test_each_command_has_its_own_help_with_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = in_process(capsys, "trace", "--help")
    assert code == 0
    sections = [line for line in out.splitlines() if line.endswith(":") and not line[0].isspace()]
    assert sections[:5] == ["options:", "subject:", "scope:", "output:", "database:"]
    for default in ["(default: both)", "(default: 0.0)", "(default: table)"]:
        assert default in " ".join(out.split()), default
    assert "(default: None)" not in out
    code, out, _ = in_process(capsys, "report", "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert "(default: 180)" in flat and "(default: reports-out)" in flat
    assert "(default: )" not in flat


def test_quiet_on_a_closed_pipe(loaded_url: str) -> None:
    """The reader went away before a line was written: no traceback, the shell's 141."""
    process = subprocess.Popen(
        [LOTLINE, "trace", "--gtin", "614141000012", "--lot", "F1", "--database-url", loaded_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the command has started writing
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert stderr == ""
    piped = subprocess.run(
        f"{LOTLINE} trace --gtin 614141000012 --lot F1 --database-url {loaded_url} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert piped.stdout.startswith("Trace of GTIN 00614141000012 lot F1, both")
    assert "Traceback" not in piped.stderr and "BrokenPipeError" not in piped.stderr


def test_csv_neutralises_formulas_and_dash_codes_are_values(
    small_drop: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A partner's lot code `-1+1` is traced as `--lot -1+1` and `--lot=-1+1` alike, and its CSV
    cell cannot run as a formula in a spreadsheet."""
    from lotline import store
    from lotline.intake.ingest import load_folder

    with (small_drop / "receipts.csv").open("a") as receipts:
        receipts.write(
            "R9,2026-09-02T08:00:00-05:00,SUP-MILL,SITE-1,00614141000012,-1+1,,10,KGM,"
            "2026-08-20,2027-02-16,0614141000012,po,=HYPERLINK(1)\n"
        )
    load_folder(store.make_engine(sqlite_url), small_drop)
    outputs = []
    for lot in (["--lot", "-1+1"], ["--lot=-1+1"]):
        code, out, err = in_process(
            capsys,
            "trace",
            "--gtin",
            "614141000012",
            *lot,
            "--format",
            "csv",
            "--database-url",
            sqlite_url,
        )
        assert code == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1]
    rows = outputs[0].splitlines()
    assert "receipt,00614141000012,'-1+1,,,,R9,SUP-MILL,SITE-1," in outputs[0]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.split(","))
    code, out, _ = in_process(
        capsys, "trace", "--gtin", "614141000012", "--lot", "-1+1", "--database-url", sqlite_url
    )
    assert code == 0 and "-1+1" in out  # the table shows the code as written


@pytest.mark.postgres
def test_ingest_never_prints_the_database_password(
    postgres_url: str, small_drop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlalchemy as sa

    with_password = sa.make_url(postgres_url).set(password="s3cret-pw")
    url = with_password.render_as_string(hide_password=False)
    assert "s3cret-pw" in url
    code, out, err = in_process(capsys, "ingest", str(small_drop), "--database-url", url)
    assert code == 0, err
    masked = with_password.render_as_string(hide_password=True)
    assert f"database: {masked}" in out and "***" in masked
    assert "s3cret-pw" not in out + err
    code, out, err = in_process(
        capsys, "trace", "--gtin", "00614141000043", "--lot", "C1", "--database-url", url
    )
    assert code == 0 and "s3cret-pw" not in out + err


# --- the README's "Using it" block, verbatim ------------------------------------------------------

README = Path(__file__).parents[2] / "README.md"

EXPECTED = {
    "generate": lambda out, _: "shipments" in out,
    "ingest": lambda out, _: "snapshot: " in out and "shipments.csv" in out,
    "--format json": lambda out, _: (
        (data := json.loads(out))["subject"]["lot"] == "C26208-06"
        and {r["from_location_id"] for r in data["receipts"]} >= {"SUP-PRAIRIE", "SUP-GLDAIRY"}
        and len(data["lots"]) == 9
    ),
    "--min-exposure": lambda out, _: "Consignees (10)" in out and "Lots (20)" in out,
    "--serial": lambda out, _: "serial 4175433022 (lot B26237-01)" in out and "CUST-HOFMANN" in out,
    "--sscc": lambda out, _: "SSCC 187193271529924970" in out and "B26237-01" in out,
    "--format csv": lambda _, folder: (folder / "trace.csv").read_text().count("\nshipment,") > 50,
    "report recall": lambda out, _: out.strip().endswith(".pdf") and "recall_" in out,
    "report expiry": lambda out, _: out.strip().endswith(".pdf") and "expiry_" in out,
    "export fsma204": lambda out, _: ".xlsx" in out,
    "export epcis": lambda out, folder: (
        out.strip().endswith("trace.jsonld")
        and json.loads((folder / "trace.jsonld").read_text())["type"] == "EPCISDocument"
    ),
    "label": lambda out, _: out.strip().endswith("labels_18719327102012_C26208-06.pdf"),
    "mock-recall": lambda out, _: "31 lots" in out and ".pdf" in out,
    "verify": lambda out, _: out.startswith("UNCHANGED"),
}


def readme_commands() -> list[str]:
    """The `sh` block under "## Using it", continuation lines joined."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## Using it", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return block.replace("\\\n", " ").splitlines()


def test_the_readme_examples_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every line of the README's "Using it" block, copied as it is into an empty folder: the
    first lines make the data the later lines use."""
    import glob
    import shlex

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOTLINE_DATABASE_URL", raising=False)
    commands = readme_commands()
    assert len(commands) >= 10
    for line in commands:
        words = shlex.split(line, comments=True)
        assert words[:3] == ["uv", "run", "lotline"], line
        args, target = words[3:], None
        if ">" in args:
            args, target = args[: args.index(">")], args[args.index(">") + 1]
        args = [match for word in args for match in (sorted(glob.glob(word)) or [word])]
        code, out, err = in_process(capsys, *args)
        assert code == 0, f"{line}\n{err}"
        assert "Traceback" not in err
        if target:
            Path(target).write_text(out)
        checks = [check for key, check in EXPECTED.items() if key in line]
        assert checks, f"no expectation for: {line}"
        assert all(check(out, tmp_path) for check in checks), f"{line}\n{out[:2000]}"


# --- scans in: --scan in place of --gtin/--lot/--serial/--sscc ----------------------------------

C1_SCANS = [
    "(01)00614141000043(10)C1",
    "]C10100614141000043" + "10C1",
    "0100614141000043" + "10C1<GS>17270101",
    "https://id.gs1.org/01/00614141000043/10/C1",
    "urn:epc:class:lgtin:0614141.000004.C1",
]


def test_trace_scan_equals_the_gtin_and_lot_it_names(
    loaded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ["--direction", "both", "--format", "json", "--database-url", loaded_url]
    code, expected, err = in_process(
        capsys, "trace", "--gtin", "614141000043", "--lot", "C1", *options
    )
    assert code == 0, err
    for scan in C1_SCANS:
        code, out, err = in_process(capsys, "trace", "--scan", scan, *options)
        assert code == 0, err
        assert out == expected, scan
    code, expected, _ = in_process(
        capsys, "trace", "--gtin", "00614141000050", "--serial", "T1-0001", *options
    )
    for scan in ["(01)00614141000050(21)T1-0001", "urn:epc:id:sgtin:0614141.000005.T1-0001"]:
        code, out, err = in_process(capsys, "trace", "--scan", scan, *options)
        assert code == 0 and out == expected, err
    # an SSCC is a pallet trace (the small chain packs nothing: the same answer, an error)
    at = ["--at", "2026-09-10T12:00:00Z", *options]
    by_sscc = in_process(capsys, "trace", "--sscc", "306141410000000013", *at)
    assert by_sscc[0] == 2 and "held nothing" in by_sscc[2]
    assert in_process(capsys, "trace", "--scan", "(00)306141410000000013", *at) == by_sscc


def test_a_scan_whose_lot_the_data_disputes_says_so(
    loaded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scan = "(01)00614141000050(21)T1-0001(10)T9"
    code, out, err = in_process(capsys, "trace", "--scan", scan, "--database-url", loaded_url)
    assert code == 0, err
    assert "note: the scan says lot 'T9'; the lineage holds serial 'T1-0001' in lot 'T1'" in out


def test_export_scan_of_a_serial_exports_its_lot(
    loaded_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An EPC SGTIN URI names no lot: a command that asks for a lot takes the serial's."""
    by_lot = ["export", "fsma204", "--gtin", "614141000050", "--lot", "T1"]
    code, out, err = in_process(
        capsys, *by_lot, "--out", str(tmp_path / "a"), "--database-url", loaded_url
    )
    assert code == 0, err
    expected = {Path(p).name: Path(p).read_text() for p in out.split() if p.endswith(".csv")}
    scan = "urn:epc:id:sgtin:0614141.000005.T1-0001"
    options = ["--out", str(tmp_path / "b"), "--database-url", loaded_url]
    code, out, err = in_process(capsys, "export", "fsma204", "--scan", scan, *options)
    assert code == 0, err
    assert "note: serial T1-0001 of GTIN 00614141000050 is in lot T1" in err
    assert {
        Path(p).name: Path(p).read_text() for p in out.split() if p.endswith(".csv")
    } == expected
    assert len(expected) >= 3


SCAN_REFUSED = {
    "check_digit": (
        ["trace", "--scan", "(01)00614141000044(10)C1"],
        "argument --scan: '(01)00614141000044(10)C1': (01) 00614141000044: "
        "check digit should be 3, not 4",
    ),
    "gtin_only": (
        ["trace", "--scan", "614141000043"],
        "argument --scan: '614141000043' names GTIN 00614141000043 but no lot (10) or serial "
        "(21): a trace needs one",
    ),
    "with_gtin": (
        ["trace", "--gtin", "614141000043", "--scan", "(01)00614141000043(10)C1"],
        "lotline: --scan names the subject already: leave out --gtin",
    ),
    "with_lot": (
        ["trace", "--lot", "C1", "--scan", "(01)00614141000043(10)C1"],
        "argument --scan: not allowed with argument --lot",
    ),
    "with_lot_in_export": (
        ["export", "fsma204", "--lot", "C1", "--scan", "(01)00614141000043(10)C1"],
        "lotline: --scan names the subject already: leave out --lot",
    ),
    "pallet_for_a_report": (
        ["report", "recall", "--scan", "(00)306141410000000013"],
        "lotline: --scan names SSCC 306141410000000013 (a pallet or case) but report recall "
        "needs a lot; `lotline trace --scan` traces a pallet",
    ),
    "pallet_for_a_drill": (
        ["mock-recall", "--scan", "urn:epc:id:sscc:0614141.3000000001"],
        "lotline: --scan names SSCC 306141410000000013 (a pallet or case) but mock-recall "
        "needs a lot",
    ),
    "report_lot_unknown": (
        ["report", "recall", "--scan", "https://id.gs1.org/01/00614141000043/10/NOPE"],
        "lotline: no lot 'NOPE' of GTIN 00614141000043 in the lineage tables",
    ),
    "drill_without_subject": (
        ["mock-recall"],
        "lotline: mock-recall needs --gtin and --lot, or --scan",
    ),
}


@pytest.mark.parametrize("case", list(SCAN_REFUSED))
def test_a_bad_scan_exits_2_naming_what_is_wrong(
    case: str, loaded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args, message = SCAN_REFUSED[case]
    code, out, err = in_process(capsys, *args, "--database-url", loaded_url)
    assert code == 2
    assert message in err, err
    assert not out and "Traceback" not in err


def test_export_epcis_scan_exports_the_lot_it_names(
    loaded_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    documents = []
    for subject in (["--gtin", "614141000043", "--lot", "C1"], ["--scan", C1_SCANS[-1]]):
        out_dir = str(tmp_path / subject[0].strip("-"))
        code, out, err = in_process(
            capsys, "export", "epcis", *subject, "--out", out_dir, "--database-url", loaded_url
        )
        assert code == 0, err
        documents.append(json.loads(Path(out.strip()).read_text())["epcisBody"])
    assert documents[0] == documents[1] and documents[0]["eventList"]
