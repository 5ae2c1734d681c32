"""A synthetic supply chain at benchmark scale, in the input contract, built with numpy and Polars.

Why not `lotline generate`: that is a day-by-day simulation written for realism at demo size
(thousands of rows); the benchmark needs 100k-10M genealogy edges in seconds. The shape follows
the issue's brief and what ERPs see in practice:

- raw lots (received from suppliers) feed hundreds of batches each; a few bulk lots (salt, sugar)
  feed thousands: these are the "most connected" lots of a trace; inputs are lots made shortly
  before (time locality), as in a real plant;
- five production tiers (3-6 levels of lots from raw to finished): intermediates with 2-8 inputs,
  finished lots with 5-30; one production in ten yields two output lots (split / co-product);
- a sprinkling of rework: a later lot consumed into a production that re-makes an ancestor lot
  (a cycle in the lot graph);
- half the finished lots are serialised (about one serial per two edges: 5M serials at 10M
  edges), shipped to customers in pallets (SSCC); the other finished lots ship as lot quantities.

QA status decisions (hold, release, recall) on 0.5 % of the lots fill the status records.

Quantities are consistent: a lot never gives more than it has (each consumption takes a share of
its parent's quantity divided by the parent's fan-out), outputs are 98 % of their inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from lotline.gs1 import with_check_digit

TIERS = (  # share of output lots, fan-in range, tiers the inputs come from (with weights)
    (0.35, (2, 4), {0: 1.0}),
    (0.20, (2, 5), {1: 0.8, 0: 0.2}),
    (0.15, (2, 6), {2: 0.7, 1: 0.2, 0: 0.1}),
    (0.10, (3, 8), {3: 0.7, 2: 0.2, 0: 0.1}),
    (0.20, (5, 30), {4: 0.5, 3: 0.3, 2: 0.1, 0: 0.1}),
)
EDGES_PER_OUTPUT_LOT = sum(share * (lo + hi) / 2 for share, (lo, hi), _ in TIERS)
PRODUCTS_PER_TIER = (40, 30, 30, 30, 30, 60)
SPLIT_SHARE = 0.10
REWORK_SHARE = 0.001
DAY_US = 86_400 * 1_000_000
SPAN_US = 300 * DAY_US  # every tier is produced over the same 300 days
WINDOW_AT_100K = 0.01  # inputs come from lots made up to 1 % of the span earlier at 100k edges;
# bigger companies run more lines in parallel, so the window holds as many lots at every size
BULK_SHARE = 0.05  # share of raw inputs that are bulk lots used across all recipes
STATUS_SHARE = 0.005  # share of lots with QA status decisions (hold, then release or recall)
START = np.datetime64("2026-01-01T06:00:00", "us")


@dataclass(frozen=True)
class Plan:
    """The lot graph before it is written out as records (all numpy, dense lot index)."""

    lot_tier: np.ndarray
    lot_product: np.ndarray
    lot_quantity: np.ndarray
    lot_time: np.ndarray  # microseconds since START
    production_of_lot: np.ndarray  # -1 for raw lots
    consumption: pl.DataFrame  # production, lot, quantity
    serial_lots: np.ndarray
    rework: pl.DataFrame  # rework_production, remade_lot


def _gtins() -> list[str]:
    return [with_check_digit(f"0871932{i:06d}") for i in range(sum(PRODUCTS_PER_TIER))]


def _product_tier() -> np.ndarray:
    return np.repeat(np.arange(len(PRODUCTS_PER_TIER)), PRODUCTS_PER_TIER)


def plan(n_edges: int, seed: int = 1) -> Plan:
    rng = np.random.default_rng(seed)
    # a production drawing the same input twice keeps one edge: ~17 % fewer edges than drawn
    n_out = max(50, round(n_edges / EDGES_PER_OUTPUT_LOT / 0.83))
    n_raw = max(20, n_out // 80)
    tier_lots = [n_raw] + [max(5, round(n_out * share)) for share, _, _ in TIERS]
    first = np.concatenate([[0], np.cumsum(tier_lots)])
    n_lots = int(first[-1])
    lot_tier = np.repeat(np.arange(len(tier_lots)), tier_lots)
    product_first = np.concatenate([[0], np.cumsum(PRODUCTS_PER_TIER)])
    lot_product = np.empty(n_lots, np.int32)
    for t in range(len(tier_lots)):
        lot_product[first[t] : first[t + 1]] = rng.integers(
            product_first[t], product_first[t + 1], tier_lots[t]
        )
    window = min(1.0, WINDOW_AT_100K * 100_000 / n_edges)
    n_bulk = max(1, n_raw // 100)  # salt, water, sugar: raw lots every recipe uses

    # productions: tier by tier, each making one lot, or two (split) sharing inputs
    production_of_lot = np.full(n_lots, -1, np.int64)
    frames = []
    next_production = 0
    for t, (_, (lo, hi), sources) in enumerate(TIERS, start=1):
        lots = np.arange(first[t], first[t + 1])
        pair = rng.random(len(lots)) < SPLIT_SHARE
        pair[-1] = False
        starts = ~np.concatenate([[False], pair[:-1]])  # a lot opens a production unless paired
        production = next_production + np.cumsum(starts) - 1
        production_of_lot[lots] = production
        next_production = int(production[-1]) + 1
        productions = np.unique(production)
        fan_in = rng.integers(lo, hi + 1, len(productions))
        consumer = np.repeat(productions, fan_in)
        tiers = np.array(list(sources))
        source = rng.choice(tiers, size=len(consumer), p=np.array(list(sources.values())))
        parent = np.empty(len(consumer), np.int64)
        # time locality: a production uses lots made shortly before it (its position in its
        # tier is its time; inputs come from the same position minus up to WINDOW of the span)
        position = (np.repeat(lots[starts], fan_in) - first[t]) / tier_lots[t]
        for s in tiers:
            pick = source == s
            count = int(pick.sum())
            earlier = position[pick] - rng.uniform(0, window, count)
            index = np.clip((earlier * tier_lots[s]).astype(np.int64), 0, tier_lots[s] - 1)
            if s == 0:
                bulk = rng.random(count) < BULK_SHARE
                index[bulk] = rng.integers(0, n_bulk, int(bulk.sum())) * (n_raw // n_bulk)
            parent[pick] = first[s] + index
        frames.append(pl.DataFrame({"production": consumer, "lot": parent}))
    consumption = pl.concat(frames).unique(maintain_order=True)

    # rework: a lot of tier 3 goes back into a production re-making one of its tier-2 inputs
    tier3 = consumption.join(
        pl.DataFrame({"production": production_of_lot, "child": np.arange(n_lots)}),
        on="production",
    ).filter(
        pl.col("lot").is_between(int(first[2]), int(first[3]) - 1)
        & pl.col("child").is_between(int(first[3]), int(first[4]) - 1)
    )
    n_rework = max(1, round(n_out * REWORK_SHARE))
    rework = tier3.sample(n=min(n_rework, tier3.height), seed=seed).with_columns(
        (next_production + pl.int_range(pl.len())).alias("rework_production")
    )

    # quantities in tier order: a consumption takes ~90 % / fan-out of its parent lot
    fan_out = np.bincount(consumption["lot"].to_numpy(), minlength=n_lots)
    lot_quantity = np.zeros(n_lots)
    lot_quantity[:n_raw] = np.round(rng.uniform(500, 5000, n_raw), 3)
    lot_time = (
        (lot_tier * 6 * 3600 * 1_000_000)
        + ((np.arange(n_lots) - first[lot_tier]) / np.array(tier_lots)[lot_tier] * SPAN_US)
    ).astype(np.int64)
    quantities = np.zeros(consumption.height)
    parents = consumption["lot"].to_numpy()
    consumers = consumption["production"].to_numpy()
    for t in range(1, len(tier_lots)):
        lots = np.arange(first[t], first[t + 1])
        productions = production_of_lot[lots]
        mask = np.isin(consumers, productions)
        share = rng.uniform(0.85, 0.95, int(mask.sum())) / np.maximum(fan_out[parents[mask]], 1)
        quantities[mask] = np.maximum(np.round(lot_quantity[parents[mask]] * share, 3), 0.001)
        produced = np.bincount(consumers[mask], weights=quantities[mask], minlength=next_production)
        outputs = np.bincount(productions, minlength=next_production)
        lot_quantity[lots] = np.maximum(
            np.round(0.98 * produced[productions] / outputs[productions], 3), 0.001
        )
    consumption = consumption.with_columns(quantity=quantities)
    finished = np.arange(first[-2], first[-1])
    serial_lots = finished[rng.random(len(finished)) < 0.5]
    # rework consumes a little of the tier-3 lot into a new production of the tier-2 lot
    rework_rows = rework.select(
        pl.col("rework_production").alias("production"),
        "child",
        pl.lit(0.001).alias("quantity"),
    ).rename({"child": "lot"})
    consumption = pl.concat([consumption, rework_rows])
    return Plan(
        lot_tier=lot_tier,
        lot_product=lot_product,
        lot_quantity=lot_quantity,
        lot_time=lot_time,
        production_of_lot=production_of_lot,
        consumption=consumption.with_columns(
            pl.col("production").cast(pl.Int64), pl.col("lot").cast(pl.Int64)
        ),
        serial_lots=serial_lots,
        rework=rework.select("rework_production", pl.col("lot").alias("remade_lot")),
    )


def _timestamp(us: pl.Expr) -> pl.Expr:
    return (pl.lit(START) + pl.duration(microseconds=us)).dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _date(us: pl.Expr, plus_days: int | pl.Expr = 0) -> pl.Expr:
    return (pl.lit(START) + pl.duration(microseconds=us) + pl.duration(days=plus_days)).dt.strftime(
        "%Y-%m-%d"
    )


def _sscc(index: pl.Expr) -> pl.Expr:
    """SSCC-18: extension 3, company prefix 8719327, serial reference, GS1 check digit."""
    body = pl.lit("38719327") + index.cast(pl.String).str.zfill(9)
    digits = [body.str.slice(i, 1).cast(pl.Int32) for i in range(17)]
    total = pl.sum_horizontal(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits))
    return body + ((10 - total % 10) % 10).cast(pl.String)


def records(n_edges: int, seed: int = 1) -> dict[str, pl.DataFrame]:
    """The contract files' contents (text columns) for a graph of about `n_edges` lot edges."""
    p = plan(n_edges, seed)
    rework = p.rework
    rng = np.random.default_rng(seed + 1)
    gtins = _gtins()
    product_tier = _product_tier()
    serial_products = set(range(sum(PRODUCTS_PER_TIER) - 30, sum(PRODUCTS_PER_TIER)))
    products = pl.DataFrame(
        {
            "gtin": gtins,
            "name": [f"Tier {t} product {i}" for i, t in enumerate(product_tier)],
            "tracking": ["serial" if i in serial_products else "lot" for i in range(len(gtins))],
            "shelf_life_days": ["365" if t < 5 else "540" for t in product_tier],
            "uom": ["EA" if i in serial_products else "KGM" for i in range(len(gtins))],
        }
    )
    n_customers = 200
    locations = pl.DataFrame(
        {
            "location_id": [f"SUP-{i}" for i in range(10)]
            + [f"SITE-{i}" for i in range(3)]
            + [f"CUST-{i}" for i in range(n_customers)],
            "kind": ["supplier"] * 10 + ["site"] * 3 + ["customer"] * n_customers,
            "business_name": [f"Supplier {i}" for i in range(10)]
            + [f"Plant {i}" for i in range(3)]
            + [f"Customer {i}" for i in range(n_customers)],
        }
    )
    n_lots = len(p.lot_tier)
    # serial-tracked finished lots are made of serial products; others of lot products
    is_serial = np.zeros(n_lots, bool)
    is_serial[p.serial_lots] = True
    finished = p.lot_tier == 5
    n_serial_products = 30
    lot_product = p.lot_product.copy()
    base = sum(PRODUCTS_PER_TIER) - 60
    lot_product[finished & ~is_serial] = base + rng.integers(
        0, 30, int((finished & ~is_serial).sum())
    )
    lot_product[is_serial] = base + 30 + rng.integers(0, n_serial_products, int(is_serial.sum()))
    lots = pl.DataFrame(
        {
            "lot_index": np.arange(n_lots),
            "gtin": np.array(gtins)[lot_product],
            "tier": p.lot_tier,
            "quantity": p.lot_quantity,
            "time": p.lot_time,
            "production": p.production_of_lot,
            "serialised": is_serial,
        }
    ).with_columns(
        lot=pl.format("L{}-{}", pl.col("tier"), pl.col("lot_index").cast(pl.String).str.zfill(8)),
        site=pl.lit("SITE-0"),  # one plant: stock flows stay consistent
        shelf=pl.when(pl.col("tier") < 5).then(365).otherwise(540),
    )
    raw = lots.filter(pl.col("tier") == 0)
    receipts = raw.select(
        pl.format("RCV-{}", pl.col("lot_index")).alias("receipt_id"),
        _timestamp(pl.col("time")).alias("received_at"),
        pl.format("SUP-{}", pl.col("lot_index") % 10).alias("from_location_id"),
        pl.col("site").alias("to_location_id"),
        "gtin",
        "lot",
        pl.lit(None, pl.String).alias("serial"),
        pl.col("quantity").round(3).cast(pl.String).alias("quantity"),
        pl.lit("KGM").alias("uom"),
        _date(pl.col("time")).alias("production_date"),
        _date(pl.col("time"), pl.col("shelf")).alias("expiry_date"),
        pl.lit(None, pl.String).alias("tlc_source_reference"),
        pl.lit("po").alias("ref_doc_type"),
        pl.format("PO-{}", pl.col("lot_index")).alias("ref_doc_number"),
    )
    made = lots.filter(pl.col("tier") > 0)
    # serialised lots: one production row per serial, quantity 1 each
    n_serials_target = n_edges // 2
    per_lot = max(1, round(n_serials_target / max(1, int(is_serial.sum()))))
    serial_rows = (
        made.filter("serialised")
        .with_columns(serial_no=pl.int_ranges(0, per_lot))
        .explode("serial_no")
        .with_columns(
            serial=pl.format("S{}-{}", pl.col("lot_index"), pl.col("serial_no")),
            quantity=pl.lit(1.0),
        )
    )
    lot_rows = made.filter(~pl.col("serialised")).with_columns(serial=pl.lit(None, pl.String))
    production_frame = pl.concat([lot_rows, serial_rows.drop("serial_no")], how="diagonal")
    remade = rework.join(lots, left_on="remade_lot", right_on="lot_index").with_columns(
        lot_index=pl.col("remade_lot"),
        production=pl.col("rework_production"),
        serial=pl.lit(None, pl.String),
        quantity=pl.lit(0.00098),
        time=pl.col("time") + 90 * DAY_US,
    )
    production_frame = pl.concat(
        [production_frame, remade.select(production_frame.columns)], how="vertical_relaxed"
    )
    production = production_frame.select(
        pl.format("PRD-{}", pl.col("production")).alias("production_id"),
        _timestamp(pl.col("time")).alias("completed_at"),
        pl.col("site").alias("location_id"),
        "gtin",
        "lot",
        "serial",
        pl.col("quantity").round(5).cast(pl.String).alias("quantity"),
        pl.when(pl.col("serialised")).then(pl.lit("EA")).otherwise(pl.lit("KGM")).alias("uom"),
        _date(pl.col("time")).alias("production_date"),
        _date(pl.col("time"), pl.col("shelf")).alias("expiry_date"),
        pl.lit("prodorder").alias("ref_doc_type"),
        pl.format("WO-{}", pl.col("production")).alias("ref_doc_number"),
    )
    site_of_production = production_frame.group_by("production").agg(pl.col("site").first())
    consumption = (
        p.consumption.join(
            lots.select("lot_index", "gtin", "lot", "serialised"),
            left_on="lot",
            right_on="lot_index",
        )
        .join(site_of_production, on="production")
        .select(
            pl.format("PRD-{}", pl.col("production")).alias("production_id"),
            "gtin",
            pl.col("lot_right").alias("lot"),
            pl.lit(None, pl.String).alias("serial"),
            pl.col("quantity").round(5).cast(pl.String).alias("quantity"),
            pl.lit("KGM").alias("uom"),
        )
    )
    shipments = _shipments(lots, serial_rows, rng, n_customers)
    return {
        "products": products,
        "locations": locations,
        "receipts": receipts,
        "production": production,
        "consumption": consumption,
        "shipments": shipments,
        "status": _status(lots, seed),
    }


