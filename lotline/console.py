"""Terminal output of the `lotline` command: tables and progress.

Tables fit the terminal without breaking an identifier: GTINs, SSCCs, lot codes, times and
numbers never wrap; only free text (product and business names) wraps. Written to a file or a
pipe, a table keeps its natural width (or `COLUMNS`), so every row is one greppable line.
Progress goes to stderr, never stdout, so `--format json/csv` output stays clean: a live bar on
a terminal, one plain line per stage otherwise (logs, CI).

rich is imported inside the functions: a command printing JSON never pays for it.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Literal

import polars as pl

Kind = Literal["id", "text", "number", "share", "time"]
Stage = Callable[[str], None]
"""Told each stage of a long command as it starts ("validating receipts")."""
WIDE = 100_000
"""Measuring width: wide enough that nothing is wrapped while measuring."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "id"
    header: str | None = None
    drop: int | None = None
    """Left out, lowest first, when the table cannot otherwise fit the width; None: always shown."""


def cell(value: object, kind: Kind) -> str:
    """One value as printed: times in UTC with the zone named, shares to 4 places, no 'None'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if kind == "share":
            return f"{value:.4f}"
        return f"{value:.3f}".rstrip("0").rstrip(".") or "0"
    return str(value)


def print_table(
    frame: pl.DataFrame,
    columns: Sequence[Column],
    *,
    title: str | None = None,
    stream: IO[str] | None = None,
    cells: Callable[[str, object], str] | None = None,
) -> None:
    """Print `frame`'s `columns` as a table that fits the width without breaking identifiers.

    When even the identifiers do not fit, droppable columns are left out (said on stderr);
    `cells(column, value)` may override how a value reads (e.g. a null status as "released")."""
    from rich.console import Console

    stream = stream or sys.stdout
    texts = {
        c.name: [cells(c.name, v) if cells else cell(v, c.kind) for v in frame[c.name]]
        for c in columns
    }
    shown = list(columns)
    table = _table(shown, texts)
    target = _target_width(stream)
    left_out = []
    while target is not None and _measure(table).minimum > target:
        droppable = [c for c in shown if c.drop is not None]
        if not droppable:
            break
        dropped = min(droppable, key=lambda c: c.drop or 0)
        shown.remove(dropped)
        left_out.append(dropped.header or dropped.name)
        table = _table(shown, texts)
    need = _measure(table)
    width = need.maximum if target is None else max(min(target, need.maximum), need.minimum)
    if title:
        print(title, file=stream, flush=True)
    out = Console(file=stream, width=max(width, 1), highlight=False)
    with out.capture() as captured:
        out.print(table)
    # written by us, not rich: no padding at line ends, and a closed pipe raises BrokenPipeError
    stream.write("".join(line.rstrip(" ") + "\n" for line in captured.get().splitlines()))
    if left_out:
        print(
            f"(left out to fit {target} columns: {', '.join(left_out)}; "
            "a wider terminal or --format json shows them)",
            file=sys.stderr,
        )


def _table(columns: Sequence[Column], texts: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),  # two spaces between columns
        header_style="bold",
    )
    for c in columns:
        header = c.header or c.name
        if c.kind == "text":
            table.add_column(header, overflow="fold")
        else:  # identifiers, numbers and times are read whole or not at all
            widest = max([len(header), *map(len, texts[c.name])])
            justify = "right" if c.kind in ("number", "share") else "left"
            table.add_column(header, no_wrap=True, min_width=widest, justify=justify)
    for row in zip(*(texts[c.name] for c in columns), strict=True):
        table.add_row(*(Text(value) for value in row))  # Text: no markup read in lot codes
    return table


def _measure(table: object):  # type: ignore[no-untyped-def]
    """The table's narrowest width (identifiers whole, names wrapped) and its natural width."""
    from rich.console import Console
    from rich.measure import Measurement

    measuring = Console(width=WIDE, file=io.StringIO())
    return Measurement.get(measuring, measuring.options, table)  # type: ignore[arg-type]


def _target_width(stream: IO[str]) -> int | None:
    """`COLUMNS`, else the terminal's width; None for a file or a pipe: the natural width, so
    every row is one line."""
    from rich.console import Console

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if _is_terminal(stream):
        return Console(file=stream).width
    return None


@contextmanager
def progress(total: int | None = None, stream: IO[str] | None = None) -> Iterator[Stage]:
    """A `stage(text)` callback: a live bar on a terminal, a plain line per stage otherwise.

    `total` is the number of stages expected, for the bar; None shows a bar without an end."""
    stream = stream or sys.stderr
    if not _is_terminal(stream):

        def line(text: str) -> None:
            print(f"{text}…", file=stream, flush=True)

        yield line
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(file=stream),
        transient=True,
    ) as bar:
        task = bar.add_task("starting…", total=total)
        started = False

        def advance(text: str) -> None:
            nonlocal started
            if started:
                bar.advance(task)
            started = True
            bar.update(task, description=f"{text}…")

        yield advance


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
