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

import polars as pl

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


# --- expiry report: stock per days-to-expiry bucket ------------------------------------------

EXPIRY_BUCKET_COLOURS = {
    "expired": "#8b1a1a",
    "past best-before": "#a0522d",
    "0-30 d": "#e07b39",
    "31-90 d": "#f2c14e",
    "91-180 d": "#9fb7cf",
    "over 180 d": "#d5dbe1",
}
"""Darkest for the most urgent bucket, so the order survives a greyscale print."""

EXPIRY_CHART_MAX_ROWS = 16
"""Bars per unit panel at most; further locations are in the summary table under the chart."""
EXPIRY_CHART_MAX_HEIGHT_CM = 15.0
"""The chart must fit on the page with its heading: fewer bars when units need more panels."""
URGENT_BUCKETS = ("expired", "past best-before", "0-30 d")


def expiry_bucket_bars(summary: pl.DataFrame) -> pl.DataFrame:
    """The bar segments of `expiry_bucket_chart`, one per unit, bar and bucket, from
    `lotline.expiry.bucket_summary`: the chart draws the summary table's own quantities.

    A bar is a location (best-before stock gets its own bar, its dates being quality dates);
    `start` is where the segment begins in its stack. Units are never added together: each
    unit is a panel of its own.
    """
    from lotline.expiry import BEST_BEFORE, BUCKETS

    rank = {bucket: i for i, bucket in enumerate(BUCKETS)}
    bars = summary.with_columns(
        pl.when(pl.col("expiry_kind") == BEST_BEFORE)
        .then(pl.concat_str(pl.col("location_id"), pl.lit(" best-before")))
        .otherwise(pl.col("location_id"))
        .alias("bar"),
        pl.col("bucket")
        .replace_strict(rank, default=len(rank), return_dtype=pl.Int8)
        .alias("rank"),
        pl.col("uom").fill_null("(no unit)"),
    ).sort("uom", "location_id", "expiry_kind", "rank")
    return bars.select(
        "uom",
        "bar",
        "bucket",
        "lots",
        "quantity",
        "held_quantity",
        (pl.col("quantity").cum_sum().over("uom", "bar") - pl.col("quantity")).alias("start"),
    )


def most_urgent_bars(bars: pl.DataFrame, limit: int) -> list[str]:
    """The `limit` bars (locations) with the most lots expired or expiring within 30 days, then
    the most lots, in name order: when not every location fits, the chart shows where to act."""
    urgent = pl.col("lots").filter(pl.col("bucket").is_in(URGENT_BUCKETS)).sum()
    ranked = (
        bars.group_by("bar")
        .agg(urgent.alias("urgent"), pl.col("lots").sum())
        .sort(["urgent", "lots", "bar"], descending=[True, True, False])
    )
    return sorted(ranked["bar"].head(limit).to_list())


