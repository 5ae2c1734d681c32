"""Expiry positions with their bucket and hold status, shipments at or after expiry, customers
holding short-dated stock and expiry propagation: pure functions over Polars frames.

The expiry report, notebooks and tests share these; nothing here touches a database or Dagster,
so the date rules below can be tested on hand-made frames.

Date rules
----------
1. *A date, not an instant.* An expiry is a calendar date with no time and no zone: the label
   names a day wherever the stock is. GS1 `YYMMDD` values (AI 17 expiry, 15 best before, 16 sell
   by, 11 production) are read by `lotline.gs1.parse_yymmdd` (century window −49/+50 years,
   day `00` = last day of the month).
2. *Use-by / expiration date* (AI 17, 21 CFR 211.137; EU 1169/2011 Art. 24 "use by"): the lot
   may be used and shipped *through the end of* its expiry day. On that day it is `expiring`
   with 0 days left — the expiry day itself does not count as expired; from the next day it is
   `expired` (severity `error`).
3. *Best-before* (AI 15; EU 1169/2011 "date of minimum durability"): a quality date, not a
   safety limit. Up to and on the day the lot is `best_before_soon` (0 days left on the day);
   from the next day it is `past_best_before` — a `warning`, never `expired`.
   Which rule applies comes from the product's `expiry_kind` (`use_by` | `best_before`); a
   missing column or a null value means `use_by`, the stricter reading.
4. *Which "today" for stock.* Stock is compared with the as-of date *at its location*: an
   `as_of` given as a `date` is that calendar date everywhere (the user named the day); given as
   an instant (`datetime`; naive = UTC) it becomes each location's local date — the location's
   `time_zone` (IANA name, DST-aware) if present, else its `tz_offset` ("+hh:mm"), else UTC. At
   11:00 UTC on 15 Sep it is already 16 Sep in Kiritimati (UTC+14) and still 15 Sep in
   Honolulu (UTC−10).
5. *Which "today" for a shipment.* Its local date at the ship-from location: the UTC instant
   shifted by the shipment's own `tz_offset` (missing = UTC), because that is the date on the
   bill of lading and the one an auditor compares with the label. A shipment *on* the expiry day
   is already an exception ("at or after expiry", `days_after_expiry` 0): the consignee receives
   stock that can no longer be sold or used once it arrives. The same boundary holds for
   best-before lots, with severity `warning` instead of `error`.
6. *Buckets.* Every dated position falls in one days-to-expiry bucket: `expired` (< 0; for a
   best-before lot `past best-before`), `0-30 d`, `31-90 d`, `91-180 d`, `over 180 d`; the
   expiry day itself (0 days) is in `0-30 d`, as it is not yet expired (rule 2).
7. *Customers holding short-dated stock.* A consignee that is not one of the company's sites or
   warehouses received a lot before its expiry day (shipments on or after it are rule-5
   exceptions, listed on their own) and, as of the as-of date at the consignee, the lot is
   expired or expires within `SHORT_DATED_DAYS` days: the consignee may still hold it.
8. *Transformations.* An output is normally no longer-lived than its shortest-lived input, at any
   depth of the genealogy; `propagated_expiry` finds that earliest ancestor expiry and flags
   outputs that outlive it. A flag is a warning to review, not an error: a kill step (baking)
   legitimately resets shelf life.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from lotline.intake.contract import EXPIRY_KINDS
from lotline.lineage import STOCK_KINDS
from lotline.status import RESTRICTING

EXPIRED = "expired"
EXPIRING = "expiring"
PAST_BEST_BEFORE = "past_best_before"
BEST_BEFORE_SOON = "best_before_soon"
STATUS_ORDER = (EXPIRED, PAST_BEST_BEFORE, EXPIRING, BEST_BEFORE_SOON)

USE_BY, BEST_BEFORE = "use_by", "best_before"  # the contract's EXPIRY_KINDS

DEFAULT_WINDOW_DAYS = 180
"""Default look-ahead of the expiry report: long enough for every bucket up to `91-180 d`."""
SHORT_DATED_DAYS = 30
"""Stock at a customer that is expired or expires within this many days is short-dated."""

PAST_DATE_BUCKET = {USE_BY: "expired", BEST_BEFORE: "past best-before"}
BUCKET_LIMITS = ((30, "0-30 d"), (90, "31-90 d"), (180, "91-180 d"))
BEYOND_BUCKET = "over 180 d"
BUCKETS = (*PAST_DATE_BUCKET.values(), *(label for _, label in BUCKET_LIMITS), BEYOND_BUCKET)
"""Bucket labels in report order (the past-date bucket depends on the expiry kind)."""

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITY = {EXPIRED: ERROR, PAST_BEST_BEFORE: WARNING, EXPIRING: INFO, BEST_BEFORE_SOON: INFO}

POSITION_COLUMNS = [
    "location_id",
    "location_name",
    "status",
    "bucket",
    "gtin",
    "lot",
    "product_name",
    "expiry_date",
    "days_to_expiry",
    "quantity",
    "uom",
    "last_movement_at",
    "expiry_kind",
    "severity",
    "as_of_date",
]
LATE_SHIPMENT_COLUMNS = [
    "shipment_id",
    "ship_date",
    "shipped_at",
    "tz_offset",
    "from_location_id",
    "to_location_id",
    "consignee_name",
    "consignee_address",
    "consignee_phone",
    "gtin",
    "lot",
    "product_name",
    "serial",
    "sscc",
    "quantity",
    "uom",
    "expiry_date",
    "days_after_expiry",
    "ref_doc_type",
    "ref_doc_number",
    "expiry_kind",
    "severity",
]
PROPAGATED_COLUMNS = [
    "lot_key",
    "expiry_date",
    "earliest_input_expiry",
    "earliest_input_key",
    "outlives_input",
]


def expiry_positions(
    lots: pl.DataFrame,
    on_hand: pl.DataFrame,
    locations: pl.DataFrame,
    as_of: date | datetime,
    within_days: int,
    *,
    products: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Stock on hand that is past its date or reaches it soon: one row per lot and location.

    Why per location: a recall or a write-off is executed where the stock physically is, so the
    report must say which warehouse holds how much of which lot.

    Inputs are the lineage tables (`Lineage.lots`, `Lineage.on_hand`), the location master
    (optional `time_zone` / `tz_offset`, rule 4) and optionally the product master for
    `expiry_kind` (rule 3; `lots` may carry the column itself). Lots and stock are matched on
    `lot_key` when both frames have it, else on (gtin, lot).

    Rules:
    - only positions with quantity on hand > 0 (a negative balance is a data-quality exception
      reported elsewhere, not stock that can expire);
    - lots without an expiry date are left out (nothing to compare);
    - `as_of_date` is the as-of date at the location (rule 4); `days_to_expiry` = expiry_date −
      as_of_date in calendar days, negative once past;
    - use-by: `expired` when days_to_expiry < 0; on the expiry day (0) it is NOT yet expired but
      `expiring`, as is anything up to within_days (the window includes its last day);
    - best-before: `past_best_before` when < 0, `best_before_soon` for 0…within_days;
    - later dates are left out; `severity` is error / warning / info (expired / past
      best-before / the rest).

    Sorted by location, then expired, past best-before, expiring, best-before soon, then soonest
    date first.
    """
    if within_days < 0:
        raise ValueError("within_days must be >= 0")
    lots = with_expiry_kind(lots, products)
    key = _lot_join_key(lots, on_hand)
    lot_columns = [
        c
        for c in dict.fromkeys(
            [*key, "gtin", "lot", "product_name", "uom", "expiry_date", "expiry_kind"]
        )
        if c in lots.columns
    ]
    stock = on_hand.filter(pl.col("quantity") > 0)
    if "uom" in stock.columns and "uom" in lots.columns:
        stock = stock.rename({"uom": "stock_uom"})
    frame = (
        stock.join(lots.select(lot_columns), on=key, how="inner")
        .filter(pl.col("expiry_date").is_not_null())
        .join(location_as_of_dates(locations, as_of), on="location_id", how="left")
        # stock at a location missing from the master: the UTC date (rule 4's default)
        .with_columns(pl.col("as_of_date").fill_null(pl.lit(_utc_date(as_of), pl.Date)))
        .with_columns(
            (pl.col("expiry_date").cast(pl.Date) - pl.col("as_of_date"))
            .dt.total_days()
            .cast(pl.Int64)
            .alias("days_to_expiry")
        )
        .filter(pl.col("days_to_expiry") <= within_days)
        .with_columns(
            expiry_status(pl.col("days_to_expiry"), pl.col("expiry_kind")).alias("status")
        )
        .with_columns(
            pl.col("status").replace_strict(SEVERITY, return_dtype=pl.String).alias("severity"),
            expiry_bucket(pl.col("days_to_expiry"), pl.col("expiry_kind")).alias("bucket"),
        )
    )
    if "stock_uom" in frame.columns:
        frame = frame.with_columns(pl.coalesce("stock_uom", "uom").alias("uom"))
    frame = _with_optional(
        frame,
        {"product_name": pl.String, "uom": pl.String, "last_movement_at": pl.Datetime("us", "UTC")},
    )
    names = locations.select("location_id", pl.col("business_name").alias("location_name"))
    rank = pl.col("status").replace_strict(
        {s: i for i, s in enumerate(STATUS_ORDER)}, return_dtype=pl.Int8
    )
    return (
        frame.join(names, on="location_id", how="left")
        .select(POSITION_COLUMNS)
        .sort(pl.col("location_id"), rank, "expiry_date", "gtin", "lot")
    )


