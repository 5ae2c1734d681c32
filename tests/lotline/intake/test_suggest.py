"""`lotline mapping suggest`: a draft a person only has to review where it says GUESS."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from lotline import api, store
from lotline.cli import main
from lotline.intake.ingest import load_folder
from lotline.intake.mapping import load_mapping
from lotline.intake.reading import InputError
from lotline.intake.suggest import SuggestError, draft_file, suggest

GRANOLA, FLOUR = "4260123450014", "4012345000016"

# a German ERP's exports, as Excel saves them: Windows-1252, `;`, decimal comma, local times
GERMAN_EXPORT = {
    "Lieferungen_2026-03.csv": (
        "Lieferungen März 2026;;;;;;\r\n"
        "Lieferschein;Datum;Kunde;Artikel-EAN;Charge;Menge;Einheit\r\n"
        f"LS-26-0311;05.03.2026 11:02;K-10001;{GRANOLA};GR-260304;500;Stück\r\n"
        f"LS-26-0312;05.03.2026 14:47;K-10002;{GRANOLA};GR-260304;300;Stück\r\n"
        f"LS-26-0312;05.03.2026 14:47;K-10002;{FLOUR};MS-2026-0211;12,5;kg\r\n"
    ),
    "Artikel.csv": (
        "EAN;Artikelbezeichnung;Einheit;Verfolgung\r\n"
        f"{GRANOLA};Honig-Müsli 500 g;Stück;Charge\r\n"
        f"{FLOUR};Weizenmehl Type 550;kg;Charge\r\n"
    ),
    "Kunden.csv": (
        "Kundennummer;Name;Straße;PLZ;Ort;Land\r\n"
        "K-10001;Café Morgenrot;Sendlinger Straße 30;80331;München;DE\r\n"
        "K-10002;Bioladen Grünkern eG;Maximilianstraße 7;86150;Augsburg;DE\r\n"
    ),
    "Lager.csv": "Lager;Bezeichnung;Ort\r\nLAGER-MUC;Lindenhof Feinkost Zentrallager;Freising\r\n",
}


@pytest.fixture
def german_drop(tmp_path: Path) -> Path:
    drop = tmp_path / "drop"
    drop.mkdir()
    for name, text in GERMAN_EXPORT.items():
        (drop / name).write_bytes(text.encode("cp1252"))
    return drop


def edit_guesses(draft: str, edits: dict[str, str]) -> str:
    """Replace whole lines that start with a key of `edits`; only lines marked GUESS may change."""
    out = []
    for line in draft.splitlines():
        key = next((k for k in edits if line.startswith(k)), None)
        if key is not None:
            assert "# GUESS" in line, f"the test may only change GUESS lines, not {line!r}"
            line = edits[key]
        out.append(line)
    assert len(out) == len(draft.splitlines())
    return "\n".join(out) + "\n"


def table(draft: str) -> dict:  # type: ignore[type-arg]
    return tomllib.loads(draft)


def entry(draft: str, record_type: str, match: str | None = None) -> dict:  # type: ignore[type-arg]
    return next(
        f
        for f in table(draft)["file"]
        if f["type"] == record_type and (match is None or f["match"] == match)
    )


def test_german_export_loads_after_only_the_guess_lines_are_reviewed(
    german_drop: Path, tmp_path: Path
) -> None:
    draft = suggest(german_drop)
    reviewed = edit_guesses(
        draft, {'# from_location_id = ""': 'from_location_id = "LAGER-MUC"  # the one warehouse'}
    )
    mapping_file = tmp_path / "mapping.toml"
    mapping_file.write_text(reviewed, encoding="utf-8")
    engine = store.make_engine(store.sqlite_url(tmp_path / "db.sqlite"))

    report = load_folder(engine, german_drop, mapping=load_mapping(mapping_file))

    assert report.rejected.is_empty() and report.findings.is_empty()
    read = {f.name: (f.rows_read, f.rows_loaded) for f in report.files}
    assert read == {
        "Lieferungen_2026-03.csv": (3, 3),
        "Artikel.csv": (2, 2),
        "Kunden.csv": (2, 2),
        "Lager.csv": (1, 1),
    }
    result = api.trace_lot(engine, GRANOLA, "GR-260304", "forward")
    shipments = result.shipments.sort("shipped_at")
    # 11:02 in Berlin in March is 10:02 UTC
    assert shipments["shipped_at"].to_list() == [
        datetime(2026, 3, 5, 10, 2, tzinfo=UTC),
        datetime(2026, 3, 5, 13, 47, tzinfo=UTC),
    ]
    assert shipments["from_location_id"].unique().to_list() == ["LAGER-MUC"]
    consignees = dict(
        zip(result.consignees["to_location_id"], result.consignees["kind"], strict=True)
    )
    assert consignees == {"K-10001": "customer", "K-10002": "customer"}
    flour = api.trace_lot(engine, FLOUR, "MS-2026-0211", "forward").shipments
    assert flour.select("quantity", "uom").row(0) == (12.5, "KGM")  # decimal comma, `kg`


def test_the_unreviewed_draft_stops_the_load_naming_the_missing_column(
    german_drop: Path, tmp_path: Path
) -> None:
    mapping_file = tmp_path / "mapping.toml"
    mapping_file.write_text(suggest(german_drop), encoding="utf-8")
    engine = store.make_engine(store.sqlite_url(tmp_path / "db.sqlite"))
    with pytest.raises(InputError, match="from_location_id"):
        load_folder(engine, german_drop, mapping=load_mapping(mapping_file))


def test_draft_reads_the_conventions_from_the_bytes_and_values(german_drop: Path) -> None:
    draft = suggest(german_drop)
    lines = draft.splitlines()
    assert any(line.startswith('encoding = "cp1252"  # GUESS: not UTF-8') for line in lines), draft
    defaults = table(draft)["defaults"]
    assert defaults == {
        "encoding": "cp1252",
        "delimiter": ";",
        "decimal": ",",
        "datetime_format": "%d.%m.%Y %H:%M",
        "timezone": "Europe/Berlin",
    }
    assert any(line.startswith('timezone = "Europe/Berlin"  # GUESS') for line in lines)
    shipments = entry(draft, "shipments")
    assert shipments["match"] == "Lieferungen*.csv"  # next month's export matches too
    assert shipments["skip_rows"] == 1  # the title line above the header
    assert shipments["columns"] == {
        "shipment_id": "Lieferschein",
        "shipped_at": "Datum",
        "to_location_id": "Kunde",
        "gtin": "Artikel-EAN",
        "lot": "Charge",
        "quantity": "Menge",
        "uom": "Einheit",
    }
    assert '# from_location_id = ""  # GUESS: required' in draft


def test_master_data_kind_comes_from_the_file_name_as_a_guess(german_drop: Path) -> None:
    draft = suggest(german_drop)
    customers = entry(draft, "locations", "Kunden.csv")
    assert customers["columns"]["location_id"] == "Kundennummer"
    assert customers["columns"]["business_name"] == "Name"
    assert customers["constants"] == {"kind": "customer"}
    assert entry(draft, "locations", "Lager.csv")["constants"] == {"kind": "warehouse"}
    assert 'kind = "customer"  # GUESS' in draft
    products = entry(draft, "products")
    assert products["columns"] == {
        "gtin": "EAN",
        "name": "Artikelbezeichnung",
        "tracking": "Verfolgung",
        "uom": "Einheit",
    }


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def test_monthly_exports_drafted_alike_share_one_glob(german_drop: Path) -> None:
    april = GERMAN_EXPORT["Lieferungen_2026-03.csv"].replace("März", "April")
    (german_drop / "Lieferungen_2026-04.csv").write_bytes(april.encode("cp1252"))
    shipments = [f for f in table(suggest(german_drop))["file"] if f["type"] == "shipments"]
    assert [f["match"] for f in shipments] == ["Lieferungen*.csv"]
    (german_drop / "Lieferungen_2026-04.csv").write_bytes(
        april.replace("Charge;", "Los;").encode("cp1252")
    )
    shipments = [f for f in table(suggest(german_drop))["file"] if f["type"] == "shipments"]
    assert [f["match"] for f in shipments] == [
        "Lieferungen_2026-03.csv",
        "Lieferungen_2026-04.csv",
    ]


def test_english_export_with_offsets_needs_no_formats(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "goods_receipts.csv",
        "Receipt No,Received,Supplier,Warehouse,GTIN,Batch No,Qty,UoM,Expiry\n"
        f"GR-1,2026-03-02T08:00:00+01:00,SUP-1,WH-1,{FLOUR},B1,1250.5,kg,2026-09-30\n",
    )
    draft = draft_file(path)
    assert draft.record_type.value == "receipts" and draft.record_type.guess is None
    columns = {c: h.value for c, h in draft.columns.items()}
    assert columns == {
        "receipt_id": "Receipt No",
        "received_at": "Received",
        "from_location_id": "Supplier",
        "to_location_id": "Warehouse",
        "gtin": "GTIN",
        "lot": "Batch No",
        "quantity": "Qty",
        "uom": "UoM",
        "expiry_date": "Expiry",
    }
    assert "datetime_format" not in draft.settings and "timezone" not in draft.settings
    assert draft.settings["decimal"].value == "."
    assert "encoding" not in draft.settings  # ASCII: any encoding reads it


def test_ambiguous_day_month_order_is_a_guess(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "shipments.csv",
        "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,quantity,uom\n"
        f"S1,03/04/2026 10:00,WH,C1,{FLOUR},L1,1,KGM\n",
    )
    choice = draft_file(path).settings["datetime_format"]
    assert choice.value == "%d/%m/%Y %H:%M" and "%m/%d/%Y %H:%M" in (choice.guess or "")
    path.write_text(path.read_text().replace("03/04/2026", "03/24/2026"))
    assert draft_file(path).settings["datetime_format"].value == "%m/%d/%Y %H:%M"


def test_an_internal_article_number_is_a_gtin_only_when_its_values_are(tmp_path: Path) -> None:
    header = "Artikelnummer;Bezeichnung;Einheit;Verfolgung\n"
    gtins = write(tmp_path, "Artikel.csv", header + f"{FLOUR};Mehl;kg;Charge\n")
    assert draft_file(gtins).columns["gtin"].guess is None
    codes = write(tmp_path, "Artikel.csv", header + "A-4711;Mehl;kg;Charge\n")
    assert "valid GTINs" in (draft_file(codes).columns["gtin"].guess or "")


def test_unknown_vocabulary_is_a_commented_value_map(tmp_path: Path) -> None:
    write(
        tmp_path,
        "Lieferungen.csv",
        "Lieferschein;Datum;Lager;Kunde;EAN;Charge;Menge;Einheit\n"
        f"L1;2026-03-05;W1;K1;{FLOUR};C1;4;Eimer\n",
    )
    text = suggest(tmp_path)
    assert "# [file.values.uom]  # GUESS" in text
    assert '# "Eimer" = ""  # GUESS: not a uom the contract knows' in text
    uncommented = text.replace("# [file.values.uom]", "[file.values.uom]").replace(
        '# "Eimer" = ""', '"Eimer" = "DR"'
    )
    assert table(uncommented)["file"][0]["values"] == {"uom": {"Eimer": "DR"}}


def test_utf8_with_bom_and_parquet_are_read(tmp_path: Path) -> None:
    write(
        tmp_path,
        "products.csv",
        "\ufeffgtin,name,tracking,uom\n" + f"{FLOUR},Weizenmehl Type 550 – fein,lot,KGM\n",
    )
    pl.DataFrame(
        {"location_id": ["WH-1"], "kind": ["warehouse"], "business_name": ["Lager Süd"]}
    ).write_parquet(tmp_path / "locations.parquet")
    text = suggest(tmp_path)
    assert 'encoding = "utf-8"' not in text  # UTF-8 is the default; no line needed
    drafted = {f["type"]: f for f in table(text)["file"]}
    assert drafted["locations"]["columns"] == {
        "location_id": "location_id",
        "kind": "kind",
        "business_name": "business_name",
    }
    assert "  # GUESS:" not in text  # contract names, files named after their type: no guess


def test_xlsx_cover_sheet_title_rows_and_date_cells(tmp_path: Path) -> None:
    pytest.importorskip("fastexcel")
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "Deckblatt"
    book.active.append(["Export aus dem ERP, 02.03.2026"])
    sheet = book.create_sheet("Wareneingang")
    sheet.append(["Wareneingänge März 2026"])
    sheet.append(["Wareneingang", "Datum", "Lieferant", "Lager", "EAN", "Charge", "Menge", "ME"])
    sheet.append(["WE-1", datetime(2026, 3, 2, 8, 0), "L-1", "W-1", FLOUR, "C1", "1,5", "kg"])
    book.save(tmp_path / "Wareneingang.xlsx")
    draft = suggest(tmp_path)
    (tmp_path / "draft.toml").write_text(draft, encoding="utf-8")
    receipts = load_mapping(tmp_path / "draft.toml").for_file("Wareneingang.xlsx")
    assert receipts is not None and receipts.type == "receipts"
    assert receipts.sheet == "Wareneingang"  # the cover sheet is passed over
    assert 'sheet = "Wareneingang"  # GUESS' in draft
    assert receipts.skip_rows == 1
    assert receipts.columns["receipt_id"] == "Wareneingang"
    assert receipts.columns["from_location_id"] == "Lieferant"
    assert receipts.columns["received_at"] == "Datum"
    assert receipts.datetime_format is None  # a date cell is a date, whatever its display
    assert receipts.decimal == ","  # `1,5` typed as text
    assert 'timezone = "Europe/Berlin"  # GUESS' in draft  # but a local one


def test_a_folder_without_data_files_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no data here")
    with pytest.raises(SuggestError, match="no readable data file"):
        suggest(tmp_path)


def test_cli_prints_the_draft(german_drop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mapping", "suggest", str(german_drop)]) == 0
    out = capsys.readouterr().out
    assert out == suggest(german_drop)
    assert "[[file]]" in out and "# GUESS" in out


def test_cli_writes_the_draft_but_never_over_a_file(
    german_drop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "draft.toml"
    assert main(["mapping", "suggest", str(german_drop), "--out", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == suggest(german_drop)
    assert "review the lines marked GUESS" in capsys.readouterr().err
    assert main(["mapping", "suggest", str(german_drop), "--out", str(target)]) == 2
    assert "exists" in capsys.readouterr().err


def test_cli_names_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mapping", "suggest", str(tmp_path / "nope")]) == 2
    assert "folder not found" in capsys.readouterr().err
