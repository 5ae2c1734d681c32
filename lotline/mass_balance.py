"""Mass balance per lot and per recall scope: is every unit that came in accounted for?

Why: a traceability test (BRCGS §3.9) and a recall report (21 CFR 7.46(a)(4)-(5)) must show that
the quantity a lot received or produced is explained by what was used, shipped, destroyed or is
still on hand; 21 CFR 211.103/211.192 ask the same of a batch's yield. An unexplained difference
is the finding.

Definitions, per lot, all in the product's stock unit (`products.uom`):

    inflow    = received + produced + returned + positive net adjustment
    accounted = consumed + shipped + destroyed + negative net adjustment (as a positive amount)
                + on hand
    difference    = accounted − inflow
    balance_ratio = accounted / inflow            (null when inflow is 0)

- *shipped* counts shipments to locations that are not the company's own sites or warehouses;
  a shipment between own locations is a transfer (it leaves one stock and enters another).
- *on hand* is the book stock per own location, each position counted at no less than zero:
  stock cannot physically be negative, so a lot shipped from a warehouse it never reached shows
  as over-accounted (ratio > 1) instead of netting to a perfect balance.
- *destroyed* is scrap and destroy moves; *returned* is return moves; adjustments are netted per
  lot (as `Lineage.lots.quantity_adjusted`).

Units: `Lineage.lots` sums the recorded quantities whatever their `uom`, so its totals are wrong
for a lot whose records use another unit than the product's. Here every record is first converted
with `lotline.units.convert_to_product_uom` and the lineage totals are recomputed from the
converted records (same functions, so the same definitions). A lot with any record that cannot be
converted gets status `unconvertible`, not a guessed balance.

Status: `unconvertible`; else `no_inflow` when nothing was received or produced; else `pass`
when low ≤ balance_ratio ≤ high (the tolerance band, inclusive, default 99.5 %–101.5 %), else
`fail`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

import polars as pl

from lotline import lineage as lineage_tables
from lotline.lineage import LOT_ID, STOCK_KINDS, Lineage, Records
from lotline.units import convert_to_product_uom

TOLERANCE = (0.995, 1.015)
PASS, FAIL, NO_INFLOW, UNCONVERTIBLE = "pass", "fail", "no_inflow", "unconvertible"
_EPSILON = 1e-9  # float sums such as 0.1 + 0.2 must not fall off the edge of the band

INFLOW = ["quantity_received", "quantity_produced", "quantity_returned", "quantity_adjusted_in"]
ACCOUNTED = [
    "quantity_consumed",
    "quantity_shipped",
    "quantity_destroyed",
    "quantity_adjusted_out",
    "quantity_on_hand",
]
QUANTITIES = [*INFLOW, *ACCOUNTED]
BALANCE_COLUMNS = [
    "lot_key",
    *LOT_ID,
    "product_name",
    "uom",
    *QUANTITIES,
    "inflow",
    "accounted",
    "difference",
    "balance_ratio",
    "unconvertible_rows",
    "status",
]


def records_in_product_uom(records: Records) -> Records:
    """The same records with every stock quantity in its product's unit (null if unconvertible).

    Each stock frame gains `recorded_quantity`, `recorded_uom` and `convertible`.
    """
    converted = {
        name: _in_product_uom(getattr(records, name), records.products)
        for name in ("receipts", "production", "consumption", "moves", "shipments")
    }
    return replace(records, **converted)


def _in_product_uom(frame: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """`convert_to_product_uom` of `frame`, converting only the quantity columns: the other
    columns are shared with `frame`, not copied (10⁷ records converted twice per build)."""
    quantities = convert_to_product_uom(frame.select("gtin", "quantity", "uom"), products)
    if quantities.height != frame.height:  # pragma: no cover - the conversion keeps the rows
        raise AssertionError("unit conversion changed the number of rows")
    columns = ("quantity", "uom", "recorded_quantity", "recorded_uom", "convertible")
    return frame.with_columns(quantities.select(columns).get_columns())


def unconvertible_rows(converted: Records) -> pl.DataFrame:
    """Per lot, how many of its records could not be converted to the product's unit."""
    frames = (
        converted.receipts,
        converted.production,
        converted.consumption,
        converted.moves,
        converted.shipments,
    )
    return (
        pl.concat([frame.select(*LOT_ID, "convertible") for frame in frames])
        .group_by(LOT_ID)
        .agg((~pl.col("convertible")).sum().cast(pl.Int64).alias("unconvertible_rows"))
    )


