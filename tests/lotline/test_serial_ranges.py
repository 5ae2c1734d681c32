"""Serials as ranges: runs of consecutive numbers with the same prefix and width."""

from __future__ import annotations

import polars as pl

from lotline.serial_ranges import collapse_serial_lines, describe, ranges


def test_consecutive_serials_are_one_range():
    assert describe([f"SN-{i:04d}" for i in range(1, 41)]) == "SN-0001…SN-0040 (40)"
    assert ranges([f"SN-{i:04d}" for i in (3, 1, 2, 2)]) == [("SN-0001", "SN-0003", 3)]


def test_gaps_prefixes_widths_and_non_numeric_serials_break_runs():
    serials = ["A1", "A2", "A3", "A5", "A07", "A08", "B1", "X", "B2"]
    assert ranges(serials) == [
        ("A1", "A3", 3),
        ("A5", "A5", 1),
        ("A07", "A08", 2),  # another width: another run
        ("B1", "B2", 2),
        ("X", "X", 1),
    ]
    assert describe(serials, runs_listed=3) == "A1…A3 (3), A5, A07…A08 (2) … (+3 more)"
    assert describe(["T1-0001"]) == "T1-0001"


def test_serial_lines_of_one_shipment_line_collapse_and_lot_lines_stay():
    lines = pl.DataFrame(
        {
            "shipment_id": ["S1"] * 40 + ["S2", "S1", "S3"],
            "lot": ["L1"] * 43,
            "sscc": [None] * 40 + [None, None, "SSCC-1"],
            "serial": [f"SN-{i:04d}" for i in range(40, 0, -1)] + [None, "SN-0100", "SN-0041"],
            "quantity": [1.0] * 40 + [5.0, 1.0, 1.0],
            "uom": ["EA"] * 43,
        }
    )
    out = collapse_serial_lines(lines, ["shipment_id", "lot", "sscc", "uom"])
    assert out.rows() == [
        ("S1", "L1", None, "SN-0001…SN-0040 (40), SN-0100", 41.0, "EA"),
        ("S2", "L1", None, None, 5.0, "EA"),
        ("S3", "L1", "SSCC-1", "SN-0041", 1.0, "EA"),  # another pallet: a line of its own
    ]
    assert out.schema == lines.schema
    plain = lines.filter(pl.col("serial").is_null())
    assert collapse_serial_lines(plain, ["shipment_id"]).equals(plain)


def test_a_hub_scale_frame_collapses_in_one_pass():
    """10⁵ serial lines over 2,000 shipment lines: vectorised, no per-line Python."""
    import time

    n = 100_000
    lines = pl.DataFrame(
        {
            "shipment_id": [f"S{i // 50:05d}" for i in range(n)],
            "serial": [f"SN-{i:07d}" for i in range(n)],
            "quantity": [1.0] * n,
        }
    )
    started = time.perf_counter()
    out = collapse_serial_lines(lines, ["shipment_id"])
    assert out.height == 2_000
    assert out.row(0) == ("S00000", "SN-0000000…SN-0000049 (50)", 50.0)
    assert time.perf_counter() - started < 5
