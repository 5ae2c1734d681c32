"""Trace completeness: the data defects that make a trace or a recall answer wrong.

Why: a trace is only as good as its records. A lot consumed without an origin breaks the chain
back to the supplier (FSMA 204 one step back), an expired or held lot that shipped is a
distribution error a recall must find, a serial shipped twice means one of the two shipment
records is false. Each check below returns rows of one exceptions frame (columns
`EXCEPTION_COLUMNS`) so the report, the notebooks and the Dagster asset checks read one table;
`CHECKS` lists the checks with their severity for the asset checks to iterate over.

Lots are (gtin, lot); the lineage tables come from `lotline.lineage.build_lineage`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import polars as pl

from lotline import expiry, mass_balance, status
from lotline.lineage import LOT_ID, Lineage, Records
from lotline.mass_balance import (
    FAIL,
    TOLERANCE,
    UNCONVERTIBLE,
    lot_balance,
    stock_positions,
)

ERROR, WARNING, INFO = "error", "warning", "info"
HELD_STATUSES = status.RESTRICTING  # hold, recall, quarantine
HELD_NOW_STATUSES = ("hold", "quarantine")  # without event times a later recall is no defect
EXCEPTION_COLUMNS = ["check", "severity", "gtin", "lot", "serial", "reference", "detail"]
EXCEPTION_SCHEMA = dict.fromkeys(EXCEPTION_COLUMNS, pl.String)
_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass(frozen=True)
class Check:
    """One completeness check; `applies_to` selects, over `Lineage.lots`, the lots it judges."""

    name: str
    description: str
    severity: str
    applies_to: pl.Expr


_shipped = pl.col("quantity_shipped") > 0
_all = pl.lit(True)

CHECKS: tuple[Check, ...] = (
    Check(
        "broken_chain",
        "Lot consumed in a transformation or shipped, but never received or produced.",
        ERROR,
        _all,
    ),
    Check(
        "orphan_lot",
        "Lot that only stock moves mention: never received or produced, never consumed or shipped.",
        WARNING,
        _all,
    ),
    Check(
        "negative_on_hand",
        "Book stock of a lot at an own site or warehouse below zero.",
        ERROR,
        _all,
    ),
    Check(
        "shipped_expired",
        "Shipment line whose local ship date is on or after the lot's expiry date.",
        ERROR,
        _shipped,
    ),
    Check(
        "shipped_held",
        "Shipment line of a lot or serial on hold, in quarantine or recalled at ship time.",
        ERROR,
        _shipped,
    ),
    Check(
        "output_outlives_input",
        "Output lot whose expiry is later than the earliest expiry of its input lots.",
        WARNING,
        pl.col("quantity_produced") > 0,
    ),
    Check(
        "serial_shipped_twice",
        "Serial shipped to customers twice with no return in between.",
        ERROR,
        _shipped,
    ),
    Check(
        "duplicate_lot_code",
        "The same lot code used under more than one GTIN.",
        INFO,
        _all,
    ),
    Check(
        "unresolved_sscc",
        "Shipment line naming only an SSCC that held nothing at ship time: its contents are "
        "unknown, so it reaches no lot.",
        ERROR,
        pl.lit(False),  # a shipment finding: it names no lot, so no lot's score counts it
    ),
    Check(
        "mass_balance",
        "Lot whose mass balance is outside the tolerance band or cannot be converted to one unit.",
        ERROR,
        _all,
    ),
)
CHECK_NAMES = tuple(check.name for check in CHECKS)
_SEVERITY = {check.name: check.severity for check in CHECKS}


def trace_exceptions(
    records: Records,
    lineage: Lineage,
    *,
    status_events: pl.DataFrame | None = None,
    current_status: pl.DataFrame | None = None,
    balance: pl.DataFrame | None = None,
    tolerance: tuple[float, float] = TOLERANCE,
    unresolved: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every check's exceptions in one frame, errors first.

    `unresolved` are the SSCC-only shipment lines `aggregation.unresolved_shipments` found (the
    lineage's records no longer hold them once pallets are resolved to their contents).

    `balance` is `mass_balance.lot_balance(...)` if already computed (else computed here with
    `tolerance`); `status_events`/`current_status` feed `shipped_held`, and when neither is
    given the stored status records (`records.status`) are the status events.
    """
    if status_events is None and current_status is None and records.status.width > 0:
        status_events = records.status
    if balance is None:
        balance = lot_balance(records, lineage, tolerance)
    parts = [
        broken_chain(records, lineage),
        orphan_lots(records, lineage),
        negative_on_hand(records, lineage),
        *_shipment_checks(records, lineage, status_events, current_status),
        output_outlives_input(lineage),
        duplicate_lot_codes(lineage),
        mass_balance_failures(balance),
        unresolved_sscc(unresolved),
    ]
    return (
        pl.concat(parts)
        .sort(
            pl.col("severity").replace_strict(_SEVERITY_ORDER, default=9, return_dtype=pl.Int64),
            "check",
            "gtin",
            "lot",
            "serial",
            "reference",
            nulls_last=True,
        )
        .select(EXCEPTION_COLUMNS)
    )