def expiry_status(days_to_expiry: pl.Expr, expiry_kind: pl.Expr) -> pl.Expr:
    """Status of a dated lot from its days to expiry (rules 2 and 3; null kind = use-by)."""
    past = days_to_expiry < 0
    return (
        pl.when(expiry_kind.fill_null(USE_BY) == BEST_BEFORE)
        .then(pl.when(past).then(pl.lit(PAST_BEST_BEFORE)).otherwise(pl.lit(BEST_BEFORE_SOON)))
        .otherwise(pl.when(past).then(pl.lit(EXPIRED)).otherwise(pl.lit(EXPIRING)))
    )


def expiry_bucket(days_to_expiry: pl.Expr, expiry_kind: pl.Expr) -> pl.Expr:
    """The days-to-expiry bucket of rule 6 (null days → null)."""
    past = (
        pl.when(expiry_kind.fill_null(USE_BY) == BEST_BEFORE)
        .then(pl.lit(PAST_DATE_BUCKET[BEST_BEFORE]))
        .otherwise(pl.lit(PAST_DATE_BUCKET[USE_BY]))
    )
    bucket = pl.when(days_to_expiry < 0).then(past)
    for limit, label in BUCKET_LIMITS:
        bucket = bucket.when(days_to_expiry <= limit).then(pl.lit(label))
    return bucket.when(days_to_expiry.is_not_null()).then(pl.lit(BEYOND_BUCKET))


