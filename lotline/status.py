"""Hold, release, recall and quarantine status in force, derived from append-only status events.

A decision is never overwritten: the status of a lot at a time is the latest event for that lot
at or before the time, so the history (who held it, why, when it was released) stays intact for
an auditor and any past state can be reproduced. A serial follows its lot unless it has an event
of its own at least as recent (the more specific decision wins a tie). Rows without any event at
their time carry a null status: nothing restricts them.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

STATUS_SCHEMA: dict[str, pl.DataType] = {
    "status_id": pl.String(),
    "at": pl.Datetime("us", "UTC"),
    "gtin": pl.String(),
    "lot": pl.String(),
    "serial": pl.String(),
    "status": pl.String(),
    "actor": pl.String(),
    "reason": pl.String(),
}
"""The columns of a status-event frame, exactly (completeness checks elsewhere rely on them)."""

RESTRICTING = ("hold", "recall", "quarantine")
"""Statuses under which stock must not be used or shipped."""

_DECISION = ["status_id", "status", "actor", "reason"]
IN_FORCE_COLUMNS = ["status", "status_at", "status_id", "status_actor", "status_reason"]
"""What `status_at` adds to each row (`status_source` says whether the lot or serial decided)."""


def status_event_frame(records: pl.DataFrame) -> pl.DataFrame:
    """Stored status records (or any frame with these columns) as the status-event frame."""
    if records.width == 0:
        return pl.DataFrame(schema=STATUS_SCHEMA)
    return records.select(pl.col(c).cast(t) for c, t in STATUS_SCHEMA.items())


def _serial_lots(events: pl.DataFrame, serials: pl.DataFrame | None) -> pl.DataFrame:
    """A serial's lot: from `serials` (commissioning) where given, else from its own events."""
    own = events.filter(pl.col("serial").is_not_null() & pl.col("lot").is_not_null()).select(
        "gtin", "serial", "lot"
    )
    known = (
        serials.select(pl.col("gtin").str.zfill(14), "serial", pl.col("lot").cast(pl.String))
        if serials is not None
        else own.clear()
    )
    return pl.concat([known, own]).unique(["gtin", "serial"], keep="first", maintain_order=True)


def _in_force(
    events: pl.DataFrame, frame: pl.DataFrame, at_column: str, by: list[str], prefix: str
) -> pl.DataFrame:
    """Latest event per `by` at or before each row's `at_column`, as `<prefix>` columns."""
    decisions = events.select(
        *by,
        pl.col("at").alias(f"{prefix}at"),
        *[pl.col(c).alias(f"{prefix}{c}") for c in _DECISION],
    ).sort(f"{prefix}at", f"{prefix}status_id")
    # of several events at the same instant the one with the greatest status_id decides
    decisions = decisions.unique([*by, f"{prefix}at"], keep="last", maintain_order=True)
    return (
        frame.sort(at_column)
        .join_asof(
            decisions,
            left_on=at_column,
            right_on=f"{prefix}at",
            by=by,
            strategy="backward",
            check_sortedness=False,
        )
        .sort("_row")
    )


