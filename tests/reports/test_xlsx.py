"""The column-wise XLSX writer read back with openpyxl: values, types, header, filters, chunks."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import polars as pl
import pytest

from reports import xlsx

CREATED = datetime(2000, 1, 1)


def _book(frames: dict[str, pl.DataFrame]) -> tuple[bytes, openpyxl.Workbook]:
    buffer = io.BytesIO()
    xlsx.write_workbook(frames, buffer, title="t", created=CREATED)
    return buffer.getvalue(), openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))


def test_values_round_trip_with_their_types() -> None:
    frame = pl.DataFrame(
        {
            "text": ["00614141000043", "=1+1", 'a & <b> "c"', "  padded ", None],
            "number": [1.5, 1000.0, 1e-7, None, float("nan")],
            "count": [1, 2, None, 4, 5],
            "day": [date(2026, 9, 10), None, date(1999, 12, 31), date(2026, 1, 1), None],
            "at": [datetime(2026, 9, 10, 7, 30, tzinfo=UTC), None, None, None, None],
            "flag": [True, False, None, True, False],
        }
    )
    _, book = _book({"Sheet with a name longer than thirty-one characters": frame})
    (ws,) = book.worksheets
    assert ws.title == "Sheet with a name longer than t"
    assert [c.value for c in ws[1]] == frame.columns and all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:F6"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows[0] == (
        "00614141000043",
        1.5,
        1,
        datetime(2026, 9, 10),
        datetime(2026, 9, 10, 7, 30),
        True,
    )
    assert rows[1][0] == "=1+1" and ws.cell(3, 1).data_type == "s"  # text, never a formula
    assert rows[2][:3] == ('a & <b> "c"', 1e-7, None)
    assert rows[3][0] == "  padded " and rows[3][1] is None
    assert rows[4] == (None, None, 5, None, None, False)  # NaN is left empty
    assert ws.cell(2, 4).is_date and ws.cell(2, 4).number_format == "yyyy-mm-dd"


def test_rows_are_streamed_in_chunks_and_bytes_are_reproducible(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(xlsx, "CHUNK_ROWS", 7)
    frame = pl.DataFrame({"lot": [f"L{i:03d}" for i in range(50)], "qty": list(range(50))})
    frames = {"A": frame, "B": frame.head(0), "C\x01": pl.DataFrame({"x": ["bad\x02char"]})}
    data, book = _book(frames)
    assert [r[0] for r in book["A"].iter_rows(min_row=2, values_only=True)] == frame[
        "lot"
    ].to_list()
    assert book["B"].max_row == 1
    assert book.worksheets[2]["A2"].value == "badchar"  # characters XML cannot hold are dropped
    again, _ = _book(frames)
    assert again == data


def test_column_letters() -> None:
    assert [xlsx.column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]
