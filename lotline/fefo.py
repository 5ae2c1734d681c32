"""FEFO violations: a later-expiring lot shipped while an earlier-expiring, approved lot of the
same product was on hand at the same place. Pure functions over Polars frames.

Why: 21 CFR 211.150(a) requires distribution procedures under which "the oldest approved stock
of a drug product is distributed first" (a deviation is allowed only if temporary and
appropriate); for dated stock the industry reading is first expired, first out. Each violation
leaves stock behind that will expire unsold, or that a customer gets shorter-dated later.

The rule, for every shipment line of lot B leaving one of the company's own locations X (site or
warehouse) at instant t, with local ship date d (`lotline.expiry` rule 5):

    another lot A of the same GTIN was *available* at X at t when
    - A's expiry date is before B's (both dated; a lot without an expiry date is never compared),
    - A had positive stock at X at t: every movement of A at X up to and including t is counted,
      so a line that ships A's last units together with B is not a violation, and a lot received
      at X after t is not available,
    - A was not restricted at t: no hold, quarantine or recall of the lot in force
      (`lotline.status.status_at`: latest lot-level decision at or before t),
    - A was not expired at t: its expiry date is after d. Shipping A on its own expiry day would
      itself be a shipment at or after expiry, so a lot on its last day is not "available".

Stock at a time comes from the signed movement ledger (`lotline.lineage.stock_flows`): a
cumulative sum per lot and location and an as-of join, never a loop over rows.
"""

from __future__ import annotations

import polars as pl

from lotline import status
from lotline.expiry import consignee_details, local_date, with_expiry_kind
from lotline.lineage import STOCK_KINDS

EPSILON = 1e-9  # float sums such as 0.1 + 0.2 - 0.3 must not leave phantom stock
PLACE = ["gtin", "lot", "location_id"]

LINE_KEY = [
    "shipment_id",
    "shipped_at",
    "from_location_id",
    "to_location_id",
    "gtin",
    "lot",
    "uom",
]
"""One shipment line of a lot: serial lines and pallet parts of the same lot are summed."""

EARLIER_COLUMNS = [
    *LINE_KEY,
    "earlier_lot",
    "earlier_expiry_date",
    "earlier_on_hand",
    "stock_uom",
]
VIOLATION_COLUMNS = [
    "shipment_id",
    "ship_date",
    "shipped_at",
    "from_location_id",
    "from_location_name",
    "to_location_id",
    "consignee_name",
    "gtin",
    "product_name",
    "lot",
    "expiry_date",
    "quantity",
    "uom",
    "earlier_lot_count",
    "earliest_expiry_date",
    "days_earlier",
    "earlier_on_hand",
    "stock_uom",
    "earlier_lots",
    "ref_doc_type",
    "ref_doc_number",
    "expiry_kind",
]


def stock_at(ledger: pl.DataFrame, frame: pl.DataFrame, at_column: str) -> pl.DataFrame:
    """`frame` (gtin, lot, location_id, `at_column`) with the lot's stock at the location after
    every movement at or before the row's time (0 before its first movement):

    - `on_hand`: the book stock;
    - `returned_pending`: what came back by a customer return since the lot last left that
      location (rule below), at most `on_hand`;
    - `available`: `on_hand` − `returned_pending`, never below 0.

    Returned goods are held until they are evaluated (21 CFR 211.204) and are not approved
    stock, but the records say only that they arrived (`kind` = `returned`), not where they are
    kept or when they were cleared. They are counted as pending until the next movement of the
    lot *out of* the location (shipment, transfer, consumption, scrap, destroy): by then the
    returns area was destroyed or put back and the lot is being picked again.

    `ledger` is the signed movement ledger of `lotline.lineage.stock_flows`: gtin, lot,
    location_id, quantity (+ in, − out), at, and optionally kind.
    """
    flows = ledger.filter(pl.col("lot").is_not_null() & pl.col("quantity").is_not_null())
    returned = (pl.col("kind") == "returned" if "kind" in flows.columns else pl.lit(False)) & (
        pl.col("quantity") > 0
    )
    balance = (
        flows.group_by(*PLACE, "at")
        .agg(
            pl.col("quantity").sum(),
            pl.col("quantity").filter(returned).sum().alias("_returned"),
            (pl.col("quantity") < 0).any().alias("_left"),
        )
        .sort("at")
        .with_columns(
            pl.col("quantity").cum_sum().over(PLACE).alias("on_hand"),
            pl.col("_left").cast(pl.Int64).cum_sum().over(PLACE).alias("_since"),
        )
        .with_columns(
            pl.min_horizontal(
                pl.col("_returned").cum_sum().over(*PLACE, "_since"),
                pl.col("on_hand").clip(lower_bound=0),
            ).alias("returned_pending")
        )
        .select(*PLACE, pl.col("at").alias("_balance_at"), "on_hand", "returned_pending")
    )
    return (
        frame.with_row_index("_row")
        .sort(at_column)
        .join_asof(
            balance,
            left_on=at_column,
            right_on="_balance_at",
            by=PLACE,
            strategy="backward",
            check_sortedness=False,  # both sides sorted by time; by-groups defeat the check
        )
        .sort("_row")
        .with_columns(pl.col("on_hand", "returned_pending").fill_null(0.0))
        .with_columns(
            (pl.col("on_hand") - pl.col("returned_pending")).clip(lower_bound=0).alias("available")
        )
        .drop("_row", "_balance_at")
    )