def status_at(
    status_events: pl.DataFrame,
    frame: pl.DataFrame,
    at_column: str,
    serials: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`frame` (rows with gtin, lot and optional serial, e.g. shipment lines) with the status in
    force at each row's own `at_column` time: status, status_at, status_id, status_actor,
    status_reason and status_source (`lot` | `serial`; null where no event applies).

    A row without a lot but with a serial gets its lot from `serials` (gtin, serial, lot) or the
    serial's own status events, so a lot-level hold reaches it too.
    """
    events = status_events.select(list(STATUS_SCHEMA)).with_columns(pl.col("gtin").str.zfill(14))
    lot_events = events.filter(pl.col("serial").is_null() & pl.col("lot").is_not_null())
    serial_events = events.filter(pl.col("serial").is_not_null())
    has_serial = "serial" in frame.columns
    rows = frame.with_row_index("_row").with_columns(
        pl.col("gtin").str.zfill(14).alias("_gtin"),
        (pl.col("serial") if has_serial else pl.lit(None, pl.String)).alias("_serial"),
        pl.col("lot").cast(pl.String).alias("_lot"),
    )
    lots_of_serials = _serial_lots(events, serials).rename(
        {"gtin": "_gtin", "serial": "_serial", "lot": "_serial_lot"}
    )
    rows = rows.join(lots_of_serials, on=["_gtin", "_serial"], how="left").with_columns(
        pl.coalesce("_lot", "_serial_lot").alias("_lot")
    )
    rows = _in_force(
        lot_events.rename({"gtin": "_gtin", "lot": "_lot"}).drop("serial"),
        rows,
        at_column,
        ["_gtin", "_lot"],
        "_l_",
    )
    rows = _in_force(
        serial_events.rename({"gtin": "_gtin", "serial": "_serial"}).drop("lot"),
        rows,
        at_column,
        ["_gtin", "_serial"],
        "_s_",
    )
    serial_decides = pl.col("_s_at").is_not_null() & (
        pl.col("_l_at").is_null() | (pl.col("_s_at") >= pl.col("_l_at"))
    )

    def pick(column: str) -> pl.Expr:
        return (
            pl.when(serial_decides).then(pl.col(f"_s_{column}")).otherwise(pl.col(f"_l_{column}"))
        )

    return rows.with_columns(
        pick("status").alias("status"),
        pick("at").alias("status_at"),
        pick("status_id").alias("status_id"),
        pick("actor").alias("status_actor"),
        pick("reason").alias("status_reason"),
        pl.when(serial_decides)
        .then(pl.lit("serial"))
        .when(pl.col("_l_at").is_not_null())
        .then(pl.lit("lot"))
        .alias("status_source"),
    ).select(*frame.columns, *IN_FORCE_COLUMNS, "status_source")


def current_status(
    status_events: pl.DataFrame,
    as_of: datetime | None = None,
    serials: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The status in force at `as_of` (default: after the last event) of every lot and serial
    that has an event by then: one row per lot (serial null) and one per serial with events of
    its own, whose status is its own or its lot's, whichever is later (`status_source`)."""
    events = status_events.select(list(STATUS_SCHEMA)).with_columns(pl.col("gtin").str.zfill(14))
    if as_of is not None:
        events = events.filter(pl.col("at") <= pl.lit(as_of, dtype=pl.Datetime("us", "UTC")))
    lots = events.filter(pl.col("serial").is_null() & pl.col("lot").is_not_null()).select(
        "gtin", "lot", pl.lit(None, pl.String).alias("serial")
    )
    own = events.filter(pl.col("serial").is_not_null()).select("gtin", "serial")
    serial_rows = (
        own.unique()
        .join(_serial_lots(events, serials), on=["gtin", "serial"], how="left")
        .select("gtin", "lot", "serial")
    )
    until = as_of if as_of is not None else events["at"].max()
    subjects = pl.concat([lots.unique(), serial_rows]).with_columns(
        pl.lit(until, dtype=pl.Datetime("us", "UTC")).alias("_as_of")
    )
    return (
        status_at(events, subjects, "_as_of", serials)
        .drop("_as_of")
        .sort("gtin", "lot", "serial", nulls_last=False)
    )


def is_restricted() -> pl.Expr:
    """True where the status in force (column `status`) forbids use or shipment."""
    return pl.col("status").is_in(list(RESTRICTING)).fill_null(False)


DISPOSITION = {
    "recall": "recalled",
    "hold": "non_sellable_other",
    "quarantine": "non_sellable_other",
    "release": "sellable_accessible",
}
"""EPCIS CBV disposition of stock under each status (as docs/data-contract.md maps the events)."""


def inventory_status(
    on_hand: pl.DataFrame, statuses: pl.DataFrame, expiry: pl.DataFrame, as_of: date
) -> pl.DataFrame:
    """Stock per lot and location with the lot's status in force, the serials of it restricted
    on their own, and the EPCIS disposition a recall coordinator acts on: `recalled`, then
    `non_sellable_other` (hold, quarantine), `expired` (expiry before `as_of`), else
    `sellable_accessible`.

    `on_hand` has gtin, lot, quantity per location; `statuses` is the in-force frame of
    `current_status` (lot rows have a null serial); `expiry` gives gtin, lot, expiry_date."""
    lot_rows = statuses.filter(pl.col("serial").is_null()).select(
        "gtin", "lot", "status", "status_at", "status_reason"
    )
    serials_held = (
        statuses.filter(pl.col("serial").is_not_null() & is_restricted())
        .group_by("gtin", "lot")
        .agg(pl.len().cast(pl.Int64).alias("serials_restricted"))
    )
    status = pl.col("status")
    return (
        on_hand.join(lot_rows, on=["gtin", "lot"], how="left")
        .join(serials_held, on=["gtin", "lot"], how="left")
        .join(
            expiry.select("gtin", "lot", "expiry_date").unique(["gtin", "lot"]),
            on=["gtin", "lot"],
            how="left",
        )
        .with_columns(
            pl.col("serials_restricted").fill_null(0),
            pl.when(status.is_in(["recall", "hold", "quarantine"]))
            .then(status.replace_strict(DISPOSITION, default=None))
            .when(pl.col("expiry_date") < pl.lit(as_of))
            .then(pl.lit("expired"))
            .otherwise(pl.lit("sellable_accessible"))
            .alias("disposition"),
        )
    )
