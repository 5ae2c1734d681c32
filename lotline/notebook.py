"""An analyst's notebook session: which database it works on, and frames that read whole.

Every notebook starts with `engine = notebook.open_database(demo_dir)`: the database named by
`LOTLINE_DATABASE_URL`, else the demo database (`lotline.demo`), and it prints which one — with
any password masked, since notebooks are shared and their outputs saved. `show_frames()` sets
Polars to print whole names (product and business names are longer than Polars' 30-character
default) and to wrap wide frames at the page width instead of cutting columns.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lotline import api, demo

DATABASE_URL_ENV = "LOTLINE_DATABASE_URL"
UNRESTRICTED = "released"
"""How a lot without any hold, quarantine, recall or release event in force reads."""


def database_url(demo_dir: Path = demo.DEMO_DIR) -> tuple[str, str]:
    """(URL, where it came from): `LOTLINE_DATABASE_URL` when set, else the demo database in
    `demo_dir`, built there once if it is not yet."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        return url, DATABASE_URL_ENV
    return demo.demo_database(demo_dir), f"demo database in {Path(demo_dir).resolve()}"


def masked(url: str) -> str:
    """The URL with its password replaced by ***: safe to print in a shared notebook."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(not a database URL)"


def open_database(demo_dir: Path = demo.DEMO_DIR) -> Engine:
    """An engine on the notebook's database (see `database_url`); prints which one it is."""
    url, source = database_url(demo_dir)
    print(f"database: {masked(url)} ({source})")
    return api.connect(url)


def show_frames(width: int = 140, rows: int = 20) -> None:
    """Frames print whole names and every column, wrapped at `width` characters."""
    pl.Config.set_fmt_str_lengths(200)
    pl.Config.set_tbl_width_chars(width)
    pl.Config.set_tbl_cols(-1)
    pl.Config.set_tbl_rows(rows)


def status_label(column: str = "status") -> pl.Expr:
    """A lot's status in force as a word: no event, or a release, reads `released`."""
    return pl.col(column).fill_null(UNRESTRICTED).replace({"release": UNRESTRICTED}).alias(column)
