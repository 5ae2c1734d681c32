"""The lineage diagram builder: frames in, DOT and SVG out, collapsed for large scopes."""

from __future__ import annotations

import re
import time

import polars as pl
import pytest

from lotline import lineage_diagram as ld

LOTS_SCHEMA = {
    "lot_key": pl.Int64,
    "gtin": pl.String,
    "lot": pl.String,
    "product_name": pl.String,
    "direction": pl.String,
    "depth": pl.Int64,
    "uom": pl.String,
    "quantity_received": pl.Float64,
    "quantity_produced": pl.Float64,
}


def scope(forward_lots: int, consignees: int, products: int = 5, depths: int = 3):
    """A subject lot received from one supplier, `forward_lots` lots made from it over `depths`
    levels and `products` products, each shipped to one of `consignees` customers."""
    lots = [(0, "00000000000017", "S", 'Sugar "fine" \\ 25 kg', "subject", 0, "KGM", 1e3, 0.0)]
    edges, shipments = [], []
    for i in range(1, forward_lots + 1):
        depth = 1 + (i - 1) % depths
        gtin = f"{10_000_000_000_000 + (i % products):014d}"
        lots.append((i, gtin, f"L{i}", f"Product {i % products}", "forward", depth, "CS", 0, 10))
        parent = 0 if depth == 1 else max(1, i - 1)
        edges.append((lots[parent][1], lots[parent][2], gtin, f"L{i}", 1.0, "KGM"))
        shipments.append((i, f"CUST-{i % consignees}", 2.0, "CS"))
    frames = {
        "lots": pl.DataFrame(lots, schema=LOTS_SCHEMA, orient="row"),
        "edges": pl.DataFrame(
            edges,
            schema=[
                "input_gtin",
                "input_lot",
                "output_gtin",
                "output_lot",
                "input_quantity",
                "input_uom",
            ],
            orient="row",
        ),
        "receipts": pl.DataFrame(
            {"lot_key": [0], "from_location_id": ["SUP-1"], "quantity": [1e3], "uom": ["KGM"]}
        ),
        "shipments": pl.DataFrame(
            shipments, schema=["lot_key", "to_location_id", "quantity", "uom"], orient="row"
        ),
    }
    names = [("SUP-1", "Supplier One", "supplier")] + [
        (f"CUST-{c}", f"Customer {c}", "customer") for c in range(consignees)
    ]
    frames["locations"] = pl.DataFrame(
        names, schema=["location_id", "business_name", "kind"], orient="row"
    )
    return frames


def test_a_small_scope_draws_every_lot_and_party():
    diagram = ld.build(**scope(forward_lots=6, consignees=3))
    assert diagram.level == 0 and not diagram.collapsed
    assert diagram.nodes.height == 7 + 1 + 3
    labels = " ".join(diagram.nodes["label"])
    assert "lot L1" in labels and "Customer 2" in labels and "Supplier One" in labels
    assert diagram.edges.filter(pl.col("source") == "supplier_SUP-1")["label"].to_list() == [
        "1,000 KGM"
    ]


def test_a_large_scope_collapses_to_summarised_nodes():
    frames = scope(forward_lots=600, consignees=300)
    diagram = ld.build(**frames)
    assert diagram.collapsed and diagram.nodes.height <= ld.MAX_NODES
    assert (diagram.lots, diagram.parties) == (601, 301)
    labels = diagram.nodes["label"].to_list()
    assert any(re.match(r"\d+ lots of Product \d", label) for label in labels), labels
    assert f"{300 - (ld.PARTIES_KEPT - 1)} more consignees\n" in "\n".join(labels) + "\n" or any(
        label.startswith("300 consignees") for label in labels
    )
    # every consignee and lot is still counted somewhere: nothing is silently dropped
    lot_counts = [
        int(m.group(1)) if (m := re.match(r"(\d+) lots", label)) else 1
        for label, kind in zip(labels, diagram.nodes["kind"], strict=True)
        if kind in ("lot", "subject")
    ]
    assert sum(lot_counts) == 601
    assert diagram.edges.height <= diagram.nodes.height**2
    assert diagram.edges["label"].null_count() == diagram.edges.height  # quantities on nodes


def test_collapse_is_linear_polars_and_caps_the_nodes():
    frames = scope(forward_lots=100_000, consignees=5_000, products=40, depths=50)
    started = time.perf_counter()
    diagram = ld.build(**frames)
    assert time.perf_counter() - started < 10
    assert diagram.level == 3 and diagram.nodes.height <= ld.MAX_NODES


def test_dot_and_svg_escape_labels_and_use_the_report_font():
    diagram = ld.build(**scope(forward_lots=2, consignees=1))
    dot = ld.to_dot(diagram)
    assert 'Sugar \\"fine\\" \\\\ 25 kg' in dot and "rankdir=LR" in dot
    svg = ld.to_svg(dot)
    assert svg.startswith("<svg") and "<!DOCTYPE" not in svg and "<!--" not in svg
    assert 'font-family="Report Sans"' in svg and "DejaVu" not in svg
    assert "Sugar &quot;fine&quot; \\ 25 kg" in svg or 'Sugar "fine" \\ 25 kg' in svg
    assert svg.count('<g id="node') == diagram.nodes.height


def test_without_graphviz_the_svg_step_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ld.DotMissing, match="apt-get install graphviz"):
        ld.to_svg(ld.to_dot(ld.build(**scope(forward_lots=1, consignees=1))))
