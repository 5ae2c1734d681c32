"""ERP-spelled sample data loads as the contract spelling does: nothing quarantined, same traces.

`lotline generate --vocabulary erp` writes the same world as the contract variant, spelled as a
typical ERP export would. The spellings it uses (contract value <- ERP spelling), which the
validator's synonym table (`lotline.intake.vocabulary`) must map back to the contract's words:

- `ref_doc_type`: po <- `PO`, `Purchase Order`; bol <- `BOL`, `Bill of Lading`; desadv <- `ASN`;
  inv <- `INV`; prodorder <- `PRODORDER`; batch_record <- `Batch Record`
- moves `reason`: transfer <- ` Transfer`; adjustment <- `Adjustment `; scrap <- `SCRAP`;
  return <- `Return`; destroy <- `DESTROY`
- locations `kind`: supplier <- `Supplier`; site <- `SITE`; warehouse <- `Warehouse`;
  customer <- `CUSTOMER`
- products `tracking`: lot <- `LOT`; serial <- `Serial`
- `uom` and `pack_uom`: KGM <- `kg`; EA <- `ea`; CS <- `cs`; GRM <- `g`; LBR <- `lb`
- packing `action`: pack <- `PACK`; unpack <- `Unpack`
- status `status`: hold <- `Hold`; release <- `RELEASE`; quarantine <- `Quarantine`;
  recall <- `Recall`
- products `expiry_kind`: use_by <- `Use By`; best_before <- `best before`

(The CSV reader strips cells, so the stray spaces of ` Transfer` and `Adjustment ` test the
reader as much as the vocabulary.) Besides, the ERP variant writes what the earlier validator
quarantined and now loads with a warning: every second scrap move names its location's scrap
area (`SCRAP-CHI`, ..., kind warehouse, listed in locations) as destination, and every second
serialised transfer (move, GTIN, lot) is one lot-level line without serial.

Brute force: one seed in both variants, each loaded into its own SQLite database; the rejected
rows agree by rule, and every lot traces to the same lots and shipments both ways.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import polars.selectors as cs
import pytest
import sqlalchemy as sa

from lotline import api, generate, store
from lotline.intake import contract
from lotline.intake.ingest import load_folder

SEED, SCALE = 1, 0.3  # seed 1 writes every listed spelling but `Recall` (no recall generated)

ERP_SPELLINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "ref_doc_type": {
        "po": ("PO", "Purchase Order"),
        "bol": ("BOL", "Bill of Lading"),
        "desadv": ("ASN",),
        "inv": ("INV",),
        "prodorder": ("PRODORDER",),
        "batch_record": ("Batch Record",),
    },
    "reason": {
        "transfer": (" Transfer",),
        "adjustment": ("Adjustment ",),
        "scrap": ("SCRAP",),
        "return": ("Return",),
        "destroy": ("DESTROY",),
    },
    "kind": {
        "supplier": ("Supplier",),
        "site": ("SITE",),
        "warehouse": ("Warehouse",),
        "customer": ("CUSTOMER",),
    },
    "tracking": {"lot": ("LOT",), "serial": ("Serial",)},
    "uom": {"KGM": ("kg",), "EA": ("ea",), "CS": ("cs",), "GRM": ("g",), "LBR": ("lb",)},
    "action": {"pack": ("PACK",), "unpack": ("Unpack",)},
    "status": {
        "hold": ("Hold",),
        "release": ("RELEASE",),
        "quarantine": ("Quarantine",),
        "recall": ("Recall",),
    },
    "expiry_kind": {"use_by": ("Use By",), "best_before": ("best before",)},
}
"""The list above, as data: the generator must use exactly these spellings."""

LOT_COLUMNS = ["direction", "gtin", "lot", "depth", "exposure"]
SHIPMENT_COLUMNS = [
    "shipment_id",
    "shipped_at",
    "from_location_id",
    "to_location_id",
    "gtin",
    "lot",
    "serial",
    "sscc",
    "quantity",
    "uom",
    "ref_doc_type",
    "ref_doc_number",
]
"""What a trace answers, compared between the variants: `uom` and `ref_doc_type` as stored, so
the ERP spellings must have been stored in the contract's words."""


