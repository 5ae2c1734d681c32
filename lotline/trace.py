"""Backward and forward traces over the lineage tables: pure functions over Polars frames.

A trace walks the lot→lot genealogy level by level as set operations (one join per level, not
one query per lot), keeps the shortest depth at which each lot is reached, and never revisits a
lot, so rework cycles terminate. Backward ends at supplier receipts; forward at shipments and
consignees.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import polars as pl

from lotline.lineage import Lineage

Direction = Literal["backward", "forward", "both"]
DIRECTIONS: tuple[Direction, ...] = ("backward", "forward", "both")


Reach = Callable[[list[int], Literal["backward", "forward"]], pl.DataFrame]
"""Lots reached from start lots (depth 0) in one direction: `lot_key`, `depth` and, where the
source knows it, `exposure`. The in-memory BFS below is one; the closure table is another."""


class UnknownSubject(LookupError):
    """The lot or serial asked for is not in the lineage tables."""


def reachable(
    edges: pl.DataFrame, start: list[int], direction: Literal["backward", "forward"]
) -> pl.DataFrame:
    """Lots reachable from `start` (depth 0) along `edges`, each with its shortest depth."""
    src, dst = (
        ("child_key", "parent_key") if direction == "backward" else ("parent_key", "child_key")
    )
    adjacency = edges.select(pl.col(src).alias("from_key"), pl.col(dst).alias("lot_key")).unique()
    visited = pl.DataFrame(
        {"lot_key": start, "depth": [0] * len(start)},
        schema={"lot_key": pl.Int64, "depth": pl.Int64},
    ).unique("lot_key")
    frontier = visited.select("lot_key")
    depth = 0
    while not frontier.is_empty():
        depth += 1
        frontier = (
            frontier.select(pl.col("lot_key").alias("from_key"))
            .join(adjacency, on="from_key")
            .select("lot_key")
            .unique()
            .join(visited, on="lot_key", how="anti")
        )
        visited = pl.concat(
            [visited, frontier.with_columns(pl.lit(depth, pl.Int64).alias("depth"))]
        )
    return visited.sort("depth", "lot_key")


@dataclass(frozen=True)
class TraceResult:
    """What a regulator asks for: every lot reached with its depth, the transformations between
    them with quantities, the supplier receipts behind them and the shipments and consignees
    after them."""

    subject: dict[str, str | None]
    direction: Direction
    lots: pl.DataFrame
    edges: pl.DataFrame
    receipts: pl.DataFrame
    shipments: pl.DataFrame
    serials: pl.DataFrame
    consignees: pl.DataFrame
    snapshot_id: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        def rows(frame: pl.DataFrame) -> list[dict[str, object]]:
            return json.loads(frame.write_json()) if not frame.is_empty() else []

        tables = {key: rows(frame) for key, frame in output_tables(self).items()}
        return {
            "subject": self.subject,
            "direction": self.direction,
            "snapshot_id": self.snapshot_id,
            **tables,
            "notes": self.notes,
        }


OUTPUT_COLUMNS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "lots": (
        "lots",
        (
            "gtin",
            "lot",
            "depth",
            "direction",
            "exposure",
            "status",
            "product_name",
            "expiry_date",
            "quantity_on_hand",
        ),
    ),
    "transformations": ("edges", None),
    "receipts": (
        "receipts",
        (
            "receipt_id",
            "received_at",
            "from_location_id",
            "to_location_id",
            "gtin",
            "lot",
            "serial",
            "quantity",
            "uom",
        ),
    ),
    "shipments": (
        "shipments",
        (
            "shipment_id",
            "shipped_at",
            "from_location_id",
            "to_location_id",
            "gtin",
            "lot",
            "serial",
            "sscc",
            "quantity",
            "uom",
        ),
    ),
    "serials": ("serials", ("gtin", "serial", "lot")),
    "consignees": ("consignees", None),
}
"""The lists of a trace's JSON document, in order: key, TraceResult attribute and the columns
shown (None: all). `status` comes from the database, when there is one."""


def output_tables(result: TraceResult) -> dict[str, pl.DataFrame]:
    """The frames of the JSON document, columns chosen and ordered as it lists them."""
    return {
        key: output_table(key, getattr(result, attribute))
        for key, (attribute, _) in OUTPUT_COLUMNS.items()
    }


def output_table(key: str, frame: pl.DataFrame) -> pl.DataFrame:
    """One list of the JSON document (`key` of `OUTPUT_COLUMNS`), its columns chosen and ordered:
    a document written while its later lists are still being read takes them one by one."""
    _, columns = OUTPUT_COLUMNS[key]
    if columns is None:
        return frame
    optional = key == "lots"
    return frame.select(c for c in columns if not optional or c in frame.columns)


def with_status(
    result: TraceResult, in_force: pl.DataFrame, snapshot_id: str | None
) -> TraceResult:
    """The trace stamped with the snapshot it came from and each lot's hold/recall status in
    force (`in_force`: gtin, lot, status, status_at of the lot-level status rows)."""
    lots = result.lots.drop("status", "status_at", strict=False).join(
        in_force, on=["gtin", "lot"], how="left"
    )
    return replace(result, lots=lots, snapshot_id=snapshot_id)


def exposure_note(min_exposure: float, left_out: int) -> str:
    """What a recall scope (`min_exposure`) left out of a forward trace."""
    return (
        f"forward scope limited to lots with exposure ≥ {min_exposure:.4%} of the subject lot; "
        f"{left_out} less exposed downstream lots left out"
    )


SHIPMENT_ORDER = ("shipped_at", "shipment_id")
"""The order of a trace's shipment lines."""


