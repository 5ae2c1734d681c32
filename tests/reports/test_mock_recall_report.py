"""The mock recall evidence PDF read back with pypdf, and the `lotline mock-recall` command."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pypdf
import sqlalchemy as sa
from test_charts import pdf_figures

from lotline import api, cli, mock_recall
from reports.mock_recall import render_mock_recall_report

GTIN = "00614141000043"
LOT = "C1"
LOTLINE = str(Path(sys.executable).parent / "lotline")
START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def clock_of(start: datetime, seconds: float) -> Callable[[], datetime]:
    readings = iter([start, start + timedelta(seconds=seconds)])
    return lambda: next(readings)


def pdf_text(path: Path) -> str:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    return re.sub(r"[ \t]+", " ", text)


def test_evidence_pdf_prints_record_scope_balance_and_history(
    small_engine: sa.Engine, tmp_path: Path
) -> None:
    first = mock_recall.run_drill(
        small_engine, GTIN, LOT, "both", run_by="alice", clock=clock_of(START, 95.0)
    )
    second = mock_recall.run_drill(
        small_engine,
        GTIN,
        LOT,
        "forward",
        run_by="bob",
        clock=clock_of(START + timedelta(days=30), 40.0),
    )
    path = render_mock_recall_report(small_engine, second, tmp_path, history_rows=5)
    assert path.exists() and path.name.startswith(f"mock_recall_{second.drill_id}_MRD-")
    text = pdf_text(path)

    # page 1: the drill record and the trend chart of both drills, drawn as vectors with text
    page = pypdf.PdfReader(path).pages[0]
    assert "1 Drill record" in page.extract_text()
    (chart,) = pdf_figures(page)
    assert chart.drawing_operators > 30  # lines, markers, axes as paths
    percent = f"this drill: {second.record['percent_accounted']:.1f} %"
    for label in ("% of quantity accounted for", "Time to answer (s)", "this drill: 40 s", percent):
        assert label in chart.texts, label
    assert {"1", "2"} <= set(chart.texts)  # drill numbers on the x axis

    assert "Mock Recall Drill Evidence" in text
    assert second.drill_id in text and LOT in text and GTIN in text
    assert "bob" in text
    assert second.record["snapshot_id"] in text
    for name in second.trace.consignees["business_name"].unique():
        assert name in text
    assert "Corner Grocer Inc" in text and "MegaMart Distribution" in text
    assert f"{second.record['percent_accounted']:.1f} %" in text
    assert "40.000 s" in text
    for uom in second.balance["uom"]:
        assert uom in text
    # History: both drills, newest first, with their times to answer.
    assert first.drill_id in text
    assert text.index(second.drill_id, text.index("Last 5 drills")) < text.index(first.drill_id)
    assert "alice" in text and "95" in text
    assert "Drills on record 2" in text
    assert "Mean time to answer 67.500 s" in text
    assert "Sign-off" in text

    stored = mock_recall.drill_history(small_engine).filter(pl.col("drill_id") == second.drill_id)
    assert stored["pdf_path"][0] == str(path)
    assert stored["document_number"][0] in text

    # every time in UTC, said so in the terms
    times = re.findall(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?(\S*(?: UTC)?)", text)
    assert len(times) >= 5 and set(times) == {" UTC"}
    assert "All times are UTC (offset +00:00)" in text

    attached = pypdf.PdfReader(path).attachments
    assert "drill_history.csv" in attached and "scope_balance.csv" in attached
    history_csv = attached["drill_history.csv"][0].decode()
    assert first.drill_id in history_csv and second.drill_id in history_csv


def test_one_drill_draws_its_point_and_the_consignee_list_is_bounded(
    small_engine: sa.Engine, tmp_path: Path
) -> None:
    drill = mock_recall.run_drill(small_engine, GTIN, LOT, run_by="qa", clock=clock_of(START, 9))
    path = render_mock_recall_report(small_engine, drill, tmp_path, max_consignees=1)
    assert "Showing 1 of 2 rows" in pdf_text(path)
    (chart,) = pdf_figures(pypdf.PdfReader(path).pages[0])  # one drill on record: still a chart
    assert chart.drawing_operators > 30 and "this drill: 9 s" in chart.texts
    assert "% of quantity accounted for" in chart.texts and "Time to answer (s)" in chart.texts


def test_cli_runs_a_drill_and_prints_the_pdf_path(
    small_engine: sa.Engine, sqlite_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "evidence"
    run = subprocess.run(
        [LOTLINE, "mock-recall", "--database-url", sqlite_url, "--gtin", GTIN, "--lot", LOT]
        + ["--by", "carol", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    printed = run.stdout.strip().splitlines()
    pdf = Path(printed[-1])
    assert pdf.exists() and pdf.parent == out and pdf.suffix == ".pdf"
    assert "2 consignees" in printed[0] and "accounted" in printed[0]
    history = mock_recall.drill_history(api.connect(sqlite_url))
    assert history.height == 1 and history["run_by"][0] == "carol"
    assert history["pdf_path"][0] == str(pdf)
    assert history["drill_id"][0] in pdf_text(pdf)


def test_cli_unknown_lot_exits_2_and_stores_nothing(
    small_engine: sa.Engine, sqlite_url: str, tmp_path: Path
) -> None:
    code = cli.main(
        ["mock-recall", "--database-url", sqlite_url, "--gtin", GTIN, "--lot", "NOPE"]
        + ["--out", str(tmp_path)]
    )
    assert code == 2
    assert mock_recall.drill_history(small_engine).is_empty()
    assert not list(tmp_path.glob("*.pdf"))