def with_hold_status(positions: pl.DataFrame, lot_status: pl.DataFrame) -> pl.DataFrame:
    """`positions` (gtin, lot, ...) with the hold, quarantine or recall in force on the lot.

    Why: stock under a restriction must not be used or shipped whatever its date, and an expired
    lot on hold is a disposition decision still open — the report must say which is which.

    `lot_status` is the in-force frame of `lotline.status.current_status` (the `lot_status`
    table): `hold_status` / `hold_since` / `hold_reason` come from its lot row when that status
    restricts (a `release` in force leaves them null); `serials_restricted` counts the lot's
    serials restricted on their own (a returned serial in quarantine), wherever they are.
    """
    restricted = pl.col("status").is_in(list(RESTRICTING))
    if "status_reason" not in lot_status.columns:
        lot_status = lot_status.with_columns(pl.lit(None, pl.String).alias("status_reason"))
    lot_rows = lot_status.filter(pl.col("serial").is_null() & restricted).select(
        "gtin",
        "lot",
        pl.col("status").alias("hold_status"),
        pl.col("status_at").alias("hold_since"),
        pl.col("status_reason").alias("hold_reason"),
    )
    serial_rows = (
        lot_status.filter(pl.col("serial").is_not_null() & pl.col("lot").is_not_null() & restricted)
        .group_by("gtin", "lot")
        .agg(pl.len().cast(pl.Int64).alias("serials_restricted"))
    )
    return (
        positions.drop(
            "hold_status", "hold_since", "hold_reason", "serials_restricted", strict=False
        )
        .join(lot_rows.unique(["gtin", "lot"]), on=["gtin", "lot"], how="left")
        .join(serial_rows, on=["gtin", "lot"], how="left")
        .with_columns(pl.col("serials_restricted").fill_null(0))
    )


