"""FSMA 204 sortable spreadsheet: sheets, KDE columns and values against the small supply chain
(tests/data/small), the glossary, the XLSX and CSV read back, period selection, the CLI."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import sqlalchemy as sa

from lotline import api, fsma204
from lotline.cli import main
from lotline.safe_csv import neutralise
from lotline.trace import Direction, TraceResult
from reports.fsma204 import write_fsma204

FLOUR, COOKIES, TIN = "00614141000012", "00614141000043", "00614141000050"


def _trace_sheets(
    engine: sa.Engine, gtin: str, lot: str, direction: Direction = "both"
) -> tuple[TraceResult, dict[str, pl.DataFrame]]:
    result = api.trace_lot(engine, gtin, lot, direction)
    return result, fsma204.for_trace(result, engine)


def _row(frame: pl.DataFrame, **match: object) -> dict[str, object]:
    rows = frame.filter(**match)
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_trace_sheets_have_the_kde_columns_and_one_row_per_trace_row(
    small_engine: sa.Engine,
) -> None:
    result, sheets = _trace_sheets(small_engine, FLOUR, "F1")
    assert list(sheets) == ["Receiving", "Shipping", "Transformation", "Glossary"]
    assert sheets["Receiving"].columns == fsma204.RECEIVING_COLUMNS
    assert sheets["Shipping"].columns == fsma204.SHIPPING_COLUMNS
    assert sheets["Transformation"].columns == fsma204.TRANSFORMATION_COLUMNS
    assert sheets["Glossary"].columns == fsma204.GLOSSARY_COLUMNS
    for required in (
        "Traceability Lot Code (TLC)",
        "Quantity",
        "Unit of Measure",
        "Product Name",
        "Immediate Previous Source Business Name",
        "Receiving Street Address or Coordinates",
        "Date Received",
        "TLC Source Location ID",
        "TLC Source Reference",
        "Reference Document Type",
        "Reference Document Number",
    ):
        assert required in sheets["Receiving"].columns
    # F1 was received once (R1) and reaches C1, C2 and the serialised tin T1 downstream
    assert sheets["Receiving"].height == result.receipts.height == 1
    assert sheets["Shipping"].height == result.shipments.height == 4
    assert sheets["Transformation"].height == result.edges.height == 7
    assert set(sheets["Shipping"]["Event ID"]) == {"SH1", "SH2", "SH3"}


def test_shipping_rows_name_the_consignee_with_local_ship_date(small_engine: sa.Engine) -> None:
    _, sheets = _trace_sheets(small_engine, FLOUR, "F1", "forward")
    assert sheets["Receiving"].is_empty()  # forward only: no receipts
    row = _row(sheets["Shipping"], **{"Event ID": "SH1"})
    assert row["Traceability Lot Code (TLC)"] == "C1"
    assert row["GTIN"] == COOKIES
    assert row["Quantity"] == 50
    assert row["Unit of Measure"] == "CS"
    assert row["Product Name"] == "Butter cookies 12x200g"
    assert row["Packaging Size"] == "2.4 KGM"
    assert row["Immediate Subsequent Recipient Location ID"] == "CUST-A"
    assert row["Immediate Subsequent Recipient Business Name"] == "Corner Grocer Inc"
    assert row["Immediate Subsequent Recipient City"] == "Springfield"
    assert row["Ship-From Business Name"] == "Lotline Central Warehouse"
    assert row["Date Shipped"] == date(2026, 9, 10)
    assert row["TLC Source Location ID"] == "SITE-1"  # C1 was made (its TLC assigned) there
    assert row["TLC Source Business Name"] == "Lotline Bakery Plant 1"
    assert (row["Reference Document Type"], row["Reference Document Number"]) == (
        "bol",
        "BOL-501",
    )
    assert row["SSCC"] == "306141410000000013"
    tin = _row(sheets["Shipping"], **{"Event ID": "SH3"})
    assert (tin["GTIN"], tin["Serial Number"], tin["Unit of Measure"]) == (TIN, "T1-0001", "EA")


def test_receiving_rows_name_supplier_and_tlc_source(small_engine: sa.Engine) -> None:
    result, sheets = _trace_sheets(small_engine, COOKIES, "C1", "backward")
    receiving = sheets["Receiving"]
    assert receiving.height == result.receipts.height == 3
    row = _row(receiving, **{"Event ID": "R2"})
    assert row["Traceability Lot Code (TLC)"] == "S1"
    assert (row["Quantity"], row["Unit of Measure"]) == (500, "KGM")
    assert row["Product Name"] == "Cane sugar"
    assert row["Immediate Previous Source Business Name"] == "Gulf Sugar Refinery"
    assert row["Immediate Previous Source Phone"] == "+1 555 0101"
    assert row["Receiving Business Name"] == "Lotline Bakery Plant 1"
    assert row["Receiving ZIP/Postal Code"] == "60607"
    assert row["Date Received"] == date(2026, 9, 1)
    assert row["TLC Source Location ID"] == "SUP-SUGAR"
    assert row["TLC Source Reference"] == "0614141000029"
    assert (row["Reference Document Type"], row["Reference Document Number"]) == ("po", "PO-1002")
    assert row["UTC Offset"] == "-05:00"


def test_transformation_has_one_row_per_input_lot_joined_by_event_id(
    small_engine: sa.Engine,
) -> None:
    sheets = fsma204.for_period(small_engine, date(2026, 9, 5), date(2026, 9, 5))
    p2 = sheets["Transformation"].filter(pl.col("Event ID") == "P2")
    assert sorted(p2["Input Traceability Lot Code (TLC)"]) == ["F1", "F2", "S1"]
    assert set(p2["New Traceability Lot Code (TLC)"]) == {"D2"}
    row = _row(p2, **{"Input Traceability Lot Code (TLC)": "F2"})
    assert row["Input Product Name"] == "Wheat flour"
    assert (row["Input Quantity Used"], row["Input Unit of Measure"]) == (200, "KGM")
    assert row["Output Product Name"] == "Cookie dough"
    assert (row["Output Quantity"], row["Output Unit of Measure"]) == (500, "KGM")
    assert row["Transformation Location ID"] == "SITE-1"
    assert row["Transformation Business Name"] == "Lotline Bakery Plant 1"
    assert row["Date Transformation Completed"] == date(2026, 9, 5)
    assert (row["Reference Document Type"], row["Reference Document Number"]) == (
        "prodorder",
        "WO-2",
    )
    assert row["Input Lot Evidence"] == "explicit"


def test_glossary_explains_every_code_and_column(small_engine: sa.Engine) -> None:
    _, sheets = _trace_sheets(small_engine, FLOUR, "F1")
    glossary = sheets["Glossary"]

    def codes(category: str) -> set[str]:
        return set(glossary.filter(pl.col("Category") == category)["Code"])

    def used(suffix: str) -> set[str]:
        return {
            v
            for name in ("Receiving", "Shipping", "Transformation")
            for c in sheets[name].columns
            if c.endswith(suffix)
            for v in sheets[name][c].drop_nulls()
        }

    assert used("GTIN") == codes("GTIN") == {FLOUR, "00614141000036", COOKIES, TIN}
    assert used("Location ID") == codes("Location ID")
    assert {"SUP-MILL", "SITE-1", "WH-1", "CUST-A", "CUST-B"} == codes("Location ID")
    assert used("Unit of Measure") <= codes("Unit of Measure")
    assert codes("Unit of Measure") == {"KGM", "CS", "EA"}
    assert used("Reference Document Type") == codes("Reference Document Type")
    names = dict(
        glossary.filter(pl.col("Category") == "Unit of Measure")
        .select("Code", "Meaning")
        .iter_rows()
    )
    assert names["KGM"] == "kilogram"
    mill = _row(glossary, Category="Location ID", Code="SUP-MILL")
    assert mill["Meaning"] == "Prairie Mill Co"
    assert "1 Mill Road" in str(mill["Details"]) and "Wichita" in str(mill["Details"])
    bol = _row(glossary, Category="Reference Document Type", Code="bol")
    assert bol["Meaning"] == "bill of lading"
    basis = dict(glossary.filter(pl.col("Category") == "Column").select("Code", "Details").rows())
    assert basis["Shipping: Immediate Subsequent Recipient Business Name"] == "21 CFR 1.1340(4)"
    assert basis["Receiving: Date Received"] == "21 CFR 1.1345(a)(6)"
    assert basis["Transformation: Input Quantity Used"] == "21 CFR 1.1350(a)(1)(iii)"
    described = set(basis)
    for name in ("Receiving", "Shipping", "Transformation"):
        assert {f"{name}: {c}" for c in sheets[name].columns} <= described
    assert codes("CTE not included") == {
        "Harvesting",
        "Cooling",
        "Initial packing",
        "First land-based receiving",
    }
    scope = _row(glossary, Category="Scope")
    assert "F1" in str(scope["Meaning"])
    assert glossary.null_count()["Code"][0] == 0


def test_period_selection_includes_both_end_dates(small_engine: sa.Engine) -> None:
    sheets = fsma204.for_period(small_engine, date(2026, 9, 10), date(2026, 9, 11))
    assert sorted(sheets["Shipping"]["Event ID"]) == ["SH1", "SH2", "SH2"]  # not SH3 (12th)
    assert sheets["Receiving"].is_empty() and sheets["Transformation"].is_empty()
    early = fsma204.for_period(small_engine, date(2026, 9, 1), date(2026, 9, 1))
    assert sorted(early["Receiving"]["Event ID"]) == ["R1", "R2"]  # R3 is on the 2nd
    made = fsma204.for_period(small_engine, date(2026, 9, 5), date(2026, 9, 6))
    assert set(made["Transformation"]["Event ID"]) == {"P1", "P2", "P3", "P4"}
    assert made["Transformation"].height == 2 + 3 + 2 + 1  # one row per input lot
    with pytest.raises(ValueError, match="before it starts"):
        fsma204.for_period(small_engine, date(2026, 9, 2), date(2026, 9, 1))


def test_period_uses_the_local_date_not_the_utc_date(small_engine: sa.Engine) -> None:
    """A receipt at 22:30 local time (-05:00) is 03:30 UTC the next day: it belongs to the local
    date, in the sheet and in the period selection."""
    lineage = api.load_lineage(small_engine)
    late = datetime(2026, 9, 2, 3, 30, tzinfo=UTC)  # 2026-09-01 22:30 at -05:00
    receipts = lineage.receipts.with_columns(
        pl.when(pl.col("receipt_id") == "R1")
        .then(pl.lit(late).cast(pl.Datetime("us", "UTC")))
        .otherwise(pl.col("received_at"))
        .alias("received_at")
    )
    lineage = replace(lineage, receipts=receipts)
    master = fsma204.master_data(small_engine)
    first = fsma204.for_period(lineage, date(2026, 9, 1), date(2026, 9, 1), master)
    assert sorted(first["Receiving"]["Event ID"]) == ["R1", "R2"]
    assert _row(first["Receiving"], **{"Event ID": "R1"})["Date Received"] == date(2026, 9, 1)
    second = fsma204.for_period(lineage, date(2026, 9, 2), date(2026, 9, 2), master)
    assert sorted(second["Receiving"]["Event ID"]) == ["R3"]
    with pytest.raises(ValueError, match="needs the master data"):
        fsma204.for_period(lineage, date(2026, 9, 2), date(2026, 9, 2))


def _cell(value: object) -> object:
    return value.date() if isinstance(value, datetime) else value


def test_xlsx_and_csv_hold_the_sheets(small_engine: sa.Engine, tmp_path: Path) -> None:
    _, sheets = _trace_sheets(small_engine, FLOUR, "F1")
    written = write_fsma204(sheets, tmp_path, "fsma204 F1/both")
    assert written["xlsx"] == tmp_path / "fsma204_F1_both.xlsx"
    book = openpyxl.load_workbook(written["xlsx"])
    assert book.sheetnames == list(sheets)
    for name, frame in sheets.items():
        ws = book[name]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, frame.width).column_letter}{frame.height + 1}"
        header = [c.value for c in ws[1]]
        assert header == frame.columns
        assert all(c.font.b for c in ws[1])
        rows = [tuple(_cell(c) for c in r) for r in ws.iter_rows(min_row=2, values_only=True)]
        assert rows == frame.rows(), name
    shipping = book["Shipping"]
    date_col = sheets["Shipping"].columns.index("Date Shipped") + 1
    assert shipping.cell(2, date_col).is_date
    assert shipping.cell(2, date_col).value == datetime(2026, 9, 10)
    gtin_col = sheets["Shipping"].columns.index("GTIN") + 1
    assert shipping.cell(2, gtin_col).value == COOKIES  # text: leading zeros kept

    csvs = written["csv"]
    assert isinstance(csvs, list)
    assert [p.name for p in csvs] == [
        "fsma204_F1_both_receiving.csv",
        "fsma204_F1_both_shipping.csv",
        "fsma204_F1_both_transformation.csv",
        "fsma204_F1_both_glossary.csv",
    ]
    for path, (name, frame) in zip(csvs, sheets.items(), strict=True):
        back = pl.read_csv(path, schema=frame.schema)
        # the CSV's text cells are safe to open in a spreadsheet: '+1 555 0100, '-05:00
        assert back.equals(neutralise(frame)), name
        path.read_bytes().decode("utf-8")


def test_files_are_deterministic(small_engine: sa.Engine, tmp_path: Path) -> None:
    _, first = _trace_sheets(small_engine, FLOUR, "F1")
    _, again = _trace_sheets(small_engine, FLOUR, "F1")
    a = write_fsma204(first, tmp_path / "a", "x")
    b = write_fsma204(again, tmp_path / "b", "x")
    assert Path(a["xlsx"]).read_bytes() == Path(b["xlsx"]).read_bytes()  # type: ignore[arg-type]
    for left, right in zip(a["csv"], b["csv"], strict=True):  # type: ignore[arg-type]
        assert left.read_bytes() == right.read_bytes()


def test_formula_like_text_stays_text(tmp_path: Path) -> None:
    frame = pl.DataFrame({"Traceability Lot Code (TLC)": ["=1+1", "http://x.example"]})
    written = write_fsma204({"Receiving": frame}, tmp_path, "t")
    ws = openpyxl.load_workbook(written["xlsx"])["Receiving"]
    assert [ws.cell(r, 1).value for r in (2, 3)] == ["=1+1", "http://x.example"]
    assert ws.cell(2, 1).data_type == "s"


def test_cli_exports_a_trace_and_a_period(
    small_engine: sa.Engine, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        ["export", "fsma204", "--database-url", sqlite_url, "--gtin", "614141000012", "--lot", "F1"]
        + ["--direction", "forward", "--out", str(out)]
    )
    assert code == 0
    paths = [Path(line) for line in capsys.readouterr().out.splitlines()]
    assert paths[0] == out / f"fsma204_{FLOUR}_F1_forward.xlsx"
    assert len(paths) == 5 and all(p.is_file() for p in paths)
    book = openpyxl.load_workbook(paths[0])
    assert book["Shipping"].max_row == 1 + 4
    assert book["Receiving"].max_row == 1

    code = main(
        ["export", "fsma204", "--database-url", sqlite_url, "--from", "2026-09-01"]
        + ["--to", "2026-09-30", "--out", str(out)]
    )
    assert code == 0
    paths = [Path(line) for line in capsys.readouterr().out.splitlines()]
    assert paths[0].name == "fsma204_2026-09-01_2026-09-30.xlsx"
    receiving = pl.read_csv(paths[1], infer_schema=False)
    assert sorted(receiving["Event ID"]) == ["R1", "R2", "R3"]
    shipping = pl.read_csv(paths[2], infer_schema=False)
    assert shipping.height == 4

    code = main(
        ["export", "fsma204", "--database-url", sqlite_url, "--gtin", COOKIES, "--lot", "C1"]
        + ["--lot", "C2", "--direction", "backward", "--out", str(out)]
    )
    assert code == 0
    paths = [Path(line) for line in capsys.readouterr().out.splitlines()]
    assert paths[0].name == f"fsma204_{COOKIES}_2-lots_backward.xlsx"
    receiving = pl.read_csv(paths[1], infer_schema=False)
    assert sorted(receiving["Event ID"]) == ["R1", "R2", "R3"]  # both traces reach them: once

    assert main(["export", "fsma204", "--database-url", sqlite_url]) == 2
    assert "needs --gtin and --lot, or --from and --to" in capsys.readouterr().err
    assert main(["export", "fsma204", "--database-url", sqlite_url, "--from", "2026-09-01"]) == 2
