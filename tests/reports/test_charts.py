"""The report charts of `reports.charts`: their geometry read back from the SVG, and the SVG
drawn by WeasyPrint as a vector figure with its text in the report's embedded font.

`pdf_figures` is also used by the report tests (test_expiry_report, test_mock_recall_report) to
find the charts in a rendered PDF: WeasyPrint tags an inline SVG as a /Figure marked-content
sequence, so the drawing operators and the text of each figure can be told from the rest of
the page.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pypdf
import pytest

from lotline.expiry import bucket_summary
from lotline.mock_recall import drill_trend
from reports.charts import (
    EXPIRY_CHART_MAX_ROWS,
    drill_trend_chart,
    expiry_bucket_bars,
    expiry_bucket_chart,
)
from reports.render import write_pdf

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
DRAWING_OPERATORS = {
    b"m", b"l", b"c", b"v", b"y", b"re", b"h",  # path construction
    b"f", b"F", b"f*", b"S", b"s", b"B", b"B*", b"b", b"b*",  # path painting
    b"Do",  # a Form XObject (WeasyPrint draws SVG <use> markers as forms)
}  # fmt: skip


@dataclass
class PdfFigure:
    """One /Figure marked-content sequence of a page: its text and drawing operators."""

    texts: list[str] = field(default_factory=list)
    drawing_operators: int = 0

    @property
    def text(self) -> str:
        return " ".join(t.strip() for t in self.texts if t.strip())


def pdf_figures(page: pypdf.PageObject, with_text: bool = True) -> list[PdfFigure]:
    """The figures drawn on a PDF page, in content order; by default only those with text
    (charts), not the document's QR code, which is a figure of bare modules."""
    figures: list[PdfFigure] = []
    inside: list[bool] = []  # one entry per open marked-content sequence: is it a figure?

    def operator(op: bytes, args: list[object], _cm: object, _tm: object) -> None:
        if op in (b"BDC", b"BMC"):
            starts = bool(args) and args[0] == "/Figure"
            inside.append(starts)
            if starts:
                figures.append(PdfFigure())
        elif op == b"EMC":
            if inside:
                inside.pop()
        elif op in DRAWING_OPERATORS and any(inside):
            figures[-1].drawing_operators += 1

    def text(value: str, *_: object) -> None:
        if any(inside):
            figures[-1].texts.append(value)

    page.extract_text(visitor_operand_before=operator, visitor_text=text)
    return [f for f in figures if any(t.strip() for t in f.texts) or not with_text]


# --- expiry buckets ------------------------------------------------------------------------------


def positions() -> pl.DataFrame:
    """A few stock positions, as `lotline.expiry.expiry_positions` lists them."""
    rows = [
        # location, kind, bucket, unit, lot, quantity, hold
        ("SITE-1", "use_by", "expired", "KGM", "A", 200.0, "hold"),
        ("SITE-1", "use_by", "expired", "KGM", "B", 100.0, None),
        ("SITE-1", "use_by", "0-30 d", "KGM", "C", 100.0, None),
        ("SITE-1", "use_by", "91-180 d", "EA", "D", 12.0, None),
        ("WH-1", "use_by", "31-90 d", "KGM", "E", 50.0, None),
        ("WH-1", "best_before", "past best-before", "CS", "F", 7.0, None),
    ]
    return pl.DataFrame(
        [
            {
                "location_id": r[0],
                "location_name": f"{r[0]} name",
                "expiry_kind": r[1],
                "bucket": r[2],
                "uom": r[3],
                "gtin": "00614141000036",
                "lot": r[4],
                "quantity": r[5],
                "hold_status": r[6],
            }
            for r in rows
        ],
        schema_overrides={"hold_status": pl.String},
    )


def test_expiry_bars_are_the_summary_table_quantities():
    summary = bucket_summary(positions())  # the frame the report's summary table prints
    bars = expiry_bucket_bars(summary)
    assert bars.select("uom", "bar", "bucket", "quantity", "start").rows() == [
        ("CS", "WH-1 best-before", "past best-before", 7.0, 0.0),
        ("EA", "SITE-1", "91-180 d", 12.0, 0.0),
        ("KGM", "SITE-1", "expired", 300.0, 0.0),
        ("KGM", "SITE-1", "0-30 d", 100.0, 300.0),
        ("KGM", "WH-1", "31-90 d", 50.0, 0.0),
    ]
    assert bars["held_quantity"].sum() == summary["held_quantity"].sum() == 200.0
    # every summary row is one segment: nothing added across units, nothing dropped
    assert bars.height == summary.height
    assert sorted(bars["quantity"]) == sorted(summary["quantity"])


