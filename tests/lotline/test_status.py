"""The status in force is the latest event at or before a time; a serial follows its lot unless it
has a decision of its own at least as recent.

Events (UTC, September 2026):

    lot C1:   hold 9th 09:00, release 10th 15:00, recall 12th 08:00
    lot T1:   recall 11th 09:00
    T1-0001:  quarantine 10th 12:00 (its own; overtaken by the lot recall on the 11th)
    T1-0003:  release 11th 10:00 (its own, after the lot recall: released)
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from lotline.status import (
    STATUS_SCHEMA,
    current_status,
    inventory_status,
    is_restricted,
    status_at,
    status_event_frame,
)

COOKIES, TIN = "00614141000043", "00614141000050"


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute, tzinfo=UTC)


def _events() -> pl.DataFrame:
    rows = [
        ("ST1", t(9, 9), COOKIES, "C1", None, "hold", "qa.lead", "metal detector alarm"),
        ("ST2", t(10, 15), COOKIES, "C1", None, "release", "qa.lead", None),
        ("ST3", t(12, 8), COOKIES, "C1", None, "recall", "director", "FDA class II"),
        ("ST4", t(11, 9), TIN, "T1", None, "recall", "director", "seal defect"),
        ("ST5", t(10, 12), TIN, None, "T1-0001", "quarantine", "qa.lead", "dented"),
        ("ST6", t(11, 10), TIN, "T1", "T1-0003", "release", "director", None),
    ]
    return pl.DataFrame(rows, schema=STATUS_SCHEMA, orient="row")


EVENTS = _events()
SERIALS = pl.DataFrame(
    {"gtin": [TIN] * 3, "serial": ["T1-0001", "T1-0002", "T1-0003"], "lot": ["T1"] * 3}
)


def _by_subject(frame: pl.DataFrame) -> dict[tuple, tuple]:
    return {
        (r["lot"], r["serial"]): (r["status"], r["status_source"], r["status_id"])
        for r in frame.iter_rows(named=True)
    }


def test_latest_event_decides_after_hold_release_recall() -> None:
    now = _by_subject(current_status(EVENTS, serials=SERIALS))
    assert now == {
        ("C1", None): ("recall", "lot", "ST3"),
        ("T1", None): ("recall", "lot", "ST4"),
        ("T1", "T1-0001"): ("recall", "lot", "ST4"),  # the lot recall is later than its own
        ("T1", "T1-0003"): ("release", "serial", "ST6"),  # its own release is later
    }


def test_as_of_is_inclusive_and_ignores_later_events() -> None:
    assert _by_subject(current_status(EVENTS, as_of=t(9, 9))) == {
        ("C1", None): ("hold", "lot", "ST1")
    }
    assert _by_subject(current_status(EVENTS, as_of=t(10, 16), serials=SERIALS)) == {
        ("C1", None): ("release", "lot", "ST2"),
        ("T1", "T1-0001"): ("quarantine", "serial", "ST5"),
    }
    assert current_status(EVENTS, as_of=t(1, 0)).is_empty()


def test_history_is_kept_reason_and_actor_come_with_the_status() -> None:
    held = current_status(EVENTS, as_of=t(9, 12)).row(0, named=True)
    assert (held["status_actor"], held["status_reason"], held["status_at"]) == (
        "qa.lead",
        "metal detector alarm",
        t(9, 9),
    )


def test_status_at_each_shipment_time() -> None:
    shipments = pl.DataFrame(
        {
            "shipment_id": ["A", "B", "C", "D", "E", "F", "G"],
            "shipped_at": [
                t(9, 8),
                t(9, 12),
                t(11, 0),
                t(13, 0),
                t(11, 9, 30),
                t(11, 10, 30),
                t(11, 12),
            ],
            "gtin": [COOKIES] * 4 + [TIN] * 3,
            "lot": ["C1"] * 4 + ["T1", "T1", None],
            "serial": [None] * 4 + ["T1-0003", "T1-0003", "T1-0002"],
        }
    )
    result = status_at(EVENTS, shipments, "shipped_at", serials=SERIALS)
    assert result.columns[: len(shipments.columns)] == shipments.columns
    assert result["shipment_id"].to_list() == list("ABCDEFG")  # order kept
    assert result.select("status", "status_source").rows() == [
        (None, None),  # before the hold
        ("hold", "lot"),
        ("release", "lot"),
        ("recall", "lot"),
        ("recall", "lot"),  # the serial follows the lot recall ...
        ("release", "serial"),  # ... until its own release
        ("recall", "lot"),  # a serial line without lot finds its lot through the serials
    ]
    assert result.select(is_restricted()).to_series().to_list() == [
        False,
        True,
        False,
        True,
        True,
        False,
        True,
    ]


def test_a_serial_decision_at_the_same_instant_as_its_lot_wins() -> None:
    events = pl.concat(
        [
            EVENTS,
            pl.DataFrame(
                [("ST7", t(11, 9), TIN, None, "T1-0002", "release", "qa", None)],
                schema=STATUS_SCHEMA,
                orient="row",
            ),
        ]
    )
    frame = pl.DataFrame({"at": [t(11, 9)], "gtin": [TIN], "lot": ["T1"], "serial": ["T1-0002"]})
    assert status_at(events, frame, "at")["status"].to_list() == ["release"]


def test_status_event_frame_has_exactly_the_agreed_columns() -> None:
    stored = EVENTS.with_columns(
        pl.lit("+02:00").alias("tz_offset"), pl.lit("x").alias("record_hash")
    )
    frame = status_event_frame(stored)
    assert frame.columns == [
        "status_id",
        "at",
        "gtin",
        "lot",
        "serial",
        "status",
        "actor",
        "reason",
    ]
    assert frame.schema["at"] == pl.Datetime("us", "UTC")
    assert status_event_frame(pl.DataFrame()).columns == frame.columns


def test_inventory_disposition_recall_outranks_hold_outranks_expiry() -> None:
    """After all events: C1 recalled, T1 recalled with serial T1-0001 quarantined on its own;
    an unheld lot past its expiry is `expired`, a held one stays `non_sellable_other`."""
    statuses = current_status(EVENTS, serials=SERIALS)
    on_hand = pl.DataFrame(
        {
            "location_id": ["WH-1", "WH-1", "WH-1", "WH-1"],
            "gtin": [COOKIES, TIN, COOKIES, COOKIES],
            "lot": ["C1", "T1", "C9", "C8"],
            "quantity": [5.0, 2.0, 7.0, 1.0],
        }
    )
    expiry = pl.DataFrame(
        {
            "gtin": [COOKIES, TIN, COOKIES, COOKIES],
            "lot": ["C1", "T1", "C9", "C8"],
            "expiry_date": [date(2026, 9, 1), date(2027, 1, 1), date(2026, 9, 1), date(2027, 1, 1)],
        }
    )
    inventory = inventory_status(on_hand, statuses, expiry, date(2026, 10, 1))
    got = {
        r["lot"]: (r["status"], r["serials_restricted"], r["disposition"])
        for r in inventory.iter_rows(named=True)
    }
    assert got == {
        "C1": ("recall", 0, "recalled"),
        "T1": ("recall", 1, "recalled"),
        "C9": (None, 0, "expired"),
        "C8": (None, 0, "sellable_accessible"),
    }
