"""Label sheets: N labels of one lot on A4, each with a GS1 DataMatrix and a GS1-128 symbol.

A label carries what a scanner and a person downstream need to trace the lot: product name,
GTIN, lot and expiry as text, and the same data as (01) GTIN-14, (17) expiry — (15) when the
product's date is a best-before date — and (10) lot in both symbols, with the human-readable
interpretation under each. Symbols are vector SVG (`lotline.gs1.symbols`) in the PDF/A pipeline
of `reports.render`, so they print sharp at any printer resolution.

Data comes from the database, not from the command line alone: a label whose expiry differs
from the lot's record is refused, since a wrong date on a label is what a recall is about. A lot
not loaded yet (labels printed at the line, before the production record arrives) is labelled
when its product is known and `--expiry` is given.

A label sheet is not a regulated document: it takes no number from the register of issued
documents and embeds no provenance record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.engine import Engine

import models
from lotline import store
from lotline.gs1 import symbols
from lotline.trace import UnknownSubject
from reports.render import (
    fmt_utc,
    generated_now,
    package_version,
    render_html,
    safe_name,
    write_pdf,
)

TITLE = "GS1 label sheet"
LABEL_MM = (95.0, 68.0)
"""Label width × height: 2 across and 4 down on A4 portrait inside 10 mm margins."""
WIDE_LABEL_MM = (190.0, 68.0)
"""One label across, for a GS1-128 symbol too long for a half-width label."""
PADDING_MM = 4.0
MARGIN_MM = 10.0
"""Top and left page margin (`@page labels` in style.css): where the first label starts."""
ROWS = 4
DATAMATRIX_MODULE_MM = 0.6
X_TARGET_MM, X_MIN_MM = 0.33, 0.25
"""GS1-128 X-dimension: 0.33 mm where it fits, never below 0.25 mm (the GS1 minimum for
healthcare non-retail trade items); a symbol that does not fit a half-width label at 0.25 mm
gets a full-width label."""
BAR_HEIGHT_MM = 15.0
DATE_LABELS = {"17": "EXP", "15": "BEST BEFORE"}


@dataclass(frozen=True)
class LabelData:
    """One lot as labelled."""

    gtin: str
    lot: str
    product_name: str
    expiry: date | None
    expiry_ai: str
    element: symbols.ElementString


def label_data(engine: Engine, gtin: str, lot: str, expiry: date | None = None) -> LabelData:
    """The lot's product name and expiry from the database; `expiry` for a lot not loaded yet.

    Raises UnknownSubject for an unknown product or (without `expiry`) an unknown lot, and
    ValueError when `expiry` contradicts the lot's recorded expiry or the data is not encodable."""
    gtin = gtin.zfill(14)
    with engine.connect() as conn:
        product = store.read_frame(conn, models.Product, store.table(models.Product).c.gtin == gtin)
        lot_table = store.table(models.Lot)
        lots = store.read_frame(
            conn,
            models.Lot,
            sa.and_(lot_table.c.gtin == gtin, lot_table.c.lot == lot),
            ["gtin", "lot", "product_name", "expiry_date"],
        )
    if product.is_empty():
        raise UnknownSubject(f"no product with GTIN {gtin} in the database")
    recorded = lots["expiry_date"][0] if lots.height else None
    if lots.is_empty() and expiry is None:
        raise UnknownSubject(
            f"no lot {lot!r} of GTIN {gtin} in the lineage tables; give --expiry to label a lot "
            "that is not loaded yet"
        )
    if recorded is not None and expiry is not None and expiry != recorded:
        raise ValueError(
            f"lot {lot!r} of GTIN {gtin} expires {recorded.isoformat()} in the database, not "
            f"{expiry.isoformat()}: correct the record first or leave out --expiry"
        )
    kind = product["expiry_kind"][0] or "use_by"
    expiry_ai = next(ai for ai, k in symbols.EXPIRY_AIS.items() if k == kind)
    when = expiry if expiry is not None else recorded
    return LabelData(
        gtin=gtin,
        lot=lot,
        product_name=str(product["name"][0]),
        expiry=when,
        expiry_ai=expiry_ai,
        element=symbols.element_string(gtin, lot=lot, expiry=when, expiry_ai=expiry_ai),
    )


@dataclass(frozen=True)
class SheetLayout:
    """Labels across an A4 sheet, their size, and the GS1-128 X-dimension that fits them."""

    across: int
    width_mm: float
    height_mm: float
    x_mm: float  # GS1-128 X-dimension

    @property
    def per_sheet(self) -> int:
        return self.across * ROWS


def layout(linear_modules: int) -> SheetLayout:
    """Half-width labels when the GS1-128 symbol fits one at `X_MIN_MM`, else full width."""
    for across, (width, height) in ((2, LABEL_MM), (1, WIDE_LABEL_MM)):
        inner = width - 2 * PADDING_MM
        x = min(X_TARGET_MM, inner / linear_modules)
        if x >= X_MIN_MM:
            return SheetLayout(across, width, height, round(x, 3))
    raise ValueError(
        f"the GS1-128 symbol ({linear_modules} modules) is too long for a label at "
        f"{X_MIN_MM} mm per module"
    )


def sheet_html(
    data: LabelData, count: int | None = None, generated_at: datetime | None = None
) -> str:
    """The label sheet as HTML: `count` labels (default: one full sheet), inline SVG symbols."""
    matrix = symbols.datamatrix(data.element, DATAMATRIX_MODULE_MM)
    linear_modules = symbols.gs1_128(data.element, 1.0).modules
    sheet = layout(linear_modules)
    linear = symbols.gs1_128(data.element, sheet.x_mm, BAR_HEIGHT_MM)
    count = sheet.per_sheet if count is None else count
    if count < 1:
        raise ValueError(f"label count must be at least 1, not {count}")
    labels = list(range(count))
    pages = [labels[i : i + sheet.per_sheet] for i in range(0, count, sheet.per_sheet)]
    return render_html(
        "label.html.j2",
        label=data,
        pages=[
            [page[i : i + sheet.across] for i in range(0, len(page), sheet.across)]
            for page in pages
        ],
        sheet=sheet,
        padding_mm=PADDING_MM,
        datamatrix=Markup(matrix.svg),
        linear=Markup(linear.svg),
        hri=data.element.hri,
        hri_lines=data.element.lines(),
        date_label=DATE_LABELS[data.expiry_ai],
        footer=(
            f"{TITLE} · GTIN {data.gtin} · lot {data.lot} · {count} label"
            f"{'' if count == 1 else 's'} · generated {fmt_utc(generated_now(generated_at))} · "
            f"lotline {package_version()}"
        ),
    )


def render_label_sheet(
    engine: Engine,
    gtin: str,
    lot: str,
    out_dir: Path,
    *,
    expiry: date | None = None,
    count: int | None = None,
    generated_at: datetime | None = None,
) -> Path:
    """Write `out_dir/labels_<gtin>_<lot>.pdf` (replacing an earlier sheet) and return its path."""
    data = label_data(engine, gtin, lot, expiry)
    html = sheet_html(data, count, generated_at)
    name = f"labels_{safe_name(data.gtin)}_{safe_name(data.lot)}.pdf"
    return write_pdf(
        html,
        Path(out_dir) / name,
        title=f"{TITLE} — {data.gtin} / {data.lot}",
        generated_at=generated_at,
    )
