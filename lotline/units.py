"""Units of measure: UN/CEFACT Recommendation 20 codes converted with Polars expressions.

Why: a mass balance or a recall summary adds quantities, and records of one lot may carry
different units (a receipt in GRM, a shipment in KGM, a case product counted in CS). Sums are only
meaningful in one unit, so every quantity is converted to the product's stock unit first.

Two kinds of conversion, and nothing else (no guessing):
- *fixed*: within one dimension (mass, volume, count) by exact factors to a base unit per
  dimension (KGM, LTR, EA). Packaging codes (CS, BX, PK, ...) have no fixed size: each is its own
  dimension, so CS converts only to CS.
- *product-specific*: the product master's `pack_size` + `pack_uom` say how big one package is.
  The package is the product's own `uom` when that unit is discrete (a count or packaging code:
  "1 CS = 2.4 KGM", "1 EA = 0.5 KGM", "1 CS = 12 EA"); otherwise it is the packaging code whose
  Rec 20 name is the product's `pack_style` ("bag" → BG: flour stocked in KGM, pack 25 KGM in a
  bag, so 1 BG = 25 KGM). A pack in the same dimension as its package says nothing and is ignored.

A quantity that neither rule converts comes out null with `convertible` false, for a person to
look at.
"""

from __future__ import annotations

import polars as pl

from lotline.intake.contract import UOM_NAMES

MASS, VOLUME, COUNT = "mass", "volume", "count"
BASE_UNITS = {MASS: "KGM", VOLUME: "LTR", COUNT: "EA"}
PACKAGE_CODES = ("CS", "BX", "PK", "BG", "BO", "CT", "DR", "PF")

# Size of one unit in its dimension's base unit (exact by definition: the international pound
# is 0.45359237 kg, the avoirdupois ounce 1/16 of it, the US gallon 231 in³ = 3.785411784 L).
_FIXED: dict[str, tuple[str, float]] = {
    "KGM": (MASS, 1.0),
    "GRM": (MASS, 1e-3),
    "MGM": (MASS, 1e-6),
    "TNE": (MASS, 1e3),
    "LBR": (MASS, 0.45359237),
    "ONZ": (MASS, 0.45359237 / 16),
    "LTR": (VOLUME, 1.0),
    "MLT": (VOLUME, 1e-3),
    "MTQ": (VOLUME, 1e3),
    "GLL": (VOLUME, 3.785411784),
    "EA": (COUNT, 1.0),
    "H87": (COUNT, 1.0),
    "C62": (COUNT, 1.0),
}

UNITS = pl.DataFrame(
    [
        *[(code, dimension, factor) for code, (dimension, factor) in _FIXED.items()],
        *[(code, f"package:{code}", 1.0) for code in PACKAGE_CODES],
    ],
    schema={"uom": pl.String, "dimension": pl.String, "factor": pl.Float64},
    orient="row",
)
"""The conversion table: one row per Rec 20 code, its dimension and its size in the base unit."""

_DIMENSION = dict(zip(UNITS["uom"], UNITS["dimension"], strict=True))
_FACTOR = dict(zip(UNITS["uom"], UNITS["factor"], strict=True))
_PACKAGE_BY_NAME = {UOM_NAMES[code].lower(): code for code in PACKAGE_CODES}


def dimension(uom: pl.Expr) -> pl.Expr:
    """The dimension of a unit code (null for a code outside the table)."""
    return uom.replace_strict(_DIMENSION, default=None, return_dtype=pl.String)


def factor(uom: pl.Expr) -> pl.Expr:
    """The size of one unit in its dimension's base unit (null for an unknown code)."""
    return uom.replace_strict(_FACTOR, default=None, return_dtype=pl.Float64)


def to_unit(quantity: pl.Expr, from_uom: pl.Expr, to_uom: pl.Expr) -> pl.Expr:
    """`quantity` in `from_uom` expressed in `to_uom` by fixed factors; null across dimensions.

    A vectorised lookup in `UNITS` (no per-row Python): e.g.
    `to_unit(pl.col("quantity"), pl.col("uom"), pl.lit("KGM"))`.
    """
    same = dimension(from_uom) == dimension(to_uom)
    return pl.when(same).then(quantity * factor(from_uom) / factor(to_uom))


