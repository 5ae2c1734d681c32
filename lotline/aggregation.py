"""What is inside an SSCC when: containment derived from packing (EPCIS AggregationEvent) rows.

Packing rows are append-only ADD/DELETE events, so the contents of a pallet at a time are never
stored but derived: per parent and child the running balance of packs minus unpacks gives
intervals of containment, and nesting (pallet → cases → serials and lot quantities) is followed
one level per join. An unpack followed by a pack into another pallet therefore moves the child,
and a shipment of a whole pallet resolves to what was in it at the ship time (DSCSA inference by
aggregation). Pure functions over Polars frames; nothing here touches a database.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

_SEP = "\x1f"
_EPS = 1e-9
MAX_DEPTH = 16
"""Deepest nesting followed (pallet → case → inner pack → … ); also stops a packing cycle."""

PACKING_SCHEMA: dict[str, pl.DataType] = {
    "packing_id": pl.String(),
    "packed_at": pl.Datetime("us", "UTC"),
    "action": pl.String(),
    "parent_sscc": pl.String(),
    "child_sscc": pl.String(),
    "gtin": pl.String(),
    "lot": pl.String(),
    "serial": pl.String(),
    "quantity": pl.Float64(),
    "uom": pl.String(),
    "location_id": pl.String(),
}
"""The packing columns these functions read (typed as stored, see `models.PackingRecord`)."""

CHILD_COLUMNS = ["child_kind", "child_sscc", "gtin", "lot", "serial", "quantity", "uom"]


def child_kind() -> pl.Expr:
    """`sscc`, `serial` or `lot`: which of the three child forms a packing row names."""
    return (
        pl.when(pl.col("child_sscc").is_not_null())
        .then(pl.lit("sscc"))
        .when(pl.col("serial").is_not_null())
        .then(pl.lit("serial"))
        .when(pl.col("lot").is_not_null())
        .then(pl.lit("lot"))
    )


def child_key() -> pl.Expr:
    """Identity of the child (SSCC, gtin+serial or gtin+lot): an unpack matches the pack by it."""
    gtin = pl.col("gtin").str.zfill(14)
    return (
        pl.when(pl.col("child_sscc").is_not_null())
        .then(pl.concat_str([pl.lit("sscc"), pl.col("child_sscc")], separator=_SEP))
        .when(pl.col("serial").is_not_null())
        .then(pl.concat_str([pl.lit("serial"), gtin, pl.col("serial")], separator=_SEP))
        .when(pl.col("lot").is_not_null())
        .then(pl.concat_str([pl.lit("lot"), gtin, pl.col("lot")], separator=_SEP))
    )


def packed_quantity(quantity: pl.Expr | None = None) -> pl.Expr:
    """Signed quantity of a packing row: an SSCC or a serial counts 1; unpack is negative.
    `quantity` defaults to the typed column (validation passes the parsed text)."""
    lot_child = pl.col("child_sscc").is_null() & pl.col("serial").is_null()
    amount = (
        pl.when(lot_child)
        .then(pl.col("quantity") if quantity is None else quantity)
        .otherwise(pl.lit(1.0))
    )
    return pl.when(pl.col("action") == "unpack").then(-amount).otherwise(amount)


def packing_frame(packing: pl.DataFrame) -> pl.DataFrame:
    """The packing columns with their types; an empty or column-less frame becomes typed empty."""
    if packing.width == 0:
        return pl.DataFrame(schema=PACKING_SCHEMA)
    return packing.select(pl.col(c).cast(t) for c, t in PACKING_SCHEMA.items())


def containment(packing: pl.DataFrame) -> pl.DataFrame:
    """Intervals during which a child was inside a parent SSCC.

    One row per (parent, child) and stretch of constant content: from `packed_at` (the event that
    set the content) until `unpacked_at` (the next event of the same parent and child; null while
    still inside). For a lot quantity `quantity` is what was inside during the interval, so a
    partial unpack ends one interval and starts another with the rest. At equal times a pack is
    applied before an unpack, and zero-length intervals are left out.
    """
    group = ["parent_sscc", "_child_key"]
    return (
        packing_frame(packing)
        .filter(pl.col("packed_at").is_not_null())
        .with_columns(
            child_key().alias("_child_key"),
            child_kind().alias("child_kind"),
            packed_quantity().alias("_signed"),
            (pl.col("action") == "unpack").cast(pl.Int8).alias("_order"),
        )
        .filter(pl.col("_child_key").is_not_null())
        .sort([*group, "packed_at", "_order", "packing_id"])
        .with_columns(
            pl.col("_signed").cum_sum().over(group).alias("_balance"),
            pl.col("packed_at").shift(-1).over(group).alias("unpacked_at"),
        )
        .filter(
            (pl.col("_balance") > _EPS)
            & (pl.col("unpacked_at").is_null() | (pl.col("unpacked_at") > pl.col("packed_at")))
        )
        .select(
            "parent_sscc",
            "child_kind",
            "child_sscc",
            pl.col("gtin").str.zfill(14),
            pl.when(pl.col("child_kind") == "lot").then(pl.col("lot")).alias("lot"),
            "serial",
            pl.col("_balance").alias("quantity"),
            pl.when(pl.col("child_kind") == "lot").then(pl.col("uom")).alias("uom"),
            "packed_at",
            "unpacked_at",
            "location_id",
            "packing_id",
        )
        .sort("parent_sscc", "packed_at", "child_kind", "child_sscc", "gtin", "lot", "serial")
    )


def _active(at: pl.Expr) -> pl.Expr:
    return (pl.col("packed_at") <= at) & (
        pl.col("unpacked_at").is_null() | (pl.col("unpacked_at") > at)
    )


def _nested_contents(intervals: pl.DataFrame, roots: pl.DataFrame) -> pl.DataFrame:
    """Contents of many (`_root`, `sscc`, `_at`) roots at once, one join per nesting level."""
    level = roots.select(
        "_root", "_at", pl.col("sscc").alias("parent_sscc"), pl.col("sscc").alias("path")
    )
    found = []
    for depth in range(1, MAX_DEPTH + 1):
        inside = (
            level.join(intervals, on="parent_sscc")
            .filter(_active(pl.col("_at")))
            .with_columns(pl.lit(depth, dtype=pl.Int32).alias("depth"))
        )
        if inside.is_empty():
            break
        found.append(inside)
        level = inside.filter(pl.col("child_kind") == "sscc").select(
            "_root",
            "_at",
            pl.col("child_sscc").alias("parent_sscc"),
            pl.concat_str(["path", "child_sscc"], separator="/").alias("path"),
        )
    schema = {
        "_root": roots.schema["_root"],
        "_at": pl.Datetime("us", "UTC"),
        "depth": pl.Int32(),
        "path": pl.String(),
        **{c: t for c, t in intervals.schema.items()},
    }
    if not found:
        return pl.DataFrame(schema=schema)
    return pl.concat(found).select(list(schema))


def contents_at(packing: pl.DataFrame, sscc: str, at: datetime) -> pl.DataFrame:
    """Everything inside `sscc` at `at`, recursively: cases, and the serials and lot quantities
    in them. `depth` 1 is directly inside; `path` is the chain of SSCCs from `sscc` down to the
    row's `parent_sscc`, separated by `/`."""
    roots = pl.DataFrame(
        {"_root": [0], "sscc": [sscc], "_at": [at]},
        schema={"_root": pl.Int64, "sscc": pl.String, "_at": pl.Datetime("us", "UTC")},
    )
    return (
        _nested_contents(containment(packing), roots)
        .drop("_root", "_at")
        .sort("depth", "path", "child_kind", "child_sscc", "gtin", "lot", "serial")
    )


