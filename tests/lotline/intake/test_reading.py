"""A file that cannot be read at all gets one clear error naming the file, row and column; a row
that cannot be read as written gets an error finding naming its row; nothing goes wrong quietly."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from lotline.intake import reading
from lotline.intake.findings import FINDING_SCHEMA
from lotline.intake.mapping import load_mapping
from lotline.intake.reading import (
    InputError,
    SkippedFile,
    SourceFile,
    SourceRead,
    discover,
    printable,
    read_source,
    scan,
)

HEADER = (
    "gtin,name,brand,commodity,variety,pack_size,pack_uom,pack_style,tracking,shelf_life_days,uom"
)
MOVES = "move_id,moved_at,gtin,lot,quantity,uom,to_location_id,reason"
MOVE = "2026-09-01T08:00:00Z,12345678901231,L1,2,KGM,WH,adjustment"


def _only(folder: Path) -> SourceFile:
    (source,) = discover(folder)
    return source


def _read_csv(folder: Path, text: str, name: str = "moves.csv") -> SourceRead:
    (folder / name).write_bytes(text.encode())
    return read_source(_only(folder))


def _rules(read: SourceRead) -> list[tuple[int, str]]:
    return [(f["row_number"], f["rule"]) for f in read.findings.to_dicts()]


# --- as before ------------------------------------------------------------------------------------


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
    read = read_source(_only(tmp_path))
    assert read.rows.height == 0 and read.findings.height == 0


def test_csv_rows_are_text_with_spreadsheet_row_numbers(tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_text(
        HEADER + "\n12345678901231, Flour ,,,,,,,lot,,KGM\n1234567890128,Sugar,,,,,,,lot,,KGM\n"
    )
    frame = read_source(_only(tmp_path)).rows
    assert frame["_source_row"].to_list() == [2, 3]
    assert frame["name"].to_list() == ["Flour", "Sugar"]
    assert frame["brand"].to_list() == [None, None]
    assert all(dtype == pl.String for name, dtype in frame.schema.items() if name != "_source_row")


def test_parquet_is_read_as_text(tmp_path: Path) -> None:
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
    frame = read_source(_only(tmp_path)).rows
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
    frame = read_source(_only(tmp_path)).rows
    assert frame.select("sscc", "gtin", "lot", "quantity").row(0) == (
        "306141410000010012",
        None,
        None,
        None,
    )


# --- headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("second", ["lot", " LOT "])
def test_a_duplicated_header_names_file_and_column(tmp_path: Path, second: str) -> None:
    (tmp_path / "moves.csv").write_text(f"{MOVES},{second}\nM1,{MOVE},L2\n")
    with pytest.raises(InputError, match="appears twice in the header") as err:
        read_source(_only(tmp_path))
    assert (err.value.row, err.value.column) == (1, second.strip())
    assert str(err.value).startswith("moves.csv, row 1")


def test_a_duplicated_header_in_parquet_after_lower_case(tmp_path: Path) -> None:
    pl.DataFrame({"Lot": ["A"], "lot": ["B"]}).write_parquet(tmp_path / "moves.parquet")
    with pytest.raises(InputError, match="'lot' appears twice"):
        read_source(_only(tmp_path))


def test_a_header_with_an_unclosed_quote_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="header row has an unclosed quote") as err:
        _read_csv(tmp_path, f'"{MOVES}\nM1,{MOVE}\n')
    assert err.value.row == 1


def test_columns_the_contract_does_not_use_are_listed_once(tmp_path: Path) -> None:
    read = _read_csv(tmp_path, f"{MOVES},Bemerkung,,Lager\nM1,{MOVE},x,,y\n")
    assert read.unused_columns == ("Bemerkung", "Lager")


# --- rows that cannot be read as written ----------------------------------------------------------


def test_ragged_rows_are_error_findings_and_reading_goes_on(tmp_path: Path) -> None:
    read = _read_csv(
        tmp_path,
        f"{MOVES}\nM1,{MOVE}\nM2,{MOVE},extra\nM3,2026-09-01T08:00:00Z,12345678901231\nM4,{MOVE}\n",
    )
    assert read.rows["move_id"].to_list() == ["M1", "M4"]
    assert read.rows["_source_row"].to_list() == [2, 5]
    assert _rules(read) == [(3, "ragged_row"), (4, "ragged_row")]
    long, short = read.findings.to_dicts()
    assert long["severity"] == "error" and long["value"] == f"M2,{MOVE},extra"
    assert long["message"] == "9 field(s), the header has 8"
    assert short["message"] == "3 field(s), the header has 8"
    assert (long["source_file"], long["record_type"]) == ("moves.csv", "moves")


def test_an_unclosed_quote_names_its_row_and_the_next_rows_are_read(tmp_path: Path) -> None:
    read = _read_csv(tmp_path, f'{MOVES}\nM1,{MOVE}\nM2,"{MOVE}\nM3,{MOVE}\nM4,{MOVE}\n')
    assert _rules(read) == [(3, "unclosed_quote")]
    assert read.rows["move_id"].to_list() == ["M1", "M3", "M4"]
    assert read.rows["_source_row"].to_list() == [2, 4, 5]


def test_a_quoted_value_over_two_lines_is_one_row(tmp_path: Path) -> None:
    read = _read_csv(
        tmp_path,
        "status_id,at,gtin,lot,status,actor,reason\n"
        'S1,2026-09-01T08:00:00Z,12345678901231,L1,hold,QA,"mould found\non two pallets"\n'
        "S2,2026-09-01T08:00:00Z,12345678901231,L2,hold,QA,\n"
        'S3,2026-09-01T08:00:00Z,12345678901231,L3,hold,QA,"never closed\n',
        name="status.csv",
    )
    assert read.rows["reason"].to_list() == ["mould found\non two pallets", None]
    assert read.rows["_source_row"].to_list() == [2, 3]
    assert _rules(read) == [(4, "unclosed_quote")]


def test_a_last_row_cut_short_is_never_loaded(tmp_path: Path) -> None:
    read = _read_csv(tmp_path, f"{MOVES}\nM1,{MOVE}\nM2,2026-09-01T08:00:00Z,123456")
    assert read.rows["move_id"].to_list() == ["M1"]
    assert _rules(read) == [(3, "truncated_row")]
    assert read.findings["value"][0] == "M2,2026-09-01T08:00:00Z,123456"


def test_a_last_row_cut_inside_a_quote_is_never_loaded(tmp_path: Path) -> None:
    read = _read_csv(tmp_path, f'{MOVES}\nM1,{MOVE}\nM2,2026-09-01T08:00:00Z,"123456')
    assert read.rows["move_id"].to_list() == ["M1"]
    assert _rules(read) == [(3, "truncated_row")]


def test_a_last_row_without_newline_but_complete_is_read(tmp_path: Path) -> None:
    read = _read_csv(tmp_path, f"{MOVES}\nM1,{MOVE}\nM2,{MOVE}")
    assert read.rows["move_id"].to_list() == ["M1", "M2"] and read.findings.is_empty()


def test_a_file_no_row_of_which_can_be_read_names_the_first_row(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no row could be read.*delimiter") as err:
        _read_csv(tmp_path, f"{MOVES}\n\n{MOVE.replace(',', ';')};x\n{MOVE.replace(',', ';')}\n")
    assert err.value.row == 3  # the blank line is row 2


def test_well_formed_files_never_take_the_row_by_row_path(tmp_path: Path, monkeypatch) -> None:
    def row_by_row(*args: object) -> None:
        raise AssertionError("a well-formed file went through the csv module")

    monkeypatch.setattr(reading, "_read_csv_rows", row_by_row)
    rows = "".join(
        f'M{i},{MOVE}\n"M{i}b","2026-09-01T08:00:00Z",12345678901231,"a,""b""\nc",2,KGM,WH,adjustment\n'
        for i in range(2000)
    )
    read = _read_csv(tmp_path, f"{MOVES}\r\n{rows}\n")
    assert read.rows.height == 4000
    assert read.rows["lot"][1] == 'a,"b"\nc'
    assert read.rows["_source_row"][-1] == 4001  # the blank line at the end is row 4002, no record


def test_blank_lines_count_as_rows_but_are_not_records(tmp_path: Path) -> None:
    read = _read_csv(tmp_path, f"{MOVES}\nM1,{MOVE}\n\n,,,,,,,\nM2,{MOVE}\n")
    assert read.rows["_source_row"].to_list() == [2, 5]


def test_row_numbers_agree_on_the_fast_and_the_slow_path(tmp_path: Path) -> None:
    body = (
        f"M1,{MOVE}\n\n"
        'M2,2026-09-01T08:00:00Z,12345678901231,"a\nb",2,KGM,WH,adjustment\n'
        f"M3,{MOVE}\n"
    )
    fast = _read_csv(tmp_path, f"{MOVES}\n{body}")
    slow = _read_csv(tmp_path, f"{MOVES}\n{body}M4,ragged\n")
    assert fast.rows["lot"].to_list() == slow.rows["lot"].to_list() == ["L1", "a\nb", "L1"]
    assert fast.rows["_source_row"].to_list() == [2, 4, 5]
    assert slow.rows["_source_row"].to_list() == [2, 4, 5]
    assert _rules(slow) == [(6, "ragged_row")]


def test_a_quantity_that_overflows_is_an_error(tmp_path: Path) -> None:
    read = _read_csv(tmp_path, f"{MOVES}\nM1,{MOVE}\nM2,{MOVE.replace(',2,', ',1e999,')}\n")
    (finding,) = read.findings.to_dicts()
    assert (finding["row_number"], finding["column"], finding["rule"]) == (3, "quantity", "number")
    assert finding["severity"] == "error" and finding["value"] == "1e999"


def test_findings_have_the_finding_schema(tmp_path: Path) -> None:
    read = _read_csv(tmp_path, f"{MOVES}\nM1,{MOVE}\nM2\n")
    assert read.findings.schema == pl.Schema(FINDING_SCHEMA)
    assert _read_csv(tmp_path, f"{MOVES}\nM1,{MOVE}\n").findings.schema == pl.Schema(FINDING_SCHEMA)


# --- text ---------------------------------------------------------------------------------------


def test_nfc_and_nfd_spellings_of_a_lot_are_one_lot(tmp_path: Path) -> None:
    nfc, nfd = "Crème-1", "Cre\u0300me-1"
    assert nfc != nfd
    read = _read_csv(
        tmp_path,
        f"{MOVES}\nM1,2026-09-01T08:00:00Z,12345678901231,{nfc},2,KGM,WH,adjustment\n"
        f"M2,2026-09-01T08:00:00Z,12345678901231,{nfd},2,KGM,WH,adjustment\n",
    )
    assert read.rows["lot"].to_list() == [nfc, nfc]


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    read = _read_csv(tmp_path, f"\ufeff{MOVES}\nM1,{MOVE}\n")
    assert read.rows["move_id"].to_list() == ["M1"]


def test_a_utf16_file_with_bom_is_read(tmp_path: Path) -> None:
    (tmp_path / "moves.csv").write_bytes(f"{MOVES}\r\nM1,{MOVE}\r\n".encode("utf-16"))
    assert read_source(_only(tmp_path)).rows["move_id"].to_list() == ["M1"]


def test_a_decode_error_names_row_and_column_with_the_mapping_delimiter(tmp_path: Path) -> None:
    (tmp_path / "map.toml").write_text(
        '[[file]]\nmatch = "bewegung*.csv"\ntype = "moves"\nencoding = "cp1252"\ndelimiter = ";"\n'
    )
    row = MOVE.replace(",", ";").replace("WH", "L\x81ger")  # 0x81 is undefined in cp1252
    (tmp_path / "bewegung.csv").write_bytes(
        f"{MOVES.replace(',', ';')}\nM1;{row}\n".encode("latin-1")
    )
    (source,) = discover(tmp_path, mapping=load_mapping(tmp_path / "map.toml"))
    with pytest.raises(InputError) as err:
        read_source(source)
    assert (err.value.row, err.value.column) == (2, "to_location_id")
    assert "not cp1252 text (byte 0x81" in str(err.value)


# --- XLSX -----------------------------------------------------------------------------------------


def _workbook(path: Path, rows: list[list[object]], top: int = 1) -> None:
    book = openpyxl.Workbook()
    for r, values in enumerate(rows, start=top):
        for c, value in enumerate(values, start=1):
            book.active.cell(row=r, column=c, value=value)
    book.create_sheet("Notes").append(["not read"])
    book.save(path)


def test_xlsx_without_a_mapping_is_read_from_its_first_sheet(tmp_path: Path) -> None:
    _workbook(
        tmp_path / "receipts_2026-10.xlsx",
        [
            ["receipt_id", "received_at", "from_location_id", "to_location_id", "gtin", "lot"]
            + ["quantity", "uom", "expiry_date"],
            ["R1", "2026-10-01T08:00:00+02:00", "SUP", "WH", 614141000043, "0310001"]
            + [2.5, "KGM", date(2027, 9, 30)],
            [],
            ["R2", datetime(2026, 10, 1, 9), "SUP", "WH", "614141000043", 310001, 3, "KGM", None],
        ],
    )
    read = read_source(_only(tmp_path))
    rows = read.rows
    assert rows["_source_row"].to_list() == [2, 4]
    assert rows["received_at"].to_list() == [
        "2026-10-01T08:00:00+02:00",
        "2026-10-01 09:00:00",  # a date cell has no offset: rejected without a mapping timezone
    ]
    assert rows["gtin"].to_list() == ["00614141000043", "00614141000043"]
    assert rows["lot"].to_list() == ["0310001", "310001"]  # text cell kept; number cell no ".0"
    assert rows["quantity"].to_list() == ["2.5", "3"]
    assert rows["expiry_date"].to_list() == ["2027-09-30", None]


def test_xlsx_row_numbers_are_the_sheet_rows(tmp_path: Path) -> None:
    _workbook(
        tmp_path / "moves.xlsx",
        [MOVES.split(","), ["M1", *MOVE.split(",")], ["M2", "x"]],
        top=3,
    )
    read = read_source(_only(tmp_path))
    assert read.rows["_source_row"].to_list() == [4, 5]


def test_a_duplicated_header_in_xlsx(tmp_path: Path) -> None:
    _workbook(tmp_path / "moves.xlsx", [[*MOVES.split(","), "Lot"], ["M1", *MOVE.split(","), "x"]])
    with pytest.raises(InputError, match="'Lot' appears twice") as err:
        read_source(_only(tmp_path))
    assert err.value.row == 1


def test_a_broken_xlsx_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "moves.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError, match="moves.xlsx: not a readable XLSX file"):
        read_source(_only(tmp_path))


# --- Parquet --------------------------------------------------------------------------------------


def _parquet_moves(path: Path) -> None:
    pl.DataFrame(
        {
            "move_id": ["M1", "M2"],
            "moved_at": [datetime(2026, 10, 25, 2, 30), datetime(2026, 7, 1, 8, 0)],
            "gtin": [614141000043, 614141000043],
            "lot": [310001.0, 2.0],
            "quantity": [2.5, 3.0],
            "uom": ["KGM", "KGM"],
            "to_location_id": ["WH", "WH"],
            "reason": ["adjustment", "adjustment"],
        }
    ).write_parquet(path)


def test_a_parquet_timestamp_without_zone_is_not_taken_for_utc(tmp_path: Path) -> None:
    _parquet_moves(tmp_path / "moves.parquet")
    rows = read_source(_only(tmp_path)).rows
    assert rows["moved_at"].to_list() == ["2026-10-25T02:30:00", "2026-07-01T08:00:00"]
    assert rows["gtin"].to_list() == ["00614141000043", "00614141000043"]
    assert rows["lot"].to_list() == ["310001", "2"]


def test_a_parquet_timestamp_without_zone_is_localised_by_the_mapping(tmp_path: Path) -> None:
    _parquet_moves(tmp_path / "bewegungen.parquet")
    (tmp_path / "map.toml").write_text(
        '[[file]]\nmatch = "bewegungen.parquet"\ntype = "moves"\ntimezone = "Europe/Berlin"\n'
    )
    (source,) = discover(tmp_path, mapping=load_mapping(tmp_path / "map.toml"))
    read = read_source(source)
    assert read.rows["moved_at"].to_list() == [
        "2026-10-25T02:30:00+02:00",
        "2026-07-01T08:00:00+02:00",
    ]
    assert _rules(read) == [(2, "dst_fold")]


# --- the drop folder ------------------------------------------------------------------------------


def _skipped(found: list[SkippedFile]) -> dict[str, str]:
    return {s.name: s.reason for s in found}


def test_scan_skips_what_is_not_a_data_file_and_says_why(tmp_path: Path) -> None:
    drop, outside = tmp_path / "drop", tmp_path / "outside"
    drop.mkdir()
    outside.mkdir()
    (outside / "moves.csv").write_text(f"{MOVES}\n")
    (drop / "products.xlsx").write_bytes(b"")
    (drop / "archive").mkdir()
    (drop / ".moves.csv.swp").write_text("")
    (drop / "~$receipts.xlsx").write_text("")
    (drop / "notes.txt").write_text("")
    (drop / "moves_link.csv").symlink_to(outside / "moves.csv")
    (drop / "moves_gone.csv").symlink_to(drop / "nowhere.csv")
    (drop / "moves_inside.csv").symlink_to(drop / "products.xlsx")
    found = scan(drop)
    assert [f.name for f in found.files] == ["products.xlsx", "moves_inside.csv"]
    assert _skipped(found.skipped) == {
        ".moves.csv.swp": "hidden file",
        "archive": "subfolder",
        "moves_gone.csv": "dangling symbolic link",
        "moves_link.csv": "symbolic link to outside the drop folder (not followed)",
        "notes.txt": "not a data file (.csv, .xlsx, .parquet)",
        "~$receipts.xlsx": "lock file of a document open in Office",
    }


def test_once_a_ready_marker_exists_files_wait_for_theirs(tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_text(f"{HEADER}\n")
    (tmp_path / "moves.csv").write_text(f"{MOVES}\n")
    assert [f.name for f in scan(tmp_path).files] == ["products.csv", "moves.csv"]
    (tmp_path / "products.csv.ready").write_text("")
    found = scan(tmp_path)
    assert [f.name for f in found.files] == ["products.csv"]
    assert _skipped(found.skipped) == {
        "moves.csv": "waiting for moves.csv.ready",
        "products.csv.ready": "ready marker",
    }


def test_files_still_being_written_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_text(f"{HEADER}\n")
    (tmp_path / "moves.csv").write_text(f"{MOVES}\n")
    old = time.time() - 120
    os.utime(tmp_path / "products.csv", (old, old))
    found = scan(tmp_path, settle_seconds=60)
    assert [f.name for f in found.files] == ["products.csv"]
    assert found.skipped[0].name == "moves.csv"
    assert found.skipped[0].reason.startswith("still being written")
    assert len(scan(tmp_path).files) == 2


def test_an_unreadable_file_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "moves.csv").write_text(f"{MOVES}\n")
    source = _only(tmp_path)
    real_open = Path.open

    def denied(self: Path, *args: object, **kwargs: object):
        if self.name == "moves.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(InputError, match=r"^moves.csv: permission denied"):
        scan(tmp_path)
    with pytest.raises(InputError, match=r"^moves.csv: permission denied"):
        read_source(source)


def test_a_file_changed_after_the_scan_is_refused(tmp_path: Path) -> None:
    (tmp_path / "moves.csv").write_text(f"{MOVES}\nM1,{MOVE}\n")
    source = _only(tmp_path)
    (tmp_path / "moves.csv").write_text(f"{MOVES}\nM2,{MOVE}\n")
    with pytest.raises(InputError, match="changed after the drop folder was scanned"):
        read_source(source)


def test_file_names_in_messages_are_printable(tmp_path: Path) -> None:
    assert printable("moves\n\x1b[31m.csv") == "moves\\n\\x1b[31m.csv"
    assert printable("Lieferung\u200b.csv") == "Lieferung\\u200b.csv"
    assert printable("Wareneingänge.csv") == "Wareneingänge.csv"
    (tmp_path / "bad\nname.csv").write_text("a\n")
    with pytest.raises(InputError) as err:
        scan(tmp_path)
    assert str(err.value).startswith("bad\\nname.csv: unknown record type")
    (tmp_path / "bad\nname.csv").unlink()
    (tmp_path / "notes\t.txt").write_text("")
    assert scan(tmp_path).skipped == [
        SkippedFile("notes\\t.txt", "not a data file (.csv, .xlsx, .parquet)")
    ]


def test_an_empty_header_row_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the header row is empty") as err:
        _read_csv(tmp_path, f"\n{MOVES}\nM1,{MOVE}\n")
    assert err.value.row == 1


def test_gtins_that_lost_leading_zeros_are_recognised_by_their_check_digit(
    tmp_path: Path,
) -> None:
    from lotline import gs1

    values = [str(n) for n in range(1_000_000, 1_000_400)] + [
        "12345670",
        "614141000043",
        "4012345000016",
        "12345600012",
        "0000000",
        "99999999999999",
    ]
    fast = pl.DataFrame({"v": values}).select(reading._short_gtin(pl.col("v"))).to_series()
    assert fast.to_list() == [
        7 <= len(v) <= 13 and gs1.check_digit(v[:-1]) == int(v[-1]) for v in values
    ]