def shipment_lines(shipments: pl.DataFrame, locations: pl.DataFrame) -> pl.DataFrame:
    """Shipment lines of lots leaving the company's own sites and warehouses, one per shipment,
    lot and unit (serials and pallet parts summed), with the local ship date."""
    own = locations.filter(pl.col("kind").is_in(STOCK_KINDS)).select(
        pl.col("location_id").alias("from_location_id")
    )
    frame = shipments.filter(pl.col("lot").is_not_null())
    if "tz_offset" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("tz_offset"))
    for name in ("ref_doc_type", "ref_doc_number"):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(name))
    return (
        frame.join(own, on="from_location_id", how="semi")
        .group_by(LINE_KEY, maintain_order=True)
        .agg(
            pl.col("quantity").sum(),
            pl.col("tz_offset").first(),
            pl.col("ref_doc_type").first(),
            pl.col("ref_doc_number").first(),
        )
        .with_columns(local_date(pl.col("shipped_at"), pl.col("tz_offset")).alias("ship_date"))
    )


def earlier_lots_available(
    shipments: pl.DataFrame,
    lots: pl.DataFrame,
    ledger: pl.DataFrame,
    locations: pl.DataFrame,
    status_events: pl.DataFrame,
) -> pl.DataFrame:
    """One row per shipment line and per earlier-expiring lot available at its ship-from
    location when it left (the rule in the module docstring), with that lot's stock then.

    `shipments` as `Lineage.shipments`; `lots` gives gtin, lot, expiry_date (and uom, the unit
    the ledger counts in); `ledger` as `stock_at`; `status_events` as `lotline.status`.

    Cost: the candidate pairs are each line × the lots of its GTIN that entered its ship-from
    location before it and expire between its ship date and its own expiry — a few per line
    when stock turns over, the number to watch if a location keeps many lots of one product.
    """
    dates = lots.select(
        "gtin", "lot", pl.col("expiry_date").cast(pl.Date), *(["uom"] if "uom" in lots else [])
    ).filter(pl.col("expiry_date").is_not_null())
    if "uom" not in dates.columns:
        dates = dates.with_columns(pl.lit(None, pl.String).alias("uom"))
    lines = shipment_lines(shipments, locations).join(
        dates.select("gtin", "lot", "expiry_date"), on=["gtin", "lot"], how="inner"
    )
    # where each lot ever was, and since when: candidates must have entered X by time t
    present = (
        ledger.filter(pl.col("lot").is_not_null() & (pl.col("quantity") > 0))
        .group_by(PLACE)
        .agg(pl.col("at").min().alias("_first_in"))
        .join(
            dates.select(
                "gtin",
                pl.col("lot").alias("earlier_lot"),
                pl.col("expiry_date").alias("earlier_expiry_date"),
                pl.col("uom").alias("stock_uom"),
            ),
            left_on=["gtin", "lot"],
            right_on=["gtin", "earlier_lot"],
            how="inner",
        )
        .rename({"lot": "earlier_lot", "location_id": "from_location_id"})
    )
    candidates = lines.join(present, on=["gtin", "from_location_id"], how="inner").filter(
        (pl.col("earlier_lot") != pl.col("lot"))
        & (pl.col("earlier_expiry_date") < pl.col("expiry_date"))
        & (pl.col("earlier_expiry_date") > pl.col("ship_date"))
        & (pl.col("_first_in") <= pl.col("shipped_at"))
    )
    stocked = stock_at(
        ledger,
        candidates.with_columns(
            pl.col("earlier_lot").alias("_lot"), pl.col("from_location_id").alias("_location")
        ).rename({"lot": "_shipped_lot", "_lot": "lot", "_location": "location_id"}),
        "shipped_at",
    ).filter(pl.col("available") > EPSILON)
    approved = _not_restricted(stocked, status_events)
    return (
        approved.rename({"lot": "_earlier", "_shipped_lot": "lot", "available": "earlier_on_hand"})
        .drop("_earlier", "location_id", "on_hand", "returned_pending")
        .select(*EARLIER_COLUMNS, "ship_date", "expiry_date", "ref_doc_type", "ref_doc_number")
        .sort(*LINE_KEY, "earlier_expiry_date", "earlier_lot")
    )