@dataclass(frozen=True)
class Variant:
    drop: Path
    engine: sa.Engine
    rows_rejected: int


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Variant]:
    out = {}
    for vocabulary in ("contract", "erp"):
        work = tmp_path_factory.mktemp(vocabulary)
        generate.generate(work / "drop", seed=SEED, scale=SCALE, vocabulary=vocabulary)
        engine = store.make_engine(store.sqlite_url(work / "lotline.sqlite"))
        report = load_folder(engine, work / "drop")
        out[vocabulary] = Variant(work / "drop", engine, sum(f.rows_rejected for f in report.files))
    return out


def csv_values(drop: Path, name: str, column: str) -> set[str]:
    with (drop / f"{name}.csv").open(newline="", encoding="utf-8") as f:
        return {row[column] for row in csv.DictReader(f) if row[column]}


def test_generator_uses_the_documented_spellings() -> None:
    assert generate.erp._ERP_SPELLINGS == ERP_SPELLINGS


def test_same_seed_same_erp_records_and_the_contract_records_unchanged() -> None:
    erp = generate.generate_records(seed=SEED, scale=SCALE, vocabulary="erp")
    again = generate.generate_records(seed=SEED, scale=SCALE, vocabulary="erp")
    assert all(erp[name].equals(again[name]) for name in erp)
    default = generate.generate_records(seed=SEED, scale=SCALE)
    spelled = generate.generate_records(seed=SEED, scale=SCALE, vocabulary="contract")
    assert all(default[name].equals(spelled[name]) for name in default)
    with pytest.raises(ValueError, match="vocabulary"):
        generate.generate_records(seed=SEED, scale=SCALE, vocabulary="sap")  # type: ignore[arg-type]


def test_erp_files_are_spelled_as_an_erp_writes_them(variants: dict[str, Variant]) -> None:
    """Guard against a vacuous comparison: the ERP files really use the ERP words, and the
    structural differences are there."""
    drop = variants["erp"].drop
    written = {
        (name, f.name): csv_values(drop, name, f.name)
        for name in generate.GENERATED
        for f in contract.RECORD_TYPES[name].fields
        if f.kind in ("choice", "uom")
    }
    for (name, column), values in written.items():
        table = ERP_SPELLINGS["uom" if column in ("uom", "pack_uom") else column]
        contract_values = set(table)
        assert not values & contract_values, (name, column, values & contract_values)
        # every value written is an ERP spelling (the CSV reader strips the stray spaces)
        allowed = {s for spellings in table.values() for s in spellings}
        assert values <= allowed, (name, column, values - allowed)
    assert {"ASN", "BOL", "INV", "Bill of Lading"} <= written[("shipments", "ref_doc_type")]
    assert {"PO", "Purchase Order", "ASN"} <= written[("receipts", "ref_doc_type")]
    used = {s for values in written.values() for s in values}
    listed = {s for table in ERP_SPELLINGS.values() for ss in table.values() for s in ss}
    assert listed - used == {"Recall"}

    moves = pl.read_csv(drop / "moves.csv", infer_schema=False)
    products = pl.read_csv(drop / "products.csv", infer_schema=False)
    locations = pl.read_csv(drop / "locations.csv", infer_schema=False)
    scrap_to = moves.filter(pl.col("reason") == "SCRAP")["to_location_id"].drop_nulls()
    assert scrap_to.len() > 0
    assert set(scrap_to) <= set(locations["location_id"])
    serialised = products.filter(pl.col("tracking") == "Serial")["gtin"]
    lot_level = moves.filter(
        pl.col("gtin").is_in(serialised.implode()) & pl.col("serial").is_null()
    )
    assert lot_level.height > 0 and (lot_level["quantity"].cast(pl.Int64) >= 1).all()


def test_nothing_is_quarantined_for_its_spelling(variants: dict[str, Variant]) -> None:
    def by_rule(engine: sa.Engine) -> dict[tuple[str, str, str], int]:
        rejected = api.rejected_records(engine)
        return {
            (r["record_type"], r["column"], r["rule"]): r["len"]
            for r in rejected.group_by("record_type", "column", "rule").len().iter_rows(named=True)
        }

    contract_rules, erp_rules = (
        by_rule(variants["contract"].engine),
        by_rule(variants["erp"].engine),
    )
    assert erp_rules == contract_rules
    assert variants["erp"].rows_rejected == variants["contract"].rows_rejected


