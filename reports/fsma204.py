"""Write the FSMA 204 electronic sortable spreadsheet: one XLSX and one CSV per sheet.

The XLSX is what FDA opens (21 CFR 1.1455(c)(3)(ii)): one sheet per Critical Tracking Event plus
the glossary, bold frozen header row and an autofilter on every sheet so it sorts and filters at
once, dates as real Excel dates (they sort as dates, not text), GTINs and lot codes as text (no
lost leading zeros, no scientific notation). Cell text is never read as a formula or a link, so
a lot code starting with "=" stays data. `reports.xlsx` writes it column-wise: a hub lot's
half-million rows take seconds, not minutes. The CSVs (UTF-8, ISO dates) carry the same rows for
systems that do not read XLSX; there a text cell that a spreadsheet would run as a formula gets a
leading apostrophe (`lotline.safe_csv`), while the XLSX keeps every value as typed.

The content is deterministic: the same frames give byte-identical files (the workbook's creation
time is fixed unless the caller passes one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import polars as pl

from lotline.safe_csv import write_csv
from reports.xlsx import write_workbook

FIXED_CREATED = datetime(2000, 1, 1)
"""Creation time written into the XLSX properties unless given: keeps the bytes reproducible."""

MAX_WIDTH = 60
MIN_WIDTH = 8
EXCEL_MAX_ROWS = 1_048_576


def write_fsma204(
    frames: Mapping[str, pl.DataFrame],
    out_dir: Path,
    name: str,
    created: datetime | None = None,
) -> dict[str, Path | list[Path]]:
    """Write `frames` (sheet name → rows, in workbook order) as `<name>.xlsx` and one
    `<name>_<sheet>.csv` per sheet; returns {"xlsx": path, "csv": [paths]}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = safe_name(name)
    xlsx = out_dir / f"{stem}.xlsx"
    write_xlsx(frames, xlsx, created)
    csvs = []
    for sheet, frame in frames.items():
        path = out_dir / f"{stem}_{safe_name(sheet).lower()}.csv"
        write_csv(frame, path, date_format="%Y-%m-%d")
        csvs.append(path)
    return {"xlsx": xlsx, "csv": csvs}


def safe_name(text: str) -> str:
    """A file-name part from lot codes and dates: anything but letters, digits, . _ - becomes _."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "fsma204"


def write_xlsx(
    frames: Mapping[str, pl.DataFrame], path: Path | BinaryIO, created: datetime | None
) -> None:
    """Write the workbook to a file path or into a binary buffer (the PDF embeds it)."""
    for sheet, frame in frames.items():
        if frame.height >= EXCEL_MAX_ROWS:  # never cut rows silently: ask for a smaller scope
            raise ValueError(
                f"sheet {sheet} has {frame.height:,} rows, more than an Excel sheet holds; "
                "export a shorter period"
            )
    write_workbook(
        frames,
        path,
        title="FSMA 204 electronic sortable spreadsheet",
        subject="21 CFR 1.1455(c)(3)(ii)",
        created=created or FIXED_CREATED,
        widths={
            sheet: [_width(column, frame[column]) for column in frame.columns]
            for sheet, frame in frames.items()
        },
    )


def _width(column: str, values: pl.Series) -> float:
    """Wide enough for the longest value as text (an ISO date is as wide as Excel's), within
    bounds; headers wrap at word breaks."""
    longest = values.cast(pl.String).str.len_chars().max() or 0
    heading = max(len(word) for word in column.split()) if column else 0
    return float(min(MAX_WIDTH, max(MIN_WIDTH, int(longest) + 2, heading + 2)))