def find_lot(lineage: Lineage, gtin: str, lot: str) -> int:
    match = lineage.lots.filter((pl.col("gtin") == gtin) & (pl.col("lot") == lot))
    if match.is_empty():
        raise UnknownSubject(f"no lot {lot!r} of GTIN {gtin} in the lineage tables")
    return int(match["lot_key"][0])


def trace_lot(
    lineage: Lineage,
    gtin: str,
    lot: str,
    direction: Direction = "both",
    locations: pl.DataFrame | None = None,
    reach: Reach | None = None,
) -> TraceResult:
    key = find_lot(lineage, gtin, lot)
    return _assemble(
        lineage,
        {"gtin": gtin, "lot": lot, "serial": None},
        direction,
        start_backward=[key],
        start_forward=[key],
        locations=locations,
        reach=reach,
    )


def trace_lots(
    lineage: Lineage,
    subject: dict[str, str | None],
    keys: list[int],
    direction: Direction = "both",
    locations: pl.DataFrame | None = None,
    reach: Reach | None = None,
) -> TraceResult:
    """Several lots traced as one subject (what a pallet held): each is a subject at depth 0; a
    lot reached from two of them keeps its shortest depth."""
    return _assemble(
        lineage,
        subject,
        direction,
        start_backward=keys,
        start_forward=keys,
        locations=locations,
        reach=reach,
    )


def trace_serial(
    lineage: Lineage,
    gtin: str,
    serial: str,
    consumed_in: list[str],
    direction: Direction = "both",
    locations: pl.DataFrame | None = None,
    reach: Reach | None = None,
) -> TraceResult:
    """A serial traces back through its lot; forward through its own shipments and through the
    transformations that consumed it (`consumed_in`: their production ids)."""
    match = lineage.serials.filter((pl.col("gtin") == gtin) & (pl.col("serial") == serial))
    if match.is_empty():
        raise UnknownSubject(f"no serial {serial!r} of GTIN {gtin} in the lineage tables")
    lot_key = int(match["lot_key"][0])
    outputs = (
        lineage.edges.filter(pl.col("production_id").is_in(consumed_in))["child_key"]
        .unique()
        .to_list()
    )
    result = _assemble(
        lineage,
        {"gtin": gtin, "lot": str(match["lot"][0]), "serial": serial},
        direction,
        start_backward=[lot_key],
        start_forward=outputs,
        locations=locations,
        forward_offset=1,
        serial=serial,
        reach=reach,
    )
    return result


def _assemble(
    lineage: Lineage,
    subject: dict[str, str | None],
    direction: Direction,
    start_backward: list[int],
    start_forward: list[int],
    locations: pl.DataFrame | None,
    forward_offset: int = 0,
    serial: str | None = None,
    reach: Reach | None = None,
) -> TraceResult:
    def walk(start: list[int], way: Literal["backward", "forward"]) -> pl.DataFrame:
        found = reach(start, way) if reach is not None else reachable(lineage.edges, start, way)
        if "exposure" not in found.columns:
            found = found.with_columns(pl.lit(None, pl.Float64).alias("exposure"))
        if serial is not None:  # a serial's share of a lot is not what the lot's exposure says
            found = found.with_columns(pl.lit(None, pl.Float64).alias("exposure"))
        return found.select(
            pl.col("lot_key").cast(pl.Int64),
            pl.col("depth").cast(pl.Int64),
            pl.col("exposure").cast(pl.Float64),
            pl.lit(way).alias("direction"),
        )

    parts = []
    if direction in ("backward", "both"):
        parts.append(walk(start_backward, "backward"))
    if direction in ("forward", "both"):
        parts.append(walk(start_forward, "forward").with_columns(pl.col("depth") + forward_offset))
    reached = (
        pl.concat(parts)
        if parts
        else pl.DataFrame(
            schema={
                "lot_key": pl.Int64,
                "depth": pl.Int64,
                "exposure": pl.Float64,
                "direction": pl.String,
            }
        )
    )
    if serial is None:  # the subject lot itself appears once, as depth 0
        reached = (
            reached.with_columns(
                pl.when(pl.col("depth") == 0)
                .then(pl.lit("subject"))
                .otherwise("direction")
                .alias("direction")
            )
            .unique(["lot_key", "direction"])
            .sort("direction", "depth")
        )
    order = pl.col("direction").replace_strict(
        {"subject": 0, "backward": 1, "forward": 2}, return_dtype=pl.Int8
    )
    lots = reached.join(lineage.lots, on="lot_key").sort(order, "depth", "gtin", "lot")

    def keys(*directions: str) -> pl.Series:
        return lots.filter(pl.col("direction").is_in(directions))["lot_key"]

    backward_keys, forward_keys = keys("subject", "backward"), keys("subject", "forward")
    edges = _edges_within(lineage, backward_keys, forward_keys, direction)
    receipts = (
        lineage.receipts.filter(pl.col("lot_key").is_in(backward_keys.implode()))
        if direction != "forward"
        else lineage.receipts.clear()
    )
    shipments = (
        lineage.shipments.filter(pl.col("lot_key").is_in(forward_keys.implode()))
        if direction != "backward"
        else lineage.shipments.clear()
    )
    serials = (
        lineage.serials.filter(pl.col("lot_key").is_in(forward_keys.implode()))
        if direction != "backward"
        else lineage.serials.clear()
    )
    if serial is not None and direction != "backward":
        own = lineage.shipments.filter(
            (pl.col("gtin") == subject["gtin"]) & (pl.col("serial") == serial)
        )
        shipments = pl.concat([own, shipments]).unique(maintain_order=True)
    shipments = shipments.sort(*SHIPMENT_ORDER)
    return TraceResult(
        subject=subject,
        direction=direction,
        lots=lots,
        edges=edges,
        receipts=receipts.sort("received_at", "receipt_id"),
        shipments=shipments,
        serials=serials,
        consignees=consignees(shipments, locations),
    )


