"""The bundled ERP profiles on hand-made exports of one small supply chain, traced exactly.

Both fixtures (tests/data/odoo, tests/data/erpnext) hold the same story as each ERP writes it:
flour lots MS-2026-0211 and MS-2026-0225 from Mühle Schneider, honey lot BW-26-014 from Imkerei
Bienenwald, one manufacturing order turning 300 kg of MS-2026-0211 and 100 kg of BW-26-014 into
800 units of granola lot GR-260304, delivered 500 to Café Morgenrot and 300 to Bioladen Grünkern.
Odoo's also has a serial-tracked data logger (loaded as lots of one) and a 2-step delivery.

Headers and values are as each export writes them (docs/mappings.md): Odoo's export dialog, not
import-compatible, writes field labels (`Lot/Serial Number`, `Product/Barcode`), display names
(`[RM-FLOUR] Wheat Flour T550 (25 kg)`, `WH/Stock`), datetimes in the exporting user's zone and
quotes every cell; ERPNext's Report view writes labels with the child table after its columns
(`Batch No (Delivery Note Item)`), a first column `Sr`, and raw values (`500.0`, `Nos`, `0`/`1`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from lotline import api, store
from lotline.intake.ingest import LoadReport, load_folder
from lotline.intake.mapping import PROFILES, load_mapping

DATA = Path(__file__).parents[2] / "data"
FLOUR, HONEY, GRANOLA, LOGGER = "4012345000016", "4067890000011", "4260123450014", "4012345000047"
PROFILE_NAMES = ("odoo", "erpnext")
CUSTOMERS = {"Café Morgenrot": 500.0, "Bioladen Grünkern eG": 300.0}


Loaded = tuple[str, sa.Engine, LoadReport]


@pytest.fixture(scope="module")
def load(tmp_path_factory) -> Callable[[str], Loaded]:  # type: ignore[no-untyped-def]
    """Each profile's fixture loaded once per module into its own SQLite database."""
    done: dict[str, Loaded] = {}

    def loaded(name: str) -> Loaded:
        if name not in done:
            folder = tmp_path_factory.mktemp(name)
            engine = store.make_engine(store.sqlite_url(folder / "db.sqlite"))
            report = load_folder(engine, DATA / name, mapping=load_mapping(name))
            done[name] = (name, engine, report)
        return done[name]

    return loaded


@pytest.fixture(params=PROFILE_NAMES)
def loaded(request, load) -> Loaded:  # type: ignore[no-untyped-def]
    return load(request.param)


def gtin14(gtin: str) -> str:
    return gtin.zfill(14)


def test_every_row_loads_without_a_finding(loaded) -> None:  # type: ignore[no-untyped-def]
    _, _, report = loaded
    assert report.rejected.is_empty()
    assert report.findings.is_empty()
    assert report.skipped == []
    assert all(f.rows_read and f.rows_read == f.rows_loaded for f in report.files)


def test_odoo_line_quantity_preselected_by_the_export_dialog_is_listed_as_unused(load) -> None:  # type: ignore[no-untyped-def]
    """Odoo's export dialog pre-selects the line's Quantity, in the sales unit: the profile reads
    Quantity in Product UoM, and the other column is listed once, not an error."""
    _, _, report = load("odoo")
    deliveries = next(f for f in report.files if f.name == "deliveries.csv")
    assert "Quantity" in deliveries.unused_columns


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_each_file_entry_matches_exactly_one_fixture_file(name: str) -> None:
    """The fixture covers the whole profile, and no file is claimed by two entries."""
    files = sorted(p.name for p in (DATA / name).iterdir())
    mapping = load_mapping(name)
    for entry in mapping.files:
        assert len([f for f in files if entry.matches(f)]) == 1, entry.match
    for file in files:
        assert len([e for e in mapping.files if e.matches(file)]) == 1, file


def test_backward_trace_reaches_exactly_the_consumed_supplier_lots(loaded) -> None:  # type: ignore[no-untyped-def]
    name, engine, _ = loaded
    result = api.trace_lot(engine, GRANOLA, "GR-260304", "backward")
    lots = {(r["gtin"], r["lot"], r["direction"]) for r in result.lots.iter_rows(named=True)}
    assert lots == {
        (gtin14(GRANOLA), "GR-260304", "subject"),
        (gtin14(FLOUR), "MS-2026-0211", "backward"),
        (gtin14(HONEY), "BW-26-014", "backward"),
    }
    receipts = {
        (r["from_location_id"], r["lot"], r["quantity"], r["uom"])
        for r in result.receipts.iter_rows(named=True)
    }
    assert receipts == {
        ("Mühle Schneider GmbH", "MS-2026-0211", 500.0, "KGM"),
        ("Imkerei Bienenwald", "BW-26-014", 120.0, "KGM"),  # Odoo: 8 buckets, ERPNext: 8 units
    }
    edges = result.edges.select("input_lot", "input_quantity", "output_lot", "output_quantity")
    assert sorted(edges.rows()) == [
        ("BW-26-014", 100.0, "GR-260304", 800.0),
        ("MS-2026-0211", 300.0, "GR-260304", 800.0),
    ]


