"""How far each received lot reaches downstream: the worst case of a supplier recall.

A drill, a notebook or a planner that asks "which supplier lot would hurt most if it were
recalled?" ranks the received lots by what their forward trace touches: the lots made from them
at any depth (from the closure table) and the consignees those lots, and the lot itself, were
shipped to. Pure functions over Polars frames; `lotline.api.widest_reach` reads the frames.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

Ranking = Literal["consignees", "descendants"]

REACH_SCHEMA: dict[str, pl.DataType] = {
    "gtin": pl.String(),
    "lot": pl.String(),
    "product_name": pl.String(),
    "supplier": pl.String(),
    "descendants": pl.UInt32(),
    "consignees": pl.UInt32(),
    "shipment_lines": pl.UInt32(),
    "quantity_shipped": pl.String(),
}
"""One row per received lot. `descendants`: lots made from it at any depth; `consignees`:
distinct locations its forward trace shipped to; `quantity_shipped`: the quantity of those
shipment lines per unit of measure, largest first (quantities are never added across units)."""


def widest_reach(
    received: pl.DataFrame,
    closure: pl.DataFrame,
    shipments: pl.DataFrame,
    n: int | None = 10,
    by: Ranking = "consignees",
) -> pl.DataFrame:
    """The `n` received lots whose forward trace reaches the most (all when `n` is None).

    `received`: lot_key, gtin, lot, product_name, supplier (one row per lot); `closure`:
    ancestor_key, descendant_key (self pairs may be present; they are not descendants);
    `shipments`: lot_key, to_location_id, quantity, uom. Ranked by `by`, most first, then by
    GTIN and lot so the answer is the same on every run.
    """
    if by not in ("consignees", "descendants"):
        raise ValueError(f"rank by 'consignees' or 'descendants', not {by!r}")
    down = closure.filter(pl.col("ancestor_key") != pl.col("descendant_key")).select(
        "ancestor_key", "descendant_key"
    )
    descendants = down.group_by("ancestor_key").agg(pl.len().cast(pl.UInt32).alias("descendants"))
    # the lot itself and every descendant: whose shipments count
    scope = pl.concat(
        [
            received.select(pl.col("lot_key").alias("ancestor_key"), "lot_key"),
            down.rename({"descendant_key": "lot_key"}),
        ]
    ).join(received.select(pl.col("lot_key").alias("ancestor_key")), on="ancestor_key")
    lines = scope.join(
        shipments.select("lot_key", "to_location_id", "quantity", "uom"), on="lot_key"
    )
    reached = lines.group_by("ancestor_key").agg(
        pl.col("to_location_id").n_unique().cast(pl.UInt32).alias("consignees"),
        pl.len().cast(pl.UInt32).alias("shipment_lines"),
    )
    per_unit = (
        lines.group_by("ancestor_key", "uom")
        .agg(pl.col("quantity").sum())
        .sort("ancestor_key", "quantity", "uom", descending=[False, True, False])
        .group_by("ancestor_key", maintain_order=True)
        .agg(
            pl.format("{} {}", _quantity_text(pl.col("quantity")), pl.col("uom").fill_null("?"))
            .str.join(", ")
            .alias("quantity_shipped")
        )
    )
    ranked = (
        received.rename({"lot_key": "ancestor_key"})
        .join(descendants, on="ancestor_key", how="left")
        .join(reached, on="ancestor_key", how="left")
        .join(per_unit, on="ancestor_key", how="left")
        .with_columns(
            pl.col("descendants", "consignees", "shipment_lines").fill_null(0),
            pl.col("quantity_shipped").fill_null(""),
        )
        .sort([by, "gtin", "lot"], descending=[True, False, False])
        .select(pl.col(name).cast(dtype) for name, dtype in REACH_SCHEMA.items())
    )
    return ranked if n is None else ranked.head(n)


def suppliers(receipts: pl.DataFrame, locations: pl.DataFrame) -> pl.DataFrame:
    """lot_key → the names of the suppliers it was received from (joined by ", ")."""
    names = locations.select("location_id", "business_name")
    return (
        receipts.select("lot_key", pl.col("from_location_id").alias("location_id"))
        .unique()
        .join(names, on="location_id", how="left")
        .with_columns(pl.col("business_name").fill_null(pl.col("location_id")))
        .sort("lot_key", "business_name")
        .group_by("lot_key", maintain_order=True)
        .agg(pl.col("business_name").str.join(", ").alias("supplier"))
    )


def _quantity_text(quantity: pl.Expr) -> pl.Expr:
    """1234.5 → '1234.5', 1200.0 → '1200': a readable quantity without float noise."""
    rounded = quantity.round(3)
    return (
        pl.when(rounded == rounded.floor())
        .then(rounded.cast(pl.Int64).cast(pl.String))
        .otherwise(rounded.cast(pl.String))
    )