def _status(lots: pl.DataFrame, seed: int) -> pl.DataFrame:
    """QA decisions on `STATUS_SHARE` of the lots: a hold the day after the lot was made or
    received, released three days later for four in five; the rest stay on hold, and one in ten
    of those is recalled after a week. Own random stream: the other files do not change."""
    rng = np.random.default_rng(seed + 2)
    held = lots.filter(pl.Series(rng.random(lots.height) < STATUS_SHARE))
    held = held.with_columns(outcome=pl.Series(rng.random(held.height)))
    events = [
        held.with_columns(
            step=pl.lit(0),
            status=pl.lit("hold"),
            reason=pl.lit("QA sample out of spec"),
            days=pl.lit(1),
        ),
        held.filter(pl.col("outcome") < 0.8).with_columns(
            step=pl.lit(1),
            status=pl.lit("release"),
            reason=pl.lit(None, pl.String),
            days=pl.lit(4),
        ),
        held.filter(pl.col("outcome") >= 0.98).with_columns(
            step=pl.lit(1),
            status=pl.lit("recall"),
            reason=pl.lit("supplier notification"),
            days=pl.lit(8),
        ),
    ]
    return (
        pl.concat(events)
        .sort("lot_index", "step")
        .select(
            pl.format("ST-{}-{}", pl.col("lot_index"), pl.col("step")).alias("status_id"),
            _timestamp(pl.col("time") + pl.col("days") * DAY_US).alias("at"),
            "gtin",
            "lot",
            pl.lit(None, pl.String).alias("serial"),
            "status",
            pl.lit("qa-manager").alias("actor"),
            "reason",
            pl.lit("batch_record").alias("ref_doc_type"),
            pl.format("QA-{}", pl.col("lot_index")).alias("ref_doc_number"),
        )
    )