def _shipment_checks(
    records: Records,
    lineage: Lineage,
    status_events: pl.DataFrame | None,
    current_status: pl.DataFrame | None,
    rows: int | None = None,
) -> list[pl.DataFrame]:
    """`shipped_expired`, `shipped_held` and `serial_shipped_twice`, product by product in parts
    of about `rows` shipment lines (default `mass_balance.PART_RECORDS`).

    Why: at 10⁷ edges these joins over every shipment line at once are the build's peak. Each
    check only relates rows of one GTIN (a lot, a serial and their status events are scoped by
    it), so the parts' rows are the checks' rows; the part key is the GTIN as `lotline.status`
    matches it (zero-filled to 14), and lines without a GTIN form a part of their own."""
    rows = mass_balance.PART_RECORDS if rows is None else rows
    if max(records.shipments.height, lineage.shipments.height) <= rows:
        parts = [(records, lineage)]
    else:
        parts = _gtin_parts(records, lineage, rows)
    found: list[list[pl.DataFrame]] = [[], [], []]
    for part_records, part_lineage in parts:
        found[0].append(shipped_expired(part_records, part_lineage))
        found[1].append(
            shipped_held(part_lineage, status_events=status_events, current_status=current_status)
        )
        found[2].append(serial_shipped_twice(part_records))
    return [pl.concat(frames) for frames in found]


def _gtin_key() -> pl.Expr:
    return pl.col("gtin").cast(pl.String).str.zfill(14).fill_null("")


def _gtin_parts(records: Records, lineage: Lineage, rows: int) -> Iterator[tuple[Records, Lineage]]:
    """`records` and `lineage` cut to the shipment checks' inputs, whole GTINs per part."""
    per_gtin = (
        pl.concat(
            [
                records.shipments.select(_gtin_key().alias("key")),
                lineage.shipments.select(_gtin_key().alias("key")),
            ]
        )
        .group_by("key")
        .len()
        .sort("key")
    )
    part = (per_gtin["len"].cum_sum() - per_gtin["len"]) // rows
    for keys in per_gtin["key"].to_frame().with_columns(part=part).partition_by("part"):
        in_part = _gtin_key().is_in(keys["key"].implode())

        def cut(frame: pl.DataFrame, in_part: pl.Expr = in_part) -> pl.DataFrame:
            return frame.filter(in_part) if "gtin" in frame.columns else frame

        yield (
            replace(records, shipments=cut(records.shipments), moves=cut(records.moves)),
            replace(
                lineage,
                lots=cut(lineage.lots),
                shipments=cut(lineage.shipments),
                serials=cut(lineage.serials),
            ),
        )