BUCKET_SUMMARY_COLUMNS = [
    "location_id",
    "location_name",
    "expiry_kind",
    "bucket",
    "uom",
    "lots",
    "quantity",
    "held_lots",
    "held_quantity",
]


def bucket_summary(positions: pl.DataFrame) -> pl.DataFrame:
    """Lots and quantity per location, expiry kind, bucket and unit, and how much of it is
    under a hold, quarantine or recall (`hold_status`, see `with_hold_status`).

    One row per unit: quantities of different units are never added. Sorted by location, then
    use-by before best-before, then bucket order (`BUCKETS`), then unit.
    """
    held = (
        pl.col("hold_status").is_not_null() if "hold_status" in positions.columns else pl.lit(False)
    )
    rank = pl.col("bucket").replace_strict(
        {b: i for i, b in enumerate(BUCKETS)}, return_dtype=pl.Int8
    )
    kind_rank = pl.col("expiry_kind").replace_strict(
        {k: i for i, k in enumerate(EXPIRY_KINDS)}, default=len(EXPIRY_KINDS), return_dtype=pl.Int8
    )
    return (
        positions.group_by("location_id", "expiry_kind", "bucket", "uom")
        .agg(
            pl.col("location_name").first(),
            pl.struct("gtin", "lot").n_unique().cast(pl.Int64).alias("lots"),
            pl.col("quantity").sum(),
            pl.struct("gtin", "lot").filter(held).n_unique().cast(pl.Int64).alias("held_lots"),
            pl.col("quantity").filter(held).sum().alias("held_quantity"),
        )
        .sort(pl.col("location_id"), kind_rank, rank, pl.col("uom"), nulls_last=True)
        .select(BUCKET_SUMMARY_COLUMNS)
    )


SHORT_DATED_COLUMNS = [
    "to_location_id",
    "consignee_name",
    "consignee_address",
    "consignee_phone",
    "gtin",
    "product_name",
    "lot",
    "expiry_date",
    "days_to_expiry",
    "status",
    "quantity_received",
    "quantity_returned",
    "quantity_net",
    "uom",
    "shipments",
    "first_ship_date",
    "last_ship_date",
    "expiry_kind",
    "severity",
    "as_of_date",
]


