"""What the Dagster UI shows about a table and a check, in Dagster's standard metadata.

Tables get `dagster/column_schema` (from the SQLModel table or the Polars frame),
`dagster/row_count` and a `preview` of the first rows; checks get a Markdown `result` table
(rule, count, examples) that reads without opening "Show JSON". Pure functions: the assets call
them with what they already hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import dagster as dg
import polars as pl
import sqlalchemy as sa
from sqlmodel import SQLModel

from lotline import store
from lotline.intake.contract import RecordType

PREVIEW_ROWS = 10
EXAMPLES = 3
CELL_CHARACTERS = 80


# --- tables --------------------------------------------------------------------------------------


def model_schema(model: type[SQLModel]) -> dg.TableSchema:
    """The stored table's columns: SQL type, nullability, key, and the model's field description."""
    table = store.table(model)
    fields = model.model_fields
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                column.name,
                str(column.type).lower(),
                description=(fields[column.name].description if column.name in fields else None),
                constraints=dg.TableColumnConstraints(
                    nullable=bool(column.nullable), unique=_unique(table, column)
                ),
            )
            for column in table.columns
        ]
    )


def _unique(table: sa.Table, column: sa.Column) -> bool:  # type: ignore[type-arg]
    keys = list(table.primary_key.columns)
    return bool(column.unique) or keys == [column]


def contract_schema(record_type: RecordType) -> dg.TableSchema:
    """A record type's columns as the contract defines them (before any file is read)."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                f.name,
                f.kind,
                description=f.doc or None,
                constraints=dg.TableColumnConstraints(nullable=not f.required),
            )
            for f in record_type.fields
        ]
    )


def frame_schema(frame: pl.DataFrame, docs: Mapping[str, str] | None = None) -> dg.TableSchema:
    """A frame's columns with their Polars types (and a description where `docs` has one)."""
    docs = docs or {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, _type_name(dtype), description=docs.get(name) or None)
            for name, dtype in frame.schema.items()
        ]
    )


def _type_name(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return f"datetime ({dtype.time_zone})" if dtype.time_zone else "datetime"
    return str(dtype).lower()


def preview(frame: pl.DataFrame, rows: int = PREVIEW_ROWS) -> dg.TableMetadataValue:
    """The first `rows` rows as a Dagster table (dates and times as ISO text)."""
    head = frame.head(rows)
    return dg.MetadataValue.table(
        records=[
            dg.TableRecord({k: _plain(v) for k, v in row.items()})
            for row in head.iter_rows(named=True)
        ],
        schema=frame_schema(head),
    )


def _plain(value: object) -> str | int | float | bool | None:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def table_metadata(
    frame: pl.DataFrame, row_count: int, schema: dg.TableSchema | None = None
) -> dict[str, dg.RawMetadataValue]:
    """Column schema, row count and preview of a table whose first rows are `frame`."""
    return {
        "dagster/column_schema": schema or frame_schema(frame),
        "dagster/row_count": row_count,
        "preview": preview(frame),
    }


def stored_table_metadata(
    conn: sa.Connection | sa.Engine, model: type[SQLModel], row_count: int | None = None
) -> dict[str, dg.RawMetadataValue]:
    """`table_metadata` of a stored table: its first rows read with a LIMIT, its row count
    counted unless the caller knows it (a load knows what it wrote)."""
    table = store.table(model)
    head = store.read_query(conn, sa.select(table).limit(PREVIEW_ROWS), store.polars_schema(model))
    if row_count is None:
        row_count = int(
            _scalar(conn, sa.select(sa.func.count()).select_from(table))  # type: ignore[arg-type]
        )
    return {
        **table_metadata(head, row_count, model_schema(model)),
        "dagster/table_name": table.name,
    }


def _scalar(conn: sa.Connection | sa.Engine, query: sa.Select) -> object:  # type: ignore[type-arg]
    if isinstance(conn, sa.Engine):
        with conn.connect() as c:
            return c.execute(query).scalar()
    return conn.execute(query).scalar()


# --- checks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckLine:
    """One line of a check's result table."""

    rule: str
    count: int
    examples: Sequence[object] = ()
    severity: str | None = None


def check_table(lines: Iterable[CheckLine]) -> dg.MarkdownMetadataValue:
    """The Markdown table a check shows: rule, (severity,) count, a few example values."""
    lines = list(lines)
    with_severity = any(line.severity for line in lines)
    header = (
        ["rule", "severity", "count", "examples"]
        if with_severity
        else ["rule", "count", "examples"]
    )
    rows = []
    for line in lines:
        examples = ", ".join(_cell(e, 40, code=True) for e in list(line.examples)[:EXAMPLES])
        cells = [_cell(line.rule), str(line.count), examples or "—"]
        if with_severity:
            cells.insert(1, _cell(line.severity or ""))
        rows.append(cells)
    return dg.MetadataValue.md(_markdown(header, rows))


def frame_markdown(frame: pl.DataFrame, rows: int = PREVIEW_ROWS) -> dg.MarkdownMetadataValue:
    """The first `rows` rows of a frame as a Markdown table (for check details)."""
    head = frame.head(rows)
    body = [[_cell(_shown(v)) for v in row] for row in head.iter_rows()]
    text = _markdown(head.columns, body) if head.columns else "(none)"
    if frame.height > rows:
        text += f"\n\n{rows} of {frame.height} rows shown."
    return dg.MetadataValue.md(text)


def _shown(value: object) -> object:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _plain(value)


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: object, limit: int = CELL_CHARACTERS, code: bool = False) -> str:
    """Text safe inside a Markdown table cell: one line, bounded, pipes escaped; outside a code
    span HTML is shown as text (the values come from input files)."""
    text = "" if value is None else " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("|", "\\|")
    if code:
        return "`" + text.replace("`", "'") + "`"
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