def product_conversions(products: pl.DataFrame) -> pl.DataFrame:
    """Per product, the one product-specific link: 1 `package_uom` = `pack_size` `pack_uom`.

    `package_uom` is null when the product master does not define a usable link (no pack size,
    unknown codes, pack style without a Rec 20 packaging code, or package and pack in the same
    dimension). Columns: gtin, uom, package_uom, pack_size, pack_uom, ratio, where `ratio` is
    base units of the pack's dimension per base unit of the package's dimension.
    """
    optional = {"pack_size": pl.Float64, "pack_uom": pl.String, "pack_style": pl.String}
    products = products.with_columns(
        pl.lit(None, dtype).alias(name)
        for name, dtype in optional.items()
        if name not in products.columns
    )
    stock_dimension = dimension(pl.col("uom"))
    discrete = (stock_dimension == COUNT) | stock_dimension.str.starts_with("package:")
    style_code = (
        pl.col("pack_style")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(_PACKAGE_BY_NAME, default=None, return_dtype=pl.String)
    )
    pack_dimension = dimension(pl.col("pack_uom"))
    package = (
        pl.when(discrete & (stock_dimension != pack_dimension))
        .then(pl.col("uom"))
        .otherwise(style_code)
    )
    usable = (
        (pl.col("pack_size") > 0)
        & pack_dimension.is_not_null()
        & dimension(pl.col("package_uom")).is_not_null()
        & (dimension(pl.col("package_uom")) != pack_dimension)
    )
    return (
        products.select("gtin", "uom", "pack_size", "pack_uom", package.alias("package_uom"))
        .with_columns(
            pl.when(usable).then(pl.col("package_uom")).alias("package_uom"),
        )
        .with_columns(
            pl.when(pl.col("package_uom").is_not_null())
            .then(pl.col("pack_size") * factor(pl.col("pack_uom")) / factor(pl.col("package_uom")))
            .alias("ratio")
        )
        .select("gtin", "uom", "package_uom", "pack_size", "pack_uom", "ratio")
    )


def convert_to_product_uom(frame: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """Quantities of `frame` (gtin, quantity, uom, ...) in each product's stock unit.

    `quantity`/`uom` become the converted quantity and the product's `uom`; the recorded values
    are kept as `recorded_quantity`/`recorded_uom`. Where no rule converts the row (unknown
    product or code, or no product-specific link between the dimensions) `quantity` is null and
    `convertible` false. Row order and the other columns are unchanged.
    """
    links = product_conversions(products).select(
        "gtin",
        pl.col("uom").alias("_stock_uom"),
        pl.col("package_uom").alias("_package_uom"),
        pl.col("pack_uom").alias("_pack_uom"),
        pl.col("ratio").alias("_ratio"),
    )
    recorded = dimension(pl.col("recorded_uom"))
    stock = dimension(pl.col("_stock_uom"))
    package = dimension(pl.col("_package_uom"))
    pack = dimension(pl.col("_pack_uom"))
    base = pl.col("recorded_quantity") * factor(pl.col("recorded_uom"))
    in_stock_base = (
        pl.when(recorded == stock)
        .then(base)
        .when((recorded == package) & (stock == pack))
        .then(base * pl.col("_ratio"))
        .when((recorded == pack) & (stock == package))
        .then(base / pl.col("_ratio"))
    )
    converted = in_stock_base / factor(pl.col("_stock_uom"))
    columns = frame.columns
    return (
        frame.rename({"quantity": "recorded_quantity", "uom": "recorded_uom"})
        .join(links, on="gtin", how="left", maintain_order="left")
        .with_columns(converted.alias("quantity"), pl.col("_stock_uom").alias("uom"))
        .with_columns(pl.col("quantity").is_not_null().alias("convertible"))
        .select(*columns, "recorded_quantity", "recorded_uom", "convertible")
    )