def expiry_bucket_chart(summary: pl.DataFrame, *, width_cm: float = 26.0) -> str | None:
    """Stacked horizontal bars of stock on hand per location and days-to-expiry bucket, one
    panel per unit of measure (small multiples sharing the location axis), as inline SVG;
    None when there is no stock to draw. Each segment is labelled with its quantity when it
    is wide enough, and each bar ends with its total and the quantity on hold."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from lotline.intake.contract import UOM_NAMES
    from reports.render import fmt_qty

    bars = expiry_bucket_bars(summary)
    if bars.is_empty():
        return None
    units = (
        bars.group_by("uom")
        .agg(pl.len().alias("n"))
        .sort(pl.col("n"), pl.col("uom"), descending=[True, False])["uom"]
        .to_list()
    )
    columns = min(len(units), 4)
    panel_rows = -(-len(units) // columns)
    fit = int(((EXPIRY_CHART_MAX_HEIGHT_CM - 1.6) / panel_rows - 1.1) / 0.55)
    rows = most_urgent_bars(bars, max(3, min(EXPIRY_CHART_MAX_ROWS, fit)))
    hidden = bars["bar"].n_unique() - len(rows)
    bars = bars.filter(pl.col("bar").is_in(rows))
    units = [u for u in units if u in set(bars["uom"])]
    columns = min(len(units), 4)
    panel_rows = -(-len(units) // columns)
    position = {bar: i for i, bar in enumerate(rows)}
    buckets = [b for b in EXPIRY_BUCKET_COLOURS if b in set(bars["bucket"])]
    height_cm = 1.3 + (0.4 if hidden else 0) + panel_rows * (1.1 + 0.55 * len(rows))
    headroom = 1.32 if columns < 4 else 1.5  # room for the total at the end of the longest bar
    with figure(width_cm, height_cm) as (fig, ax):
        ax.remove()
        axes = fig.subplots(panel_rows, columns, sharey=True, squeeze=False)
        for panel, unit in zip(axes.flat, units, strict=False):
            segments = bars.filter(pl.col("uom") == unit)
            totals = segments.group_by("bar").agg(
                pl.col("quantity").sum(), pl.col("held_quantity").sum()
            )
            widest = float(totals["quantity"].max() or 1.0)
            stacked = set(segments.filter(pl.len().over("bar") > 1)["bar"])
            for seg in segments.iter_rows(named=True):
                (patch,) = panel.barh(
                    position[seg["bar"]],
                    seg["quantity"],
                    left=seg["start"],
                    height=0.62,
                    color=EXPIRY_BUCKET_COLOURS.get(seg["bucket"], "#9aa5b1"),
                    edgecolor="white",
                    linewidth=0.6,
                )
                patch.set_gid(_svg_id("bar", unit, seg["bar"], seg["bucket"]))
                if seg["bar"] in stacked and seg["quantity"] >= 0.12 * widest:
                    dark = seg["bucket"] in ("expired", "past best-before", "0-30 d")
                    panel.text(
                        seg["start"] + seg["quantity"] / 2,
                        position[seg["bar"]],
                        fmt_qty(round(seg["quantity"])),
                        ha="center",
                        va="center",
                        fontsize=6.5,
                        color="white" if dark else "#1b1f24",
                    )
            for total in totals.iter_rows(named=True):
                held = total["held_quantity"] or 0
                text = fmt_qty(round(total["quantity"], 1))
                text += f" · {fmt_qty(round(held, 1))} held" if held else ""
                panel.text(
                    total["quantity"] + 0.02 * widest,
                    position[total["bar"]],
                    text,
                    va="center",
                    fontsize=6.5,
                    color="#a3331d" if held else "#333333",
                )
            name = UOM_NAMES.get(unit)
            panel.set_title(f"{unit} ({name})" if name else unit, loc="left", fontsize=8)
            panel.set_xlim(0, widest * headroom)
            panel.xaxis.set_major_locator(MaxNLocator(4))
            panel.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_qty(v)))
            panel.grid(axis="x", color="#d5dbe1", linewidth=0.4)
            panel.set_axisbelow(True)
            panel.tick_params(axis="y", length=0)
        for panel in list(axes.flat)[len(units) :]:
            panel.set_visible(False)
        first = axes[0][0]
        first.set_yticks(range(len(rows)), rows)
        first.set_ylim(len(rows) - 0.5, -0.5)
        fig.legend(
            handles=[Patch(color=EXPIRY_BUCKET_COLOURS[b], label=b) for b in buckets],
            loc="upper left",
            ncols=len(buckets),
            frameon=False,
            bbox_to_anchor=(0, 1.0),
        )
        if hidden:
            fig.text(
                0,
                0,
                f"The {len(rows)} locations with the most lots expired or expiring within 30 d "
                f"are drawn; {hidden} more are in the table below.",
                fontsize=7,
            )
        fig.tight_layout(rect=(0, 0.4 / height_cm if hidden else 0, 1, 1 - 0.7 / height_cm))
        return to_svg(fig)


def _svg_id(*parts: str) -> str:
    """An SVG element id from free text (location ids and units may hold any character)."""
    return "-".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", str(part)) for part in parts)


# --- mock recall evidence: drill trend ---------------------------------------------------------


def drill_trend_chart(
    trend: pl.DataFrame,
    *,
    current: str | None = None,
    tolerance: tuple[float, float] | None = None,
    width_cm: float = 26.0,
    height_cm: float = 5.6,
) -> str | None:
    """% of quantity accounted for and time to answer per drill (`lotline.mock_recall.drill_trend`),
    two panels side by side over the drill number, as inline SVG; None without drills.

    The drill `current` (a drill id) is ringed and labelled with its values, so the document's
    own drill stands out; a single drill draws as one labelled point per panel. The mass-balance
    `tolerance` (default `lotline.mass_balance.TOLERANCE`) is shaded behind the percentages."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from lotline.mass_balance import TOLERANCE
    from reports.render import fmt_qty

    if trend.is_empty():
        return None
    frame = trend.sort("drill_number")
    low, high = (100 * bound for bound in tolerance or TOLERANCE)
    panels = (
        ("percent_accounted", "% of quantity accounted for", lambda v: f"{v:.1f} %"),
        ("seconds_to_answer", "Time to answer (s)", lambda v: f"{fmt_qty(round(v, 3))} s"),
    )
    with figure(width_cm, height_cm) as (fig, ax):
        ax.remove()
        axes = fig.subplots(1, 2)
        for panel, (column, title, label) in zip(axes, panels, strict=True):
            points = frame.filter(pl.col(column).is_not_null())
            x, y = points["drill_number"].to_list(), points[column].to_list()
            if column == "percent_accounted":
                panel.axhspan(low, high, color="#e2efda", linewidth=0)
                panel.axhline(100, color="#548235", linewidth=0.6)
                panel.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} %"))
                values = [*y, low, high]
                margin = max(1.0, (max(values) - min(values)) * 0.15)
                panel.set_ylim(min(values) - margin, max(values) + margin)
            else:
                panel.set_ylim(0, max([*y, 0.001]) * 1.25)
            (line,) = panel.plot(x, y, marker="o", markersize=3.5, linewidth=1.0)
            line.set_gid(_svg_id("trend", column))
            if current is not None:
                mine = points.filter(pl.col("drill_id") == current)
                for number, value in mine.select("drill_number", column).iter_rows():
                    panel.plot(
                        [number],
                        [value],
                        marker="o",
                        markersize=8,
                        fillstyle="none",
                        color="#c55a11",
                        linewidth=0,
                    )
                    panel.annotate(
                        f"this drill: {label(value)}",
                        (number, value),
                        xytext=(6, 6),
                        textcoords="offset points",
                        fontsize=7,
                        color="#c55a11",
                    )
            panel.set_title(title, loc="left", fontsize=8)
            panel.set_xlabel("drill number (oldest first)")
            first, last = int(frame["drill_number"].min()), int(frame["drill_number"].max())
            if last - first < 8:
                panel.set_xticks(range(first, last + 1))
            else:
                panel.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
            panel.set_xlim(first - 0.5, last + 0.5 + 0.15 * max(1, last - first))
            if column == "percent_accounted":
                panel.text(
                    last + 0.5 + 0.15 * max(1, last - first),
                    low,
                    f"tolerance {low:g}–{high:g} %",
                    ha="right",
                    va="bottom",
                    fontsize=6.5,
                    color="#548235",
                )
            panel.grid(axis="y", color="#d5dbe1", linewidth=0.4)
            panel.set_axisbelow(True)
        fig.tight_layout()
        return to_svg(fig)


