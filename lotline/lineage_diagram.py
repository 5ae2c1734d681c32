"""The lineage of a trace as a diagram: supplier receipts → lots → consignees, left to right.

Why: a recall decision starts from the picture of where the material went; a table of 30 lots
and 300 shipment lines does not show it. The diagram is computed from the trace's frames
(pure Polars, one group-by per level) and drawn by Graphviz `dot` as SVG, which WeasyPrint
draws as vector paths with the text kept as text.

Large scopes collapse so the figure stays readable and `dot` stays fast whatever the scope:
level 0 draws every lot, supplier and consignee; level 1 groups the lots of one product at one
depth ("23 lots of Butter cookies") and keeps the largest suppliers and consignees, counting the
rest in one node; level 2 groups lots per depth; level 3 per direction, with one node for all
suppliers and one for all consignees. The first level with at most `max_nodes` nodes is drawn, so
a diagram never has more than max(`max_nodes`, 5) nodes, whatever the scope.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

MAX_NODES = 40
PARTIES_KEPT = 8
"""Suppliers / consignees named one by one in a collapsed diagram; the rest are one node."""
LEVELS = (0, 1, 2, 3)
FONT_FAMILY = "Report Sans"
"""The reports' @font-face family: `dot` lays text out with DejaVu Sans (the same font file),
and the SVG names the family the PDF embeds."""
LAYOUT_FONT = "DejaVu Sans"
NAME_LENGTH = 50
COLOURS = {
    "supplier": "#e2efda",
    "lot": "#ddebf7",
    "subject": "#fbe5d6",
    "consignee": "#fff2cc",
    "own": "#ededed",
}


class DotMissing(RuntimeError):
    """Graphviz `dot` is not installed: the diagram cannot be drawn."""


@dataclass(frozen=True)
class Diagram:
    """Nodes (`id`, `kind`, `label`) and edges (`source`, `target`, `label`) to draw, and the
    collapse level they were drawn at (0 = every lot and party)."""

    nodes: pl.DataFrame
    edges: pl.DataFrame
    level: int
    lots: int
    parties: int

    @property
    def collapsed(self) -> bool:
        return self.level > 0


NODE_SCHEMA = {"id": pl.String, "kind": pl.String, "label": pl.String, "rank": pl.Int64}
EDGE_SCHEMA = {"source": pl.String, "target": pl.String, "label": pl.String}


def _short(name: pl.Expr, length: int = NAME_LENGTH) -> pl.Expr:
    text = name.fill_null("(unnamed)")
    return (
        pl.when(text.str.len_chars() > length)
        .then(text.str.slice(0, length - 1) + "…")
        .otherwise(text)
    )


def _qty(value: pl.Expr) -> pl.Expr:
    """1,234.5 as text (thousands separators, at most 3 decimals)."""
    rounded = value.round(3)
    whole = rounded.cast(pl.Int64)
    int_text = whole.abs().cast(pl.String).str.reverse().str.replace_all(r"(\d{3})", "$1,")
    int_text = int_text.str.reverse().str.strip_prefix(",")
    sign = pl.when(rounded < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    frac = (rounded.abs() - whole.abs()).round(3)
    frac_text = (
        pl.when(frac > 0)
        .then(pl.format(".{}", (frac * 1000).round(0).cast(pl.Int64).cast(pl.String).str.zfill(3)))
        .otherwise(pl.lit(""))
        .str.strip_suffix("0")
        .str.strip_suffix("0")
    )
    return pl.concat_str([sign, int_text, frac_text])


def quantity_text(quantity: pl.Expr, uom: pl.Expr) -> pl.Expr:
    """'1,234.5 KGM' as a Polars expression (labels are built for every node at once)."""
    return pl.concat_str([_qty(quantity), uom.fill_null("")], separator=" ").str.strip_chars()


def _lot_groups(lots: pl.DataFrame, level: int) -> pl.DataFrame:
    """Per lot (`lot_key`), the node it is drawn in and the node's rank (left to right)."""
    direction = pl.col("direction")
    rank = (
        pl.when(direction == "backward")
        .then(-pl.col("depth"))
        .when(direction == "forward")
        .then(pl.col("depth"))
        .otherwise(0)
    )
    if level == 0:
        node = pl.format("lot_{}", pl.col("lot_key"))
    elif level == 1:
        node = pl.format("grp_{}_{}_{}", direction, pl.col("depth"), pl.col("gtin"))
    elif level == 2:
        node = pl.format("grp_{}_{}", direction, pl.col("depth"))
    else:
        node = pl.format("grp_{}", direction)
    subject = direction == "subject"
    return lots.select(
        "lot_key",
        "gtin",
        "lot",
        pl.when(subject).then(pl.format("lot_{}", pl.col("lot_key"))).otherwise(node).alias("node"),
        (rank if level < 3 else rank.sign()).alias("rank"),
    )