def svg_segments(svg: str) -> dict[str, tuple[float, float, float]]:
    """`bar-<unit>-<bar>-<bucket>` → (left x, right x, middle y) of each drawn segment."""
    segments = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if group.get("id", "").startswith("bar-"):
            path = group.find(f"{SVG}path")
            assert path is not None
            numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
            xs, ys = numbers[0::2], numbers[1::2]
            segments[group.get("id", "")] = (min(xs), max(xs), (min(ys) + max(ys)) / 2)
    return segments


def svg_texts(svg: str) -> list[str]:
    return ["".join(t.itertext()).strip() for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_expiry_chart_draws_each_summary_row_to_scale_per_unit():
    summary = bucket_summary(positions())
    svg = expiry_bucket_chart(summary)
    assert svg is not None and svg.startswith("<svg")
    segments = svg_segments(svg)
    assert set(segments) == {
        "bar-CS-WH-1_best-before-past_best-before",
        "bar-EA-SITE-1-91-180_d",
        "bar-KGM-SITE-1-expired",
        "bar-KGM-SITE-1-0-30_d",
        "bar-KGM-WH-1-31-90_d",
    }
    expired, soon, wh = (
        segments["bar-KGM-SITE-1-expired"],
        segments["bar-KGM-SITE-1-0-30_d"],
        segments["bar-KGM-WH-1-31-90_d"],
    )
    # one scale per unit panel: length / quantity is the same for 300, 100 and 50 KGM
    scale = (expired[1] - expired[0]) / 300
    assert (soon[1] - soon[0]) / 100 == pytest.approx(scale, rel=1e-4)
    assert (wh[1] - wh[0]) / 50 == pytest.approx(scale, rel=1e-4)
    # stacked: 0-30 d starts where expired ends, on the same bar; WH-1 is another bar
    assert soon[0] == pytest.approx(expired[1], abs=0.01) and soon[2] == expired[2]
    assert wh[0] == pytest.approx(expired[0]) and wh[2] != expired[2]
    # the EA and CS panels are apart from the KGM one (units are never on one axis)
    assert segments["bar-EA-SITE-1-91-180_d"][0] > expired[1]

    texts = svg_texts(svg)
    for label in ("SITE-1", "WH-1", "WH-1 best-before", "KGM (kilogram)", "EA (each)"):
        assert label in texts
    for bucket in ("expired", "past best-before", "0-30 d", "31-90 d", "91-180 d"):
        assert bucket in texts  # the legend
    assert "400 · 200 held" in texts  # SITE-1's KGM total and its quantity on hold
    assert set(re.findall(r"font-family: '([^']+)'", svg)) == {"Report Sans"}


def test_when_not_every_location_fits_the_most_urgent_are_drawn():
    later = [(f"WH-{i:02d}", "91-180 d", 10.0 + i) for i in range(20)]
    urgent = [("WH-17", "expired", 5.0), ("WH-18", "0-30 d", 5.0)]
    frame = pl.DataFrame(
        [
            {"location_id": loc, "location_name": loc, "expiry_kind": "use_by", "bucket": bucket}
            | {"uom": "KGM", "gtin": "1", "lot": f"{loc}-{bucket}", "quantity": quantity}
            | {"hold_status": None}
            for loc, bucket, quantity in later + urgent
        ],
        schema_overrides={"hold_status": pl.String},
    )
    svg = expiry_bucket_chart(bucket_summary(frame))
    assert svg is not None
    drawn = {t for t in svg_texts(svg) if t.startswith("WH-")}
    assert len(drawn) == EXPIRY_CHART_MAX_ROWS and {"WH-17", "WH-18"} <= drawn
    assert f"{20 - EXPIRY_CHART_MAX_ROWS} more are in the table below." in " ".join(svg_texts(svg))


def test_no_stock_no_expiry_chart():
    assert expiry_bucket_chart(bucket_summary(positions().clear())) is None


# --- drill trend ---------------------------------------------------------------------------------


def history(percents: list[float | None], seconds: list[float]) -> pl.DataFrame:
    start = datetime(2026, 11, 2, 8, tzinfo=UTC)
    return pl.DataFrame(
        {
            "drill_id": [f"DRL-{i}" for i in range(len(seconds))],
            "started_at": [start + timedelta(days=7 * i) for i in range(len(seconds))],
            "seconds_to_answer": seconds,
            "percent_accounted": percents,
        },
        schema_overrides={
            "drill_id": pl.String,
            "started_at": pl.Datetime("us", "UTC"),
            "seconds_to_answer": pl.Float64,
            "percent_accounted": pl.Float64,
        },
    )


def svg_points(svg: str, series: str) -> list[tuple[float, float]]:
    """The (x, y) of each marker of the line `trend-<series>`."""
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if group.get("id") == f"trend-{series}":
            return [(float(u.get("x", "")), float(u.get("y", ""))) for u in group.iter(f"{SVG}use")]
    raise AssertionError(f"no line trend-{series}")


def test_drill_trend_chart_plots_each_drill_to_scale():
    trend = drill_trend(history([90.0, None, 100.5, 99.0], [120.0, 60.0, 30.0, 45.0]))
    svg = drill_trend_chart(trend, current="DRL-2")
    assert svg is not None
    percent = svg_points(svg, "percent_accounted")
    seconds = svg_points(svg, "seconds_to_answer")
    assert len(percent) == 3 and len(seconds) == 4  # a drill without a percentage is not drawn
    # x is the drill number (1, 3, 4 drawn), y the value (SVG y grows downwards)
    (x1, y1), (x3, y3), (x4, y4) = percent
    assert (x3 - x1) / 2 == pytest.approx(x4 - x3, rel=1e-4)
    assert (y1 - y3) / (100.5 - 90.0) == pytest.approx((y4 - y3) / (100.5 - 99.0), rel=1e-4)
    ys = [y for _, y in seconds]
    assert (ys[1] - ys[0]) / (120 - 60) == pytest.approx((ys[3] - ys[2]) / (30 - 45), rel=1e-4)
    texts = svg_texts(svg)
    assert "this drill: 100.5 %" in texts and "this drill: 30 s" in texts
    assert "% of quantity accounted for" in texts and "Time to answer (s)" in texts
    assert "tolerance 99.5–101.5 %" in texts


def test_one_drill_draws_one_point_per_panel_and_none_draws_nothing():
    svg = drill_trend_chart(drill_trend(history([98.0], [0.25])), current="DRL-0")
    assert svg is not None
    assert len(svg_points(svg, "percent_accounted")) == len(svg_points(svg, "seconds_to_answer"))
    assert "1" in svg_texts(svg) and "this drill: 98.0 %" in svg_texts(svg)
    assert drill_trend_chart(drill_trend(history([], []))) is None


# --- in a PDF ------------------------------------------------------------------------------------


def test_weasyprint_draws_the_svg_as_vectors_with_embedded_report_font(tmp_path: Path):
    svg = expiry_bucket_chart(bucket_summary(positions()))
    html = (
        '<html><head><link rel="stylesheet" href="style.css"></head><body>'
        f'<p>Before</p><figure class="chart">{svg}</figure><p>After</p></body></html>'
    )
    path = write_pdf(html, tmp_path / "chart.pdf", title="chart")
    page = pypdf.PdfReader(path).pages[0]
    (figure,) = pdf_figures(page)
    assert figure.drawing_operators > 50  # bars, axes, ticks, legend: paths, not an image
    for label in ("SITE-1", "WH-1 best-before", "KGM (kilogram)", "expired", "0-30 d"):
        assert label in figure.texts
    xobjects = page["/Resources"].get("/XObject", {})
    assert all(x.get_object()["/Subtype"] == "/Form" for x in xobjects.values())  # no image
    fonts = page["/Resources"]["/Font"]
    for ref in fonts.values():
        font = ref.get_object()
        descendant = (
            font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        )
        assert "Report-Sans" in str(font["/BaseFont"])
        assert "/FontFile2" in descendant["/FontDescriptor"].get_object()  # embedded