def check_summary(exceptions: pl.DataFrame) -> pl.DataFrame:
    """One row per entry of `CHECKS`: how many exceptions and lots it found, and `passed`.

    What a Dagster asset check or the report's validation appendix shows; a check passes when it
    found nothing (info checks too: passing means "nothing to look at").
    """
    counts = exceptions.group_by("check").agg(
        pl.len().cast(pl.Int64).alias("n_exceptions"),
        pl.struct(LOT_ID).n_unique().cast(pl.Int64).alias("n_lots"),
    )
    meta = pl.DataFrame(
        [(check.name, check.description, check.severity) for check in CHECKS],
        schema={"check": pl.String, "description": pl.String, "severity": pl.String},
        orient="row",
    )
    return (
        meta.join(counts, on="check", how="left", maintain_order="left")
        .with_columns(pl.col("n_exceptions", "n_lots").fill_null(0))
        .with_columns((pl.col("n_exceptions") == 0).alias("passed"))
    )


def broken_chain(records: Records, lineage: Lineage) -> pl.DataFrame:
    """Lots used (consumed or shipped) with no receipt or production record: one row per lot.

    `reference` lists the production orders and shipments that used the lot.
    """
    used = lineage.lots.filter(
        (pl.col("origin") == "unknown")
        & ((pl.col("quantity_consumed") > 0) | (pl.col("quantity_shipped") > 0))
    )
    return _exceptions(
        used.join(_documents(records, used.select(LOT_ID)), on=LOT_ID, how="left"),
        "broken_chain",
        reference=pl.col("documents"),
        detail=pl.format(
            "used but never received or produced (consumed {} {}, shipped {} {})",
            _number(pl.col("quantity_consumed")),
            pl.col("uom").fill_null("?"),
            _number(pl.col("quantity_shipped")),
            pl.col("uom").fill_null("?"),
        ),
    )


def orphan_lots(records: Records, lineage: Lineage) -> pl.DataFrame:
    """Lots that only moves mention: no origin and no use. `reference` lists the moves."""
    orphans = lineage.lots.filter(
        (pl.col("origin") == "unknown")
        & (pl.col("quantity_consumed") == 0)
        & (pl.col("quantity_shipped") == 0)
    )
    moves = records.moves.group_by(LOT_ID).agg(
        pl.col("move_id").unique().sort().str.join(", ").alias("documents")
    )
    return _exceptions(
        orphans.join(moves, on=LOT_ID, how="left"),
        "orphan_lot",
        reference=pl.col("documents"),
        detail=pl.lit("no receipt or production record, never consumed or shipped"),
    )


def negative_on_hand(records: Records, lineage: Lineage) -> pl.DataFrame:
    """Lot positions below zero at an own location (quantities in the product's unit)."""
    keys = lineage.lots.select("lot_key", *LOT_ID)
    negative = (
        stock_positions(records, keys)
        .filter(pl.col("quantity") < -1e-9)
        .join(keys, on="lot_key", how="left")
    )
    return _exceptions(
        negative,
        "negative_on_hand",
        reference=pl.col("location_id"),
        detail=pl.format(
            "book stock {} {} at {}",
            _number(pl.col("quantity")),
            pl.col("uom").fill_null("?"),
            pl.col("location_id"),
        ),
    )


def shipped_expired(records: Records, lineage: Lineage) -> pl.DataFrame:
    """Shipment lines on or after the lot's expiry day, by `lotline.expiry`'s local-date rule.

    Severity as `lotline.expiry` gives it: error for use-by lots, warning for best-before ones.
    """
    late = expiry.shipped_at_or_after_expiry(
        lineage.lots, lineage.shipments, records.locations, products=records.products
    )
    return _exceptions(
        late,
        "shipped_expired",
        severity=pl.col("severity"),
        serial=pl.col("serial"),
        reference=pl.col("shipment_id"),
        detail=pl.format(
            "shipped {} (local date) to {}, expiry {} ({} days after expiry)",
            pl.col("ship_date").cast(pl.String),
            pl.col("to_location_id"),
            pl.col("expiry_date").cast(pl.String),
            pl.col("days_after_expiry").cast(pl.String),
        ),
    )


