"""The same records spelled as a typical ERP export would spell them."""

from __future__ import annotations

import polars as pl

from lotline.generate.csv_text import _coord
from lotline.generate.locations import _OWN_LOCATIONS, BRD, CHI, JOL, VNL
from lotline.intake import contract

_ERP_SPELLINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "ref_doc_type": {
        "po": ("PO", "Purchase Order"),
        "bol": ("BOL", "Bill of Lading"),
        "desadv": ("ASN",),
        "inv": ("INV",),
        "prodorder": ("PRODORDER",),
        "batch_record": ("Batch Record",),
    },
    "reason": {
        "transfer": (" Transfer",),
        "adjustment": ("Adjustment ",),
        "scrap": ("SCRAP",),
        "return": ("Return",),
        "destroy": ("DESTROY",),
    },
    "kind": {
        "supplier": ("Supplier",),
        "site": ("SITE",),
        "warehouse": ("Warehouse",),
        "customer": ("CUSTOMER",),
    },
    "tracking": {"lot": ("LOT",), "serial": ("Serial",)},
    "uom": {"KGM": ("kg",), "EA": ("ea",), "CS": ("cs",), "GRM": ("g",), "LBR": ("lb",)},
    "action": {"pack": ("PACK",), "unpack": ("Unpack",)},
    "status": {
        "hold": ("Hold",),
        "release": ("RELEASE",),
        "quarantine": ("Quarantine",),
        "recall": ("Recall",),
    },
    "expiry_kind": {"use_by": ("Use By",), "best_before": ("best before",)},
}
"""Vocabulary column (`uom` for every unit column) -> contract value -> how an ERP export spells
it; where there are several spellings, records (by id) take them in turn. Contract values not
listed here are written as they are."""

_SCRAP_AREA = {CHI: "SCRAP-CHI", BRD: "SCRAP-BRD", JOL: "SCRAP-JOL", VNL: "SCRAP-VNL"}
"""The scrap area of each own location: where an ERP books scrapped stock to."""


def _erp_records(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The contract records as an ERP export writes them: same lots, transformations and
    shipments. Every second scrap move (by move id) names its location's scrap area as
    destination, every second serialised transfer line group (move, GTIN, lot) is one lot-level
    line of that many units, and vocabulary columns are spelled as `_ERP_SPELLINGS` says."""
    frames = dict(frames)
    scrap_areas = pl.DataFrame(
        [
            {
                "location_id": _SCRAP_AREA[loc.location_id],
                "kind": "warehouse",
                "business_name": f"{loc.business_name} - scrap area",
                "street": loc.street,
                "city": loc.city,
                "region": loc.region,
                "postal_code": loc.postal_code,
                "country": loc.country,
                "latitude": _coord(loc.latitude),
                "longitude": _coord(loc.longitude),
            }
            for loc in _OWN_LOCATIONS
        ]
    )
    locations = frames["locations"]
    frames["locations"] = pl.concat([locations, scrap_areas], how="diagonal").select(
        locations.columns
    )
    frames["moves"] = _lot_level_serial_transfers(_scrap_to_scrap_area(frames["moves"]))
    return {name: _erp_spelled(name, frame) for name, frame in frames.items()}


def _scrap_to_scrap_area(moves: pl.DataFrame) -> pl.DataFrame:
    every_second = (
        moves.filter(pl.col("reason") == "scrap")
        .select("move_id")
        .unique(maintain_order=True)
        .gather_every(2)
    )
    chosen = pl.col("move_id").is_in(every_second["move_id"].implode())
    return moves.with_columns(
        pl.when(chosen & pl.col("to_location_id").is_null())
        .then(pl.col("from_location_id").replace_strict(_SCRAP_AREA, default=None))
        .otherwise(pl.col("to_location_id"))
        .alias("to_location_id")
    )


def _lot_level_serial_transfers(moves: pl.DataFrame) -> pl.DataFrame:
    group = ["move_id", "gtin", "lot"]
    moves = moves.with_row_index("_row")
    serial_transfer = (pl.col("reason") == "transfer") & pl.col("serial").is_not_null()
    chosen = (
        moves.filter(serial_transfer)
        .select(group)
        .unique(maintain_order=True)
        .gather_every(2)
        .with_columns(pl.lit(True).alias("_lot_level"))
    )
    marked = moves.join(chosen, on=group, how="left", maintain_order="left")
    is_chosen = pl.col("_lot_level").fill_null(False)
    lot_lines = (
        marked.filter(is_chosen)
        .group_by(group, maintain_order=True)
        .agg(pl.all().first(), pl.len().alias("_units"))
        .with_columns(
            pl.lit(None, pl.String).alias("serial"),
            pl.col("_units").cast(pl.String).alias("quantity"),
        )
    )
    return (
        pl.concat([marked.filter(~is_chosen), lot_lines.select(marked.columns)])
        .sort("_row")
        .select(moves.columns[1:])
    )


def _erp_spelled(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    # spellings are taken in turn per record (receipt, shipment, ...), as one export writes them
    turn = pl.col(frame.columns[0]).rank("dense").cast(pl.Int64)
    exprs = []
    for f in contract.RECORD_TYPES[name].fields:
        table = _ERP_SPELLINGS.get("uom" if f.kind == "uom" else f.name)
        if f.kind not in ("choice", "uom") or table is None or f.name not in frame.columns:
            continue
        column = pl.col(f.name)
        spelled = column
        for value, spellings in table.items():
            choice = pl.lit(spellings[0])
            for k, spelling in enumerate(spellings[1:], start=1):
                choice = (
                    pl.when(turn % len(spellings) == k).then(pl.lit(spelling)).otherwise(choice)
                )
            spelled = pl.when(column == value).then(choice).otherwise(spelled)
        exprs.append(spelled.alias(f.name))
    return frame.with_columns(exprs)
