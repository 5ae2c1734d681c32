"""Unit conversion: exact Rec 20 factors, product pack links, and refusal to guess."""

from __future__ import annotations

import polars as pl
import pytest

from lotline.intake.contract import UOM_NAMES
from lotline.units import UNITS, convert_to_product_uom, product_conversions, to_unit

COOKIES, TIN, FLOUR, MUG, SIX_PACK, OIL = (
    "00614141000043",
    "00614141000050",
    "00614141000012",
    "00614141000067",
    "00614141000074",
    "00614141000081",
)


def products() -> pl.DataFrame:
    """Case of 2.4 kg; tin without a usable pack; 25 kg bag of flour stocked in kg; a mug of
    0.5 kg counted in EA; a case of 12 EA; oil stocked in kg in 2 L bottles."""
    return pl.DataFrame(
        [
            (COOKIES, "CS", 2.4, "KGM", "case"),
            (TIN, "EA", 1.0, "EA", "tin"),
            (FLOUR, "KGM", 25.0, "KGM", "Bag"),
            (MUG, "EA", 0.5, "KGM", None),
            (SIX_PACK, "CS", 12.0, "EA", "case"),
            (OIL, "KGM", 2.0, "LTR", "bottle"),
        ],
        schema={
            "gtin": pl.String,
            "uom": pl.String,
            "pack_size": pl.Float64,
            "pack_uom": pl.String,
            "pack_style": pl.String,
        },
        orient="row",
    )


def convert(rows: list[tuple[str, float, str]]) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows, schema={"gtin": pl.String, "quantity": pl.Float64, "uom": pl.String}, orient="row"
    )
    return convert_to_product_uom(frame, products())


def test_every_contract_code_has_exactly_one_conversion_row() -> None:
    assert sorted(UNITS["uom"]) == sorted(UOM_NAMES)
    assert UNITS["uom"].is_unique().all()


@pytest.mark.parametrize(
    ("quantity", "from_uom", "to_uom", "expected"),
    [
        (1.0, "LBR", "GRM", 453.59237),
        (16.0, "ONZ", "LBR", 1.0),
        (2.0, "TNE", "KGM", 2000.0),
        (2500.0, "MGM", "GRM", 2.5),
        (1.0, "GLL", "MLT", 3785.411784),
        (1.0, "MTQ", "LTR", 1000.0),
        (7.0, "C62", "EA", 7.0),
        (7.0, "H87", "C62", 7.0),
        (3.0, "CS", "CS", 3.0),
    ],
)
def test_fixed_factors(quantity: float, from_uom: str, to_uom: str, expected: float) -> None:
    frame = pl.DataFrame({"q": [quantity], "f": [from_uom], "t": [to_uom]})
    result = frame.select(to_unit(pl.col("q"), pl.col("f"), pl.col("t")))[0, 0]
    assert result == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("from_uom", "to_uom"), [("KGM", "LTR"), ("CS", "BX"), ("EA", "KGM"), ("XYZ", "KGM")]
)
def test_no_fixed_factor_across_dimensions_or_packages(from_uom: str, to_uom: str) -> None:
    frame = pl.DataFrame({"q": [1.0], "f": [from_uom], "t": [to_uom]})
    assert frame.select(to_unit(pl.col("q"), pl.col("f"), pl.col("t")))[0, 0] is None


def test_product_links_come_from_the_pack_fields() -> None:
    links = {
        r["gtin"]: (r["package_uom"], r["ratio"])
        for r in product_conversions(products()).iter_rows(named=True)
    }
    assert links[COOKIES] == ("CS", pytest.approx(2.4))
    assert links[TIN] == (None, None)  # 1 EA per EA says nothing; "tin" is no Rec 20 code
    assert links[FLOUR] == ("BG", pytest.approx(25.0))  # pack style "Bag" names the package
    assert links[MUG] == ("EA", pytest.approx(0.5))
    assert links[SIX_PACK] == ("CS", pytest.approx(12.0))
    assert links[OIL] == ("BO", pytest.approx(2.0))


def test_convert_to_product_uom_through_fixed_and_pack_links() -> None:
    rows = [
        (COOKIES, 24.0, "KGM"),  # 24 kg / 2.4 kg per case
        (COOKIES, 2400.0, "GRM"),  # fixed to kg, then the pack
        (COOKIES, 3.0, "CS"),
        (FLOUR, 2.0, "BG"),  # 2 bags of 25 kg
        (FLOUR, 500.0, "GRM"),
        (MUG, 10.0, "KGM"),  # 10 kg / 0.5 kg per mug
        (MUG, 3.0, "H87"),
        (SIX_PACK, 24.0, "C62"),  # 24 units / 12 per case
        (TIN, 5.0, "EA"),
    ]
    result = convert(rows)
    assert result["quantity"].to_list() == pytest.approx(
        [10.0, 1.0, 3.0, 50.0, 0.5, 20.0, 3.0, 2.0, 5.0]
    )
    assert result["uom"].to_list() == ["CS", "CS", "CS", "KGM", "KGM", "EA", "EA", "CS", "EA"]
    assert result["convertible"].all()
    assert result["recorded_quantity"].to_list() == [r[1] for r in rows]
    assert result["recorded_uom"].to_list() == [r[2] for r in rows]


def test_rows_without_a_rule_are_flagged_not_guessed() -> None:
    result = convert(
        [
            (COOKIES, 12.0, "EA"),  # 12 cookies per case is only in the product name
            (TIN, 1.0, "KGM"),  # no weight of a tin on record
            (FLOUR, 1.0, "CS"),  # the flour's package is a bag, not a case
            (OIL, 1.0, "BO"),  # 2 L per bottle, but no density to reach kg
            ("00000000000000", 1.0, "KGM"),  # unknown product
        ]
    )
    assert result["convertible"].to_list() == [False] * 5
    assert result["quantity"].null_count() == 5
    assert result["uom"].to_list() == ["CS", "EA", "KGM", "KGM", None]


def test_other_columns_and_row_order_are_kept() -> None:
    frame = pl.DataFrame(
        {
            "shipment_id": ["B", "A"],
            "gtin": [FLOUR, COOKIES],
            "quantity": [1.0, 4.8],
            "uom": ["TNE", "KGM"],
        }
    )
    result = convert_to_product_uom(frame, products())
    assert result.columns == [
        "shipment_id",
        "gtin",
        "quantity",
        "uom",
        "recorded_quantity",
        "recorded_uom",
        "convertible",
    ]
    assert result["shipment_id"].to_list() == ["B", "A"]
    assert result["quantity"].to_list() == pytest.approx([1000.0, 2.0])
