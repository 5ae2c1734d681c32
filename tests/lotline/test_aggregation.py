"""SSCC contents are derived from pack/unpack events: nesting, unpack, repack, pallet shipments.

The hand-made history (all times UTC, 2026-09-01):

    08:00  case A <- serials S1, S2;  case B <- 10 CS of lot L1
    09:00  pallet 1 <- case A, case B, 5 CS of lot L2
    10:00  S2 taken out of case A
    11:00  case B taken off pallet 1
    12:00  case B put on pallet 2
    13:00  4 CS of L1 taken out of case B (6 CS stay)
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from lotline.aggregation import (
    PACKING_SCHEMA,
    commissioned_serials,
    containment,
    contents_at,
    explode_shipments,
    sscc_for_serial_at,
    ssccs_of_serial,
    unresolved_shipments,
)
from lotline.gs1 import with_check_digit

PAL1, PAL2 = with_check_digit("30614141000001001"), with_check_digit("30614141000001002")
CASE_A, CASE_B = with_check_digit("30614141000002001"), with_check_digit("30614141000002002")
NOWHERE = with_check_digit("30614141000009999")
TIN, COOKIES = "00614141000050", "00614141000043"


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 9, 1, hour, minute, tzinfo=UTC)


def _packing() -> pl.DataFrame:
    rows = [
        # packing_id, hour, action, parent, child_sscc, gtin, lot, serial, quantity, uom
        ("K1", 8, "pack", CASE_A, None, TIN, None, "S1", None, None),
        ("K1", 8, "pack", CASE_A, None, TIN, None, "S2", None, None),
        ("K2", 8, "pack", CASE_B, None, COOKIES, "L1", None, 10.0, "CS"),
        ("K3", 9, "pack", PAL1, CASE_A, None, None, None, None, None),
        ("K3", 9, "pack", PAL1, CASE_B, None, None, None, None, None),
        ("K3", 9, "pack", PAL1, None, COOKIES, "L2", None, 5.0, "CS"),
        ("K4", 10, "unpack", CASE_A, None, TIN, None, "S2", None, None),
        ("K5", 11, "unpack", PAL1, CASE_B, None, None, None, None, None),
        ("K6", 12, "pack", PAL2, CASE_B, None, None, None, None, None),
        ("K7", 13, "unpack", CASE_B, None, COOKIES, "L1", None, 4.0, "CS"),
    ]
    return pl.DataFrame(
        [
            {
                "packing_id": r[0],
                "packed_at": at(r[1]),
                "action": r[2],
                "parent_sscc": r[3],
                "child_sscc": r[4],
                "gtin": r[5],
                "lot": r[6],
                "serial": r[7],
                "quantity": r[8],
                "uom": r[9],
                "location_id": "WH-1",
            }
            for r in rows
        ],
        schema=PACKING_SCHEMA,
    )


PACKING = _packing()


def _children(frame: pl.DataFrame) -> list[tuple]:
    """(depth, path, what, quantity) per row, sorted: what is an SSCC, serial or lot code."""
    what = pl.coalesce("child_sscc", "serial", "lot")
    return sorted(frame.select("depth", "path", what, "quantity").rows())


def test_containment_intervals_end_at_unpack_and_partial_unpack_splits_a_lot() -> None:
    intervals = containment(PACKING)
    s2 = intervals.filter(pl.col("serial") == "S2").row(0, named=True)
    assert (s2["parent_sscc"], s2["packed_at"], s2["unpacked_at"]) == (CASE_A, at(8), at(10))
    case_b = intervals.filter(pl.col("child_sscc") == CASE_B)
    assert case_b.select("parent_sscc", "packed_at", "unpacked_at").rows() == [
        (PAL1, at(9), at(11)),
        (PAL2, at(12), None),
    ]
    l1 = intervals.filter(pl.col("lot") == "L1").sort("packed_at")
    assert l1.select("quantity", "packed_at", "unpacked_at").rows() == [
        (10.0, at(8), at(13)),
        (6.0, at(13), None),
    ]
    assert intervals.height == 8  # S1, S2, L1 twice, case A, case B twice, L2


def test_nested_pallet_contents_before_unpack() -> None:
    inside = contents_at(PACKING, PAL1, at(9, 30))
    assert _children(inside) == [
        (1, PAL1, CASE_A, 1.0),
        (1, PAL1, CASE_B, 1.0),
        (1, PAL1, "L2", 5.0),
        (2, f"{PAL1}/{CASE_A}", "S1", 1.0),
        (2, f"{PAL1}/{CASE_A}", "S2", 1.0),
        (2, f"{PAL1}/{CASE_B}", "L1", 10.0),
    ]
    serial = inside.filter(pl.col("serial") == "S1").row(0, named=True)
    assert (serial["parent_sscc"], serial["gtin"], serial["child_kind"]) == (CASE_A, TIN, "serial")


def test_an_unpacked_serial_is_gone_from_the_instant_of_the_unpack() -> None:
    assert "S2" not in contents_at(PACKING, PAL1, at(10))["serial"].to_list()
    assert "S2" in contents_at(PACKING, PAL1, at(9, 59))["serial"].to_list()


def test_a_case_moved_to_another_pallet_is_followed() -> None:
    assert _children(contents_at(PACKING, PAL1, at(11, 30))) == [
        (1, PAL1, CASE_A, 1.0),
        (1, PAL1, "L2", 5.0),
        (2, f"{PAL1}/{CASE_A}", "S1", 1.0),
    ]
    assert contents_at(PACKING, PAL2, at(11, 30)).is_empty()
    assert _children(contents_at(PACKING, PAL2, at(12, 30))) == [
        (1, PAL2, CASE_B, 1.0),
        (2, f"{PAL2}/{CASE_B}", "L1", 10.0),
    ]
    assert _children(contents_at(PACKING, PAL2, at(14))) == [
        (1, PAL2, CASE_B, 1.0),
        (2, f"{PAL2}/{CASE_B}", "L1", 6.0),
    ]


def test_which_ssccs_held_a_serial_over_time() -> None:
    assert ssccs_of_serial(PACKING, TIN, "S2").rows() == [
        (CASE_A, 1, at(8), at(10)),
        (PAL1, 2, at(9), at(10)),
    ]
    assert ssccs_of_serial(PACKING, TIN, "S1").rows() == [
        (CASE_A, 1, at(8), None),
        (PAL1, 2, at(9), None),
    ]
    assert sscc_for_serial_at(PACKING, TIN, "S1", at(8, 30))["sscc"].to_list() == [CASE_A]
    assert sscc_for_serial_at(PACKING, TIN, "S1", at(9, 30))["sscc"].to_list() == [CASE_A, PAL1]
    assert sscc_for_serial_at(PACKING, TIN, "S2", at(10, 30)).is_empty()
    assert ssccs_of_serial(PACKING, TIN, "S9").is_empty()


def _shipments() -> pl.DataFrame:
    def line(shipment_id, hour, sscc, gtin=None, lot=None, quantity=None, uom=None):
        return {
            "shipment_id": shipment_id,
            "shipped_at": at(hour, 30),
            "tz_offset": "+00:00",
            "from_location_id": "WH-1",
            "to_location_id": "CUST-A",
            "gtin": gtin,
            "lot": lot,
            "serial": None,
            "sscc": sscc,
            "quantity": quantity,
            "uom": uom,
            "ref_doc_type": "bol",
            "ref_doc_number": f"BOL-{shipment_id}",
        }

    return pl.DataFrame(
        [
            line("SH1", 9, PAL1),  # the whole pallet, both cases still on it
            line("SH2", 9, None, COOKIES, "L7", 3.0, "CS"),  # an ordinary lot line
            line("SH3", 13, PAL2),  # the repacked pallet after the partial unpack
            line("SH4", 13, NOWHERE),  # an SSCC with nothing packed in it
        ],
        schema_overrides={"quantity": pl.Float64, "serial": pl.String, "lot": pl.String},
    )


def test_a_pallet_shipment_becomes_one_line_per_serial_and_lot_inside() -> None:
    serials = commissioned_serials(
        pl.DataFrame(
            {"gtin": [TIN, TIN], "serial": ["S1", "S2"], "lot": ["T1", "T1"], "uom": ["EA", "EA"]}
        )
    )
    shipments = _shipments()
    lines = explode_shipments(shipments, PACKING, serials)
    assert lines.columns == shipments.columns
    got = sorted(
        lines.select("shipment_id", "sscc", "gtin", "lot", "serial", "quantity", "uom").rows()
    )
    assert got == [
        ("SH1", PAL1, COOKIES, "L1", None, 10.0, "CS"),
        ("SH1", PAL1, COOKIES, "L2", None, 5.0, "CS"),
        ("SH1", PAL1, TIN, "T1", "S1", 1.0, "EA"),
        ("SH1", PAL1, TIN, "T1", "S2", 1.0, "EA"),
        ("SH2", None, COOKIES, "L7", None, 3.0, "CS"),
        ("SH3", PAL2, COOKIES, "L1", None, 6.0, "CS"),
    ]
    sh1 = lines.filter(pl.col("shipment_id") == "SH1")
    assert sh1["ref_doc_number"].unique().to_list() == ["BOL-SH1"]
    assert sh1["shipped_at"].unique().to_list() == [at(9, 30)]
    assert (
        explode_shipments(lines, PACKING, serials)
        .sort(lines.columns)
        .equals(lines.sort(lines.columns))
    )
    assert unresolved_shipments(shipments, PACKING)["shipment_id"].to_list() == ["SH4"]


def test_without_serial_master_a_serial_line_has_no_lot() -> None:
    lines = explode_shipments(_shipments().head(1), PACKING)
    s1 = lines.filter(pl.col("serial") == "S1").row(0, named=True)
    assert (s1["gtin"], s1["lot"], s1["quantity"]) == (TIN, None, 1.0)


def test_empty_packing_is_accepted() -> None:
    empty = pl.DataFrame()
    assert containment(empty).is_empty()
    assert contents_at(empty, PAL1, at(9)).is_empty()
    shipments = _shipments()
    assert explode_shipments(shipments, empty)["shipment_id"].to_list() == ["SH2"]
