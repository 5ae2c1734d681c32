"""Packing events derived from the shipped pallets, and serialised pallets shipped by SSCC."""

from __future__ import annotations

import polars as pl

from lotline.generate.scenario import _COMPANY
from lotline.gs1 import with_check_digit
from lotline.intake import contract

_REPACK_SSCC = with_check_digit("3" + _COMPANY + "999999999")
"""PLANTED: the pallet a serial is packed onto, then taken off again before it ships on another."""


def _palletise(
    shipments: pl.DataFrame, moves: pl.DataFrame, serialised: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Packing events for every pallet shipped, and serialised pallets shipped by SSCC only.

    The simulation assigns pallets while picking; packing rows are derived from those lines so
    they agree with the shipments by construction: each line is packed onto its SSCC an hour
    before it ships, a serial returned by a customer is unpacked from its pallet on its return,
    and (PLANTED) the first serial shipped was first packed onto another pallet and unpacked
    again. Pallets of serialised goods then ship as SSCC-only lines, as a DSCSA aggregation
    does: what is inside is known from the packing events alone.
    """
    columns = [c for c in contract.PACKING.columns if c not in contract.CORRECTION_COLUMNS]

    def before(column: str, minutes: int) -> pl.Expr:
        """A local timestamp `minutes` earlier, written with the same UTC offset."""
        local = pl.col(column).str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S")
        earlier = (local - pl.duration(minutes=minutes)).dt.strftime("%Y-%m-%dT%H:%M:%S")
        return earlier + pl.col(column).str.slice(19)

    is_serial = pl.col("serial").is_not_null()
    lines = shipments.filter(pl.col("sscc").is_not_null()).sort("shipped_at", "shipment_id")
    packed = lines.select(
        ("PK-" + pl.col("shipment_id")).alias("packing_id"),
        before("shipped_at", 60).alias("packed_at"),
        pl.lit("pack").alias("action"),
        pl.col("sscc").alias("parent_sscc"),
        pl.lit(None, pl.String).alias("child_sscc"),
        "gtin",
        pl.when(is_serial).then(None).otherwise(pl.col("lot")).alias("lot"),
        "serial",
        pl.when(is_serial).then(None).otherwise(pl.col("quantity")).alias("quantity"),
        pl.when(is_serial).then(None).otherwise(pl.col("uom")).alias("uom"),
        pl.col("from_location_id").alias("location_id"),
        pl.lit(None, pl.String).alias("ref_doc_type"),
        pl.lit(None, pl.String).alias("ref_doc_number"),
    )
    first_serial = (
        packed.filter(is_serial).head(1).with_columns(pl.lit(_REPACK_SSCC).alias("parent_sscc"))
    )
    repack = pl.concat(
        [
            first_serial.with_columns(
                pl.lit("PK-REPACK-1").alias("packing_id"), before("packed_at", 120)
            ),
            first_serial.with_columns(
                pl.lit("PK-REPACK-2").alias("packing_id"),
                before("packed_at", 60),
                pl.lit("unpack").alias("action"),
            ),
        ]
    )
    instant = "%Y-%m-%dT%H:%M:%S%:z"
    returned = (
        moves.filter((pl.col("reason") == "return") & is_serial)
        .select("gtin", "serial", "move_id", "moved_at", "to_location_id")
        .with_columns(pl.col("moved_at").str.to_datetime(instant).alias("_at"))
        .sort("_at")
    )
    last_pallet = (
        packed.filter(is_serial)
        .with_columns(pl.col("packed_at").str.to_datetime(instant).alias("_at"))
        .sort("_at")
    )
    unpacked = (
        returned.join_asof(
            last_pallet,
            on="_at",
            by=["gtin", "serial"],
            strategy="backward",
            check_sortedness=False,
        )
        .filter(pl.col("parent_sscc").is_not_null())
        .select(
            ("UNPK-" + pl.col("move_id")).alias("packing_id"),
            pl.col("moved_at").alias("packed_at"),
            pl.lit("unpack").alias("action"),
            "parent_sscc",
            "child_sscc",
            "gtin",
            "lot",
            "serial",
            "quantity",
            "uom",
            pl.col("to_location_id").alias("location_id"),
            "ref_doc_type",
            "ref_doc_number",
        )
    )
    packing = pl.concat([repack.select(columns), packed.select(columns), unpacked.select(columns)])
    serial_lines = pl.col("gtin").is_in(serialised.implode()) & pl.col("sscc").is_not_null()
    pallets = (
        shipments.filter(serial_lines)
        .group_by("shipment_id", "sscc", maintain_order=True)
        .agg(pl.all().first())
        .with_columns(pl.lit(None, pl.String).alias(c) for c in ("gtin", "lot", "serial"))
        .with_columns(pl.lit(None, pl.String).alias(c) for c in ("quantity", "uom"))
    )
    shipped = pl.concat([shipments.filter(~serial_lines), pallets.select(shipments.columns)])
    return packing, shipped.sort("shipped_at", "shipment_id", "sscc", nulls_last=True)