PART_RECORDS = 2_000_000
"""Stock records per part when a per-lot table is built product by product (`product_parts`):
the conversions, ledger and group-bys of 10⁷ records at once would be gigabytes."""
STOCK_RECORDS = ("receipts", "production", "consumption", "moves", "shipments")


def product_parts(
    records: Records, keys: pl.DataFrame, rows: int | None = None
) -> Iterator[tuple[Records, pl.DataFrame]]:
    """`records` and their lots' `keys` split by GTIN into parts of about `rows` stock records
    (default `PART_RECORDS`), whole products in each, in GTIN order.

    A lot's records all fall in its product's part, in their order, so a per-lot result
    computed part by part equals the one computed at once, float sums included. Consumption is
    placed by the production it went into (its time and place): a part's production holds,
    besides its products' rows, every row of the productions its consumption names. Records
    without a GTIN belong to no lot and to no part."""
    rows = PART_RECORDS if rows is None else rows
    frames = [getattr(records, name) for name in STOCK_RECORDS]
    if sum(frame.height for frame in frames) <= rows:
        yield records, keys
        return
    per_product = (
        pl.concat([frame.select("gtin") for frame in frames])
        .drop_nulls()
        .group_by("gtin")
        .len()
        .sort("gtin")
    )
    part = (per_product["len"].cum_sum() - per_product["len"]) // rows
    for gtins in per_product["gtin"].to_frame().with_columns(part=part).partition_by("part"):
        products = pl.col("gtin").is_in(gtins["gtin"].implode())
        split = {name: getattr(records, name).filter(products) for name in STOCK_RECORDS}
        used_in = split["consumption"]["production_id"].unique().implode()
        split["production"] = records.production.filter(
            products | pl.col("production_id").is_in(used_in)
        )
        yield replace(records, **split), keys.filter(products)


def stock_positions(records: Records, keys: pl.DataFrame) -> pl.DataFrame:
    """Book stock per lot and own location in the product's unit, negative positions kept.

    `keys` is (lot_key, gtin, lot), e.g. `Lineage.lots`; columns as `Lineage.on_hand`.
    Built product by product (`product_parts`)."""
    keys = keys.select("lot_key", *LOT_ID)
    parts = [
        lineage_tables.on_hand(records_in_product_uom(part), part_keys)
        for part, part_keys in product_parts(records, keys)
    ]
    return parts[0] if len(parts) == 1 else pl.concat(parts).sort("lot_key", "location_id")


def lot_balance(
    records: Records, lineage: Lineage, tolerance: tuple[float, float] = TOLERANCE
) -> pl.DataFrame:
    """One row per lot of `lineage.lots`: the quantities, inflow, accounted, ratio and status.
    Built product by product (`product_parts`)."""
    low, high = _check_tolerance(tolerance)
    keys = lineage.lots.select("lot_key", *LOT_ID)
    parts = [
        _lot_balance(part, part_keys, low, high) for part, part_keys in product_parts(records, keys)
    ]
    return parts[0] if len(parts) == 1 else pl.concat(parts).sort("lot_key")


def _lot_balance(records: Records, keys: pl.DataFrame, low: float, high: float) -> pl.DataFrame:
    converted = records_in_product_uom(records)
    stock = lineage_tables.on_hand(converted, keys)
    totals = lineage_tables.lots(converted, keys, stock)
    own = records.locations.filter(pl.col("kind").is_in(STOCK_KINDS)).select(
        pl.col("location_id").alias("to_location_id")
    )
    shipped_out = (
        converted.shipments.join(own, on="to_location_id", how="anti")
        .group_by(LOT_ID)
        .agg(pl.col("quantity").sum().alias("quantity_shipped"))
    )
    on_hand = stock.group_by("lot_key").agg(
        pl.col("quantity").clip(lower_bound=0).sum().alias("quantity_on_hand")
    )
    return (
        totals.drop("quantity_shipped", "quantity_on_hand")
        .join(shipped_out, on=LOT_ID, how="left")
        .join(on_hand, on="lot_key", how="left")
        .join(unconvertible_rows(converted), on=LOT_ID, how="left")
        .with_columns(
            pl.col("quantity_shipped", "quantity_on_hand", "unconvertible_rows").fill_null(0),
            pl.col("quantity_adjusted").clip(lower_bound=0).alias("quantity_adjusted_in"),
            (0.0 - pl.col("quantity_adjusted")).clip(lower_bound=0).alias("quantity_adjusted_out"),
        )
        .with_columns(_balance(low, high))
        .select(BALANCE_COLUMNS)
        .sort("lot_key")
    )


