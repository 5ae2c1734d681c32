"""CSV formula injection (OWASP): text cells a spreadsheet would run come back as plain text."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from lotline.safe_csv import neutralise, write_csv
from reports.render import csv_bytes

PAYLOADS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
HARMLESS = ["C1", "F-1", "a=b", " =1", "", None, "Ölmühle GmbH", "'=1"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _frame() -> pl.DataFrame:
    n = len(PAYLOADS) + len(HARMLESS)
    return pl.DataFrame(
        {
            "lot": PAYLOADS + HARMLESS,
            "quantity": [-5.0, 1.5] * (n // 2),
            "delta": list(range(-n // 2, n - n // 2)),
            "expiry_date": [date(2027, 1, 4)] * n,
            "shipped_at": [datetime(2026, 9, 10, 12, tzinfo=UTC)] * n,
        }
    )


def test_neutralise_prefixes_formula_text_and_leaves_the_rest() -> None:
    frame = _frame()
    safe = neutralise(frame)
    assert safe["lot"].to_list() == ["'" + p for p in PAYLOADS] + HARMLESS
    assert safe.drop("lot").equals(frame.drop("lot"))  # numbers, dates, times untouched
    assert safe.schema == frame.schema


def test_write_csv_reads_back_neutralised(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    assert write_csv(_frame(), path) is None
    back = pl.read_csv(path, infer_schema=False)
    assert back["lot"].to_list()[: len(PAYLOADS)] == ["'" + p for p in PAYLOADS]
    assert not back["lot"].drop_nulls().str.contains(r"^[=+\-@\t\r]").any()
    assert back["quantity"].to_list()[0] == "-5.0"  # a negative number stays a number
    text = write_csv(_frame())
    assert isinstance(text, str) and text.encode() == path.read_bytes()


def test_csv_bytes_of_the_reports_is_neutralised() -> None:
    back = pl.read_csv(io.BytesIO(csv_bytes(_frame())), infer_schema=False)
    assert back["lot"].to_list()[: len(PAYLOADS)] == ["'" + p for p in PAYLOADS]
    assert back["delta"][0] == "-7"  # a negative integer stays a number
    assert back["shipped_at"][0] == "2026-09-10T12:00:00Z"
    for column in back.columns:
        if column not in ("quantity", "delta"):
            assert not any(str(v).startswith(FORMULA_START) for v in back[column].drop_nulls())