def short_dated_at_customers(
    lots: pl.DataFrame,
    shipments: pl.DataFrame,
    locations: pl.DataFrame,
    as_of: date | datetime,
    days: int = SHORT_DATED_DAYS,
    *,
    products: pl.DataFrame | None = None,
    returns: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Consignees that received lots now expired or expiring within `days` (rule 7): one row
    per consignee, lot and unit, with the quantity received and what came back.

    Why: a customer that still holds expired or nearly expired stock is who a stock-rotation
    call, a withdrawal or a recall reaches first, with the name, address and phone to act on.

    Only lines shipped before the lot's expiry day and on or before the as-of date (at the
    consignee's location) count; a consignee that is a company site or warehouse is not a
    customer. `returns` (moves with gtin, lot, quantity, uom, from_location_id, reason; other
    reasons ignored) gives `quantity_returned` per consignee; `quantity_net` = received −
    returned, what the consignee may still hold (its own sales are not known here). `status` and
    `severity` as for positions (rules 2 and 3): best-before lots are `past_best_before` /
    `best_before_soon`, never `expired`.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    lots = with_expiry_kind(lots, products)
    key = _lot_join_key(lots, shipments)
    lot_columns = [
        c
        for c in dict.fromkeys([*key, "gtin", "lot", "product_name", "expiry_date", "expiry_kind"])
        if c in lots.columns
    ]
    own = locations.filter(pl.col("kind").is_in(STOCK_KINDS)).select(
        pl.col("location_id").alias("to_location_id")
    )
    as_of_dates = location_as_of_dates(locations, as_of).rename({"location_id": "to_location_id"})
    shipments = _with_optional(shipments, {"tz_offset": pl.String, "uom": pl.String})
    shipments = shipments.drop(
        [c for c in ("product_name", "expiry_date", "expiry_kind") if c in shipments.columns]
    )
    if key == ["lot_key"]:
        shipments = shipments.drop([c for c in ("gtin", "lot") if c in shipments.columns])
    received = (
        shipments.filter(pl.col("to_location_id").is_not_null())
        .join(own, on="to_location_id", how="anti")
        .join(lots.select(lot_columns), on=key, how="inner")
        .filter(pl.col("expiry_date").is_not_null())
        .with_columns(
            local_date(pl.col("shipped_at"), pl.col("tz_offset")).alias("ship_date"),
            pl.col("expiry_date").cast(pl.Date),
        )
        .join(as_of_dates, on="to_location_id", how="left")
        .with_columns(pl.col("as_of_date").fill_null(pl.lit(_utc_date(as_of), pl.Date)))
        .with_columns(
            (pl.col("expiry_date") - pl.col("as_of_date"))
            .dt.total_days()
            .cast(pl.Int64)
            .alias("days_to_expiry")
        )
        .filter(
            (pl.col("ship_date") < pl.col("expiry_date"))
            & (pl.col("ship_date") <= pl.col("as_of_date"))
            & (pl.col("days_to_expiry") <= days)
        )
    )
    frame = received.group_by("to_location_id", "gtin", "lot", "uom").agg(
        pl.col("product_name").first(),
        pl.col("expiry_date").first(),
        pl.col("expiry_kind").first(),
        pl.col("days_to_expiry").first(),
        pl.col("as_of_date").first(),
        pl.col("quantity").sum().alias("quantity_received"),
        pl.col("shipment_id").n_unique().cast(pl.Int64).alias("shipments"),
        pl.col("ship_date").min().alias("first_ship_date"),
        pl.col("ship_date").max().alias("last_ship_date"),
    )
    if returns is not None and returns.height:
        back = (
            returns.filter((pl.col("reason") == "return") & pl.col("lot").is_not_null())
            .group_by(pl.col("from_location_id").alias("to_location_id"), "gtin", "lot", "uom")
            .agg(pl.col("quantity").sum().alias("quantity_returned"))
        )
        frame = frame.join(back, on=["to_location_id", "gtin", "lot", "uom"], how="left")
    else:
        frame = frame.with_columns(pl.lit(None, pl.Float64).alias("quantity_returned"))
    return (
        frame.with_columns(pl.col("quantity_returned").fill_null(0.0))
        .with_columns(
            (pl.col("quantity_received") - pl.col("quantity_returned"))
            .clip(lower_bound=0)
            .alias("quantity_net"),
            expiry_status(pl.col("days_to_expiry"), pl.col("expiry_kind")).alias("status"),
        )
        .with_columns(
            pl.col("status").replace_strict(SEVERITY, return_dtype=pl.String).alias("severity")
        )
        .join(consignee_details(locations), on="to_location_id", how="left")
        .select(SHORT_DATED_COLUMNS)
        .sort("days_to_expiry", "to_location_id", "gtin", "lot", "uom")
    )


def with_expiry_kind(lots: pl.DataFrame, products: pl.DataFrame | None = None) -> pl.DataFrame:
    """`lots` with an `expiry_kind` column: its own, else the product's (by gtin), else use-by.

    Null means use-by: treating an unknown date as a safety limit errs on the side of the
    consumer. A value outside `EXPIRY_KINDS` is refused rather than guessed.
    """
    if "expiry_kind" not in lots.columns:
        if products is not None and "expiry_kind" in products.columns and "gtin" in lots.columns:
            kinds = products.select("gtin", "expiry_kind").unique("gtin", keep="first")
            lots = lots.join(kinds, on="gtin", how="left")
        else:
            lots = lots.with_columns(pl.lit(None, pl.String).alias("expiry_kind"))
    lots = lots.with_columns(pl.col("expiry_kind").cast(pl.String).fill_null(USE_BY))
    unknown = lots.filter(~pl.col("expiry_kind").is_in(EXPIRY_KINDS))["expiry_kind"].unique()
    if unknown.len():
        raise ValueError(f"unknown expiry_kind {sorted(unknown.to_list())}; use {EXPIRY_KINDS}")
    return lots


def location_as_of_dates(locations: pl.DataFrame, as_of: date | datetime) -> pl.DataFrame:
    """(location_id, as_of_date): the as-of date at each location (rule 4).

    A `date` is the same day everywhere. An instant is converted per location with its
    `time_zone` (IANA name) if set, else its `tz_offset`, else UTC. An unknown zone name raises
    ValueError: a wrong zone would silently move stock across an expiry day.
    """
    if not isinstance(as_of, datetime):
        return locations.select("location_id", pl.lit(as_of, pl.Date).alias("as_of_date"))
    instant = as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)
    locations = _with_optional(locations, {"tz_offset": pl.String, "time_zone": pl.String})
    zone = pl.col("time_zone").str.strip_chars()
    zone = pl.when(zone != "").then(zone)
    names = locations.select(zone.alias("z"))["z"].drop_nulls().unique().to_list()
    dates: dict[str, date] = {}
    unknown = []
    for name in names:  # one conversion per distinct zone, not per row
        try:
            dates[name] = instant.astimezone(ZoneInfo(name)).date()
        except (ZoneInfoNotFoundError, ValueError):
            unknown.append(name)
    if unknown:
        raise ValueError(f"unknown time zone name(s) in locations: {sorted(unknown)}")
    by_zone = zone.replace_strict(dates, default=None, return_dtype=pl.Date)
    by_offset = local_date(pl.lit(instant.replace(tzinfo=None)), pl.col("tz_offset"))
    return locations.select("location_id", pl.coalesce(by_zone, by_offset).alias("as_of_date"))


