"""Charts for the PDFs and notebooks, drawn by matplotlib as SVG text.

Why SVG: WeasyPrint draws an inline SVG as vector paths and text, so a chart stays sharp when a
regulator zooms in, its labels can be searched and extracted like the rest of the page, and no
browser or raster step is involved. Text is kept as text (`svg.fonttype = none`) in the report's
own font family; matplotlib is imported only when a chart is drawn, so `lotline trace` does not
pay for it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FONT_FAMILY = "Report Sans"
"""The @font-face family of reports/templates/style.css (bundled DejaVu Sans)."""

PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#2e75b6", "#bf9000")
"""Print-safe colours, distinguishable in greyscale order."""


@contextmanager
def figure(width_cm: float, height_cm: float) -> Iterator[tuple[Figure, Axes]]:
    """A figure of the given printed size with the reports' style; closed on exit."""
    import matplotlib

    matplotlib.use("svg", force=False)
    from matplotlib import pyplot as plt

    with matplotlib.rc_context(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "lotline",  # stable ids: the same data draws the same bytes
            "font.family": ["DejaVu Sans"],
            "font.size": 8,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        }
    ):
        fig, ax = plt.subplots(figsize=(width_cm / 2.54, height_cm / 2.54))
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def to_svg(fig: Figure) -> str:
    """The figure as an inline `<svg>` element (no XML prolog or DOCTYPE), fonts named as in
    the report's stylesheet and no creation date, so equal data gives equal bytes."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    return re.sub(r"font-family:\s*'?DejaVu Sans'?", f"font-family: '{FONT_FAMILY}'", svg)
