"""A file that cannot be read at all gets one clear error naming the file, row and column."""

from datetime import UTC
from pathlib import Path

import polars as pl
import pytest

from lotline.intake.reading import InputError, discover, read_source

HEADER = (
    "gtin,name,brand,commodity,variety,pack_size,pack_uom,pack_style,tracking,shelf_life_days,uom"
)


def _only(folder: Path):
    (source,) = discover(folder)
    return source


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="drop folder not found"):
        discover(tmp_path / "nope")


def test_unknown_file_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "invoices.csv").write_text("a\n1\n")
    with pytest.raises(InputError, match="invoices.csv: unknown record type"):
        discover(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_bytes(b"")
    with pytest.raises(InputError, match=r"products.csv: file is empty"):
        read_source(_only(tmp_path))


def test_missing_required_column_names_file_row_and_column(tmp_path: Path) -> None:
    (tmp_path / "products_2026.csv").write_text("gtin,name,uom\n12345678901231,Flour,KGM\n")
    with pytest.raises(InputError) as err:
        read_source(_only(tmp_path))
    assert str(err.value).startswith("products_2026.csv, row 1, column 'tracking': missing")


def test_other_encoding_names_row_and_column(tmp_path: Path) -> None:
    row = "12345678901231,Crème brûlée,,,,,,,lot,,KGM\n"
    (tmp_path / "products.csv").write_bytes((HEADER + "\n" + row).encode("latin-1"))
    with pytest.raises(InputError) as err:
        read_source(_only(tmp_path))
    assert err.value.row == 2 and err.value.column == "name"
    assert "not UTF-8" in str(err.value)


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_text(HEADER + "\n")
    assert read_source(_only(tmp_path)).height == 0


def test_csv_rows_are_text_with_spreadsheet_row_numbers(tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_text(
        HEADER + "\n12345678901231, Flour ,,,,,,,lot,,KGM\n1234567890128,Sugar,,,,,,,lot,,KGM\n"
    )
    frame = read_source(_only(tmp_path))
    assert frame["_source_row"].to_list() == [2, 3]
    assert frame["name"].to_list() == ["Flour", "Sugar"]
    assert frame["brand"].to_list() == [None, None]
    assert all(dtype == pl.String for name, dtype in frame.schema.items() if name != "_source_row")


def test_parquet_is_read_as_text(tmp_path: Path) -> None:
    from datetime import datetime

    pl.DataFrame(
        {
            "move_id": ["M1"],
            "moved_at": [datetime(2026, 9, 1, 8, 0, tzinfo=UTC)],
            "gtin": ["12345678901231"],
            "lot": ["L1"],
            "quantity": [2.5],
            "uom": ["KGM"],
            "to_location_id": ["WH"],
            "reason": ["adjustment"],
        }
    ).write_parquet(tmp_path / "moves.parquet")
    frame = read_source(_only(tmp_path))
    assert frame["moved_at"][0] == "2026-09-01T08:00:00+00:00"
    assert frame["quantity"][0] == "2.5"
    assert frame["serial"][0] is None  # optional column absent from the file


def test_packing_and_status_files_are_recognised_in_load_order(tmp_path: Path) -> None:
    for name in ("status_2026-09.csv", "shipments.csv", "packing-pallets.csv", "products.csv"):
        (tmp_path / name).write_text("x\n")
    assert [s.record_type for s in discover(tmp_path)] == [
        "products",
        "packing",
        "shipments",
        "status",
    ]


def test_a_packing_file_without_parent_sscc_is_refused(tmp_path: Path) -> None:
    (tmp_path / "packing.csv").write_text(
        "packing_id,packed_at,action,child_sscc,location_id\n"
        "K1,2026-09-09T08:00:00Z,pack,306141410000020011,WH-1\n"
    )
    with pytest.raises(InputError, match="missing required column.*parent_sscc") as err:
        read_source(_only(tmp_path))
    assert (err.value.row, err.value.column) == (1, "parent_sscc")


def test_a_pallet_only_shipment_file_needs_no_gtin_lot_or_quantity_column(tmp_path: Path) -> None:
    (tmp_path / "shipments.csv").write_text(
        "shipment_id,shipped_at,from_location_id,to_location_id,sscc\n"
        "SH1,2026-09-10T07:00:00-05:00,WH-1,CUST-A,306141410000010012\n"
    )
    frame = read_source(_only(tmp_path))
    assert frame.select("sscc", "gtin", "lot", "quantity").row(0) == (
        "306141410000010012",
        None,
        None,
        None,
    )
