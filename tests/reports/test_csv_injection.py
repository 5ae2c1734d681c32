"""Formula payloads sent by a partner as lot codes, names and free text come out of every CSV we
write as plain text (OWASP CSV injection): the recall and expiry reports' embedded CSVs, read
back from the PDFs, and the FSMA 204 export's CSVs; the FSMA XLSX keeps the value as typed.

The mock recall evidence's embedded CSVs too, with the drill run by a formula.

The small supply chain with the cookie lot C1 renamed to a HYPERLINK formula, the cookie
product and two customers' names, a street, a city and reference documents replaced by the
other payloads."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pypdf
import pytest
import sqlalchemy as sa

from lotline import api, fsma204, mock_recall, store
from lotline.intake.ingest import load_folder
from reports.expiry import render_expiry_report
from reports.fsma204 import write_fsma204
from reports.mock_recall import render_mock_recall_report
from reports.recall import FSMA_FILE, render_recall_report

SMALL = Path(__file__).parents[1] / "data" / "small"
COOKIES = "00614141000043"
LOT = '=HYPERLINK("x.io")'  # a lot code is at most 20 characters (GS1)
PAYLOADS = {
    # file, column, row filter (column, value), payload
    ("products.csv", "name", "gtin", COOKIES): "@SUM(A1)",
    ("locations.csv", "business_name", "location_id", "CUST-A"): "+1+1",
    ("locations.csv", "business_name", "location_id", "CUST-B"): "-2+3",
    ("locations.csv", "street", "location_id", "CUST-A"): "\t=1",
    ("locations.csv", "city", "location_id", "CUST-B"): "\r=1",
    ("shipments.csv", "ref_doc_number", "shipment_id", "SH1"): "-2+3",
    ("shipments.csv", "ref_doc_number", "shipment_id", "SH2"): "@SUM(A1)",
}
FORMULA_START = r"^[=+\-@\t\r]"


def _edit(drop: Path) -> None:
    """Write the payloads into the fixture's CSVs (every column read as text, so the rest of
    each file stays as it was)."""
    for path in drop.glob("*.csv"):
        frame = pl.read_csv(path, infer_schema=False)
        if "lot" in frame.columns:
            frame = frame.with_columns(
                pl.when(pl.col("lot") == "C1")
                .then(pl.lit(LOT))
                .otherwise(pl.col("lot"))
                .alias("lot")
            )
        for (name, column, key, value), payload in PAYLOADS.items():
            if name == path.name:
                frame = frame.with_columns(
                    pl.when(pl.col(key) == value)
                    .then(pl.lit(payload))
                    .otherwise(pl.col(column))
                    .alias(column)
                )
        frame.write_csv(path)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    root = tmp_path_factory.mktemp("injection")
    drop = root / "drop"
    shutil.copytree(SMALL, drop)
    _edit(drop)
    engine = store.make_engine(store.sqlite_url(root / "lotline.sqlite"))
    load_folder(engine, drop)
    return engine


def _cells(csv: bytes) -> pl.DataFrame:
    """Every cell of a CSV as text, one row per cell."""
    frame = pl.read_csv(io.BytesIO(csv), infer_schema=False)
    if frame.is_empty():
        return pl.DataFrame(schema={"column": pl.String, "value": pl.String})
    return frame.unpivot(variable_name="column", value_name="value").drop_nulls("value")


def _assert_safe(files: dict[str, bytes]) -> set[str]:
    """No text cell of any file starts like a formula; returns the payloads found neutralised."""
    found = set()
    for name, csv in files.items():
        cells = _cells(csv)
        numbers = cells["value"].str.contains(r"^-\d+(\.\d+)?(e-?\d+)?$")
        risky = cells.filter(pl.col("value").str.contains(FORMULA_START) & ~numbers)
        assert risky.is_empty(), f"{name}: {risky.rows()}"
        for payload in {LOT, *PAYLOADS.values()}:
            if cells["value"].str.contains("'" + payload, literal=True).any():
                found.add(payload)
    return found


def _attachments(pdf: Path) -> dict[str, bytes]:
    return {name: data[0] for name, data in pypdf.PdfReader(pdf).attachments.items()}


def test_the_payloads_loaded_as_data(engine: sa.Engine) -> None:
    lots = api.load_lineage(engine).lots
    assert LOT in lots["lot"].to_list()
    names = api.locations(engine)["business_name"].to_list()
    assert "+1+1" in names and "-2+3" in names


def test_recall_report_embedded_csvs(engine: sa.Engine, tmp_path: Path) -> None:
    pdf = render_recall_report(engine, COOKIES, LOT, tmp_path)
    files = _attachments(pdf)
    csvs = {name: data for name, data in files.items() if name.endswith(".csv")}
    assert {"lots.csv", "shipments.csv", "receipts.csv"} <= set(csvs)
    found = _assert_safe(csvs)
    assert {LOT, "@SUM(A1)"} <= found
    lots = pl.read_csv(io.BytesIO(csvs["lots.csv"]), infer_schema=False)
    assert "'" + LOT in lots["lot"].to_list()
    shipments = pl.read_csv(io.BytesIO(csvs["shipments.csv"]), infer_schema=False)
    assert set(shipments.filter(pl.col("gtin") == COOKIES)["lot"]) >= {"'" + LOT}
    # the embedded FSMA spreadsheet is typed: the lot code is the text as sent
    book = openpyxl.load_workbook(io.BytesIO(files[FSMA_FILE]))
    values = {cell for ws in book for row in ws.iter_rows(values_only=True) for cell in row}
    assert LOT in values and "'" + LOT not in values


def test_expiry_report_embedded_csvs(engine: sa.Engine, tmp_path: Path) -> None:
    # as of 2026-12-20 the cookie lots (expiry 2027-01-04) are in stock and short-dated at the
    # two customers that received them
    pdf = render_expiry_report(engine, tmp_path, as_of=date(2026, 12, 20), within_days=30)
    csvs = _attachments(pdf)
    found = _assert_safe(csvs)
    assert {LOT, "+1+1", "-2+3"} <= found
    short = pl.read_csv(io.BytesIO(csvs["short_dated_at_customers.csv"]), infer_schema=False)
    assert "'" + LOT in short["lot"].to_list()


def test_fsma204_export_csvs_and_typed_xlsx(engine: sa.Engine, tmp_path: Path) -> None:
    result = api.trace_lot(engine, COOKIES, LOT, "both")
    written = write_fsma204(fsma204.for_traces([result], engine), tmp_path, "fsma")
    csvs = {path.name: path.read_bytes() for path in written["csv"]}  # type: ignore[union-attr]
    found = _assert_safe(csvs)
    assert {LOT, "+1+1", "-2+3", "@SUM(A1)"} <= found
    shipping = openpyxl.load_workbook(written["xlsx"])["Shipping"]
    column = [cell.value for cell in shipping[1]].index("Traceability Lot Code (TLC)")
    cells = [row[column] for row in shipping.iter_rows(min_row=2)]
    typed = [cell for cell in cells if cell.value == LOT]
    assert typed and all(cell.data_type == "s" for cell in typed)
    assert not any(str(cell.value).startswith("'") for cell in cells)


def test_mock_recall_evidence_embedded_csvs(engine: sa.Engine, tmp_path: Path) -> None:
    drill = mock_recall.run_drill(engine, COOKIES, LOT, "both", run_by="@SUM(A1)")
    csvs = _attachments(render_mock_recall_report(engine, drill, tmp_path))
    assert set(csvs) == {"drill_history.csv", "scope_balance.csv"}
    history = pl.read_csv(io.BytesIO(csvs["drill_history.csv"]), infer_schema=False)
    assert history.height == 1
    assert history["lot"].to_list() == ["'" + LOT] and history["run_by"].to_list() == ["'@SUM(A1)"]
    assert {LOT, "@SUM(A1)"} <= _assert_safe(csvs)