def test_erp_rows_are_stored_in_the_contract_words(variants: dict[str, Variant]) -> None:
    """The scrap moves with a destination and the lot-level moves of serialised goods loaded
    (with a warning), and every vocabulary column is stored as the contract spells it."""
    engine = variants["erp"].engine
    moves = store.read_frame(engine, "move_record")
    assert set(moves["reason"]) <= set(contract.MOVE_REASONS)
    scrap_areas = moves.filter(
        (pl.col("reason") == "scrap") & pl.col("to_location_id").is_not_null()
    )
    assert scrap_areas.height > 0
    assert scrap_areas["to_location_id"].str.starts_with("SCRAP-").all()
    serialised = api.products(engine).filter(pl.col("tracking") == "serial")["gtin"]
    assert set(api.products(engine)["tracking"]) == {"lot", "serial"}
    lot_level = moves.filter(
        pl.col("gtin").is_in(serialised.implode()) & pl.col("serial").is_null()
    )
    assert lot_level.height > 0 and set(lot_level["reason"]) == {"transfer"}
    assert set(api.locations(engine)["kind"]) == set(contract.LOCATION_KINDS)
    for table in ("products", "locations"):
        reference = variants["contract"].engine
        got = getattr(api, table)(engine).drop("record_hash")
        expected = getattr(api, table)(reference).drop("record_hash")
        if table == "locations":
            got = got.filter(~pl.col("location_id").str.starts_with("SCRAP-"))
        key = got.columns[0]
        assert got.sort(key).equals(expected.sort(key)), table


def rounded(frame: pl.DataFrame) -> pl.DataFrame:
    """Floats to 9 decimals: the load sums in no fixed order, so exposures and balances of one
    and the same folder differ in the last bit from one load to the next."""
    return frame.with_columns(cs.float().round(9))


def all_lots(engine: sa.Engine) -> list[tuple[str, str]]:
    return sorted(api.load_lineage(engine).lots.select("gtin", "lot").iter_rows())


def test_every_lot_traces_to_the_same_lots_and_shipments(variants: dict[str, Variant]) -> None:
    reference, erp = variants["contract"].engine, variants["erp"].engine
    lots = all_lots(reference)
    assert lots == all_lots(erp)
    assert len(lots) > 100
    for gtin, lot in lots:
        for direction in ("backward", "forward"):
            expected = api.trace_lot(reference, gtin, lot, direction)
            got = api.trace_lot(erp, gtin, lot, direction)
            for part, columns in (("lots", LOT_COLUMNS), ("shipments", SHIPMENT_COLUMNS)):
                want = rounded(getattr(expected, part).select(columns))
                have = rounded(getattr(got, part).select(columns))
                want, have = (f.sort(columns, nulls_last=True) for f in (want, have))
                assert have.equals(want), (gtin, lot, direction, part)


def test_warnings_not_errors_and_the_same_stock(variants: dict[str, Variant]) -> None:
    """The ERP load raises only the two warnings its planted rows call for (no vocabulary
    finding: every spelling is known), and stock and mass balance come out as in the contract
    variant (a scrap area named as destination receives nothing)."""
    erp, reference = variants["erp"].engine, variants["contract"].engine
    findings = store.read_frame(erp, "record_finding")
    assert set(findings.select("record_type", "rule").unique().iter_rows()) == {
        ("moves", "scrap_without_destination"),
        ("moves", "serial_required"),
    }
    assert store.read_frame(reference, "record_finding").is_empty()
    want, have = api.load_lineage(reference).on_hand, api.load_lineage(erp).on_hand
    place = ["lot_key", "location_id"]
    assert rounded(have).sort(place).equals(rounded(want).sort(place))
    balance = rounded(api.lot_balance(reference)).sort("lot_key")
    assert rounded(api.lot_balance(erp)).sort("lot_key").equals(balance)