def test_forward_trace_from_a_flour_lot_reaches_both_customers(loaded) -> None:  # type: ignore[no-untyped-def]
    name, engine, _ = loaded
    result = api.trace_lot(engine, FLOUR, "MS-2026-0211", "forward")
    forward = result.lots.filter(pl.col("direction") == "forward")
    assert set(zip(forward["gtin"], forward["lot"], strict=True)) == {
        (gtin14(GRANOLA), "GR-260304")
    }
    consignees = {
        r["to_location_id"]: (r["quantity"], r["uom"], r["kind"])
        for r in result.consignees.iter_rows(named=True)
    }
    assert consignees == {c: (q, "EA", "customer") for c, q in CUSTOMERS.items()}
    shipments = result.shipments.filter(pl.col("lot") == "GR-260304")
    assert sorted(shipments["quantity"].to_list()) == [300.0, 500.0]


def test_a_received_lot_nobody_used_reaches_no_customer(loaded) -> None:  # type: ignore[no-untyped-def]
    _, engine, _ = loaded
    result = api.trace_lot(engine, FLOUR, "MS-2026-0225", "forward")
    assert result.lots["lot"].to_list() == ["MS-2026-0225"]
    assert result.shipments.is_empty() and result.consignees.is_empty()


def test_times_are_read_in_the_profile_time_zone(loaded) -> None:  # type: ignore[no-untyped-def]
    """Odoo writes the exporting user's local time (UTC in the fixture); ERPNext's event time is
    the start of its Posting Date."""
    name, engine, _ = loaded
    result = api.trace_lot(engine, GRANOLA, "GR-260304", "forward")
    first = result.shipments.sort("shipped_at")["shipped_at"][0]
    expected = {
        "odoo": datetime(2026, 3, 5, 11, 2, 31, tzinfo=UTC),
        "erpnext": datetime(2026, 3, 5, tzinfo=UTC),
    }
    assert first == expected[name]


def test_odoo_lot_expiry_comes_from_the_lots_expiration_datetime(load) -> None:  # type: ignore[no-untyped-def]
    """(ERPNext keeps expiry dates on Batch, which no receipt or stock entry export can join.)"""
    _, engine, _ = load("odoo")
    lots = api.trace_lot(engine, GRANOLA, "GR-260304", "backward").lots
    expiry = dict(zip(lots["lot"], lots["expiry_date"], strict=True))
    assert expiry == {
        "GR-260304": date(2026, 12, 4),
        "MS-2026-0211": date(2026, 9, 30),
        "BW-26-014": date(2028, 3, 1),
    }


def test_odoo_serial_numbers_load_as_lots_of_one(load) -> None:  # type: ignore[no-untyped-def]
    _, engine, _ = load("odoo")
    products = api.products(engine).filter(pl.col("gtin") == gtin14(LOGGER))
    assert products["tracking"].to_list() == ["lot"]
    shipped = api.trace_lot(engine, LOGGER, "TL-000481", "forward")
    assert shipped.consignees["to_location_id"].to_list() == ["Bioladen Grünkern eG"]
    assert shipped.shipments["quantity"].to_list() == [1.0]
    in_stock = api.trace_lot(engine, LOGGER, "TL-000482", "forward")
    assert in_stock.shipments.is_empty()


def test_odoo_two_step_delivery_ships_from_the_output_location(load) -> None:  # type: ignore[no-untyped-def]
    _, engine, _ = load("odoo")
    result = api.trace_lot(engine, GRANOLA, "GR-260304", "forward")
    assert set(result.shipments["from_location_id"]) == {"WH/Output"}
    locations = api.locations(engine)
    assert {"WH/Stock", "WH/Output"} <= set(locations["location_id"])


def test_erpnext_event_times_are_the_posting_dates(load) -> None:  # type: ignore[no-untyped-def]
    _, engine, _ = load("erpnext")
    result = api.trace_lot(engine, GRANOLA, "GR-260304", "both")
    days = {
        r["shipment_id"]: r["shipped_at"].date() for r in result.shipments.iter_rows(named=True)
    }
    assert days == {"MAT-DN-2026-00001": date(2026, 3, 5), "MAT-DN-2026-00002": date(2026, 3, 6)}
    assert result.edges["production_id"].unique().to_list() == ["MAT-STE-2026-00002"]


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_a_copy_with_the_site_time_zone_shifts_every_local_time(name: str, tmp_path: Path) -> None:
    """What the profiles tell users to do: copy the file and set `timezone`."""
    text = (PROFILES / f"{name}.toml").read_text(encoding="utf-8")
    assert text.count('timezone = "UTC"') == 1
    copy = tmp_path / f"my-{name}.toml"
    copy.write_text(text.replace('timezone = "UTC"', 'timezone = "Europe/Berlin"'), "utf-8")
    engine = store.make_engine(store.sqlite_url(tmp_path / "db.sqlite"))
    report = load_folder(engine, DATA / name, mapping=load_mapping(copy))
    assert report.rejected.is_empty()
    shipped = api.trace_lot(engine, GRANOLA, "GR-260304", "forward").shipments["shipped_at"]
    expected = {
        "odoo": datetime(2026, 3, 5, 10, 2, 31, tzinfo=UTC),  # 11:02:31 in Berlin (UTC+1)
        "erpnext": datetime(2026, 3, 4, 23, tzinfo=UTC),  # midnight in Berlin
    }
    assert shipped.min() == expected[name]


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_profile_globs_take_the_erp_default_file_names(name: str) -> None:
    mapping = load_mapping(name)
    names = {
        "odoo": ["Product (product.template) (1).csv", "Inventory Locations (stock.location).csv"],
        "erpnext": ["Delivery_Note.csv", "Stock_Entry - consumed.csv", "Purchase Receipt (2).csv"],
    }[name]
    for file in names:
        assert mapping.for_file(file) is not None, file
        assert len([e for e in mapping.files if fnmatch.fnmatch(file.lower(), e.match.lower())])