def _lot_nodes(lots: pl.DataFrame, groups: pl.DataFrame) -> pl.DataFrame:
    quantity_in = pl.col("quantity_received") + pl.col("quantity_produced")
    per_lot = lots.join(groups.select("lot_key", "node", "rank"), on="lot_key").with_columns(
        quantity_in.alias("quantity_in")
    )
    per_uom = (
        per_lot.group_by("node", "uom")
        .agg(pl.col("quantity_in").sum())
        .sort("node", "uom")
        .group_by("node", maintain_order=True)
        .agg(quantity_text(pl.col("quantity_in"), pl.col("uom")).str.join("; ").alias("quantity"))
    )
    nodes = per_lot.group_by("node").agg(
        pl.len().alias("n"),
        pl.col("gtin").n_unique().alias("products"),
        pl.col("gtin").first(),
        pl.col("lot").first(),
        pl.col("product_name").first(),
        pl.col("direction").first(),
        pl.col("depth").min().alias("depth_min"),
        pl.col("depth").max().alias("depth_max"),
        pl.col("rank").first(),
    )
    depth = (
        pl.when(pl.col("depth_min") == pl.col("depth_max"))
        .then(pl.format("depth {}", pl.col("depth_min")))
        .otherwise(pl.format("depths {}–{}", pl.col("depth_min"), pl.col("depth_max")))
    )
    one = pl.format(
        "{}\nGTIN {}\nlot {} · {}",
        _short(pl.col("product_name")),
        pl.col("gtin"),
        pl.col("lot"),
        pl.col("quantity"),
    )
    same_product = pl.format(
        "{} lots of {}\nGTIN {} · {}\n{}",
        pl.col("n"),
        _short(pl.col("product_name")),
        pl.col("gtin"),
        depth,
        pl.col("quantity"),
    )
    mixed = pl.format(
        "{} lots of {} products\n{} {}\n{}",
        pl.col("n"),
        pl.col("products"),
        pl.col("direction"),
        depth,
        pl.col("quantity"),
    )
    return nodes.join(per_uom, on="node").select(
        pl.col("node").alias("id"),
        pl.when(pl.col("direction") == "subject")
        .then(pl.lit("subject"))
        .otherwise(pl.lit("lot"))
        .alias("kind"),
        pl.when(pl.col("n") == 1)
        .then(one)
        .when(pl.col("products") == 1)
        .then(same_product)
        .otherwise(mixed)
        .alias("label"),
        pl.col("rank"),
    )


def _party_groups(flows: pl.DataFrame, kind: str, level: int) -> pl.DataFrame:
    """Per party (`party`: supplier or consignee location id), its node: itself, or one node for
    all but the `PARTIES_KEPT` - 1 largest by quantity (levels 1 and 2), or one node for all
    (level 3)."""
    parties = (
        flows.group_by("party")
        .agg(pl.col("quantity").sum())
        .sort("quantity", "party", descending=[True, False])
    )
    if level == 0 or (level < 3 and parties.height <= PARTIES_KEPT) or parties.height == 1:
        node = pl.format("{}_{}", pl.lit(kind), pl.col("party"))
    elif level < 3:
        node = (
            pl.when(pl.int_range(pl.len()) < PARTIES_KEPT - 1)
            .then(pl.format("{}_{}", pl.lit(kind), pl.col("party")))
            .otherwise(pl.lit(f"{kind}_others"))
        )
    else:
        node = pl.lit(f"{kind}_all")
    return parties.select("party", node.alias("node"))


