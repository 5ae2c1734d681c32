"""Terminal tables and progress: identifiers whole at any width, progress only on stderr."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import polars as pl
import pytest

from lotline import console

LOTS = pl.DataFrame(
    {
        "gtin": ["08719327203019", "04012345001044"],
        "lot": ["B26237-01", "NS260309-01"],
        "product_name": [
            "Hearthstone Reserve Signature Gift Box 750 g",
            "Weißzucker, EU-Kategorie 2",
        ],
        "sscc": ["187193271529924970", None],
        "exposure": [1.0, 0.30527],
        "shipped_at": [datetime(2026, 9, 1, 5, 41, tzinfo=UTC), None],
        "quantity": [1853.0, 0.5],
    }
)
COLUMNS = [
    console.Column("gtin"),
    console.Column("lot"),
    console.Column("product_name", "text", "product"),
    console.Column("sscc"),
    console.Column("exposure", "share"),
    console.Column("shipped_at", "time"),
    console.Column("quantity", "number"),
]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def printed(stream: io.StringIO, monkeypatch: pytest.MonkeyPatch, columns: str | None) -> str:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    console.print_table(LOTS, COLUMNS, title="Lots (2)", stream=stream)
    return stream.getvalue()


@pytest.mark.parametrize("width", ["60", "100", "200"])
def test_identifiers_stay_whole_and_text_wraps_to_fit(
    width: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = printed(Terminal(), monkeypatch, width)
    lines = text.splitlines()
    for identifier in [*LOTS["gtin"], *LOTS["lot"], "187193271529924970", "2026-09-01 05:41 UTC"]:
        assert identifier in text, (width, identifier)
    # the only thing narrower terminals change is the product name wrapping
    assert "1.0000" in text and "0.3053" in text and "1853" in text and "0.5" in text
    if width == "200":
        assert "Hearthstone Reserve Signature Gift Box 750 g" in text
    else:
        assert "Hearthstone Reserve Signature Gift Box 750 g" not in text
    # at least as wide as the identifiers, times and numbers with the longest word of the names
    whole = sum(len(v) + 2 for v in ["08719327203019", "NS260309-01", "EU-Kategorie"])
    whole += sum(len(v) + 2 for v in ["187193271529924970", "exposure", "2026-09-01 05:41 UTC"])
    whole += len("quantity")
    visible = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines]
    natural = whole - len("EU-Kategorie") + len("Hearthstone Reserve Signature Gift Box 750 g")
    assert max(map(len, visible)) == max(min(int(width), natural), whole)
    assert not any(line.endswith(" ") for line in visible)


def test_a_file_gets_one_line_per_row(monkeypatch: pytest.MonkeyPatch) -> None:
    text = printed(io.StringIO(), monkeypatch, None)
    rows = [line for line in text.splitlines() if line.startswith(("08719327203019", "04012345"))]
    assert len(rows) == 2
    assert "Hearthstone Reserve Signature Gift Box 750 g" in rows[0]
    assert "\x1b" not in text  # no colour codes in a file


def test_markup_in_codes_is_printed_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pl.DataFrame({"lot": ["[bold]L1[/bold]", "-1+1"]})
    stream = io.StringIO()
    monkeypatch.delenv("COLUMNS", raising=False)
    console.print_table(frame, [console.Column("lot")], stream=stream)
    assert "[bold]L1[/bold]" in stream.getvalue() and "-1+1" in stream.getvalue()


def test_progress_is_one_line_per_stage_off_a_terminal() -> None:
    stream = io.StringIO()
    with console.progress(total=2, stream=stream) as stage:
        stage("reading 9 files")
        stage("validating receipts")
    assert stream.getvalue() == "reading 9 files…\nvalidating receipts…\n"


def test_progress_draws_a_bar_on_a_terminal() -> None:
    stream = Terminal()
    with console.progress(total=2, stream=stream) as stage:
        stage("building lineage")
    assert "building lineage…" in stream.getvalue()


def test_a_narrow_terminal_leaves_out_droppable_columns_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    columns = [
        console.Column("gtin"),
        console.Column("lot"),
        console.Column("product_name", "text", "product", drop=2),
        console.Column("sscc"),
        console.Column("shipped_at", "time", drop=1),
        console.Column("quantity", "number"),
    ]
    stream = Terminal()
    console.print_table(LOTS, columns, stream=stream)
    lines = stream.getvalue().splitlines()
    assert max(len(re.sub(r"\x1b\[[0-9;]*m", "", line)) for line in lines) <= 80
    assert "2026-09-01 05:41 UTC" not in stream.getvalue()  # the time went first
    assert "Hearthstone" in stream.getvalue()  # the name still fits, wrapped
    assert "left out to fit 80 columns: shipped_at;" in capsys.readouterr().err
    monkeypatch.delenv("COLUMNS")
    file = io.StringIO()
    console.print_table(LOTS, columns, stream=file)  # a file: every column, whole rows
    assert "2026-09-01 05:41 UTC" in file.getvalue()
