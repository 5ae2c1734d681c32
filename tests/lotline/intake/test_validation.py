"""Every validation rule quarantines its bad row with file, row, column, rule and value.

One load of the small supply chain with one bad row appended per case: each case's row must land
in `rejected_record` with the expected rule, and every row read must be accounted for.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from lotline import api, store
from lotline.gs1 import with_check_digit
from lotline.intake.contract import RECORD_TYPES
from lotline.intake.ingest import load_folder

SMALL = Path(__file__).parents[2] / "data" / "small"
PACKING = Path(__file__).parents[2] / "data" / "packing"
UNKNOWN_GTIN = with_check_digit("0061414100009")
CASE1, CASE2 = "306141410000020011", "306141410000020028"
PALLET2, UNKNOWN_SSCC = "306141410000010029", "306141410000099994"
LOT_CHILD = {"gtin": "00614141000043", "serial": "", "lot": "C1", "quantity": "2", "uom": "CS"}

# (case id, file, {column: value} applied to a copy of the file's first row, column, rule)
CASES = [
    ("gtin_check_digit", "receipts", {"gtin": "00614141000013"}, "gtin", "gtin_check_digit"),
    ("quantity_not_number", "receipts", {"quantity": "12,5"}, "quantity", "number"),
    ("quantity_zero", "receipts", {"quantity": "0"}, "quantity", "quantity_positive"),
    ("quantity_negative", "shipments", {"quantity": "-3"}, "quantity", "quantity_positive"),
    (
        "timestamp_no_offset",
        "receipts",
        {"received_at": "2026-09-01T08:00:00"},
        "received_at",
        "timestamp_with_offset",
    ),
    ("timestamp_garbage", "moves", {"moved_at": "yesterday"}, "moved_at", "timestamp_with_offset"),
    ("date_not_a_date", "receipts", {"expiry_date": "2026-02-30"}, "expiry_date", "iso_date"),
    (
        "unknown_location",
        "receipts",
        {"from_location_id": "SUP-NOWHERE"},
        "from_location_id",
        "known_location",
    ),
    ("unknown_product", "shipments", {"gtin": UNKNOWN_GTIN}, "gtin", "known_product"),
    ("missing_lot", "receipts", {"lot": ""}, "lot", "required"),
    ("invisible_character", "receipts", {"lot": "C\u200b1"}, "lot", "identifier_characters"),
    ("control_character", "shipments", {"lot": "C\x1f1"}, "lot", "identifier_characters"),
    ("lot_too_long", "production", {"lot": "L" * 21}, "lot", "gs1_length"),
    ("serial_too_long", "receipts", {"serial": "S" * 21}, "serial", "gs1_length"),
    ("quantity_infinite", "moves", {"quantity": "9" * 400}, "quantity", "number"),
    (
        "unknown_production",
        "consumption",
        {"production_id": "P-NONE"},
        "production_id",
        "known_production",
    ),
    (
        "move_locations",
        "moves",
        {"reason": "transfer", "to_location_id": ""},
        "from_location_id",
        "move_locations_match_reason",
    ),
    ("sscc_check_digit", "shipments", {"sscc": "306141410000000014"}, "sscc", "sscc_check_digit"),
    ("bad_tracking", "products", {"tracking": "by weight"}, "tracking", "allowed_value"),
    (
        "serial_twice",
        "production",
        {"gtin": "00614141000050", "serial": "T1-0002", "uom": "EA", "quantity": "1"},
        "serial",
        "serial_unique",
    ),
    (
        "duplicate_line",
        "shipments",
        {"shipment_id": "SH1", "quantity": "7"},
        "shipment_id,gtin,lot,serial,sscc",
        "unique_line",
    ),
    # shipments: a lot line or a whole SSCC
    ("shipment_lot_missing", "shipments", {"lot": ""}, "lot", "lot_or_sscc"),
    (
        "shipment_names_nothing",
        "shipments",
        {"gtin": "", "lot": "", "sscc": ""},
        "lot",
        "lot_or_sscc",
    ),
    (
        "shipment_unknown_pallet",
        "shipments",
        {"gtin": "", "lot": "", "quantity": "", "uom": "", "sscc": UNKNOWN_SSCC},
        "sscc",
        "known_sscc",
    ),
    ("shipment_no_quantity", "shipments", {"quantity": ""}, "quantity", "quantity_with_lot"),
    # packing (first row: pack serial T1-0001 into case 1 at 2026-09-07 11:00)
    ("packing_bad_action", "packing", {"action": "move"}, "action", "allowed_value"),
    (
        "packing_parent_check_digit",
        "packing",
        {"parent_sscc": "306141410000020012"},
        "parent_sscc",
        "sscc_check_digit",
    ),
    (
        "packing_time_no_offset",
        "packing",
        {"packed_at": "2026-09-07T11:00:00"},
        "packed_at",
        "timestamp_with_offset",
    ),
    (
        "packing_unknown_location",
        "packing",
        {"location_id": "DOCK-9"},
        "location_id",
        "known_location",
    ),
    ("packing_unknown_product", "packing", {"gtin": UNKNOWN_GTIN}, "gtin", "known_product"),
    ("packing_unknown_serial", "packing", {"serial": "T1-9999"}, "serial", "serial_known"),
    ("packing_two_children", "packing", {"child_sscc": CASE2}, "child_sscc", "one_child"),
    ("packing_no_child", "packing", {"gtin": "", "serial": ""}, "child_sscc", "one_child"),
    (
        "packing_lot_no_quantity",
        "packing",
        {**LOT_CHILD, "quantity": ""},
        "child_sscc",
        "one_child",
    ),
    (
        "packing_into_itself",
        "packing",
        {"gtin": "", "serial": "", "child_sscc": CASE1},
        "child_sscc",
        "child_is_not_parent",
    ),
    (
        "unpack_before_pack",
        "packing",
        {"action": "unpack", "packed_at": "2026-09-07T10:30:00-05:00"},
        "action",
        "unpack_of_packed",
    ),
    (
        "unpack_from_other_sscc",
        "packing",
        {"action": "unpack", "parent_sscc": PALLET2, "serial": "T1-0003"},
        "action",
        "unpack_of_packed",
    ),
    (
        "unpack_more_than_packed",
        "packing",
        {
            **LOT_CHILD,
            "action": "unpack",
            "parent_sscc": CASE2,
            "quantity": "11",
            "packed_at": "2026-09-08T09:00:00-05:00",
        },
        "action",
        "unpack_of_packed",
    ),
    (
        "pack_while_in_other_sscc",
        "packing",
        {"parent_sscc": PALLET2, "packed_at": "2026-09-08T09:00:00-05:00"},
        "action",
        "child_not_already_packed",
    ),
    # status (first row: hold of lot C1)
    ("status_bad_value", "status", {"status": "frozen"}, "status", "allowed_value"),
    ("status_no_subject", "status", {"lot": ""}, "lot", "lot_or_serial"),
    ("status_no_actor", "status", {"actor": ""}, "actor", "required"),
    ("status_time_no_offset", "status", {"at": "2026-09-09"}, "at", "timestamp_with_offset"),
    ("status_unknown_product", "status", {"gtin": UNKNOWN_GTIN}, "gtin", "known_product"),
    (
        "status_unknown_serial",
        "status",
        {"gtin": "00614141000050", "lot": "", "serial": "T1-9999"},
        "serial",
        "serial_known",
    ),
]
# rows that stay traceable: they load, and the finding is stored with them (`record_finding`)
WARNING_CASES = [
    (
        "expiry_before_production",
        "production",
        {"expiry_date": "2026-09-01"},
        "expiry_date",
        "expiry_not_before_production",
    ),
    ("unknown_uom", "receipts", {"uom": "XYZ"}, "uom", "uom_code"),
    ("uom_differs_from_product", "receipts", {"uom": "LBR"}, "uom", "uom_matches_product"),
    ("bad_ref_doc_type", "receipts", {"ref_doc_type": "fax"}, "ref_doc_type", "allowed_value"),
    ("bad_move_reason", "moves", {"reason": "lost"}, "reason", "allowed_value"),
    (
        "scrap_with_destination",
        "moves",
        {"reason": "scrap"},
        "to_location_id",
        "scrap_without_destination",
    ),
    ("gln_check_digit", "locations", {"gln": "0614141000013"}, "gln", "gln_check_digit"),
    ("latitude_range", "locations", {"latitude": "95"}, "latitude", "latitude_range"),
    (
        "shelf_life_not_integer",
        "products",
        {"shelf_life_days": "ten"},
        "shelf_life_days",
        "integer",
    ),
    (
        "serial_required",
        "production",
        {"gtin": "00614141000050", "serial": "", "uom": "EA", "quantity": "1"},
        "serial",
        "serial_required",
    ),
    (
        "serial_quantity",
        "production",
        {"gtin": "00614141000050", "serial": "T9-0001", "uom": "EA", "quantity": "2"},
        "quantity",
        "serial_quantity_one",
    ),
    ("packing_lot_unit", "packing", {**LOT_CHILD, "uom": "KGM"}, "uom", "uom_matches_product"),
    ("status_no_reason", "status", {"reason": ""}, "reason", "reason_required"),
    ("time_in_future", "moves", {"moved_at": "2099-01-01T08:00:00Z"}, "moved_at", "time_in_future"),
]
KEYS = {
    "receipts": "receipt_id",
    "production": "production_id",
    "moves": "move_id",
    "shipments": "shipment_id",
    "locations": "location_id",
    "packing": "packing_id",
    "status": "status_id",
}


def _append_bad_rows(drop: Path) -> dict[str, tuple[str, int]]:
    """Append one row per case; returns case id -> (file name, spreadsheet row number)."""
    where: dict[str, tuple[str, int]] = {}
    for i, (case, record_type, changes, _, _) in enumerate(CASES + WARNING_CASES):
        path = drop / f"{record_type}.csv"
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        row = dict(rows[0])
        if record_type in KEYS:
            row[KEYS[record_type]] = f"BAD-{i}"
        if record_type == "products":
            row["gtin"] = with_check_digit(f"00614141{i:05d}")
        if record_type == "consumption":
            row["lot"] = f"F-BAD-{i}"
        row.update(changes)
        with path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=list(rows[0])).writerow(row)
        where[case] = (path.name, len(rows) + 2)
    return where


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("validation")
    drop = folder / "drop"
    shutil.copytree(SMALL, drop)
    shutil.copytree(PACKING, drop, dirs_exist_ok=True)
    where = _append_bad_rows(drop)
    engine = store.make_engine(store.sqlite_url(folder / "db.sqlite"))
    report = load_folder(engine, drop)
    errors = {case: where[case] for case, *_ in CASES}
    return engine, report, errors, api.rejected_records(engine), where


@pytest.mark.parametrize(
    ("case", "record_type", "changes", "column", "rule"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_row_is_rejected_with_reason(loaded, case, record_type, changes, column, rule):
    _, _, where, rejected, _ = loaded
    file_name, row_number = where[case]
    hits = rejected.filter(
        (pl.col("source_file") == file_name) & (pl.col("row_number") == row_number)
    )
    assert not hits.is_empty(), f"{case}: row {row_number} of {file_name} was not rejected"
    match = hits.filter((pl.col("rule") == rule) & (pl.col("column") == column))
    assert not match.is_empty(), f"{case}: rules seen {hits.select('rule', 'column').rows()}"
    first = match.row(0, named=True)
    named = column.split(",")[0]
    if named in changes and rule != "unique_line":
        assert first["value"] == (changes[named] or None)
    assert first["message"]
    original = json.loads(first["record"])
    assert set(original) == set(RECORD_TYPES[record_type].columns)  # the whole row is kept


@pytest.mark.parametrize(
    ("case", "record_type", "changes", "column", "rule"),
    WARNING_CASES,
    ids=[c[0] for c in WARNING_CASES],
)
def test_suspicious_row_loads_with_a_warning(loaded, case, record_type, changes, column, rule):
    engine, _, _, rejected, where = loaded
    file_name, row_number = where[case]
    at_row = (pl.col("source_file") == file_name) & (pl.col("row_number") == row_number)
    assert rejected.filter(at_row).is_empty(), f"{case}: {rejected.filter(at_row).to_dicts()}"
    found = api.record_findings(engine).filter(at_row)
    match = found.filter((pl.col("rule") == rule) & (pl.col("column") == column))
    assert not match.is_empty(), f"{case}: findings {found.select('rule', 'column').rows()}"
    first = match.row(0, named=True)
    assert first["severity"] == "warning" and first["message"]
    if column in changes and changes[column]:
        assert first["value"] == changes[column]
    assert first["record_hash"], "a finding names the record it was stored with"


def test_nothing_is_lost(loaded) -> None:
    engine, report, where, rejected, _ = loaded
    for f in report.files:
        assert f.rows_read == f.rows_loaded + f.rows_unchanged + f.rows_rejected, f
    import models

    for f in report.files:
        if f.record_type in models.RECORD_TABLES:
            stored = store.read_frame(engine, models.RECORD_TABLES[f.record_type])
            assert stored.height == f.rows_loaded
    rejected_rows = rejected.select("source_file", "row_number").unique()
    assert rejected_rows.height == sum(f.rows_rejected for f in report.files)
    # every appended bad row is rejected; the good rows of the small chain are loaded (apart from
    # the two serial rows the duplicate serial case collides with, and their consumers)
    assert {(f, r) for f, r in where.values()} <= set(rejected_rows.iter_rows())


def test_valid_packing_and_status_rows_are_loaded(loaded) -> None:
    """The good rows survive next to their bad copies: rules reject rows, not files."""
    _, report, _, _, _ = loaded
    loaded_rows = {f.record_type: f.rows_loaded for f in report.files}
    # the good rows, plus the warning cases' rows (one packing, one status)
    assert loaded_rows["packing"] == 10 and loaded_rows["status"] == 5


def test_status_reason_rule_applies_to_restricting_statuses_only() -> None:
    from lotline.intake.validation import References, validate

    raw = pl.DataFrame(
        {
            "_source_row": [2, 3],
            **{c: [None, None] for c in RECORD_TYPES["status"].columns},
            "_source_file": ["status.csv"] * 2,
            "_source_sha256": ["x"] * 2,
        },
        schema_overrides={c: pl.String for c in RECORD_TYPES["status"].columns},
    ).with_columns(
        status_id=pl.Series(["S1", "S2"]),
        at=pl.lit("2026-09-09T09:00:00Z"),
        gtin=pl.lit("00614141000043"),
        lot=pl.lit("C1"),
        status=pl.Series(["release", "quarantine"]),
        actor=pl.lit("qa"),
    )
    refs = References(
        products=pl.DataFrame({"gtin": ["00614141000043"], "tracking": ["lot"], "uom": ["CS"]})
    )
    result = validate("status", raw, refs)
    assert result.valid["status_id"].to_list() == ["S1", "S2"]
    assert result.findings.select("row_number", "rule", "severity").rows() == [
        (3, "reason_required", "warning")
    ]
    strict = validate("status", raw, refs, strict=True)
    assert strict.valid["status_id"].to_list() == ["S1"]
    assert strict.rejected.select("row_number", "rule").rows() == [(3, "reason_required")]