def _party_nodes(
    flows: pl.DataFrame, groups: pl.DataFrame, names: pl.DataFrame, kind: str, rank: int
) -> pl.DataFrame:
    noun = "suppliers" if kind == "supplier" else "consignees"
    joined = groups.join(names, left_on="party", right_on="location_id", how="left")
    totals = (
        flows.join(groups, on="party")
        .group_by("node", "uom")
        .agg(pl.col("quantity").sum())
        .sort("node", "uom")
        .group_by("node", maintain_order=True)
        .agg(quantity_text(pl.col("quantity"), pl.col("uom")).str.join("; ").alias("total"))
    )
    nodes = joined.group_by("node").agg(
        pl.len().alias("n"),
        pl.col("party").first(),
        pl.col("business_name").first(),
        pl.col("location_kind").first(),
    )
    single = pl.format(
        "{}\n{}\n{}", _short(pl.col("business_name")), pl.col("party"), pl.col("total")
    )
    many = pl.format(
        "{} {}{}\n{}",
        pl.col("n"),
        pl.when(pl.col("node").str.ends_with("_others"))
        .then(pl.lit("more "))
        .otherwise(pl.lit("")),
        pl.lit(noun),
        pl.col("total"),
    )
    nodes = nodes.join(totals, on="node", how="left")
    own = pl.col("location_kind").is_in(["site", "warehouse"]) & (pl.col("n") == 1)
    return nodes.select(
        pl.col("node").alias("id"),
        pl.when(own).then(pl.lit("own")).otherwise(pl.lit(kind)).alias("kind"),
        pl.when(pl.col("n") == 1).then(single).otherwise(many).alias("label"),
        pl.lit(rank, pl.Int64).alias("rank"),
    )


def _flow_edges(flows: pl.DataFrame, source: str, target: str) -> pl.DataFrame:
    """Edges between nodes with the quantity that moved, per unit ('50 CS; 1 EA')."""
    return (
        flows.group_by(source, target, "uom")
        .agg(pl.col("quantity").sum())
        .sort(source, target, "uom")
        .group_by(source, target, maintain_order=True)
        .agg(quantity_text(pl.col("quantity"), pl.col("uom")).str.join("; ").alias("label"))
        .select(pl.col(source).alias("source"), pl.col(target).alias("target"), "label")
    )


def build(
    lots: pl.DataFrame,
    edges: pl.DataFrame,
    receipts: pl.DataFrame,
    shipments: pl.DataFrame,
    locations: pl.DataFrame,
    max_nodes: int = MAX_NODES,
) -> Diagram:
    """The diagram of a trace (the frames of `lotline.trace.TraceResult` and the location
    master data), at the first collapse level with at most `max_nodes` nodes (else the last)."""
    names = locations.select("location_id", "business_name", pl.col("kind").alias("location_kind"))
    lots = lots.unique("lot_key", keep="first").sort("lot_key")
    receipt_flows = receipts.select(
        pl.col("from_location_id").alias("party"), "lot_key", "quantity", "uom"
    ).filter(pl.col("party").is_not_null())
    shipment_flows = shipments.select(
        pl.col("to_location_id").alias("party"), "lot_key", "quantity", "uom"
    ).filter(pl.col("party").is_not_null())
    diagram = None
    for level in LEVELS:
        diagram = _at_level(lots, edges, receipt_flows, shipment_flows, names, level)
        if diagram.nodes.height <= max_nodes:
            break
    assert diagram is not None
    return diagram


def _at_level(
    lots: pl.DataFrame,
    edges: pl.DataFrame,
    receipt_flows: pl.DataFrame,
    shipment_flows: pl.DataFrame,
    names: pl.DataFrame,
    level: int,
) -> Diagram:
    groups = _lot_groups(lots, level)
    lot_nodes = _lot_nodes(lots, groups)
    low = lot_nodes["rank"].min() if lot_nodes.height else 0
    high = lot_nodes["rank"].max() if lot_nodes.height else 0
    suppliers = _party_groups(receipt_flows, "supplier", level)
    consignees = _party_groups(shipment_flows, "consignee", level)
    nodes = pl.concat(
        [
            _party_nodes(receipt_flows, suppliers, names, "supplier", int(low or 0) - 1),
            lot_nodes,
            _party_nodes(shipment_flows, consignees, names, "consignee", int(high or 0) + 1),
        ]
    ).cast(NODE_SCHEMA)
    node_of = groups.select("gtin", "lot", "node")
    lot_edges = (
        edges.join(
            node_of.rename({"gtin": "input_gtin", "lot": "input_lot", "node": "source"}),
            on=["input_gtin", "input_lot"],
        )
        .join(
            node_of.rename({"gtin": "output_gtin", "lot": "output_lot", "node": "target"}),
            on=["output_gtin", "output_lot"],
        )
        .filter(pl.col("source") != pl.col("target"))
        .select(
            "source",
            "target",
            pl.col("input_quantity").alias("quantity"),
            pl.col("input_uom").alias("uom"),
        )
    )

    by_key = groups.select("lot_key", "node")
    receipt_edges = receipt_flows.join(by_key, on="lot_key").join(
        suppliers.rename({"node": "supplier"}), on="party"
    )
    shipment_edges = shipment_flows.join(by_key, on="lot_key").join(
        consignees.rename({"node": "consignee"}), on="party"
    )
    all_edges = pl.concat(
        [
            _flow_edges(receipt_edges, "supplier", "node"),
            _flow_edges(lot_edges, "source", "target"),
            _flow_edges(shipment_edges, "node", "consignee"),
        ]
    ).cast(EDGE_SCHEMA)
    if level > 0:  # collapsed: arrows say what went where, the nodes carry the quantities
        all_edges = all_edges.with_columns(pl.lit(None, pl.String).alias("label"))
    return Diagram(
        nodes=nodes.sort("rank", "id"),
        edges=all_edges,
        level=level,
        lots=lots.height,
        parties=suppliers.height + consignees.height,
    )


