"""Completeness checks: a clean chain finds nothing; each planted defect is found by its check."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest

import models
from lotline import completeness as c
from lotline import store
from lotline.lineage import Lineage, Records, build_lineage

FLOUR, SUGAR, COOKIES, TIN = "00614141000012", "00614141000029", "00614141000043", "00614141000050"
GTIN_OF = {"F": FLOUR, "G": SUGAR, "C": COOKIES, "T": TIN}
UOM_OF = {FLOUR: "KGM", SUGAR: "KGM", COOKIES: "CS", TIN: "EA"}
MODELS = {"products": models.Product, "locations": models.Location, **models.RECORD_TABLES}
PRODUCTS = [
    {"gtin": g, "name": name, "tracking": tracking, "uom": UOM_OF[g]}
    for g, name, tracking in [
        (FLOUR, "Wheat flour", "lot"),
        (SUGAR, "Cane sugar", "lot"),
        (COOKIES, "Butter cookies", "lot"),
        (TIN, "Cookie gift tin", "serial"),
    ]
]
LOCATIONS = [
    {"location_id": loc, "kind": kind, "business_name": loc}
    for loc, kind in [
        ("SUP", "supplier"),
        ("SITE", "site"),
        ("WH", "warehouse"),
        ("CUST", "customer"),
    ]
]


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def frame(name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = store.polars_schema(MODELS[name])
    defaults = {"tz_offset": "+00:00"}
    return pl.DataFrame(
        [{col: row.get(col, defaults.get(col)) for col in schema} for row in rows], schema=schema
    )


def line(lot: str, qty: float, serial: str | None = None, uom: str | None = None) -> dict:
    gtin = GTIN_OF[lot[0]]
    return {"gtin": gtin, "lot": lot, "serial": serial, "quantity": qty, "uom": uom or UOM_OF[gtin]}


def receipt(rid: str, lot: str, qty: float, expiry: date | None = None) -> dict:
    return {
        "receipt_id": rid,
        "received_at": at(9, 1),
        "from_location_id": "SUP",
        "to_location_id": "SITE",
        "expiry_date": expiry,
        **line(lot, qty),
    }


def produced(pid: str, day: int, lot: str, qty: float, expiry: date, serial: str | None = None):
    return {
        "production_id": pid,
        "completed_at": at(9, day),
        "location_id": "SITE",
        "expiry_date": expiry,
        **line(lot, qty, serial),
    }


def consumed(pid: str, lot: str, qty: float) -> dict:
    return {"production_id": pid, **line(lot, qty)}


def moved(mid: str, when: datetime, lot: str, qty: float, src, dst, reason: str, serial=None):
    return {
        "move_id": mid,
        "moved_at": when,
        "from_location_id": src,
        "to_location_id": dst,
        "reason": reason,
        **line(lot, qty, serial),
    }


def shipped(sid: str, when: datetime, lot: str, qty: float, src: str = "WH", serial=None, **kw):
    return {
        "shipment_id": sid,
        "shipped_at": when,
        "from_location_id": src,
        "to_location_id": "CUST",
        **line(lot, qty, serial, kw.get("uom")),
        **({"tz_offset": kw["tz_offset"]} if "tz_offset" in kw else {}),
    }


CLEAN: dict[str, list[dict[str, Any]]] = {
    "receipts": [receipt("R1", "F1", 1000, date(2027, 2, 1))],
    "production": [
        produced("P1", 2, "C1", 100, date(2026, 12, 1)),
        produced("P2", 3, "T1", 1, date(2026, 12, 1), serial="S1"),
        produced("P2", 3, "T1", 1, date(2026, 12, 1), serial="S2"),
    ],
    "consumption": [consumed("P1", "F1", 240), consumed("P2", "C1", 10)],
    "moves": [moved("M1", at(9, 4), "C1", 90, "SITE", "WH", "transfer")],
    "shipments": [
        shipped("SH1", at(9, 10), "C1", 40),
        shipped("SH2", at(9, 10), "T1", 1, src="SITE", serial="S1"),
    ],
}


def chain(**extra: list[dict[str, Any]]) -> tuple[Records, Lineage]:
    """The clean chain plus the given extra rows per record type."""
    given = {"products": PRODUCTS, "locations": LOCATIONS}
    rows = {name: CLEAN.get(name, []) + extra.get(name, []) for name in MODELS}
    records = Records(
        **{f.name: frame(f.name, given.get(f.name, rows.get(f.name, []))) for f in fields(Records)}
    )
    return records, build_lineage(records)


def found(result: pl.DataFrame) -> list[tuple]:
    return sorted(result.select("check", "gtin", "lot", "serial", "reference").iter_rows())


def test_clean_chain_has_no_exceptions_and_full_scores() -> None:
    records, lineage = chain()
    exceptions = c.trace_exceptions(records, lineage)
    assert exceptions.columns == c.EXCEPTION_COLUMNS
    assert exceptions.is_empty()
    scores = c.completeness_score(lineage.lots, exceptions)
    assert scores["score"].to_list() == [1.0, 1.0, 1.0]
    # F1: 4 checks apply; C1 made and shipped: all 8 scored checks; T1 likewise
    assert dict(zip(scores["lot"], scores["n_checks"], strict=True)) == {"F1": 4, "C1": 8, "T1": 8}


def test_broken_chain_consumed_lot_never_received() -> None:
    records, lineage = chain(consumption=[consumed("P1", "F9", 10)])
    assert found(c.broken_chain(records, lineage)) == [("broken_chain", FLOUR, "F9", None, "P1")]
    assert c.orphan_lots(records, lineage).is_empty()


def test_orphan_lot_only_moves_mention() -> None:
    records, lineage = chain(moves=[moved("M9", at(9, 5), "F8", 5, None, "SITE", "adjustment")])
    assert found(c.orphan_lots(records, lineage)) == [("orphan_lot", FLOUR, "F8", None, "M9")]
    assert c.broken_chain(records, lineage).is_empty()


def test_negative_on_hand_in_product_units() -> None:
    # 10,000 g of F1 shipped from WH, where F1 never was: WH at -10 KGM
    records, lineage = chain(shipments=[shipped("SH9", at(9, 11), "F1", 10000, uom="GRM")])
    result = c.negative_on_hand(records, lineage)
    assert found(result) == [("negative_on_hand", FLOUR, "F1", None, "WH")]
    assert result["detail"].to_list() == ["book stock -10 KGM at WH"]


def test_negative_on_hand_clean() -> None:
    assert c.negative_on_hand(*chain()).is_empty()


@pytest.mark.parametrize(
    ("shipped_at", "flagged"),
    [
        (datetime(2026, 12, 2, 3, tzinfo=UTC), True),  # 22:00 on Dec 1 in -05:00: expiry day
        (datetime(2026, 12, 1, 3, tzinfo=UTC), False),  # 22:00 on Nov 30 local, Dec 1 in UTC
    ],
)
def test_shipped_expired_by_local_ship_date(shipped_at: datetime, flagged: bool) -> None:
    late = shipped("SH9", shipped_at, "T1", 1, src="SITE", serial="S2", tz_offset="-05:00")
    result = c.shipped_expired(*chain(shipments=[late]))
    expected = [("shipped_expired", TIN, "T1", "S2", "SH9")] if flagged else []
    assert found(result) == expected
    assert result["severity"].to_list() == (["error"] if flagged else [])


def status_events(rows: list[tuple[str, str, str | None, str, datetime]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "gtin": pl.String,
            "lot": pl.String,
            "serial": pl.String,
            "status": pl.String,
            "at": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )


def test_shipped_held_uses_the_status_in_force_at_ship_time() -> None:
    records, lineage = chain()
    held = status_events(
        [(COOKIES, "C1", None, "hold", at(9, 9)), (COOKIES, "C1", None, "release", at(9, 11))]
    )
    result = c.shipped_held(lineage, status_events=held)
    assert found(result) == [("shipped_held", COOKIES, "C1", None, "SH1")]
    # stored status records are used when no frame is passed
    with_status = replace(records, status=held)
    assert found(c.trace_exceptions(with_status, lineage)) == found(result)


def test_shipped_held_serial_event_and_clean_cases() -> None:
    _, lineage = chain()
    serial_hold = status_events([(TIN, "T1", "S1", "quarantine", at(9, 5))])
    assert found(c.shipped_held(lineage, status_events=serial_hold)) == [
        ("shipped_held", TIN, "T1", "S1", "SH2")
    ]
    after = status_events(
        [
            (COOKIES, "C1", None, "recall", at(9, 10, 13)),  # an hour after shipping
            (TIN, "T1", "S2", "hold", at(9, 5)),  # another serial of the lot
            (TIN, "T1", None, "hold", at(9, 5)),
            (TIN, "T1", "S1", "release", at(9, 6)),  # the shipped serial was released
        ]
    )
    assert c.shipped_held(lineage, status_events=after).is_empty()
    assert c.shipped_held(lineage).is_empty()


def test_shipped_held_from_current_status_is_a_warning() -> None:
    _, lineage = chain()
    now = pl.DataFrame(
        {"gtin": [COOKIES, TIN], "lot": ["C1", "T1"], "serial": [None, None]},
        schema={"gtin": pl.String, "lot": pl.String, "serial": pl.String},
    )
    held = c.shipped_held(lineage, current_status=now.with_columns(status=pl.lit("hold")))
    assert found(held) == [
        ("shipped_held", COOKIES, "C1", None, "SH1"),
        ("shipped_held", TIN, "T1", "S1", "SH2"),
    ]
    assert set(held["severity"]) == {"warning"}
    recalled = now.with_columns(status=pl.lit("recall"))  # recalled after shipping: expected
    assert c.shipped_held(lineage, current_status=recalled).is_empty()


def test_output_outlives_input() -> None:
    late_cookies = produced("P1", 2, "C1", 100, date(2027, 3, 1))  # flour F1 expires 2027-02-01
    production = [late_cookies, *CLEAN["production"][1:]]
    records = replace(chain()[0], production=frame("production", production))
    result = c.output_outlives_input(build_lineage(records))
    assert found(result) == [("output_outlives_input", COOKIES, "C1", None, f"{FLOUR}/F1")]
    assert result["detail"].to_list() == [
        "expiry 2027-03-01 is later than input lot F1 expiry 2027-02-01"
    ]


def test_output_outlives_input_clean() -> None:
    assert c.output_outlives_input(chain()[1]).is_empty()


def test_serial_shipped_twice_without_return() -> None:
    again = shipped("SH9", at(9, 12), "T1", 1, src="SITE", serial="S1")
    result = c.serial_shipped_twice(chain(shipments=[again])[0])
    assert found(result) == [("serial_shipped_twice", TIN, "T1", "S1", "SH9")]
    assert "SH2" in result["detail"][0]


def test_serial_shipped_again_after_a_return_is_fine() -> None:
    back = moved("M9", at(9, 11), "T1", 1, "CUST", "WH", "return", serial="S1")
    again = shipped("SH9", at(9, 12), "T1", 1, serial="S1")
    records, _ = chain(moves=[back], shipments=[again])
    assert c.serial_shipped_twice(records).is_empty()


def test_duplicate_lot_code_across_products_is_info() -> None:
    records, lineage = chain(receipts=[receipt("R2", "G1", 50)])
    assert c.duplicate_lot_codes(lineage).is_empty()
    records, lineage = chain(receipts=[{**receipt("R2", "G1", 50), "lot": "F1"}])
    result = c.duplicate_lot_codes(lineage)
    assert found(result) == [
        ("duplicate_lot_code", FLOUR, "F1", None, None),
        ("duplicate_lot_code", SUGAR, "F1", None, None),
    ]
    assert set(result["severity"]) == {"info"}
    assert sorted(result["detail"]) == [
        f"lot code also used under GTIN {FLOUR}",
        f"lot code also used under GTIN {SUGAR}",
    ]


def test_mass_balance_failure() -> None:
    # 10 kg of F1 moved to the supplier with no shipment record: 990 of 1000 accounted
    leak = moved("M9", at(9, 5), "F1", 10, "SITE", "SUP", "transfer")
    records, lineage = chain(moves=[leak])
    exceptions = c.trace_exceptions(records, lineage)
    assert found(exceptions) == [("mass_balance", FLOUR, "F1", None, None)]
    assert exceptions["detail"].to_list() == [
        "accounted 990 of inflow 1000 KGM (99 %), difference -10"
    ]


def test_completeness_score_counts_applicable_checks() -> None:
    leak = moved("M9", at(9, 5), "F1", 10, "SITE", "SUP", "transfer")
    duplicate = {**receipt("R2", "G1", 50), "lot": "C1"}  # info only: not scored
    records, lineage = chain(moves=[leak], receipts=[duplicate])
    exceptions = c.trace_exceptions(records, lineage)
    scores = {
        (r["gtin"], r["lot"]): r
        for r in c.completeness_score(lineage.lots, exceptions).iter_rows(named=True)
    }
    flour, cookies, sugar = scores[FLOUR, "F1"], scores[COOKIES, "C1"], scores[SUGAR, "C1"]
    assert (flour["score"], flour["n_checks"], flour["checks_failed"]) == (
        0.75,
        4,
        ["mass_balance"],
    )  # 3 of 4 applicable checks passed
    assert (cookies["score"], cookies["n_exceptions"]) == (1.0, 1)
    assert cookies["checks_failed"] == ["duplicate_lot_code"]
    assert (sugar["score"], sugar["n_exceptions"]) == (1.0, 1)


def test_checks_metadata_covers_every_check_that_reports() -> None:
    assert len(set(c.CHECK_NAMES)) == len(c.CHECKS) == 10
    assert {check.severity for check in c.CHECKS} <= {c.ERROR, c.WARNING, c.INFO}
    assert all(check.description.endswith(".") for check in c.CHECKS)
    records, lineage = chain(
        consumption=[consumed("P1", "F9", 10)],
        moves=[moved("M9", at(9, 5), "F8", 5, None, "SITE", "adjustment")],
        shipments=[shipped("SH9", at(9, 12), "T1", 1, src="SITE", serial="S1")],
    )
    reported = set(c.trace_exceptions(records, lineage)["check"])
    assert reported == {"broken_chain", "orphan_lot", "serial_shipped_twice", "negative_on_hand"}
    assert reported <= set(c.CHECK_NAMES)


def test_check_summary_has_one_row_per_check() -> None:
    records, lineage = chain(consumption=[consumed("P1", "F9", 10), consumed("P2", "F9", 1)])
    summary = c.check_summary(c.trace_exceptions(records, lineage))
    assert summary["check"].to_list() == list(c.CHECK_NAMES)
    by_check = {r["check"]: r for r in summary.iter_rows(named=True)}
    assert (by_check["broken_chain"]["n_exceptions"], by_check["broken_chain"]["passed"]) == (
        1,
        False,
    )
    assert by_check["broken_chain"]["n_lots"] == 1
    assert by_check["negative_on_hand"]["n_exceptions"] == 1  # F9 at SITE: -11 KGM
    assert by_check["orphan_lot"]["passed"] and by_check["orphan_lot"]["n_exceptions"] == 0


def test_unresolved_sscc_lines_are_reported_without_lowering_lot_scores() -> None:
    records, lineage = chain()
    pallet = pl.DataFrame(
        {
            "shipment_id": ["SH77"],
            "shipped_at": [datetime(2026, 9, 9, 14, tzinfo=UTC)],
            "to_location_id": ["CUST"],
            "sscc": ["106141411234567891"],
        }
    )
    found = c.trace_exceptions(records, lineage, unresolved=pallet)
    unresolved = found.filter(pl.col("check") == "unresolved_sscc")
    assert unresolved.select("severity", "gtin", "reference").rows() == [
        ("error", None, "shipment SH77 SSCC 106141411234567891")
    ]
    assert "2026-09-09" in unresolved["detail"][0]
    scores = c.completeness_score(lineage.lots, found)
    assert scores["score"].min() == c.completeness_score(lineage.lots, found.clear())["score"].min()
