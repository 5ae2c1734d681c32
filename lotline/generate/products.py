"""Master data of products, with the recipes that make them and the demand that sells them."""

from __future__ import annotations

from dataclasses import dataclass

from lotline.generate.identifiers import _gtin, _own_gtin13, _own_gtin14
from lotline.generate.locations import BRD, CHI, JOL, VNL
from lotline.generate.scenario import _GIFT_START, _HAMPER_BATCH, _HAMPER_START, _MILLI, _TIN_START


@dataclass(frozen=True)
class _Product:
    key: str
    gtin: str
    name: str
    brand: str | None
    commodity: str
    variety: str | None
    pack_size: str | None
    pack_uom: str | None
    pack_style: str | None
    tracking: str
    shelf_life_days: int
    uom: str
    level: str  # raw | intermediate | finished
    order_pack: int = 0  # raw materials: milli-units per purchasing pack
    expiry_kind: str = "use_by"  # contract.EXPIRY_KINDS: what the lot's expiry date means


_PRODUCTS: tuple[_Product, ...] = (
    # raw materials, bought in kilograms (GTIN-12, GTIN-13 and variable-measure GTIN-14)
    _Product(
        "flour",
        _gtin("86314000101"),
        "Wheat flour, all-purpose, unbleached",
        "Prairie Mills",
        "wheat flour",
        "Hard red winter",
        "2000",
        "LBR",
        "bulk bag (tote)",
        "lot",
        240,
        "KGM",
        "raw",
        907_185,
    ),
    _Product(
        "cane_sugar",
        _gtin("86314000215"),
        "Granulated cane sugar, fine",
        "Prairie Mills",
        "sugar",
        "Cane, fine granulated",
        "50",
        "LBR",
        "multiwall paper bag",
        "lot",
        730,
        "KGM",
        "raw",
        22_680,
    ),
    _Product(
        "butter",
        _gtin("9087743100011"),
        "Sweet cream butter, unsalted, 82% fat",
        "Great Lakes Dairy",
        "butter",
        "Unsalted, 82% milk fat",
        "55",
        "LBR",
        "block in lined carton",
        "lot",
        180,
        "KGM",
        "raw",
        24_948,
    ),
    _Product(
        "egg",
        _gtin("9087743100028"),
        "Pasteurized liquid whole egg",
        "Great Lakes Dairy",
        "eggs",
        "Whole egg, liquid, chilled",
        "20",
        "KGM",
        "bag-in-box",
        "lot",
        21,
        "KGM",
        "raw",
        20_000,
    ),
    _Product(
        "chips",
        _gtin("786123400022"),
        "Dark chocolate drops 55%",
        "Cacao del Sur",
        "chocolate",
        "Dark 55%, 10 mm drops",
        "25",
        "KGM",
        "lined carton",
        "lot",
        365,
        "KGM",
        "raw",
        25_000,
    ),
    _Product(
        "cocoa_liquor",
        _gtin("786123400015"),
        "Cocoa liquor (mass), Arriba Nacional",
        "Cacao del Sur",
        "cocoa",
        "Nacional (Arriba)",
        "25",
        "KGM",
        "carton of blocks",
        "lot",
        540,
        "KGM",
        "raw",
        25_000,
    ),
    _Product(
        "beet_sugar",
        _gtin("401234500104"),
        "Weißzucker, EU-Kategorie 2",
        "Nordstern",
        "sugar",
        "Beet, EU category 2",
        "1000",
        "KGM",
        "big bag (FIBC)",
        "lot",
        1095,
        "KGM",
        "raw",
        1_000_000,
    ),
    _Product(
        "hazelnuts",
        _gtin("801234560017"),
        "Roasted hazelnut kernels 13-15 mm",
        "Nocciole delle Langhe",
        "hazelnuts",
        "Tonda Gentile delle Langhe IGP",
        "10",
        "KGM",
        "vacuum bag in carton",
        "lot",
        300,
        "KGM",
        "raw",
        10_000,
    ),
    _Product(
        "milk_powder",
        _gtin("9871256700034"),
        "Skimmed milk powder, medium heat",
        "Frisia",
        "milk powder",
        "Skimmed, medium heat",
        "25",
        "KGM",
        "multiwall paper bag",
        "lot",
        540,
        "KGM",
        "raw",
        25_000,
    ),
    # intermediates, made and used inside the plants (internal GTIN-13)
    _Product(
        "butter_dough",
        _own_gtin13("90101"),
        "Butter cookie dough",
        None,
        "dough",
        "Butter",
        None,
        None,
        "dough trough",
        "lot",
        3,
        "KGM",
        "intermediate",
    ),
    _Product(
        "chip_dough",
        _own_gtin13("90102"),
        "Chocolate chip cookie dough",
        None,
        "dough",
        "Chocolate chip",
        None,
        None,
        "dough trough",
        "lot",
        3,
        "KGM",
        "intermediate",
    ),
    _Product(
        "choc_mass",
        _own_gtin13("90201"),
        "Milk chocolate mass 32%",
        None,
        "chocolate",
        "Milk, 32% cocoa solids",
        None,
        None,
        "heated tank",
        "lot",
        365,
        "KGM",
        "intermediate",
    ),
    _Product(
        "filling",
        _own_gtin13("90202"),
        "Hazelnut praline filling",
        None,
        "praline paste",
        "Hazelnut 50%",
        None,
        None,
        "tote",
        "lot",
        180,
        "KGM",
        "intermediate",
    ),
    # finished goods: cases (GTIN-14, indicator 1), consumer units (GTIN-13), bulk (indicator 9)
    _Product(
        "butter_cookies",
        _own_gtin14("1", "10101"),
        "Hearthstone Butter Cookies 200 g, case of 12",
        "Hearthstone",
        "cookies",
        "Butter",
        "2.4",
        "KGM",
        "corrugated case, 12 x 200 g flow-pack",
        "lot",
        270,
        "CS",
        "finished",
    ),
    _Product(
        "butter_tin",
        _own_gtin13("10105"),
        "Hearthstone Butter Cookies Tin 400 g",
        "Hearthstone",
        "cookies",
        "Butter, Danish style",
        "400",
        "GRM",
        "metal tin",
        "lot",
        270,
        "EA",
        "finished",
    ),
    _Product(
        "chip_cookies",
        _own_gtin14("1", "10201"),
        "Hearthstone Chocolate Chip Cookies 200 g, case of 12",
        "Hearthstone",
        "cookies",
        "Chocolate chip",
        "2.4",
        "KGM",
        "corrugated case, 12 x 200 g flow-pack",
        "lot",
        240,
        "CS",
        "finished",
    ),
    _Product(
        "crumb",
        _own_gtin14("9", "10290"),
        "Chocolate chip cookie crumb (bulk)",
        "Hearthstone Ingredients",
        "cookie crumb",
        "Chocolate chip, 2-6 mm",
        "10",
        "KGM",
        "paper bag",
        "lot",
        40,
        "KGM",
        "finished",
    ),
    _Product(
        "pralines",
        _own_gtin14("1", "20101"),
        "Hearthstone Hazelnut Pralines 250 g, case of 8",
        "Hearthstone",
        "pralines",
        "Hazelnut",
        "2",
        "KGM",
        "case, 8 x 250 g gift carton",
        "lot",
        180,
        "CS",
        "finished",
        expiry_kind="best_before",
    ),
    _Product(
        "bars",
        _own_gtin14("1", "20201"),
        "Hearthstone Milk Chocolate Bar 100 g, case of 24",
        "Hearthstone",
        "chocolate bar",
        "Milk 32%",
        "2.4",
        "KGM",
        "display case, 24 x 100 g",
        "lot",
        365,
        "CS",
        "finished",
        expiry_kind="best_before",
    ),
    _Product(
        "gift_box",
        _own_gtin13("20301"),
        "Hearthstone Reserve Signature Gift Box 750 g",
        "Hearthstone Reserve",
        "chocolate assortment",
        "Pralines and milk chocolate",
        "750",
        "GRM",
        "rigid gift box, serialised",
        "serial",
        180,
        "EA",
        "finished",
    ),
    _Product(
        "hamper",
        _own_gtin13("10901"),
        "Hearthstone Holiday Hamper",
        "Hearthstone Reserve",
        "gift hamper",
        "Gift box and butter cookie tin",
        "1.3",
        "KGM",
        "wicker basket, serialised",
        "serial",
        180,
        "EA",
        "finished",
    ),
)
_P: dict[str, _Product] = {p.key: p for p in _PRODUCTS}