def _not_restricted(frame: pl.DataFrame, status_events: pl.DataFrame) -> pl.DataFrame:
    """Rows of `frame` (gtin, lot, shipped_at) whose lot has no hold, quarantine or recall in
    force at `shipped_at` (lot-level decisions; a held serial does not hold its lot)."""
    events = status.status_event_frame(status_events)
    if events.is_empty():
        return frame
    keyed = frame.with_row_index("_candidate")
    in_force = status.status_at(
        events, keyed.select("_candidate", "gtin", "lot", "shipped_at"), "shipped_at"
    ).filter(status.is_restricted())
    return keyed.join(in_force.select("_candidate"), on="_candidate", how="anti").drop("_candidate")


def fefo_violations(
    shipments: pl.DataFrame,
    lots: pl.DataFrame,
    ledger: pl.DataFrame,
    locations: pl.DataFrame,
    status_events: pl.DataFrame,
    *,
    products: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per shipment line that broke FEFO, with the earlier lots that were available.

    `earlier_lots` lists them as "LOT (expiry YYYY-MM-DD, N on hand)", earliest first;
    `earlier_on_hand` is their stock then, summed (one GTIN, so one unit: `stock_uom`, the
    product's); `days_earlier` = the shipped lot's expiry − the earliest available expiry.
    The consignee is named from the location master, as for late shipments.
    """
    detail = earlier_lots_available(shipments, lots, ledger, locations, status_events)
    lots = with_expiry_kind(lots, products)
    if "product_name" not in lots.columns:
        lots = lots.with_columns(pl.lit(None, pl.String).alias("product_name"))
    lot_info = lots.select("gtin", "lot", "product_name", "expiry_kind")
    described = pl.format(
        "{} (expiry {}, {} on hand)",
        pl.col("earlier_lot"),
        pl.col("earlier_expiry_date").cast(pl.String),
        _plain_number(pl.col("earlier_on_hand")),
    )
    names = locations.select(
        pl.col("location_id").alias("from_location_id"),
        pl.col("business_name").alias("from_location_name"),
    )
    lines = shipment_lines(shipments, locations).select(*LINE_KEY, "quantity")
    return (
        detail.with_columns(described.alias("_described"))
        .group_by(LINE_KEY, maintain_order=True)
        .agg(
            pl.col("ship_date").first(),
            pl.col("expiry_date").first(),
            pl.col("ref_doc_type").first(),
            pl.col("ref_doc_number").first(),
            pl.len().cast(pl.Int64).alias("earlier_lot_count"),
            pl.col("earlier_expiry_date").min().alias("earliest_expiry_date"),
            pl.col("earlier_on_hand").sum(),
            pl.col("stock_uom").first(),
            pl.col("_described").str.join("; ").alias("earlier_lots"),
        )
        .join(lines, on=LINE_KEY, how="left")
        .with_columns(
            (pl.col("expiry_date") - pl.col("earliest_expiry_date"))
            .dt.total_days()
            .cast(pl.Int64)
            .alias("days_earlier")
        )
        .join(lot_info, on=["gtin", "lot"], how="left")
        .join(names, on="from_location_id", how="left")
        .join(consignee_details(locations), on="to_location_id", how="left")
        .select(VIOLATION_COLUMNS)
        .sort("shipped_at", "shipment_id", "gtin", "lot")
    )


def _plain_number(value: pl.Expr) -> pl.Expr:
    """A quantity as text without float noise: 40, 2.5, 0.125 (3 decimals at most)."""
    text = value.round(3).cast(pl.String)
    return (
        pl.when(text.str.contains(r"\."))
        .then(text.str.strip_chars_end("0").str.strip_chars_end("."))
        .otherwise(text)
    )