WRAP = 30
"""Characters per label line: long product names wrap instead of widening every rank."""


def _quote(text: str, wrap: bool = False) -> str:
    """Text as a DOT string body, quotes and backslashes escaped; a label's long lines wrapped."""
    import textwrap

    lines = text.split("\n")
    if wrap:  # the first line is the name; the GTIN, lot and quantity lines stay whole
        lines = [*(textwrap.wrap(lines[0], WRAP) or [""]), *lines[1:]]
    return "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)


def to_dot(diagram: Diagram) -> str:
    """DOT source: left-to-right ranks, one rank per depth, boxes in the report's font. No
    `size`: dot's own down-scaling rounds its scale factor and crops the right edge; the page
    scales the SVG through its viewBox instead."""
    lines = [
        "digraph lineage {",
        f'  graph [rankdir=LR, ranksep=0.35, nodesep=0.12, fontname="{LAYOUT_FONT}", '
        "newrank=true];",
        f'  node [shape=box, style="rounded,filled", fontname="{LAYOUT_FONT}", fontsize=9, '
        'color="#5b6b7c", penwidth=0.7, margin="0.14,0.04"];',
        f'  edge [fontname="{LAYOUT_FONT}", fontsize=7.5, color="#7f8c99", arrowsize=0.5, '
        'penwidth=0.7, fontcolor="#3d4a57"];',
    ]
    for row in diagram.nodes.iter_rows(named=True):
        extra = ', penwidth=1.6, color="#c55a11"' if row["kind"] == "subject" else ""
        lines.append(
            f'  "{_quote(row["id"])}" [label="{_quote(row["label"], wrap=True)}", '
            f'fillcolor="{COLOURS.get(row["kind"], "#ffffff")}"{extra}];'
        )
    for _rank, ids in (
        diagram.nodes.group_by("rank").agg(pl.col("id").sort()).sort("rank").iter_rows()
    ):
        members = "; ".join(f'"{_quote(i)}"' for i in ids)
        lines.append(f"  {{ rank=same; {members}; }}")
    for row in diagram.edges.iter_rows(named=True):
        label = f' [label="{_quote(row["label"], wrap=True)}"]' if row["label"] else ""
        lines.append(f'  "{_quote(row["source"])}" -> "{_quote(row["target"])}"{label};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(dot_source: str) -> str:
    """`dot -Tsvg` as an inline `<svg>` element (no XML prolog, DOCTYPE or comments), text in
    the report's font family. Raises `DotMissing` when Graphviz is not installed."""
    import re

    import graphviz

    try:
        svg = graphviz.pipe("dot", "svg", dot_source.encode("utf-8")).decode("utf-8")
    except graphviz.ExecutableNotFound as error:
        raise DotMissing(
            "Graphviz 'dot' is not installed (Debian/Ubuntu: apt-get install graphviz)"
        ) from error
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    return svg.replace(f'font-family="{LAYOUT_FONT}"', f'font-family="{FONT_FAMILY}"')


def svg(
    lots: pl.DataFrame,
    edges: pl.DataFrame,
    receipts: pl.DataFrame,
    shipments: pl.DataFrame,
    locations: pl.DataFrame,
    max_nodes: int = MAX_NODES,
) -> str:
    """The trace's lineage diagram as an inline SVG (see `build`)."""
    return to_svg(to_dot(build(lots, edges, receipts, shipments, locations, max_nodes)))