def _shipments(
    lots: pl.DataFrame, serial_rows: pl.DataFrame, rng: np.random.Generator, n_customers: int
) -> pl.DataFrame:
    """Finished lots ship in 1-3 lines; serials ship 90 % of each lot, a pallet per shipment."""
    finished = lots.filter((pl.col("tier") == 5) & ~pl.col("serialised"))
    lines = rng.integers(1, 4, finished.height)
    lot_lines = (
        finished.with_columns(lines=pl.Series(lines))
        .with_columns(line=pl.int_ranges(0, pl.col("lines")))
        .explode("line")
        .with_columns(
            quantity=(pl.col("quantity") * 0.9 / pl.col("lines")).round(3),
            serial=pl.lit(None, pl.String),
            shipment=pl.format("SH-{}-{}", pl.col("lot_index"), pl.col("line")),
            sscc=pl.lit(None, pl.String),
            uom=pl.lit("KGM"),
        )
    )
    shipped = serial_rows.filter(pl.col("serial_no") % 10 != 9).with_columns(
        line=pl.col("serial_no") // 40,
        quantity=pl.lit(1.0),
        uom=pl.lit("EA"),
    )
    shipped = shipped.with_columns(
        shipment=pl.format("SH-{}-{}", pl.col("lot_index"), pl.col("line")),
        sscc=_sscc(pl.col("lot_index") * 1000 + pl.col("line")),
    )
    keep = [
        "lot_index",
        "gtin",
        "lot",
        "serial",
        "quantity",
        "uom",
        "time",
        "site",
        "line",
        "shipment",
        "sscc",
    ]
    all_lines = pl.concat([lot_lines.select(keep), shipped.select(keep)], how="vertical_relaxed")
    return all_lines.select(
        pl.col("shipment").alias("shipment_id"),
        _timestamp(pl.col("time") + (3 + pl.col("line")) * DAY_US).alias("shipped_at"),
        pl.col("site").alias("from_location_id"),
        pl.format("CUST-{}", (pl.col("lot_index") * 7 + pl.col("line")) % n_customers).alias(
            "to_location_id"
        ),
        "gtin",
        "lot",
        "serial",
        "sscc",
        pl.col("quantity").cast(pl.String).alias("quantity"),
        "uom",
        pl.lit("bol").alias("ref_doc_type"),
        pl.col("shipment").alias("ref_doc_number"),
    )


def write(out_dir: Path, n_edges: int, seed: int = 1) -> dict[str, int]:
    """Write the drop folder as Parquet; returns rows per record type."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, frame in records(n_edges, seed).items():
        frame.write_parquet(out_dir / f"{name}.parquet")
        counts[name] = frame.height
    return counts