def _edges_within(
    lineage: Lineage, backward: pl.Series, forward: pl.Series, direction: Direction
) -> pl.DataFrame:
    chosen = []
    if direction != "forward":
        chosen.append(
            lineage.edges.filter(
                pl.col("child_key").is_in(backward.implode())
                & pl.col("parent_key").is_in(backward.implode())
            )
        )
    if direction != "backward":
        chosen.append(
            lineage.edges.filter(
                pl.col("parent_key").is_in(forward.implode())
                & pl.col("child_key").is_in(forward.implode())
            )
        )
    return edges_with_lots(pl.concat(chosen).unique(maintain_order=True), lineage.lots)


def edges_with_lots(edges: pl.DataFrame, lots: pl.DataFrame) -> pl.DataFrame:
    """Lineage edges (lot keys) as people read them: input and output GTIN + lot, with the
    quantities, share and evidence, in completion order."""
    ids = lots.select("lot_key", "gtin", "lot")
    return (
        edges.join(
            ids.rename({"lot_key": "parent_key", "gtin": "input_gtin", "lot": "input_lot"}),
            on="parent_key",
        )
        .join(
            ids.rename({"lot_key": "child_key", "gtin": "output_gtin", "lot": "output_lot"}),
            on="child_key",
        )
        .select(
            "production_id",
            "completed_at",
            "location_id",
            "input_gtin",
            "input_lot",
            "input_quantity",
            "input_uom",
            "output_gtin",
            "output_lot",
            "output_quantity",
            "output_uom",
            *(["share"] if "share" in edges.columns else []),
            "evidence",
        )
        .sort(
            "completed_at", "production_id", "input_gtin", "input_lot", "output_gtin", "output_lot"
        )
    )


def consignees(shipments: pl.DataFrame, locations: pl.DataFrame | None) -> pl.DataFrame:
    """Who received traced stock: one row per recipient and unit, with how much and when
    (21 CFR 211.196); quantities in different units are never added up."""
    summary = shipments.group_by("to_location_id", "uom").agg(
        pl.col("shipment_id").n_unique().alias("shipments"),
        pl.col("quantity").sum().alias("quantity"),
        pl.col("shipped_at").min().alias("first_shipped_at"),
        pl.col("shipped_at").max().alias("last_shipped_at"),
    )
    if locations is not None:
        summary = summary.join(
            locations.select(
                "location_id",
                "kind",
                "business_name",
                "phone",
                "street",
                "city",
                "region",
                "postal_code",
                "country",
            ),
            left_on="to_location_id",
            right_on="location_id",
            how="left",
        )
    return summary.sort("to_location_id", "uom")


def paged(result: TraceResult, offset: int, limit: int | None) -> tuple[TraceResult, dict]:
    """The trace with every list cut to rows `offset`…`offset + limit` (a terminal's page), and
    what was cut: offset, limit and each list's total. A note says how to see the next page."""
    frames = {attribute: getattr(result, attribute) for attribute, _ in OUTPUT_COLUMNS.values()}
    totals = {key: frames[attribute].height for key, (attribute, _) in OUTPUT_COLUMNS.items()}
    cut = {name: frame.slice(offset, limit) for name, frame in frames.items()}
    page = {"offset": offset, "limit": limit, "totals": totals}
    largest = max(totals.values())
    shown = ", ".join(f"{key} {total:,}" for key, total in totals.items())
    if limit is None:
        note = f"lists start at row {offset + 1:,} of each (totals: {shown})"
    else:
        note = f"lists cut to rows {offset + 1:,}–{offset + limit:,} of each (totals: {shown})"
    if limit is not None and offset + limit < largest:
        note += f"; next page: --offset {offset + limit}"
    return replace(result, **cut, notes=[*result.notes, note]), page
