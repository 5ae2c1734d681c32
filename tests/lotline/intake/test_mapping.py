"""Mapping files: every key turns a company's export into contract text; every mistake in a
mapping stops the load with one line naming the mapping file, the key and the source file."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from lotline.intake import mapping as mapping_module
from lotline.intake.mapping import (
    FileMapping,
    MappingError,
    default_file_mapping,
    load_mapping,
)
from lotline.intake.reading import InputError, SourceRead, discover, read_source, scan

DATA = Path(__file__).parents[2] / "data" / "mapping"

SHIPMENTS = "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,quantity,uom"


def _toml(folder: Path, text: str, name: str = "map.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _read(folder: Path, mapping: Path | str) -> SourceRead:
    (source,) = discover(folder, mapping=load_mapping(mapping))
    return read_source(source)


def _one_file(file_keys: str, defaults: str = "", match: str = "export*.csv") -> str:
    return f'[defaults]\n{defaults}\n[[file]]\nmatch = "{match}"\ntype = "shipments"\n{file_keys}\n'


# --- the German goods-receipt fixture: every text convention at once ------------------------------


@pytest.fixture()
def wareneingang(tmp_path: Path) -> SourceRead:
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(DATA / "Wareneingang_2026-10.csv", drop)
    return _read(drop, DATA / "wareneingang.toml")


def _row(read: SourceRead, row: int) -> dict[str, object]:
    return read.rows.filter(pl.col("_source_row") == row).row(0, named=True)


def test_cp1252_semicolons_and_skip_rows_give_contract_columns(wareneingang: SourceRead) -> None:
    # the title line is row 1, the header row 2: records start at row 3
    assert wareneingang.rows["_source_row"].to_list() == [3, 4, 5, 6]
    first = _row(wareneingang, 3)
    assert (first["receipt_id"], first["from_location_id"], first["to_location_id"]) == (
        "WE-1",
        "Mühle Schneider",
        "Lager Süd",
    )
    assert wareneingang.unused_columns == ("Bemerkung",)


def test_decimal_comma_becomes_a_dot_only_in_number_columns(wareneingang: SourceRead) -> None:
    assert wareneingang.rows["quantity"].to_list() == ["1234.5", "25", "0.5", "7"]
    assert _row(wareneingang, 3)["ref_doc_number"] == "R-77"


def test_date_format_gives_iso_dates(wareneingang: SourceRead) -> None:
    assert wareneingang.rows["expiry_date"].to_list()[:3] == [
        "2027-09-30",
        "2027-10-01",
        "2028-03-15",
    ]


def test_a_date_not_in_the_format_keeps_its_text_and_is_an_error(wareneingang: SourceRead) -> None:
    assert _row(wareneingang, 6)["expiry_date"] == "31.02.2028"
    (finding,) = wareneingang.findings.filter(pl.col("rule") == "date_format").to_dicts()
    assert finding["row_number"] == 6 and finding["column"] == "expiry_date"
    assert finding["severity"] == "error" and finding["value"] == "31.02.2028"
    assert "%d.%m.%Y" in finding["message"]
    assert finding["source_file"] == "Wareneingang_2026-10.csv"
    assert finding["record_type"] == "receipts" and len(finding["source_sha256"]) == 64


def test_datetime_format_and_timezone_give_the_offset_in_force(wareneingang: SourceRead) -> None:
    assert _row(wareneingang, 3)["received_at"] == "2026-10-24T14:05:00+02:00"  # summer time
    assert _row(wareneingang, 6)["received_at"] == "2026-07-01T08:00:00+02:00"


def test_a_time_in_the_autumn_fold_is_the_first_with_a_warning(wareneingang: SourceRead) -> None:
    assert _row(wareneingang, 4)["received_at"] == "2026-10-25T02:30:00+02:00"
    (fold,) = wareneingang.findings.filter(pl.col("rule") == "dst_fold").to_dicts()
    assert (fold["row_number"], fold["column"], fold["severity"]) == (4, "received_at", "warning")
    assert fold["value"] == "25.10.2026 02:30"


def test_a_time_in_the_spring_gap_is_an_error(wareneingang: SourceRead) -> None:
    assert _row(wareneingang, 5)["received_at"] == "29.03.2026 02:30"  # left as written
    (gap,) = wareneingang.findings.filter(pl.col("rule") == "dst_gap").to_dicts()
    assert (gap["row_number"], gap["column"], gap["severity"]) == (5, "received_at", "error")
    assert "Europe/Berlin" in gap["message"]


def test_value_maps_replace_exact_values_and_pass_others(wareneingang: SourceRead) -> None:
    assert wareneingang.rows["ref_doc_type"].to_list() == ["inv", "desadv", "Gutschrift", "inv"]


def test_constants_fill_a_column_the_file_lacks(wareneingang: SourceRead) -> None:
    assert wareneingang.rows["uom"].unique().to_list() == ["KGM"]


def test_gtins_that_lost_leading_zeros_are_padded(wareneingang: SourceRead) -> None:
    assert wareneingang.rows["gtin"].to_list() == [
        "04012345000016",
        "00012345600012",
        "00614141000043",
        "00614141000043",
    ]


def test_lot_codes_keep_their_leading_zeros(wareneingang: SourceRead) -> None:
    assert _row(wareneingang, 3)["lot"] == "0310001"


def test_only_the_fold_gap_and_bad_date_are_findings(wareneingang: SourceRead) -> None:
    assert sorted(wareneingang.findings["rule"].to_list()) == ["date_format", "dst_fold", "dst_gap"]


# --- keys one at a time ---------------------------------------------------------------------------


def test_defaults_apply_and_a_file_entry_overrides_them(tmp_path: Path) -> None:
    (tmp_path / "export_1.csv").write_text(f'{SHIPMENTS}\nS1,2026-09-10T07:00:00Z,A,B,,,"2,5",\n')
    mapping = load_mapping(
        _toml(tmp_path, _one_file('decimal = ","', defaults='decimal = "."\nskip_rows = 0'))
    )
    (entry,) = mapping.files
    assert (entry.decimal, entry.delimiter, entry.encoding, entry.skip_rows) == (
        ",",
        ",",
        "utf-8",
        0,
    )
    assert entry.origin == str(tmp_path / "map.toml")
    assert read_source(discover(tmp_path, mapping=mapping)[0]).rows["quantity"][0] == "2.5"


def test_gtin_in_scientific_notation_is_read_back_only_when_exact(tmp_path: Path) -> None:
    (tmp_path / "shipments.csv").write_text(
        f"{SHIPMENTS}\n"
        "S1,2026-09-10T07:00:00Z,A,B,1.2345600012E10,L1,1,EA\n"
        "S2,2026-09-10T07:00:00Z,A,B,614141000043.0,L1,1,EA\n"
        "S3,2026-09-10T07:00:00Z,A,B,6.14141E+11,L1,1,EA\n"  # digits lost: rejected later
        "S4,2026-09-10T07:00:00Z,A,B,12345600013,L1,1,EA\n"  # bad check digit: left as written
    )
    (source,) = discover(tmp_path)
    assert read_source(source).rows["gtin"].to_list() == [
        "00012345600012",
        "00614141000043",
        "6.14141E+11",
        "12345600013",
    ]


def test_datetime_format_with_an_offset_needs_no_timezone(tmp_path: Path) -> None:
    (tmp_path / "export_1.csv").write_text(
        f"{SHIPMENTS}\nS1,10.09.2026 07:00 +0200,A,B,,,,\nS2,2026-09-10T07:00:00-05:00,A,B,,,,\n"
    )
    read = _read(tmp_path, _toml(tmp_path, _one_file('datetime_format = "%d.%m.%Y %H:%M %z"')))
    # the instant is kept (as UTC), a value already written with an offset is kept as written
    assert read.rows["shipped_at"].to_list() == [
        "2026-09-10T05:00:00+00:00",
        "2026-09-10T07:00:00-05:00",
    ]


def test_local_times_without_timezone_stay_as_written(tmp_path: Path) -> None:
    (tmp_path / "export_1.csv").write_text(f"{SHIPMENTS}\nS1,10.09.2026 07:00,A,B,,,,\n")
    read = _read(tmp_path, _toml(tmp_path, _one_file('datetime_format = "%d.%m.%Y %H:%M"')))
    assert read.rows["shipped_at"].to_list() == ["10.09.2026 07:00"]  # the validator rejects it


def test_timezone_localises_iso_local_times_without_a_format(tmp_path: Path) -> None:
    (tmp_path / "export_1.csv").write_text(
        f"{SHIPMENTS}\nS1,2026-01-15 07:00,A,B,,,,\nS2,2026-07-15T07:00:00,A,B,,,,\n"
    )
    read = _read(tmp_path, _toml(tmp_path, _one_file('timezone = "Europe/Berlin"')))
    assert read.rows["shipped_at"].to_list() == [
        "2026-01-15T07:00:00+01:00",
        "2026-07-15T07:00:00+02:00",
    ]


def test_columns_are_matched_by_header_ignoring_case_and_spaces(tmp_path: Path) -> None:
    (tmp_path / "export_1.csv").write_text(
        " Lieferschein ,shipped_at,from_location_id,to_location_id\nS1,2026-09-10T07:00:00Z,A,B\n"
    )
    read = _read(
        tmp_path, _toml(tmp_path, _one_file('[file.columns]\nshipment_id = "LIEFERSCHEIN"'))
    )
    assert read.rows["shipment_id"].to_list() == ["S1"]


def test_one_header_may_feed_two_contract_columns(tmp_path: Path) -> None:
    (tmp_path / "export_1.csv").write_text(
        "shipment_id,shipped_at,Lager\nS1,2026-09-10T07:00:00Z,WH-1\n"
    )
    text = _one_file('[file.columns]\nfrom_location_id = "Lager"\nto_location_id = "Lager"')
    read = _read(tmp_path, _toml(tmp_path, text))
    assert read.rows.select("from_location_id", "to_location_id").row(0) == ("WH-1", "WH-1")


def test_a_constant_overrides_a_column_of_the_file(tmp_path: Path) -> None:
    (tmp_path / "export_1.csv").write_text(f"{SHIPMENTS}\nS1,2026-09-10T07:00:00Z,A,B,,,1,kg\n")
    read = _read(tmp_path, _toml(tmp_path, _one_file('[file.constants]\nuom = "KGM"')))
    assert read.rows["uom"].to_list() == ["KGM"]


def test_value_maps_match_after_strip_and_nfc(tmp_path: Path) -> None:
    (tmp_path / "export_1.csv").write_text(
        "shipment_id,shipped_at,from_location_id,to_location_id,ref_doc_type\n"
        "S1,2026-09-10T07:00:00Z,A,B, Lieferschein \n"
        "S2,2026-09-10T07:00:00Z,A,B,Be\u0301leg\n"  # NFD in the file
    )
    text = _one_file('[file.values.ref_doc_type]\n"Lieferschein" = "desadv"\n"Béleg" = "inv"')
    read = _read(tmp_path, _toml(tmp_path, text))
    assert read.rows["ref_doc_type"].to_list() == ["desadv", "inv"]


def test_the_first_matching_file_entry_wins(tmp_path: Path) -> None:
    mapping = load_mapping(
        _toml(
            tmp_path,
            '[[file]]\nmatch = "LIEF*.csv"\ntype = "shipments"\n'
            '[[file]]\nmatch = "*.csv"\ntype = "receipts"\n',
        )
    )
    assert mapping.for_file("lieferungen.CSV").type == "shipments"  # case-insensitive
    assert mapping.for_file("other.csv").type == "receipts"
    assert mapping.for_file("other.xlsx") is None


def test_a_contract_named_file_not_matched_uses_the_contract(tmp_path: Path) -> None:
    (tmp_path / "shipments.csv").write_text(f'{SHIPMENTS}\nS1,2026-09-10T07:00:00Z,A,B,,,"2,5",\n')
    mapping = load_mapping(_toml(tmp_path, _one_file("", defaults='decimal = ","')))
    (source,) = discover(tmp_path, mapping=mapping)
    assert source.mapping is None
    assert read_source(source).rows["quantity"][0] == "2,5"  # the contract's dot decimal
    assert default_file_mapping("shipments") == FileMapping(match="shipments*", type="shipments")


def test_a_data_file_neither_mapped_nor_contract_named_stops_the_load(tmp_path: Path) -> None:
    (tmp_path / "Lagerbestand.csv").write_text("a\n1\n")
    mapping = load_mapping(_toml(tmp_path, _one_file("")))
    with pytest.raises(InputError, match=r"Lagerbestand.csv: unknown record type.*\[\[file\]\]"):
        scan(tmp_path, mapping=mapping)


def test_a_bundled_profile_is_loaded_by_name(tmp_path: Path, monkeypatch) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    _toml(profiles, _one_file(""), "acme.toml")
    monkeypatch.setattr(mapping_module, "PROFILES", profiles)
    mapping = load_mapping("acme")
    assert mapping.origin == "profile acme"
    assert mapping.files[0].origin == "profile acme"
    with pytest.raises(MappingError, match="nor a bundled profile; profiles: acme"):
        load_mapping("sap")


@pytest.mark.parametrize("name", ["odoo", "erpnext"])
def test_the_shipped_profiles_load(name: str) -> None:
    if not (mapping_module.PROFILES / f"{name}.toml").exists():
        pytest.skip(f"profile {name} not written yet")
    assert load_mapping(name).files


# --- XLSX with a mapping --------------------------------------------------------------------------


def test_xlsx_sheet_and_mapping(tmp_path: Path) -> None:
    from datetime import datetime

    book = openpyxl.Workbook()
    book.active.title = "Deckblatt"
    book.active.append(["nothing to read here"])
    sheet = book.create_sheet("Artikel")
    sheet.append(["Lieferschein", "Datum", "Von", "An", "EAN", "Charge", "Menge", "Einheit"])
    sheet.append(["S1", datetime(2026, 10, 25, 2, 30), "A", "B", 614141000043, 310001, 2.5, "kg"])
    sheet.append(["S2", "10.09.2026 07:00", "A", "B", "614141000043", "0310001", "1.234,5", "kg"])
    book.save(tmp_path / "Lieferungen.xlsx")
    text = _one_file(
        'sheet = "Artikel"\n'
        'datetime_format = "%d.%m.%Y %H:%M"\ntimezone = "Europe/Berlin"\ndecimal = ","\n'
        '[file.columns]\nshipment_id = "Lieferschein"\nshipped_at = "Datum"\n'
        'from_location_id = "Von"\nto_location_id = "An"\ngtin = "EAN"\nlot = "Charge"\n'
        'quantity = "Menge"\nuom = "Einheit"\n[file.values.uom]\n"kg" = "KGM"',
        match="Lieferungen*.xlsx",
    )
    read = _read(tmp_path, _toml(tmp_path, text))
    assert read.rows["_source_row"].to_list() == [2, 3]
    assert read.rows["shipped_at"].to_list() == [
        "2026-10-25T02:30:00+02:00",  # a date cell, localised (fold: first, with a warning)
        "2026-09-10T07:00:00+02:00",  # a text cell, by datetime_format
    ]
    assert read.rows["gtin"].to_list() == ["00614141000043", "00614141000043"]
    assert read.rows["lot"].to_list() == ["310001", "0310001"]  # a number cell has no ".0"
    assert read.rows["quantity"].to_list() == ["2.5", "1234.5"]  # a number cell stays a dot
    assert read.rows["uom"].to_list() == ["KGM", "KGM"]
    assert read.findings["rule"].to_list() == ["dst_fold"]


# --- mistakes in the mapping ----------------------------------------------------------------------


def _mistake(tmp_path: Path, text: str, csv: str | None = None) -> str:
    """The one-line message of the MappingError the mapping `text` causes."""
    if csv is not None:
        (tmp_path / "export_1.csv").write_text(csv)
    path = _toml(tmp_path, text)
    with pytest.raises(MappingError) as err:
        _read(tmp_path, path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(str(path))  # names the mapping file first
    return message


SHIPMENT_ROW = f"{SHIPMENTS}\nS1,2026-09-10T07:00:00Z,A,B,,,,\n"


def test_error_bad_toml_names_the_line(tmp_path: Path) -> None:
    message = _mistake(tmp_path, '[[file]]\nmatch = "x.csv"\ntype shipments\n')
    assert "not valid TOML" in message and "line 3" in message


def test_error_unknown_type(tmp_path: Path) -> None:
    message = _mistake(tmp_path, '[[file]]\nmatch = "export*.csv"\ntype = "shipment"\n')
    assert "[[file]] 'export*.csv', key 'type'" in message
    assert "unknown record type 'shipment' (did you mean 'shipments'?)" in message


def test_error_missing_match_or_type(tmp_path: Path) -> None:
    assert "key 'match': required" in _mistake(tmp_path, '[[file]]\ntype = "shipments"\n')
    assert "key 'type': required" in _mistake(tmp_path, '[[file]]\nmatch = "export*.csv"\n')


def test_error_unknown_key(tmp_path: Path) -> None:
    message = _mistake(tmp_path, _one_file('[file.column]\nlot = "Charge"'))
    assert "key 'column': unknown key (did you mean 'columns'?)" in message
    message = _mistake(tmp_path, '[defaults]\nencodng = "cp1252"\n')
    assert "key 'defaults.encodng'" in message
    assert "key 'Defaults'" in _mistake(tmp_path, '[Defaults]\nencoding = "cp1252"\n')


def test_error_unknown_contract_column(tmp_path: Path) -> None:
    for table in ("columns", "constants", "values"):
        value = '{"a" = "b"}' if table == "values" else '"x"'
        message = _mistake(tmp_path, _one_file(f"[file.{table}]\nlots = {value}"))
        assert f"key '{table}.lots'" in message
        assert "'lots' is not a contract column (did you mean 'lot'?)" in message


def test_error_mapped_header_missing_from_the_file(tmp_path: Path) -> None:
    message = _mistake(tmp_path, _one_file('[file.columns]\nlot = "Charge"'), SHIPMENT_ROW)
    assert "key 'columns.lot'" in message and "file export_1.csv" in message
    assert "the file has no column 'Charge'" in message


def test_a_mapped_column_wins_over_a_header_of_the_same_name(tmp_path: Path) -> None:
    (tmp_path / "export_1.csv").write_text(
        "shipment_id,shipped_at,from_location_id,to_location_id,lot,Charge\nS,T,F,C,A,B\n"
    )
    read = _read(tmp_path, _toml(tmp_path, _one_file('[file.columns]\nlot = "Charge"')))
    assert read.rows["lot"].to_list() == ["B"]
    assert "lot" in read.unused_columns


def test_error_unknown_encoding(tmp_path: Path) -> None:
    message = _mistake(tmp_path, '[defaults]\nencoding = "windows-1234"\n')
    assert "key 'defaults.encoding': unknown encoding 'windows-1234'" in message


def test_error_unknown_timezone(tmp_path: Path) -> None:
    message = _mistake(tmp_path, _one_file('timezone = "Europe/Berlim"'))
    assert "key 'timezone': unknown time zone 'Europe/Berlim'" in message


def test_error_bad_delimiter_decimal_and_skip_rows(tmp_path: Path) -> None:
    assert "key 'delimiter'" in _mistake(tmp_path, _one_file('delimiter = ";;"'))
    assert "key 'decimal'" in _mistake(tmp_path, _one_file('decimal = "\'"'))
    assert "key 'skip_rows': must be a whole number" in _mistake(
        tmp_path, _one_file('skip_rows = "1"')
    )


def test_error_skip_rows_past_the_end_of_the_file(tmp_path: Path) -> None:
    message = _mistake(tmp_path, _one_file("skip_rows = 5"), SHIPMENT_ROW)
    assert "key 'skip_rows'" in message and "file export_1.csv" in message


def test_error_sheet_that_does_not_exist(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Tabelle1"
    book.active.append(["shipment_id"])
    book.save(tmp_path / "export_1.xlsx")
    message = _mistake(tmp_path, _one_file('sheet = "Artikel"', match="export*.xlsx"))
    assert "key 'sheet'" in message and "file export_1.xlsx" in message
    assert "no sheet 'Artikel'; the workbook has 'Tabelle1'" in message


def test_error_date_format_that_fits_no_value(tmp_path: Path) -> None:
    csv = "receipt_id,expiry_date\nR1,2027-09-30x\nR2,30.09.2027\n"
    text = (
        '[[file]]\nmatch = "export*.csv"\ntype = "receipts"\ndate_format = "%d/%m/%Y"\n'
        '[file.constants]\nreceived_at = "2026-01-01T00:00:00Z"\nfrom_location_id = "A"\n'
        'to_location_id = "B"\ngtin = "614141000043"\nlot = "L"\nquantity = 1\nuom = "KGM"\n'
    )
    message = _mistake(tmp_path, text, csv)
    assert "key 'date_format'" in message and "file export_1.csv" in message
    assert "column 'expiry_date'" in message and "'2027-09-30x'" in message


def test_error_datetime_format_that_fits_no_value(tmp_path: Path) -> None:
    csv = f"{SHIPMENTS}\nS1,2026/09/10 07:00,A,B,,,,\nS2,2026/09/11 07:00,A,B,,,,\n"
    message = _mistake(tmp_path, _one_file('datetime_format = "%d.%m.%Y %H:%M"'), csv)
    assert "key 'datetime_format'" in message and "column 'shipped_at'" in message
    assert "'2026/09/10 07:00'" in message


def test_a_mapping_error_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.toml")


def test_decimal_comma_leaves_text_columns_alone(tmp_path: Path) -> None:
    (tmp_path / "export_1.csv").write_text(
        "shipment_id;shipped_at;from_location_id;to_location_id;lot;quantity\n"
        "S1;2026-09-10T07:00:00Z;A;B;12,5;1.234\n"
        "S2;2026-09-10T07:00:00Z;A;B;1.234;-1.234.567,25\n"
    )
    read = _read(tmp_path, _toml(tmp_path, _one_file('delimiter = ";"\ndecimal = ","')))
    assert read.rows["lot"].to_list() == ["12,5", "1.234"]
    assert read.rows["quantity"].to_list() == ["1234", "-1234567.25"]


def test_skip_rows_counts_the_lines_above_the_header_as_rows(tmp_path: Path) -> None:
    (tmp_path / "export_1.csv").write_text(
        f"Report of 2026-09-10\nprinted by QA\n{SHIPMENTS}\n"
        "S1,2026-09-10T07:00:00Z,A,B,,,,\nS2,ragged\nS3,2026-09-10T07:00:00Z,A,B,,,,\n"
    )
    read = _read(tmp_path, _toml(tmp_path, _one_file("skip_rows = 2")))
    assert read.rows["_source_row"].to_list() == [4, 6]
    assert read.findings.select("row_number", "rule").rows() == [(5, "ragged_row")]


def test_a_source_file_with_a_mapping_stays_hashable(tmp_path: Path) -> None:
    (tmp_path / "export_1.csv").write_text(SHIPMENT_ROW)
    (source,) = discover(tmp_path, mapping=load_mapping(_toml(tmp_path, _one_file(""))))
    assert source.mapping is not None and source.mapping.type == "shipments"
    assert len({source, source}) == 1


def test_error_an_encoding_that_is_not_of_text(tmp_path: Path) -> None:
    assert "unknown encoding 'rot13'" in _mistake(tmp_path, _one_file('encoding = "rot13"'))


def test_the_readme_example_loads_as_the_readme_says(tmp_path: Path) -> None:
    """docs/examples/: the German shipments export of the README's "Loading your own exports"."""
    from lotline import api, store
    from lotline.intake.ingest import load_folder

    examples = Path(__file__).parents[3] / "docs" / "examples"
    engine = store.make_engine(store.sqlite_url(tmp_path / "example.sqlite"))
    report = load_folder(
        engine, examples / "lieferungen", mapping=load_mapping(examples / "lieferungen.toml")
    )
    shipments = next(f for f in report.files if f.record_type == "shipments")
    assert (shipments.rows_read, shipments.rows_loaded, shipments.rows_warned) == (3, 3, 1)
    assert report.summary().select("rule", "severity", "top_values").rows() == [
        ("dst_fold", "warning", ["2026-10-25T02:30:00+02:00"])
    ]
    trace = api.trace_lot(engine, "04012345000016", "0310002", "forward")
    assert sorted(trace.shipments["shipment_id"]) == ["LS-4712", "LS-4713"]
    assert trace.consignees.select("to_location_id", "quantity").rows() == [("CUST-B", 11.0)]
    first = api.trace_lot(engine, "04012345000016", "0310001", "forward").shipments.row(
        0, named=True
    )
    assert (first["quantity"], first["ref_doc_type"]) == (12.5, "inv")
    assert str(first["shipped_at"]) == "2026-11-03 13:05:00+00:00"  # 14:05 in Berlin (CET)
