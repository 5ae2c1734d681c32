"""Expiry positions and shipments at or after expiry: pure functions over Polars frames.

The expiry report, notebooks and tests share these; nothing here touches a database or Dagster,
so the date rules below can be tested on hand-made frames.

Date rules (the reading of "use by" / "expiration date" in GS1 General Specifications and FDA
labelling practice): a lot is usable *through* its expiry day. On the expiry day it is
"expiring" with 0 days left; it is "expired" from the next day on. A shipment made on the
expiry day is therefore already an exception ("at or after expiry"): the consignee receives
stock that can no longer be sold or used once it arrives. Dates are compared as calendar dates;
a shipment's date is its *local* date at the ship-from location (the UTC instant shifted by the
shipment's own `tz_offset`), because that is the date printed on the bill of lading and the one
an auditor compares with the label.
"""

from __future__ import annotations

from datetime import date

import polars as pl

EXPIRED = "expired"
EXPIRING = "expiring"

POSITION_COLUMNS = [
    "location_id",
    "location_name",
    "status",
    "gtin",
    "lot",
    "product_name",
    "expiry_date",
    "days_to_expiry",
    "quantity",
    "uom",
    "last_movement_at",
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
]


def expiry_positions(
    lots: pl.DataFrame,
    on_hand: pl.DataFrame,
    locations: pl.DataFrame,
    as_of: date,
    within_days: int,
) -> pl.DataFrame:
    """Stock on hand that is expired or expires soon: one row per lot and stocking location.

    Why per location: a recall or a write-off is executed where the stock physically is, so the
    report must say which warehouse holds how much of which lot.

    Inputs are the lineage tables (`Lineage.lots`, `Lineage.on_hand`) and the location master;
    lots and stock are matched on `lot_key` when both frames have it, else on (gtin, lot).

    Rules:
    - only positions with quantity on hand > 0 (a negative balance is a data-quality exception
      reported elsewhere, not stock that can expire);
    - lots without an expiry date are left out (nothing to compare);
    - `days_to_expiry` = expiry_date − as_of in calendar days, negative once expired;
    - `expired` when expiry_date < as_of; a lot whose expiry_date == as_of is NOT yet expired
      (usable through its expiry day, the GS1/FDA "use by" reading): it is `expiring` with
      days_to_expiry 0;
    - `expiring` when 0 ≤ days_to_expiry ≤ within_days (the window includes its last day);
      later expiries are left out.

    Sorted by location, expired before expiring, soonest expiry first.
    """
    if within_days < 0:
        raise ValueError("within_days must be >= 0")
    key = _lot_join_key(lots, on_hand)
    lot_columns = [
        c
        for c in dict.fromkeys([*key, "gtin", "lot", "product_name", "uom", "expiry_date"])
        if c in lots.columns
    ]
    stock = on_hand.filter(pl.col("quantity") > 0)
    if "uom" in stock.columns and "uom" in lots.columns:
        stock = stock.rename({"uom": "stock_uom"})
    frame = (
        stock.join(lots.select(lot_columns), on=key, how="inner")
        .filter(pl.col("expiry_date").is_not_null())
        .with_columns(
            (pl.col("expiry_date").cast(pl.Date) - pl.lit(as_of, pl.Date))
            .dt.total_days()
            .cast(pl.Int64)
            .alias("days_to_expiry")
        )
        .filter(pl.col("days_to_expiry") <= within_days)
        .with_columns(
            pl.when(pl.col("days_to_expiry") < 0)
            .then(pl.lit(EXPIRED))
            .otherwise(pl.lit(EXPIRING))
            .alias("status")
        )
    )
    if "stock_uom" in frame.columns:
        frame = frame.with_columns(pl.coalesce("stock_uom", "uom").alias("uom"))
    frame = _with_optional(
        frame,
        {"product_name": pl.String, "uom": pl.String, "last_movement_at": pl.Datetime("us", "UTC")},
    )
    names = locations.select("location_id", pl.col("business_name").alias("location_name"))
    return (
        frame.join(names, on="location_id", how="left")
        .select(POSITION_COLUMNS)
        .sort("location_id", pl.col("status") != EXPIRED, "expiry_date", "gtin", "lot")
    )


def shipped_at_or_after_expiry(
    lots: pl.DataFrame, shipments: pl.DataFrame, locations: pl.DataFrame
) -> pl.DataFrame:
    """Shipment lines whose local ship date is on or after the lot's expiry date.

    Why: stock that leaves on or after its expiry day reaches the consignee unusable — a
    distribution error a recall or a customer complaint will ask about (211.150, FEFO).

    The ship date is `shipped_at` (a UTC instant) shifted by the shipment's own `tz_offset`
    ("+hh:mm"/"-hh:mm"/"Z"; missing means UTC) and truncated to a calendar date: a truck leaving
    Chicago at 20:00 on the 17th (01:00 UTC on the 18th) shipped on the 17th. A shipment on the
    expiry day counts (`days_after_expiry` 0). Lines of lots without an expiry date are left out.
    The consignee (the `to_location_id`) is named from the location master with its address and
    phone so the report can be acted on.
    """
    key = _lot_join_key(lots, shipments)
    lot_columns = [
        c for c in dict.fromkeys([*key, "product_name", "expiry_date"]) if c in lots.columns
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
    )
    frame = _with_optional(frame, {"product_name": pl.String})
    consignees = _consignees(locations)
    return (
        frame.join(consignees, on="to_location_id", how="left")
        .select(LATE_SHIPMENT_COLUMNS)
        .sort("ship_date", "shipment_id", "gtin", "lot", "serial", nulls_last=True)
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


def _consignees(locations: pl.DataFrame) -> pl.DataFrame:
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