def ssccs_of_serial(packing: pl.DataFrame, gtin: str, serial: str) -> pl.DataFrame:
    """Every SSCC that contained the serial, directly (`depth` 1) or through nesting, with the
    interval `packed_at`..`unpacked_at` during which it did (null: still does)."""
    intervals = containment(packing)
    level = intervals.filter(
        (pl.col("child_kind") == "serial")
        & (pl.col("gtin") == gtin.zfill(14))
        & (pl.col("serial") == serial)
    ).select("parent_sscc", "packed_at", "unpacked_at")
    found = []
    for depth in range(1, MAX_DEPTH + 1):
        if level.is_empty():
            break
        found.append(
            level.select(
                pl.col("parent_sscc").alias("sscc"),
                pl.lit(depth, dtype=pl.Int32).alias("depth"),
                "packed_at",
                "unpacked_at",
            )
        )
        # the parent is itself inside a grandparent during the overlap of both intervals
        far = pl.datetime(9999, 12, 31, time_zone="UTC")
        level = (
            level.join(
                intervals.filter(pl.col("child_kind") == "sscc"),
                left_on="parent_sscc",
                right_on="child_sscc",
                suffix="_outer",
            )
            .select(
                pl.col("parent_sscc_outer").alias("parent_sscc"),
                pl.max_horizontal("packed_at", "packed_at_outer").alias("packed_at"),
                pl.min_horizontal(
                    pl.col("unpacked_at").fill_null(far), pl.col("unpacked_at_outer").fill_null(far)
                ).alias("unpacked_at"),
            )
            .filter(pl.col("unpacked_at") > pl.col("packed_at"))
            .with_columns(
                pl.when(pl.col("unpacked_at") < far)
                .then(pl.col("unpacked_at"))
                .alias("unpacked_at")
            )
        )
    schema = {
        "sscc": pl.String(),
        "depth": pl.Int32(),
        "packed_at": pl.Datetime("us", "UTC"),
        "unpacked_at": pl.Datetime("us", "UTC"),
    }
    if not found:
        return pl.DataFrame(schema=schema)
    return pl.concat(found).select(list(schema)).sort("packed_at", "depth")