def _utc_date(as_of: date | datetime) -> date:
    if not isinstance(as_of, datetime):
        return as_of
    return (as_of if as_of.tzinfo is None else as_of.astimezone(UTC)).date()


def shipped_at_or_after_expiry(
    lots: pl.DataFrame,
    shipments: pl.DataFrame,
    locations: pl.DataFrame,
    *,
    products: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Shipment lines whose local ship date is on or after the lot's expiry date.

    Why: stock that leaves on or after its expiry day reaches the consignee unusable — a
    distribution error a recall or a customer complaint will ask about (211.150, FEFO).

    The ship date is `shipped_at` (a UTC instant) shifted by the shipment's own `tz_offset`
    ("+hh:mm"/"-hh:mm"/"Z"; missing means UTC) and truncated to a calendar date: a truck leaving
    Chicago at 20:00 on the 17th (01:00 UTC on the 18th) shipped on the 17th. A shipment on the
    expiry day counts (`days_after_expiry` 0). Use-by lots are `error`s, best-before lots
    `warning`s (rule 5; `expiry_kind` as in `with_expiry_kind`). Lines of lots without an expiry
    date are left out. The consignee (the `to_location_id`) is named from the location master
    with its address and phone so the report can be acted on.
    """
    lots = with_expiry_kind(lots, products)
    key = _lot_join_key(lots, shipments)
    lot_columns = [
        c
        for c in dict.fromkeys([*key, "product_name", "expiry_date", "expiry_kind"])
        if c in lots.columns
    ]
    shipments = _with_optional(
        shipments,
        {
            "tz_offset": pl.String,
            "serial": pl.String,
            "sscc": pl.String,
            "from_location_id": pl.String,
            "ref_doc_type": pl.String,
            "ref_doc_number": pl.String,
            "uom": pl.String,
        },
    )
    frame = (
        shipments.join(lots.select(lot_columns), on=key, how="inner")
        .filter(pl.col("expiry_date").is_not_null())
        .with_columns(local_date(pl.col("shipped_at"), pl.col("tz_offset")).alias("ship_date"))
        .with_columns(
            (pl.col("ship_date") - pl.col("expiry_date").cast(pl.Date))
            .dt.total_days()
            .cast(pl.Int64)
            .alias("days_after_expiry")
        )
        .filter(pl.col("days_after_expiry") >= 0)
        .with_columns(
            pl.when(pl.col("expiry_kind") == BEST_BEFORE)
            .then(pl.lit(WARNING))
            .otherwise(pl.lit(ERROR))
            .alias("severity")
        )
    )
    frame = _with_optional(frame, {"product_name": pl.String})
    consignees = consignee_details(locations)
    return (
        frame.join(consignees, on="to_location_id", how="left")
        .select(LATE_SHIPMENT_COLUMNS)
        .sort("ship_date", "shipment_id", "gtin", "lot", "serial", nulls_last=True)
    )


def propagated_expiry(lots: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """Per lot: the earliest expiry among all its ancestors and whether the lot outlives it.

    Why every level: a sauce made from a base made from a 3-day cream still carries the
    cream's risk; looking only at direct inputs misses it.

    `lots` needs `lot_key`, `expiry_date`; `edges` needs `parent_key` → `child_key` (input →
    output). Ancestors without an expiry date are not candidates but are passed through, so a
    dated grandparent still counts. `earliest_input_key` breaks ties by the lowest key. A lot is
    never its own input, even on a cycle (rework fed back into its own line). `outlives_input` is
    True when the lot's own expiry is later than the earliest input expiry, False when either
    is missing.

    Method: min-propagation along the edges iterated to a fixpoint. Each lot keeps its two
    earliest distinct candidates (so one can be itself, on a cycle, and the other still be the
    answer). Each round offers only the candidates that changed in the previous one to the
    children; candidates only ever get earlier and come from a finite set, so the loop ends, on
    cycles too, after at most one round per lot in the graph (in practice: the genealogy depth).
    """
    key_type = lots.schema["lot_key"]
    own = lots.select("lot_key", pl.col("expiry_date").cast(pl.Date))
    links = edges.select("parent_key", "child_key")
    narrow = _narrow_key(own["lot_key"], links)
    own = own.with_columns(pl.col("lot_key").cast(narrow))
    links = links.select(pl.all().cast(narrow)).unique()
    dated = own.filter(pl.col("expiry_date").is_not_null())

    def offers(candidates: pl.DataFrame) -> pl.DataFrame:
        """What each child inherits from its parents' candidates (`lot_key` = the parent)."""
        return links.join(candidates, left_on="parent_key", right_on="lot_key").select(
            pl.col("child_key").alias("lot_key"), "input_key", "input_expiry"
        )

    best = _two_earliest(
        offers(
            dated.select(
                "lot_key",
                pl.col("lot_key").alias("input_key"),
                pl.col("expiry_date").alias("input_expiry"),
            )
        )
    )
    nodes = pl.concat(
        [
            own.select(key="lot_key"),
            links.select(key="parent_key"),
            links.select(key="child_key"),
        ],
        how="vertical_relaxed",
    )["key"].n_unique()
    changed = best  # semi-naive: only what changed last round is offered onwards
    for _ in range(nodes + 1):
        offered = offers(changed)
        if offered.is_empty():
            break
        touched = offered.select("lot_key").unique()
        merged = _two_earliest(pl.concat([best.join(touched, on="lot_key", how="semi"), offered]))
        changed = merged.join(best, on=["lot_key", "input_key"], how="anti")
        best = pl.concat([best.join(touched, on="lot_key", how="anti"), merged])
    else:  # pragma: no cover - unreachable by the argument in the docstring
        raise RuntimeError("expiry propagation did not converge")
    best = best.sort("lot_key", "input_expiry", "input_key")
    earliest = (
        best.filter(pl.col("input_key") != pl.col("lot_key"))
        .group_by("lot_key", maintain_order=True)  # `best` is sorted: first = earliest
        .first()
        .rename({"input_expiry": "earliest_input_expiry", "input_key": "earliest_input_key"})
    )
    return (
        own.join(earliest, on="lot_key", how="left")
        .with_columns(
            (pl.col("expiry_date") > pl.col("earliest_input_expiry"))
            .fill_null(False)
            .alias("outlives_input"),
            pl.col("lot_key", "earliest_input_key").cast(key_type),
        )
        .select(PROPAGATED_COLUMNS)
        .sort("lot_key")
    )


def _narrow_key(lot_keys: pl.Series, links: pl.DataFrame) -> pl.DataType:
    """Int32 when every key fits (lot keys are dense: always, in practice), else the keys' type.

    Why: the propagation holds the genealogy's links and every lot's candidates through each
    round; at 10⁷ edges the narrower keys keep a gigabyte off the build's peak."""
    keys = [
        lot_keys.drop_nulls(),
        links["parent_key"].drop_nulls(),
        links["child_key"].drop_nulls(),
    ]
    low = min((k.min() for k in keys if len(k)), default=0)
    high = max((k.max() for k in keys if len(k)), default=0)
    info = 2**31
    if -info <= low and high < info:  # type: ignore[operator]
        return pl.Int32
    return lot_keys.dtype


def _two_earliest(candidates: pl.DataFrame) -> pl.DataFrame:
    """Per lot, its two earliest distinct candidates (by date, then key)."""
    order = ["lot_key", "input_expiry", "input_key"]
    return (
        candidates.unique(["lot_key", "input_key"])
        .sort(order)
        .group_by("lot_key", maintain_order=True)
        .head(2)
        .select("lot_key", "input_key", "input_expiry")
    )


def offset_minutes(offset: pl.Expr) -> pl.Expr:
    """'+hh:mm' / '-hh:mm' / 'Z' → signed minutes east of UTC (null or malformed → 0, i.e. UTC)."""
    parts = offset.str.strip_chars().str.extract_groups(r"^([+-])(\d{2}):?(\d{2})$")
    sign = pl.when(parts.struct.field("1") == "-").then(-1).otherwise(1)
    minutes = parts.struct.field("2").cast(pl.Int64) * 60 + parts.struct.field("3").cast(pl.Int64)
    return (sign * minutes).fill_null(0)


def local_datetime(instant: pl.Expr, offset: pl.Expr) -> pl.Expr:
    """A UTC instant (aware or naive-as-UTC) as the naive wall-clock time at `offset`."""
    return _naive_utc(instant) + pl.duration(minutes=offset_minutes(offset))


def local_date(instant: pl.Expr, offset: pl.Expr) -> pl.Expr:
    """The calendar date of a UTC instant at the given UTC offset."""
    return local_datetime(instant, offset).dt.date()


def _naive_utc(instant: pl.Expr) -> pl.Expr:
    # Polars 2 reads a naive datetime as UTC in convert_time_zone, and an aware one in any zone
    # is converted: both end as naive UTC wall-clock time, ready to be shifted by the offset.
    return instant.dt.convert_time_zone("UTC").dt.replace_time_zone(None)


def _lot_join_key(lots: pl.DataFrame, other: pl.DataFrame) -> list[str]:
    if "lot_key" in lots.columns and "lot_key" in other.columns:
        return ["lot_key"]
    return ["gtin", "lot"]


def _with_optional(frame: pl.DataFrame, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """Add the optional columns a hand-made or partial frame may lack, as nulls."""
    return frame.with_columns(
        pl.lit(None, dtype).alias(name)
        for name, dtype in columns.items()
        if name not in frame.columns
    )


def consignee_details(locations: pl.DataFrame) -> pl.DataFrame:
    """Who a shipment went to, as a report prints it: name, one-line address, phone."""
    locations = _with_optional(
        locations,
        {c: pl.String for c in ("phone", "street", "city", "region", "postal_code", "country")},
    )
    return locations.select(
        pl.col("location_id").alias("to_location_id"),
        pl.col("business_name").alias("consignee_name"),
        address(
            pl.col("street"),
            pl.col("city"),
            pl.col("region"),
            pl.col("postal_code"),
            pl.col("country"),
        ).alias("consignee_address"),
        pl.col("phone").alias("consignee_phone"),
    )


def address(
    street: pl.Expr, city: pl.Expr, region: pl.Expr, postal_code: pl.Expr, country: pl.Expr
) -> pl.Expr:
    """'street, city, region postal_code, country' with the missing parts left out."""
    region_postal = pl.concat_str([region, postal_code], separator=" ", ignore_nulls=True)
    parts = pl.concat_list(
        [
            street,
            city,
            pl.when(region_postal != "").then(region_postal),
            country,
        ]
    ).list.drop_nulls()
    return parts.list.join(", ")
