"""Lineage tables from validated records: pure functions over Polars frames.

`build_lineage` turns the full set of stored records into the tables a trace or a report reads:
lots, lot→lot genealogy edges with the quantity of each input lot used (21 CFR 1.1350(a)(1)(iii)),
serials, shipment and receipt lines resolved to lots, and stock on hand per lot and location.
Nothing here touches a database, so notebooks, tests and the pipeline share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import polars as pl

LOT_ID = ["gtin", "lot"]
STOCK_KINDS = ("site", "warehouse")


@dataclass(frozen=True)
class Records:
    """Typed records of every record type (columns as in `models.records`)."""

    products: pl.DataFrame
    locations: pl.DataFrame
    receipts: pl.DataFrame
    production: pl.DataFrame
    consumption: pl.DataFrame
    moves: pl.DataFrame
    shipments: pl.DataFrame
    packing: pl.DataFrame = field(default_factory=pl.DataFrame)
    """Pack/unpack events (empty when none): see `lotline.aggregation.explode_shipments`."""
    status: pl.DataFrame = field(default_factory=pl.DataFrame)
    """Hold/release/recall/quarantine events (empty when none): see `lotline.status`."""


@dataclass(frozen=True)
class Lineage:
    lots: pl.DataFrame
    edges: pl.DataFrame
    serials: pl.DataFrame
    shipments: pl.DataFrame
    receipts: pl.DataFrame
    on_hand: pl.DataFrame
    closure: pl.DataFrame | None = None  # ancestor/descendant pairs; None where not built

    def tables(self) -> dict[str, pl.DataFrame]:
        tables = {
            "lot": self.lots,
            "lot_edge": self.edges,
            "serial": self.serials,
            "lot_shipment": self.shipments,
            "lot_receipt": self.receipts,
            "lot_on_hand": self.on_hand,
        }
        if self.closure is not None:
            tables["lot_closure"] = self.closure
        return tables


def lot_keys(
    records: Records, known: pl.DataFrame | None = None, next_key: int = 0
) -> pl.DataFrame:
    """Every lot any record mentions, with its key.

    Without `known`: dense keys in (gtin, lot) order. With `known` (lot_key, gtin, lot of lots
    already stored): those keep their key and lots not yet known are numbered from `next_key`
    in (gtin, lot) order, so a load that adds lots leaves every stored key, and every row that
    refers to it, as it was."""
    seen = pl.concat(
        [
            frame.select(LOT_ID)
            for frame in (
                records.receipts,
                records.production,
                records.consumption,
                records.moves,
                records.shipments,
            )
        ]
    ).unique()
    seen = seen.filter(pl.col("gtin").is_not_null() & pl.col("lot").is_not_null())
    if known is None:
        return (
            seen.sort(LOT_ID)
            .with_row_index("lot_key")
            .with_columns(pl.col("lot_key").cast(pl.Int64))
        )
    known = known.select(pl.col("lot_key").cast(pl.Int64), *LOT_ID)
    new = (
        seen.join(known, on=LOT_ID, how="anti")
        .sort(LOT_ID)
        .with_row_index("lot_key", offset=next_key)
        .with_columns(pl.col("lot_key").cast(pl.Int64))
    )
    return pl.concat([known.join(seen, on=LOT_ID, how="semi"), new.select(known.columns)]).sort(
        "lot_key"
    )


def production_events(production: pl.DataFrame) -> pl.DataFrame:
    """One row per transformation: when and where it completed."""
    return production.group_by("production_id").agg(
        pl.col("completed_at").min(), pl.col("location_id").first()
    )


INPUT_SCHEMA = {
    "production_id": pl.String,
    "parent_key": pl.Int64,
    "input_quantity": pl.Float64,
    "input_uom": pl.String,
    "evidence": pl.String,
}


def inferred_inputs(records: Records, keys: pl.DataFrame) -> pl.DataFrame:
    """Input lots for consumption that names a product but no lot, with evidence 'inferred'.

    Every lot of that GTIN with stock at the production's location just before `completed_at`
    could have been used, so the production order's whole lot-less quantity of the GTIN is
    allocated to them in proportion to their quantity on hand then (from the ledger of
    lot-identified flows: lot-less consumption itself moves no known lot). When no lot had stock
    (records missing), the lots that had entered the location before are used instead, in
    proportion to the quantity that entered. No candidate at all: no edge, the gap stays visible
    as a production without that input."""
    lotless = (
        records.consumption.filter(pl.col("lot").is_null())
        .group_by("production_id", "gtin")
        .agg(pl.col("quantity").sum().alias("used"), pl.col("uom").first().alias("input_uom"))
        .join(production_events(records.production), on="production_id")
    )
    if lotless.is_empty():
        return pl.DataFrame(schema=INPUT_SCHEMA)
    place = ["gtin", "location_id"]
    ledger = (
        stock_flows(records)
        .filter(pl.col("lot").is_not_null())
        .join(lotless.select(place).unique(), on=place, how="semi")
        .group_by(*LOT_ID, "location_id", "at")
        .agg(
            pl.col("quantity").sum().alias("net"),
            pl.col("quantity").clip(lower_bound=0).sum().alias("entered"),
        )
        .sort("at")
        .with_columns(
            pl.col("net").cum_sum().over(*LOT_ID, "location_id").alias("on_hand"),
            pl.col("entered").cum_sum().over(*LOT_ID, "location_id").alias("entered"),
        )
    )
    weight = pl.when(pl.col("on_hand").gt(0).any().over("production_id", "gtin"))
    weight = weight.then(pl.col("on_hand").clip(lower_bound=0)).otherwise(pl.col("entered"))
    return (
        lotless.join(ledger.select(*LOT_ID, "location_id").unique(), on=place)
        .sort("completed_at")
        .join_asof(
            ledger.select(*LOT_ID, "location_id", "at", "on_hand", "entered"),
            left_on="completed_at",
            right_on="at",
            by=[*LOT_ID, "location_id"],
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,  # both sides sorted by time above; by-groups defeat the check
        )
        .filter(pl.col("at").is_not_null())
        .with_columns(weight.alias("weight"))
        .filter(pl.col("weight") > 0)
        .with_columns(
            (
                pl.col("used")
                * pl.col("weight")
                / pl.col("weight").sum().over("production_id", "gtin")
            ).alias("input_quantity")
        )
        .join(keys, on=LOT_ID)
        .select(
            "production_id",
            pl.col("lot_key").alias("parent_key"),
            "input_quantity",
            "input_uom",
            pl.lit("inferred").alias("evidence"),
        )
        .cast(INPUT_SCHEMA)  # type: ignore[arg-type]
    )


def genealogy_edges(records: Records, keys: pl.DataFrame) -> pl.DataFrame:
    """Input lot → output lot for every transformation, with quantities on both sides.

    evidence: 'explicit' where the consumption record names the input lot, 'inferred' where it
    names only the product (see `inferred_inputs`)."""
    explicit = (
        records.consumption.filter(pl.col("lot").is_not_null())
        .group_by("production_id", *LOT_ID)
        .agg(
            pl.col("quantity").sum().alias("input_quantity"),
            pl.col("uom").first().alias("input_uom"),
        )
        .join(keys, on=LOT_ID)
        .select(
            "production_id",
            pl.col("lot_key").alias("parent_key"),
            "input_quantity",
            "input_uom",
            pl.lit("explicit").alias("evidence"),
        )
    )
    inputs = pl.concat(
        [explicit.cast(INPUT_SCHEMA), inferred_inputs(records, keys)]  # type: ignore[arg-type]
    )
    outputs = (
        records.production.group_by("production_id", *LOT_ID)
        .agg(
            pl.col("quantity").sum().alias("output_quantity"),
            pl.col("uom").first().alias("output_uom"),
        )
        .join(keys, on=LOT_ID)
        .select(
            "production_id", pl.col("lot_key").alias("child_key"), "output_quantity", "output_uom"
        )
    )
    return (
        inputs.join(outputs, on="production_id")
        .join(production_events(records.production), on="production_id")
        .select(
            "parent_key",
            "child_key",
            "production_id",
            "completed_at",
            "location_id",
            "input_quantity",
            "input_uom",
            "output_quantity",
            "output_uom",
            "evidence",
        )
        .sort("parent_key", "child_key", "production_id", "evidence")
    )


def stock_flows(records: Records) -> pl.DataFrame:
    """Every quantity that entered (+) or left (−) a location, per lot, in one signed ledger."""
    return stock_ledger(records).collect(engine="in-memory")  # in record order


def stock_ledger(records: Records) -> pl.LazyFrame:
    """`stock_flows`, not yet collected: a caller that keeps only some locations and aggregates
    (`on_hand`) never holds the full ledger, one row per record and side (10⁷–10⁸ rows on a
    large load), nor the columns it does not read."""

    def flow(frame: pl.LazyFrame, location: str, sign: int, at: str, kind: str) -> pl.LazyFrame:
        return frame.filter(pl.col(location).is_not_null()).select(
            *LOT_ID,
            pl.col(location).alias("location_id"),
            (pl.col("quantity") * sign).alias("quantity"),
            pl.col(at).alias("at"),
            pl.lit(kind).alias("kind"),
        )

    consumption = records.consumption.lazy().join(
        production_events(records.production).lazy(), on="production_id", how="left"
    )
    moves = records.moves.lazy()
    return pl.concat(
        [
            flow(records.receipts.lazy(), "to_location_id", 1, "received_at", "received"),
            flow(records.production.lazy(), "location_id", 1, "completed_at", "produced"),
            flow(consumption, "location_id", -1, "completed_at", "consumed"),
            flow(
                # scrap and destroy end the stock; a destination named anyway is kept in the
                # record (with a warning) but receives nothing
                moves.filter(~pl.col("reason").is_in(["return", "scrap", "destroy"])),
                "to_location_id",
                1,
                "moved_at",
                "moved_in",
            ),
            flow(
                moves.filter(pl.col("reason") != "return"),
                "from_location_id",
                -1,
                "moved_at",
                "moved_out",
            ),
            flow(
                moves.filter(pl.col("reason") == "return"),
                "to_location_id",
                1,
                "moved_at",
                "returned",
            ),
            flow(records.shipments.lazy(), "from_location_id", -1, "shipped_at", "shipped"),
            flow(records.shipments.lazy(), "to_location_id", 1, "shipped_at", "delivered"),
        ]
    )


def on_hand(records: Records, keys: pl.DataFrame) -> pl.DataFrame:
    """Stock per lot at the company's own sites and warehouses (a negative total is kept: it is
    an exception a report must show, not something to hide)."""
    own = records.locations.filter(pl.col("kind").is_in(STOCK_KINDS)).select("location_id")
    return (
        stock_ledger(records)
        .join(own.lazy(), on="location_id", how="semi")
        .group_by(*LOT_ID, "location_id")
        .agg(pl.col("quantity").sum(), pl.col("at").max().alias("last_movement_at"))
        .collect(engine="in-memory")  # sums add the rows in record order (streaming may not)
        .filter(pl.col("quantity").abs() > 1e-9)
        .join(keys, on=LOT_ID)
        .join(records.products.select("gtin", "uom"), on="gtin", how="left")
        .select("lot_key", "location_id", "quantity", "uom", "last_movement_at")
        .sort("lot_key", "location_id")
    )


def lots(records: Records, keys: pl.DataFrame, stock: pl.DataFrame) -> pl.DataFrame:
    def total(frame: pl.DataFrame, name: str, condition: pl.Expr | None = None) -> pl.DataFrame:
        if condition is not None:
            frame = frame.filter(condition)
        return frame.group_by(LOT_ID).agg(pl.col("quantity").sum().alias(name))

    moves = records.moves
    adjust_in = moves.filter(
        (pl.col("reason") == "adjustment") & pl.col("to_location_id").is_not_null()
    )
    adjust_out = moves.filter(
        (pl.col("reason") == "adjustment") & pl.col("from_location_id").is_not_null()
    )
    received = records.receipts.group_by(LOT_ID).agg(
        pl.col("quantity").sum().alias("quantity_received"),
        pl.col("received_at").min().alias("first_received_at"),
        pl.col("from_location_id").sort_by("received_at").first().alias("supplier_id"),
        pl.col("tlc_source_reference").drop_nulls().first(),
        pl.col("production_date").min().alias("received_production_date"),
        pl.col("expiry_date").min().alias("received_expiry_date"),
    )
    produced = records.production.group_by(LOT_ID).agg(
        pl.col("quantity").sum().alias("quantity_produced"),
        pl.col("completed_at").min().alias("first_produced_at"),
        pl.col("location_id").sort_by("completed_at").first().alias("production_location_id"),
        pl.col("production_date").min().alias("produced_production_date"),
        pl.col("expiry_date").min().alias("produced_expiry_date"),
    )
    frame = keys
    for part in (
        received,
        produced,
        total(records.consumption, "quantity_consumed"),
        total(records.shipments, "quantity_shipped"),
        total(moves, "quantity_returned", pl.col("reason") == "return"),
        total(adjust_in, "adjust_in"),
        total(adjust_out, "adjust_out"),
        total(moves, "quantity_destroyed", pl.col("reason").is_in(["scrap", "destroy"])),
    ):
        frame = frame.join(part, on=LOT_ID, how="left")
    stock_total = stock.group_by("lot_key").agg(pl.col("quantity").sum().alias("quantity_on_hand"))
    is_received = pl.col("quantity_received").is_not_null()
    is_produced = pl.col("quantity_produced").is_not_null()
    zero = [
        "quantity_received",
        "quantity_produced",
        "quantity_consumed",
        "quantity_shipped",
        "quantity_returned",
        "adjust_in",
        "adjust_out",
        "quantity_destroyed",
        "quantity_on_hand",
    ]
    return (
        frame.join(stock_total, on="lot_key", how="left")
        .join(
            records.products.select("gtin", pl.col("name").alias("product_name"), "uom"),
            on="gtin",
            how="left",
        )
        .with_columns(
            pl.when(is_received & is_produced)
            .then(pl.lit("received+produced"))
            .when(is_received)
            .then(pl.lit("received"))
            .when(is_produced)
            .then(pl.lit("produced"))
            .otherwise(pl.lit("unknown"))
            .alias("origin"),
            pl.coalesce("production_location_id", "supplier_id").alias("tlc_source_location_id"),
            pl.min_horizontal("first_received_at", "first_produced_at").alias("first_seen_at"),
            pl.min_horizontal("received_production_date", "produced_production_date").alias(
                "production_date"
            ),
            pl.min_horizontal("received_expiry_date", "produced_expiry_date").alias("expiry_date"),
        )
        .with_columns(pl.col(zero).fill_null(0.0))
        .with_columns((pl.col("adjust_in") - pl.col("adjust_out")).alias("quantity_adjusted"))
        .select(
            "lot_key",
            *LOT_ID,
            "product_name",
            "uom",
            "origin",
            "tlc_source_location_id",
            "tlc_source_reference",
            "first_seen_at",
            "production_date",
            "expiry_date",
            "quantity_received",
            "quantity_produced",
            "quantity_consumed",
            "quantity_shipped",
            "quantity_returned",
            "quantity_adjusted",
            "quantity_destroyed",
            "quantity_on_hand",
        )
        .sort("lot_key")
    )


def serials(records: Records, keys: pl.DataFrame) -> pl.DataFrame:
    produced = records.production.filter(pl.col("serial").is_not_null()).select(
        "gtin",
        "serial",
        "lot",
        pl.lit("produced").alias("origin"),
        pl.col("production_id").alias("origin_id"),
        pl.col("completed_at").alias("created_at"),
    )
    received = records.receipts.filter(pl.col("serial").is_not_null()).select(
        "gtin",
        "serial",
        "lot",
        pl.lit("received").alias("origin"),
        pl.col("receipt_id").alias("origin_id"),
        pl.col("received_at").alias("created_at"),
    )
    return (
        pl.concat([produced, received])
        .sort("created_at")
        .unique(["gtin", "serial"], keep="first", maintain_order=True)
        .join(keys, on=LOT_ID)
        .select("gtin", "serial", "lot_key", "lot", "origin", "origin_id", "created_at")
        .sort("gtin", "serial")
    )


def with_allocated_consumption(records: Records, keys: pl.DataFrame) -> Records:
    """Lot-less consumption replaced by its inferred allocation to lots, so that stock on hand,
    lot totals and mass balance count what the genealogy says was used (`inferred_inputs`)."""
    if records.consumption.filter(pl.col("lot").is_null()).is_empty():
        return records
    allocated = (
        inferred_inputs(records, keys)
        .join(keys.rename({"lot_key": "parent_key"}), on="parent_key")
        .select(
            "production_id",
            *LOT_ID,
            pl.lit(None, pl.String).alias("serial"),
            pl.col("input_quantity").alias("quantity"),
            pl.col("input_uom").alias("uom"),
        )
    )
    explicit = records.consumption.filter(pl.col("lot").is_not_null())
    return replace(records, consumption=pl.concat([explicit, allocated], how="diagonal_relaxed"))


PROVENANCE_COLUMNS = ("record_hash", "source_sha256", "source_file", "source_row", "load_id")
"""Where a record came from: stored with it, not part of the lines lineage resolves to lots."""


def shipment_lines(records: Records, keys: pl.DataFrame) -> pl.DataFrame:
    """Shipment lines resolved to their lot (`lot_shipment`)."""
    return (
        records.shipments.join(keys, on=LOT_ID)
        .drop(*PROVENANCE_COLUMNS, strict=False)
        .sort("shipped_at", "shipment_id")
    )


def receipt_lines(records: Records, keys: pl.DataFrame) -> pl.DataFrame:
    """Receipt lines resolved to their lot (`lot_receipt`); the dates stay on the lot."""
    return (
        records.receipts.join(keys, on=LOT_ID)
        .drop(*PROVENANCE_COLUMNS, "production_date", "expiry_date", strict=False)
        .sort("received_at", "receipt_id")
    )


def lot_count(keys: pl.DataFrame) -> int:
    """Rows of a closure matrix: one past the highest key."""
    return int(keys["lot_key"].max()) + 1 if keys.height else 0


def build_lineage(
    records: Records, keys: pl.DataFrame | None = None, with_closure: bool = True
) -> Lineage:
    """`keys`: the lots' keys (default `lot_keys(records)`); `with_closure=False` leaves the
    closure out (an incremental update computes it for the descendants it changes only)."""
    from lotline import genealogy  # scipy: kept off the import path of `lotline trace`

    keys = lot_keys(records) if keys is None else keys
    edges = genealogy.edge_shares(genealogy_edges(records, keys))
    records = with_allocated_consumption(records, keys)
    stock = on_hand(records, keys)
    return Lineage(
        lots=lots(records, keys, stock),
        edges=edges,
        closure=genealogy.closure(edges, lot_count(keys)) if with_closure else None,
        serials=serials(records, keys),
        shipments=shipment_lines(records, keys),
        receipts=receipt_lines(records, keys),
        on_hand=stock,
    )