def sscc_for_serial_at(packing: pl.DataFrame, gtin: str, serial: str, at: datetime) -> pl.DataFrame:
    """The SSCCs holding the serial at `at`, innermost (`depth` 1) first."""
    return (
        ssccs_of_serial(packing, gtin, serial)
        .filter(_active(pl.lit(at, dtype=pl.Datetime("us", "UTC"))))
        .sort("depth")
    )


def commissioned_serials(*frames: pl.DataFrame) -> pl.DataFrame:
    """gtin, serial, lot and uom of every serial in receipts/production frames: a packing row
    names a serial without its lot, and a shipment line needs the lot."""
    parts = [
        f.filter(pl.col("serial").is_not_null()).select(
            pl.col("gtin").str.zfill(14), "serial", "lot", "uom"
        )
        for f in frames
        if f.width
    ]
    schema = {"gtin": pl.String, "serial": pl.String, "lot": pl.String, "uom": pl.String}
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat([p.cast(schema) for p in parts]).unique(["gtin", "serial"], keep="first")


def _sscc_only(shipments: pl.DataFrame) -> pl.Expr:
    return pl.col("gtin").is_null() & pl.col("lot").is_null() & pl.col("sscc").is_not_null()


def explode_shipments(
    shipments: pl.DataFrame, packing: pl.DataFrame, serials: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Shipment lines with every SSCC-only line (a pallet or case shipped as a whole) replaced by
    one line per serial and lot quantity packed in it, at any depth, at `shipped_at`.

    The new lines keep the shipment's columns (id, time, locations, `sscc` = the SSCC shipped,
    documents, provenance); gtin/lot/serial/quantity/uom come from the packing, the lot and unit
    of a serial from `serials` (see `commissioned_serials`). Lines naming a lot pass unchanged,
    so applying this twice changes nothing. An SSCC-only line with nothing packed in it at that
    time is left out (see `unresolved_shipments`).
    """
    if shipments.is_empty() or "sscc" not in shipments.columns:
        return shipments
    pallets = shipments.filter(_sscc_only(shipments))
    if pallets.is_empty():
        return shipments
    lines = shipments.filter(~_sscc_only(shipments))
    pallets = pallets.with_row_index("_root")
    roots = pallets.select("_root", "sscc", pl.col("shipped_at").alias("_at"))
    leaves = _nested_contents(containment(packing), roots).filter(pl.col("child_kind") != "sscc")
    serial_info = (
        serials.select(
            pl.col("gtin").str.zfill(14),
            "serial",
            pl.col("lot").alias("_serial_lot"),
            (pl.col("uom") if "uom" in serials.columns else pl.lit(None, pl.String)).alias(
                "_serial_uom"
            ),
        ).unique(["gtin", "serial"], keep="first")
        if serials is not None
        else pl.DataFrame(
            schema={
                "gtin": pl.String,
                "serial": pl.String,
                "_serial_lot": pl.String,
                "_serial_uom": pl.String,
            }
        )
    )
    contained = leaves.join(serial_info, on=["gtin", "serial"], how="left").select(
        "_root",
        pl.col("gtin").alias("_gtin"),
        pl.coalesce("lot", "_serial_lot").alias("_lot"),
        pl.col("serial").alias("_serial"),
        pl.col("quantity").alias("_quantity"),
        pl.coalesce("uom", "_serial_uom").alias("_uom"),
    )
    exploded = (
        pallets.join(contained, on="_root")
        .with_columns(
            pl.col("_gtin").alias("gtin"),
            pl.col("_lot").alias("lot"),
            pl.col("_serial").alias("serial"),
            pl.col("_quantity").alias("quantity"),
            pl.col("_uom").alias("uom"),
        )
        .select(shipments.columns)
    )
    return pl.concat([lines, exploded.cast(shipments.schema)])


def unresolved_shipments(shipments: pl.DataFrame, packing: pl.DataFrame) -> pl.DataFrame:
    """SSCC-only shipment lines whose SSCC held nothing at `shipped_at`: a gap to report."""
    if shipments.is_empty() or "sscc" not in shipments.columns:
        return shipments.clear()
    pallets = shipments.filter(_sscc_only(shipments)).with_row_index("_root")
    roots = pallets.select("_root", "sscc", pl.col("shipped_at").alias("_at"))
    resolved = _nested_contents(containment(packing), roots).select("_root").unique()
    return pallets.join(resolved, on="_root", how="anti").drop("_root")