def scope_balance(
    lots_balance: pl.DataFrame,
    lot_keys: pl.DataFrame | Sequence[int],
    tolerance: tuple[float, float] = TOLERANCE,
) -> pl.DataFrame:
    """The mass balance of a recall scope: one row per product unit, summed over its lots.

    `lot_keys` is a frame with `lot_key` (or gtin and lot), or a list of lot keys. Each row has
    the summed quantities, inflow, accounted, ratio and status of that unit (the per-lot rule
    applied to the sums), `lots`, `failing_lots` (status fail or unconvertible) and
    `no_inflow_lots`; `scope_status` (the same on every row) is `pass` only when every unit
    passes and no lot in scope fails. A lot without inflow does not fail the scope on its own,
    but its outflow enters its unit's sums, so unexplained stock still moves that ratio.
    """
    low, high = _check_tolerance(tolerance)
    if isinstance(lot_keys, pl.DataFrame):
        on = ["lot_key"] if "lot_key" in lot_keys.columns else LOT_ID
        scope = lots_balance.join(lot_keys.select(on).unique(), on=on, how="semi")
    else:
        scope = lots_balance.filter(pl.col("lot_key").is_in(list(lot_keys)))
    status = pl.col("status")
    per_uom = (
        scope.group_by("uom")
        .agg(
            pl.len().cast(pl.Int64).alias("lots"),
            status.is_in([FAIL, UNCONVERTIBLE]).sum().cast(pl.Int64).alias("failing_lots"),
            (status == NO_INFLOW).sum().cast(pl.Int64).alias("no_inflow_lots"),
            pl.col("unconvertible_rows").sum(),
            *[pl.col(c).sum() for c in QUANTITIES],
        )
        .with_columns(_balance(low, high))
        .sort("uom", nulls_last=True)
    )
    passed = (pl.col("status") == PASS).all() & (pl.col("failing_lots").sum() == 0)
    return per_uom.with_columns(
        pl.when(passed).then(pl.lit(PASS)).otherwise(pl.lit(FAIL)).alias("scope_status")
    ).select(
        "uom",
        "lots",
        "failing_lots",
        "no_inflow_lots",
        *QUANTITIES,
        "inflow",
        "accounted",
        "difference",
        "balance_ratio",
        "unconvertible_rows",
        "status",
        "scope_status",
    )


def _balance(low: float, high: float) -> list[pl.Expr]:
    inflow = pl.sum_horizontal(INFLOW)
    accounted = pl.sum_horizontal(ACCOUNTED)
    ratio = pl.when(inflow > 0).then(accounted / inflow)
    origin = pl.col("quantity_received") + pl.col("quantity_produced")
    status = (
        pl.when(pl.col("unconvertible_rows") > 0)
        .then(pl.lit(UNCONVERTIBLE))
        .when(origin <= 0)
        .then(pl.lit(NO_INFLOW))
        .when(ratio.is_between(low - _EPSILON, high + _EPSILON))
        .then(pl.lit(PASS))
        .otherwise(pl.lit(FAIL))
    )
    return [
        inflow.alias("inflow"),
        accounted.alias("accounted"),
        (accounted - inflow).alias("difference"),
        ratio.alias("balance_ratio"),
        status.alias("status"),
    ]


def _check_tolerance(tolerance: tuple[float, float]) -> tuple[float, float]:
    low, high = tolerance
    if not 0 < low <= 1 <= high:
        raise ValueError(f"tolerance must satisfy 0 < low <= 1 <= high, got {tolerance}")
    return low, high