# raw material age at receipt (days since the supplier's production date)
_RAW_AGE: dict[str, tuple[int, int]] = {
    "flour": (3, 30),
    "cane_sugar": (10, 120),
    "butter": (2, 20),
    "egg": (1, 3),
    "chips": (10, 90),
    "cocoa_liquor": (20, 120),
    "beet_sugar": (15, 200),
    "hazelnuts": (10, 60),
    "milk_powder": (10, 90),
}
_RAW_COVER_DAYS: dict[str, int] = {"egg": 7, "butter": 14}  # others: 21


@dataclass(frozen=True)
class _Recipe:
    site: str
    batch: int  # planned output per run, milli-units
    inputs: tuple[tuple[str, float], ...]  # input product, input units per output unit
    cap_expiry: bool  # output expiry no later than the earliest input expiry
    ref_doc_type: str
    to_order: bool = False  # intermediates: mixed to the need in equal batches of <= `batch`


_RECIPES: dict[str, _Recipe] = {
    # dough is mixed for the bake in equal batches of at most 1,000 kg (the mixer)
    "butter_dough": _Recipe(
        CHI,
        1_000_000,
        (("flour", 0.44), ("cane_sugar", 0.21), ("butter", 0.27), ("egg", 0.08)),
        True,
        "batch_record",
        to_order=True,
    ),
    "chip_dough": _Recipe(
        CHI,
        1_000_000,
        (("flour", 0.38), ("cane_sugar", 0.19), ("butter", 0.22), ("egg", 0.07), ("chips", 0.14)),
        True,
        "batch_record",
        to_order=True,
    ),
    "choc_mass": _Recipe(
        BRD,
        4_000_000,
        (("beet_sugar", 0.45), ("cocoa_liquor", 0.31), ("milk_powder", 0.24)),
        True,
        "batch_record",
    ),
    "filling": _Recipe(
        BRD,
        1_500_000,
        (("hazelnuts", 0.50), ("beet_sugar", 0.18), ("choc_mass", 0.32)),
        True,
        "batch_record",
    ),
    # baking is a kill step: cookie expiry does not follow the 3-day dough
    "butter_cookies": _Recipe(CHI, 480_000, (("butter_dough", 2.52),), False, "prodorder"),
    "chip_cookies": _Recipe(CHI, 480_000, (("chip_dough", 2.55),), False, "prodorder"),
    "hamper": _Recipe(
        CHI, _HAMPER_BATCH * _MILLI, (("gift_box", 1.0), ("butter_tin", 1.0)), True, "prodorder"
    ),
    "bars": _Recipe(BRD, 720_000, (("choc_mass", 2.45),), True, "prodorder"),
    # filling before chocolate mass: making filling uses chocolate mass
    "pralines": _Recipe(BRD, 300_000, (("filling", 1.25), ("choc_mass", 0.80)), True, "prodorder"),
    "gift_box": _Recipe(BRD, 48_000, (("filling", 0.42), ("choc_mass", 0.36)), True, "prodorder"),
}
_TIN_PER_RUN = 600_000
_TIN_DOUGH = 0.42  # kg butter dough per tin
_SITE_FINISHED = {
    CHI: ("butter_cookies", "chip_cookies", "hamper"),
    BRD: ("bars", "pralines", "gift_box"),
}
_STOCK_LOCATIONS = {
    "butter_cookies": (CHI, JOL),
    "chip_cookies": (CHI, JOL),
    "hamper": (CHI, JOL),
    "bars": (BRD, VNL),
    "pralines": (BRD, VNL),
    "gift_box": (BRD, VNL, CHI),
}


@dataclass(frozen=True)
class _Sales:
    product: str
    market: str  # us | eu | industrial
    per_day: float  # units per calendar day at scale 1
    season_start: int
    step: int  # order multiple, units
    steps: tuple[int, int]  # multiples per order line
    pallet: int  # units per pallet (SSCC)


_SALES = (
    _Sales("butter_cookies", "us", 95, 0, 12, (4, 16), 72),
    _Sales("butter_tin", "us", 140, _TIN_START + 5, 24, (2, 8), 240),
    _Sales("chip_cookies", "us", 80, 0, 12, (4, 16), 72),
    _Sales("hamper", "us", 1.5, _HAMPER_START, 2, (1, 6), 24),
    _Sales("pralines", "eu", 48, 0, 10, (3, 12), 60),
    _Sales("bars", "eu", 110, 0, 16, (4, 14), 96),
    _Sales("gift_box", "eu", 4, _GIFT_START, 4, (1, 6), 64),
    _Sales("crumb", "industrial", 7, 0, 10, (1, 1), 400),
)
_SALES_OF = {s.product: s for s in _SALES}