# --- recall report: exposure of the forward lots ---------------------------------------------

EXPOSURE_CHART_LOTS = 10
"""Bars in the exposure chart; every lot's exposure is in the forward-trace table and lots.csv."""


def exposure_chart(
    lots: pl.DataFrame, *, top: int = EXPOSURE_CHART_LOTS, width_cm: float = 12.0
) -> str | None:
    """Horizontal bars of the forward lots holding the largest share of the subject lot's
    material (`exposure`), largest on top, each labelled with product, lot, share and what of
    it is still on hand: where a recall gets the most material back first. None when the trace
    has no forward lots."""
    from reports.render import fmt_qty_uom, fmt_share

    forward = lots.filter((pl.col("direction") == "forward") & pl.col("exposure").is_not_null())
    if forward.is_empty():
        return None
    shown = forward.sort(["exposure", "gtin", "lot"], descending=[True, False, False]).head(top)
    hidden = forward.height - shown.height
    height_cm = max(3.2, 1.6 + 0.5 * shown.height)
    with figure(width_cm, height_cm) as (fig, ax):
        labels = [
            f"{(r['product_name'] or r['gtin'])[:30]} · {r['lot']}"
            for r in shown.iter_rows(named=True)
        ]
        positions = list(range(shown.height))[::-1]
        bars = ax.barh(positions, shown["exposure"].to_list(), height=0.62, color=PALETTE[0])
        for bar, row in zip(bars, shown.iter_rows(named=True), strict=True):
            bar.set_gid(_safe_gid(f"exposure-{row['gtin']}-{row['lot']}"))
            on_hand = row.get("quantity_on_hand") or 0
            note = f"{fmt_share(row['exposure'])}"
            if on_hand > 0:
                note += f" · {fmt_qty_uom(on_hand, row.get('uom'))} on hand"
            ax.text(
                bar.get_width() + 0.01,
                bar.get_y() + bar.get_height() / 2,
                note,
                va="center",
                fontsize=6.5,
                color="#a3331d" if on_hand > 0 else "#333333",
            )
        ax.set_yticks(positions, labels, fontsize=6.8)
        widest = min(1.0, float(shown["exposure"].max())) or 1.0
        ax.set_xlim(0, widest * 1.45)  # room for the labels; no tick beyond 100 %
        ax.set_xticks(
            [t / 10 for t in range(0, 11) if t / 10 <= widest * 1.05][:: 1 if widest <= 0.5 else 2]
        )
        ax.xaxis.set_major_formatter(lambda v, _: f"{v * 100:.0f} %")
        ax.set_xlabel("share of the subject lot's material in the lot (exposure)", fontsize=7)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#d5dbe1", linewidth=0.4)
        ax.set_axisbelow(True)
        title = f"Forward lots by exposure (top {shown.height} of {forward.height})"
        ax.set_title(title if hidden else "Forward lots by exposure", loc="left", fontsize=8)
        fig.tight_layout()
        return to_svg(fig)


def _safe_gid(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)
