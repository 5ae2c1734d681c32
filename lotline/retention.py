"""Record-retention end dates per lot, one per regulatory rule. Pure functions over Polars frames.

Why: an expiry report is also the place an auditor asks "until when must the records of this lot
be kept?"; destroying them a day early is a finding, keeping them for ever is a cost. The rules:

- FSMA 204 (21 CFR 1.1455(c)): traceability records are kept 2 years from the date they were
  created or obtained → `fsma_until` = the lot's last record + 2 years.
- DSCSA (21 U.S.C. 360eee-1): transaction information and statements are kept 6 years after the
  transaction → `dscsa_until` = the lot's last transaction + 6 years. A transaction is a change
  of ownership: a receipt from a supplier, a shipment to a location that is not the company's
  own (a customer) or a customer return. A lot that never changed hands has none (null).
- EU FMD (Delegated Regulation (EU) 2016/161 Art. 15) and EU batch documentation (Directive
  (EU) 2017/1572 Art. 9): at least 1 year after the batch expiry or 5 years after release /
  QP certification, whichever is longer → `eu_until` = max(expiry + 1 year, release + 5 years).
  The records carry no release or certification date, so *release* is when the lot was first
  seen (production completed, or first received): the earliest a release can have been, so the
  5-year term is never overstated. Without an expiry date only the release term applies.

The data contract has no field saying which regime governs a product (no FTL flag, no NDC or
marketing-authorisation column), so every rule's date is given and `keep_until` is the latest of
them, with `keep_until_rule` naming the rule that sets it: keeping a record until then satisfies
all three.

Dates are calendar dates of the UTC instants. "N years after" is the same day N years later; an
anniversary of 29 February that does not exist is 1 March (the later day, so a term is never
shortened).
"""

from __future__ import annotations

import polars as pl

from lotline.lineage import STOCK_KINDS

FSMA, DSCSA, EU = "FSMA 204", "DSCSA", "EU FMD/GMP"
RULES = (FSMA, DSCSA, EU)
FSMA_YEARS, DSCSA_YEARS, EU_EXPIRY_YEARS, EU_RELEASE_YEARS = 2, 6, 1, 5

RETENTION_COLUMNS = [
    "gtin",
    "lot",
    "product_name",
    "expiry_date",
    "release_date",
    "last_record_date",
    "last_transaction_date",
    "fsma_until",
    "dscsa_until",
    "eu_until",
    "keep_until",
    "keep_until_rule",
]


def years_after(day: pl.Expr, years: int) -> pl.Expr:
    """The same calendar day `years` later; 29 February → 1 March when the year has none."""
    shifted = day.dt.offset_by(f"{years}y")
    leap_day = (day.dt.month() == 2) & (day.dt.day() == 29) & (shifted.dt.day() == 28)
    return pl.when(leap_day).then(shifted.dt.offset_by("1d")).otherwise(shifted)


def retention_dates(
    lots: pl.DataFrame, ledger: pl.DataFrame, locations: pl.DataFrame
) -> pl.DataFrame:
    """Per lot of `lots` (gtin, lot, expiry_date, first_seen_at, optional product_name): the
    end date of each rule in the module docstring and the latest of them.

    `ledger` is the signed movement ledger of `lotline.lineage.stock_flows` (gtin, lot,
    location_id, at, kind): every record that moved the lot. Transactions are its `received`
    and `returned` rows and its `delivered` rows at a location that is not a site or warehouse.
    """
    own = locations.filter(pl.col("kind").is_in(STOCK_KINDS))["location_id"].implode()
    transaction = pl.col("kind").is_in(["received", "returned"]) | (
        (pl.col("kind") == "delivered") & ~pl.col("location_id").is_in(own)
    )
    utc_date = pl.col("at").dt.convert_time_zone("UTC").dt.date()
    per_lot = (
        ledger.filter(pl.col("lot").is_not_null())
        .group_by("gtin", "lot")
        .agg(
            utc_date.max().alias("last_record_date"),
            utc_date.filter(transaction).max().alias("last_transaction_date"),
        )
    )
    if "product_name" not in lots.columns:
        lots = lots.with_columns(pl.lit(None, pl.String).alias("product_name"))
    release = pl.col("first_seen_at").dt.convert_time_zone("UTC").dt.date()
    frame = (
        lots.select(
            "gtin",
            "lot",
            "product_name",
            pl.col("expiry_date").cast(pl.Date),
            release.alias("release_date"),
        )
        .join(per_lot, on=["gtin", "lot"], how="left")
        .with_columns(
            years_after(pl.col("last_record_date"), FSMA_YEARS).alias("fsma_until"),
            years_after(pl.col("last_transaction_date"), DSCSA_YEARS).alias("dscsa_until"),
            pl.max_horizontal(
                years_after(pl.col("expiry_date"), EU_EXPIRY_YEARS),
                years_after(pl.col("release_date"), EU_RELEASE_YEARS),
            ).alias("eu_until"),
        )
        .with_columns(
            pl.max_horizontal("fsma_until", "dscsa_until", "eu_until").alias("keep_until")
        )
    )
    # the rule that sets keep_until; on a tie the longest-standing obligation is named first
    rule = (
        pl.when(pl.col("keep_until").is_null())
        .then(pl.lit(None, pl.String))
        .when(pl.col("eu_until") == pl.col("keep_until"))
        .then(pl.lit(EU))
        .when(pl.col("dscsa_until") == pl.col("keep_until"))
        .then(pl.lit(DSCSA))
        .otherwise(pl.lit(FSMA))
    )
    return (
        frame.with_columns(rule.alias("keep_until_rule"))
        .select(RETENTION_COLUMNS)
        .sort("gtin", "lot")
    )
