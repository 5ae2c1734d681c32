"""Dagster table and check metadata built from SQLModel tables and Polars frames."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import polars as pl

import models
from lotline.intake.contract import RECORD_TYPES
from pipelines.metadata import (
    CheckLine,
    check_table,
    contract_schema,
    frame_markdown,
    model_schema,
    preview,
)


def test_model_schema_names_types_keys_and_descriptions() -> None:
    columns = {c.name: c for c in model_schema(models.LotEdge).columns}
    assert columns["parent_key"].description == "input lot"
    assert columns["id"].constraints.unique and not columns["id"].constraints.nullable
    assert columns["share"].constraints.nullable and columns["share"].type == "float"
    assert columns["completed_at"].type  # the stored type, whatever the dialect calls it


def test_contract_schema_says_what_is_required() -> None:
    columns = {c.name: c for c in contract_schema(RECORD_TYPES["receipts"]).columns}
    assert columns["gtin"].type == "gtin" and not columns["gtin"].constraints.nullable
    assert columns["serial"].constraints.nullable


def test_preview_keeps_ten_rows_with_times_as_text() -> None:
    frame = pl.DataFrame(
        {
            "lot": [f"L{i}" for i in range(12)],
            "at": [datetime(2026, 9, 1, i, tzinfo=UTC) for i in range(12)],
            "expiry": [date(2027, 1, 1)] * 12,
        }
    )
    shown = preview(frame)
    assert len(shown.value.records) == 10
    assert shown.value.records[0].data == {
        "lot": "L0",
        "at": "2026-09-01T00:00:00+00:00",
        "expiry": "2027-01-01",
    }
    assert [c.type for c in shown.value.schema.columns] == ["string", "datetime (UTC)", "date"]


def test_check_table_is_markdown_with_rule_count_examples() -> None:
    table = check_table(
        [CheckLine("gtin_check_digit on gtin", 4, ["0061|4", "`x`", "<b>", "4th"], "error")]
    )
    assert isinstance(table, dg.MarkdownMetadataValue)
    header, _separator, row = table.value.splitlines()
    assert header == "| rule | severity | count | examples |"
    # three examples, each a code span; a pipe cannot break the table
    assert row == "| gtin_check_digit on gtin | error | 4 | `0061\\|4`, `'x'`, `<b>` |"
    empty = check_table([CheckLine("every edge joins two lots", 0)]).value
    assert empty.splitlines()[-1] == "| every edge joins two lots | 0 | — |"


def test_frame_markdown_shows_input_text_as_text() -> None:
    frame = pl.DataFrame(
        {"detail": ["<script>alert(1)</script>", "two\nlines"], "ok": [True, False]}
    )
    text = frame_markdown(frame).value
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "| two lines | no |" in text