def shipped_held(
    lineage: Lineage,
    *,
    status_events: pl.DataFrame | None = None,
    current_status: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Shipment lines of lots or serials that were held when they shipped.

    With `status_events` (gtin, lot, serial, status, at; `lotline.status` columns): the status in
    force at each line's `shipped_at` by `lotline.status.status_at` (latest event at or before
    the instant; a serial's own event wins over its lot's when at least as recent). Held = hold,
    quarantine or recall: an error.

    With only `current_status` (gtin, lot, serial, status; no time): the ship-time status is
    unknown, so lines of lots or serials *now* on hold or in quarantine are warnings (a recall
    decided after shipping is what recalls are for, not a defect). A serial's own row wins over
    its lot's. With neither: no rows.
    """
    lines = lineage.shipments.select("shipment_id", "shipped_at", *LOT_ID, "serial")
    if status_events is not None:
        events = status_events.with_columns(
            pl.lit(None, dtype).alias(name)
            for name, dtype in status.STATUS_SCHEMA.items()
            if name not in status_events.columns
        )
        held = status.status_at(events, lines, "shipped_at", serials=lineage.serials).filter(
            pl.col("status").is_in(HELD_STATUSES)
        )
        return _exceptions(
            held,
            "shipped_held",
            serial=pl.col("serial"),
            reference=pl.col("shipment_id"),
            detail=pl.format(
                "shipped {} while {} status '{}' (since {})",
                _instant(pl.col("shipped_at")),
                pl.col("status_source"),
                pl.col("status"),
                _instant(pl.col("status_at")),
            ),
        )
    if current_status is not None:
        rows = current_status.select(*LOT_ID, "serial", "status")
        by_lot = rows.filter(pl.col("serial").is_null()).select(
            *LOT_ID, pl.col("status").alias("lot_status")
        )
        by_serial = rows.filter(pl.col("serial").is_not_null()).select(
            "gtin", "serial", pl.col("status").alias("serial_status")
        )
        held = (
            lines.join(by_lot, on=LOT_ID, how="left")
            .join(by_serial, on=["gtin", "serial"], how="left")
            .with_columns(pl.coalesce("serial_status", "lot_status").alias("status"))
            .filter(pl.col("status").is_in(HELD_NOW_STATUSES))
        )
        return _exceptions(
            held,
            "shipped_held",
            severity=WARNING,
            serial=pl.col("serial"),
            reference=pl.col("shipment_id"),
            detail=pl.format(
                "current status '{}'; whether it was in force at shipping is not recorded",
                pl.col("status"),
            ),
        )
    return pl.DataFrame(schema=EXCEPTION_SCHEMA)


def output_outlives_input(lineage: Lineage) -> pl.DataFrame:
    """Lots expiring after the earliest-expiring lot among all their inputs, at any depth.

    Uses `lotline.expiry.propagated_expiry` over the genealogy edges, so a sauce made from a base
    made from a 3-day cream is compared with the cream. A warning, not an error: a kill step
    (baking, retort) can lawfully extend shelf life, but then someone should have decided so.
    `reference` is the earliest-expiring input lot as gtin/lot.
    """
    lots = lineage.lots.select("lot_key", *LOT_ID)
    outlives = (
        expiry.propagated_expiry(lineage.lots, lineage.edges)
        .filter(pl.col("outlives_input"))
        .join(lots, on="lot_key")
        .join(
            lots.select(
                pl.col("lot_key").alias("earliest_input_key"),
                pl.col("gtin").alias("input_gtin"),
                pl.col("lot").alias("input_lot"),
            ),
            on="earliest_input_key",
        )
    )
    return _exceptions(
        outlives,
        "output_outlives_input",
        reference=pl.format("{}/{}", pl.col("input_gtin"), pl.col("input_lot")),
        detail=pl.format(
            "expiry {} is later than input lot {} expiry {}",
            pl.col("expiry_date").cast(pl.String),
            pl.col("input_lot"),
            pl.col("earliest_input_expiry").cast(pl.String),
        ),
    )


def serial_shipped_twice(records: Records) -> pl.DataFrame:
    """Shipments to customers of a serial already at a customer: no return since the last one.

    Per (gtin, serial) the customer shipments and return moves are put in time order (a return
    at the same instant as a shipment counts as before it); a shipment whose previous event is a
    shipment is reported, with the earlier shipment in `detail`.
    """
    customers = records.locations.filter(pl.col("kind") == "customer").select(
        pl.col("location_id").alias("to_location_id")
    )
    ships = (
        records.shipments.filter(pl.col("serial").is_not_null())
        .join(customers, on="to_location_id", how="semi")
        .select(
            *LOT_ID,
            "serial",
            pl.col("shipped_at").alias("at"),
            pl.lit(1).alias("order"),
            pl.col("shipment_id").alias("reference"),
        )
    )
    returns = records.moves.filter(
        (pl.col("reason") == "return") & pl.col("serial").is_not_null()
    ).select(
        *LOT_ID,
        "serial",
        pl.col("moved_at").alias("at"),
        pl.lit(0).alias("order"),
        pl.col("move_id").alias("reference"),
    )
    events = pl.concat([ships, returns]).sort("gtin", "serial", "at", "order", "reference")
    previous = [
        pl.col(c).shift(1).over("gtin", "serial").alias(f"previous_{c}")
        for c in ("order", "reference", "at")
    ]
    twice = events.with_columns(previous).filter(
        (pl.col("order") == 1) & (pl.col("previous_order") == 1)
    )
    return _exceptions(
        twice,
        "serial_shipped_twice",
        serial=pl.col("serial"),
        reference=pl.col("reference"),
        detail=pl.format(
            "already shipped in {} at {} with no return since",
            pl.col("previous_reference"),
            _instant(pl.col("previous_at")),
        ),
    )


def duplicate_lot_codes(lineage: Lineage) -> pl.DataFrame:
    """Lot codes used under several GTINs: one row per (gtin, lot) involved.

    Info only: GS1 scopes a lot by its GTIN, so it is legal, but a recall notice quoting only the
    lot code would be ambiguous.
    """
    lots = lineage.lots.select(*LOT_ID)
    shared = lots.join(
        lots.group_by("lot").agg(pl.col("gtin").unique().sort().alias("gtins")),
        on="lot",
    ).filter(pl.col("gtins").list.len() > 1)
    return _exceptions(
        shared,
        "duplicate_lot_code",
        detail=pl.format(
            "lot code also used under GTIN {}",
            pl.col("gtins").list.set_difference(pl.concat_list("gtin")).list.join(", "),
        ),
    )


def mass_balance_failures(balance: pl.DataFrame) -> pl.DataFrame:
    """Lots of `mass_balance.lot_balance` whose status is fail or unconvertible."""
    failing = balance.filter(pl.col("status").is_in([FAIL, UNCONVERTIBLE]))
    uom = pl.col("uom").fill_null("?")
    return _exceptions(
        failing,
        "mass_balance",
        detail=pl.when(pl.col("status") == UNCONVERTIBLE)
        .then(
            pl.format(
                "{} record(s) in a unit that cannot be converted to {}",
                pl.col("unconvertible_rows").cast(pl.String),
                uom,
            )
        )
        .otherwise(
            pl.format(
                "accounted {} of inflow {} {} ({} %), difference {}",
                _number(pl.col("accounted")),
                _number(pl.col("inflow")),
                uom,
                _number(pl.col("balance_ratio") * 100, 2),
                _number(pl.col("difference")),
            )
        ),
    )


def unresolved_sscc(unresolved: pl.DataFrame | None) -> pl.DataFrame:
    """One row per SSCC-only shipment line whose pallet held nothing when it shipped."""
    if unresolved is None or unresolved.is_empty():
        return pl.DataFrame(schema=EXCEPTION_SCHEMA)
    return unresolved.select(
        pl.lit("unresolved_sscc").alias("check"),
        pl.lit(ERROR).alias("severity"),
        pl.lit(None, pl.String).alias("gtin"),
        pl.lit(None, pl.String).alias("lot"),
        pl.lit(None, pl.String).alias("serial"),
        pl.format("shipment {} SSCC {}", "shipment_id", "sscc").alias("reference"),
        pl.format(
            "no packing event puts anything in SSCC {} at {} (shipped to {})",
            "sscc",
            pl.col("shipped_at").dt.to_string(),
            "to_location_id",
        ).alias("detail"),
    )


def completeness_score(lots: pl.DataFrame, exceptions: pl.DataFrame) -> pl.DataFrame:
    """Per lot: the share of its applicable error and warning checks it passes.

        score = (applicable checks without an exception for the lot) / (applicable checks)

    A check applies to a lot when its `applies_to` holds on the lot's row of `lots`
    (`Lineage.lots`), or when it reported the lot anyway. Info checks are not scored (they are
    not defects) but count in `n_exceptions` and `checks_failed`. Columns: lot_key, gtin, lot,
    score (0..1), n_checks, n_exceptions, checks_failed (sorted names).
    """
    per_lot = (
        exceptions.filter(pl.col("gtin").is_not_null() & pl.col("lot").is_not_null())
        .group_by(LOT_ID)
        .agg(
            pl.len().cast(pl.Int64).alias("n_exceptions"),
            pl.col("check").unique().sort().alias("checks_failed"),
        )
    )
    scored = [check for check in CHECKS if check.severity != INFO]
    frame = lots.join(per_lot, on=LOT_ID, how="left").with_columns(
        pl.col("n_exceptions").fill_null(0),
        pl.col("checks_failed").fill_null(pl.lit([], pl.List(pl.String))),
    )
    failed = {c.name: pl.col("checks_failed").list.contains(c.name) for c in scored}
    applies = {c.name: c.applies_to.fill_null(False) | failed[c.name] for c in scored}
    n_checks = pl.sum_horizontal([applies[c.name].cast(pl.Int64) for c in scored])
    passed = pl.sum_horizontal([(applies[c.name] & ~failed[c.name]).cast(pl.Int64) for c in scored])
    return frame.select(
        "lot_key",
        *LOT_ID,
        pl.when(n_checks > 0).then(passed / n_checks).otherwise(1.0).alias("score"),
        n_checks.alias("n_checks"),
        "n_exceptions",
        "checks_failed",
    ).sort("lot_key")


def _documents(records: Records, lots: pl.DataFrame) -> pl.DataFrame:
    """Per lot of `lots` (gtin, lot), the production orders and shipments that used it, as one
    readable string (only those lots: on a large load the string of every lot is gigabytes)."""
    used = pl.concat(
        [
            records.consumption.select(*LOT_ID, pl.col("production_id").alias("document")),
            records.shipments.select(*LOT_ID, pl.col("shipment_id").alias("document")),
        ]
    ).join(lots, on=LOT_ID, how="semi")
    return used.group_by(LOT_ID).agg(
        pl.col("document").unique().sort().str.join(", ").alias("documents")
    )


def _instant(value: pl.Expr) -> pl.Expr:
    return value.dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%SZ")


def _number(value: pl.Expr, decimals: int = 3) -> pl.Expr:
    """A quantity for a message: rounded, without a trailing '.0'."""
    return value.round(decimals).cast(pl.String).str.replace(r"\.0$", "")


def _exceptions(
    frame: pl.DataFrame,
    check: str,
    *,
    detail: pl.Expr,
    severity: str | pl.Expr | None = None,
    serial: pl.Expr | None = None,
    reference: pl.Expr | None = None,
) -> pl.DataFrame:
    return frame.select(
        pl.lit(check).alias("check"),
        (severity if isinstance(severity, pl.Expr) else pl.lit(severity or _SEVERITY[check]))
        .cast(pl.String)
        .alias("severity"),
        pl.col("gtin").cast(pl.String),
        pl.col("lot").cast(pl.String),
        (serial if serial is not None else pl.lit(None)).cast(pl.String).alias("serial"),
        (reference if reference is not None else pl.lit(None)).cast(pl.String).alias("reference"),
        detail.cast(pl.String).alias("detail"),
    )
