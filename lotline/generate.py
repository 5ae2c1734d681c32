"""Deterministic sample data in the input contract, shaped like a real multi-level supply chain.

Why: demos, notebooks, benchmarks and tests need input files that exercise everything lotline
does (multi-level genealogy, merges and splits, co-products, serialised units, a rework loop,
transfers, returns, write-offs, expired stock and shipments made at or after expiry) without
shipping real company data. The generator is a small day-by-day simulation of one confectionery
company, so every row is consistent with every other row: stock is only consumed, moved or
shipped where and when it is on hand, a lot keeps one production and expiry date, and all
identifiers carry valid GS1 check digits. Same `seed`, `scale` and `anchor` give byte-identical
files (no clock, no hash-order dependence, no network).

The world (`anchor` is "today"; every event happens in the `HORIZON_DAYS` days before it):

- Hearthstone Confectionery runs a bakery in Chicago (SITE-CHI, US Central time) and a chocolate
  works in Breda (SITE-BRD, Central European time), each with a distribution centre (WH-JOL,
  WH-VNL). Six suppliers in the US, Ecuador, Germany, Italy and the Netherlands deliver raw
  materials (kg); 5-30 customers (more with `scale`) in North America, Europe and Japan buy.
- Levels: raw → dough → cookie cases and tins; raw → chocolate mass → praline filling → praline
  cases and serialised gift boxes; gift box (by serial) + tin → serialised holiday hamper. Dough
  is mixed in several batches per bake (merges); a chocolate-mass tank feeds many runs (splits).
- Dates: chocolate pralines and bars carry a best-before date (a quality date, EU 1169/2011),
  everything else a use-by / expiration date (`products.expiry_kind`).
- Co-products share the run's lot code: butter-cookie runs also fill 400 g tins (in season) and
  chocolate-chip runs yield bulk cookie crumb.
- Planted on purpose (functions and comments marked PLANTED), present from scale 0.2 on:
  - rework loop: mis-wrapped pralines are melted back into the praline-filling lot they were
    made from (production ids `BRD-RW-*`; output gtin+lot = an ancestor): a lot-graph cycle;
  - the first crumb lot goes on QA hold and is shipped from SITE-CHI to CUST-CREAMERY on its
    expiry day and six days later; a second held crumb lot is still on hand, expired, at the
    anchor (short-lived dough and eggs also expire, are scrapped weekly, and some are left);
  - supplier lot codes shared by two GTINs (Great Lakes Dairy codes butter and egg by packing
    day), and co-product lot codes shared by two GTINs;
  - a FEFO slip: once from day `_FEFO_SLIP_FROM`, Joliet picks one butter-cookie order line
    from a newer lot while an older, usable lot is on hand (21 CFR 211.150);
  - returns from customers into quarantine at the distribution centres, then destroyed or put
    back; count adjustments in both directions; damage scrap; season-launch orders so that
    serialised goods are shipped at every scale.

All values are written as text exactly as they appear in the CSV files: quantities as decimals
("250", "907.185"), dates as YYYY-MM-DD and timestamps as ISO 8601 with the local UTC offset of
the location where the event was recorded (US and EU daylight-saving rules applied).

`vocabulary="erp"` writes the same world as a typical ERP export would (`_erp_records`): the
vocabulary columns in upper- or mixed-case synonyms with stray spaces (`ASN`, `Purchase Order`,
` Transfer`, `SCRAP`, `CUSTOMER`, `Serial`, `kg`, `PACK`, `Hold`, `Use By`, ...), every second
scrap move naming a scrap area of its location as destination (listed in locations), and every
second serialised transfer written as one lot-level line (no serial) with the number of units.
The lots, transformations and shipments are the contract variant's.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import polars as pl

from lotline.gs1 import with_check_digit
from lotline.intake import contract

__all__ = ["DEFAULT_ANCHOR", "HORIZON_DAYS", "Vocabulary", "generate", "generate_records"]

Vocabulary = Literal["contract", "erp"]
"""How vocabulary columns are spelled: as the contract spells them, or as an ERP export would."""

DEFAULT_ANCHOR = date(2026, 11, 20)
"""The "today" of the generated world: every event happens in the days before it."""
HORIZON_DAYS = 120

_COMPANY = "8719327"  # GS1 company prefix of the fictional Hearthstone Confectionery
_MILLI = 1000  # quantities are simulated as integers in thousandths of the product's unit

# days (index from the first simulated day) when seasonal flows start
_TIN_START = 25
_GIFT_START = 40
_GIFT_TO_CHI_START = 50
_HAMPER_START = 60
_HAMPER_BATCH = 24
_COVER_DAYS = 8  # finished-goods stock target in days of demand
_REWORK_FROM = 15  # first praline run on or after this day is partly reworked (planted cycle)
_CRUMB_HOLD_B_FROM = 40  # first crumb lot on or after this day is held and never released
_RETURN_FROM = 20  # first warehouse shipment line on or after this day comes back (planted)
_FEFO_SLIP_FROM = 30  # first Joliet butter-cookie order on or after this day skips FEFO (planted)


# --- identifiers ----------------------------------------------------------------------------


def _gtin(body: str) -> str:
    """GTIN from its digits without check digit (11, 12 or 13 digits), written as GTIN-14."""
    if not body.isdigit() or len(body) not in (11, 12, 13):
        raise ValueError(f"bad GTIN body {body!r}")
    return with_check_digit(body).zfill(14)


def _own_gtin13(item: str) -> str:
    return _gtin(_COMPANY + item)


def _own_gtin14(indicator: str, item: str) -> str:
    return _gtin(indicator + _COMPANY + item)


def _gln(body12: str) -> str:
    if not body12.isdigit() or len(body12) != 12:
        raise ValueError(f"bad GLN body {body12!r}")
    return with_check_digit(body12)


# --- time zones: fixed rules, so output never depends on the machine's tz database --------------


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def _last_sunday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


@dataclass(frozen=True)
class _Zone:
    rule: str  # "us" (2nd Sun Mar - 1st Sun Nov), "eu" (last Sun Mar - last Sun Oct), "none"
    standard_minutes: int

    def offset(self, day: date) -> str:
        """UTC offset of local times from 05:00 on (all events are; transitions are at night)."""
        y = day.year
        if self.rule == "us":
            dst = _nth_sunday(y, 3, 2) <= day < _nth_sunday(y, 11, 1)
        elif self.rule == "eu":
            dst = _last_sunday(y, 3) <= day < _last_sunday(y, 10)
        else:
            dst = False
        minutes = self.standard_minutes + 60 * dst
        sign = "+" if minutes >= 0 else "-"
        h, m = divmod(abs(minutes), 60)
        return f"{sign}{h:02d}:{m:02d}"


_US_CENTRAL = _Zone("us", -360)
_CET = _Zone("eu", 60)


# --- master data ------------------------------------------------------------------------------


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
class _Location:
    location_id: str
    kind: str
    business_name: str
    gln: str
    phone: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    latitude: float
    longitude: float
    segment: str = ""  # customers: retail | industrial


CHI, BRD, JOL, VNL = "SITE-CHI", "SITE-BRD", "WH-JOL", "WH-VNL"
_ZONES = {CHI: _US_CENTRAL, JOL: _US_CENTRAL, BRD: _CET, VNL: _CET}
_CODE = {CHI: "CHI", BRD: "BRD", JOL: "JOL", VNL: "VNL"}
_MARKET_WAREHOUSE = {"us": JOL, "eu": VNL}

_OWN_LOCATIONS = (
    _Location(
        CHI,
        "site",
        "Hearthstone Confectionery Inc. - Chicago Bakery",
        _gln(_COMPANY + "10001"),
        "+1 773 555 0100",
        "2150 S Kilbourn Ave",
        "Chicago",
        "IL",
        "60623",
        "US",
        41.8518,
        -87.7340,
    ),
    _Location(
        BRD,
        "site",
        "Hearthstone Confectionery B.V. - Breda Chocolate Works",
        _gln(_COMPANY + "20001"),
        "+31 76 820 4400",
        "Minervum 7040",
        "Breda",
        "NB",
        "4817 ZN",
        "NL",
        51.6029,
        4.8327,
    ),
    _Location(
        JOL,
        "warehouse",
        "Hearthstone Distribution Center Joliet",
        _gln(_COMPANY + "10002"),
        "+1 815 555 0160",
        "2800 Channahon Rd",
        "Joliet",
        "IL",
        "60436",
        "US",
        41.4870,
        -88.1490,
    ),
    _Location(
        VNL,
        "warehouse",
        "Hearthstone European DC Venlo",
        _gln(_COMPANY + "20002"),
        "+31 77 320 1800",
        "Venrayseweg 130",
        "Venlo",
        "LI",
        "5928 RH",
        "NL",
        51.4040,
        6.1490,
    ),
)


@dataclass(frozen=True)
class _Supplier:
    location: _Location
    lead_days: tuple[int, int]
    ref_doc_type: str  # how their deliveries are referenced: our PO or their DESADV
    lot_style: str


_SUPPLIERS = (
    _Supplier(
        _Location(
            "SUP-PRAIRIE",
            "supplier",
            "Prairie Mills Inc.",
            _gln("086314000007"),
            "+1 785 555 0134",
            "1200 N 9th St",
            "Salina",
            "KS",
            "67401",
            "US",
            38.8403,
            -97.6114,
        ),
        (2, 3),
        "po",
        "prairie",
    ),
    _Supplier(
        _Location(
            "SUP-GLDAIRY",
            "supplier",
            "Great Lakes Dairy & Egg Cooperative",
            _gln("087743100004"),
            "+1 715 555 0187",
            "400 Galloway St",
            "Eau Claire",
            "WI",
            "54703",
            "US",
            44.8113,
            -91.4985,
        ),
        (1, 2),
        "po",
        "gldairy",
    ),
    _Supplier(
        _Location(
            "SUP-CACAO",
            "supplier",
            "Cacao del Sur S.A.",
            _gln("786123400003"),
            "+593 4 555 2870",
            "Av. Juan Tanca Marengo km 4.5",
            "Guayaquil",
            "G",
            "090505",
            "EC",
            -2.1709,
            -79.9224,
        ),
        (4, 7),
        "desadv",
        "cacao",
    ),
    _Supplier(
        _Location(
            "SUP-NORDSTERN",
            "supplier",
            "Zuckerfabrik Nordstern GmbH",
            _gln("401234500002"),
            "+49 581 555 2200",
            "Lüneburger Straße 31",
            "Uelzen",
            "NI",
            "29525",
            "DE",
            52.9647,
            10.5658,
        ),
        (2, 4),
        "desadv",
        "nordstern",
    ),
    _Supplier(
        _Location(
            "SUP-NOCCIOLE",
            "supplier",
            "Nocciole delle Langhe S.r.l.",
            _gln("801234560000"),
            "+39 0173 555 118",
            "Corso Piave 118",
            "Alba",
            "CN",
            "12051",
            "IT",
            44.7009,
            8.0356,
        ),
        (3, 5),
        "desadv",
        "nocciole",
    ),
    _Supplier(
        _Location(
            "SUP-FRISIA",
            "supplier",
            "Frisia Zuivel B.V.",
            _gln("871256700001"),
            "+31 58 555 9400",
            "Tesselschadestraat 5",
            "Leeuwarden",
            "FR",
            "8913 HA",
            "NL",
            53.2012,
            5.7999,
        ),
        (2, 3),
        "desadv",
        "frisia",
    ),
)
_SUPPLIER_OF: dict[str, _Supplier] = {
    "flour": _SUPPLIERS[0],
    "cane_sugar": _SUPPLIERS[0],
    "butter": _SUPPLIERS[1],
    "egg": _SUPPLIERS[1],
    "chips": _SUPPLIERS[2],
    "cocoa_liquor": _SUPPLIERS[2],
    "beet_sugar": _SUPPLIERS[3],
    "hazelnuts": _SUPPLIERS[4],
    "milk_powder": _SUPPLIERS[5],
}
_SITE_RAWS = {
    CHI: ("flour", "cane_sugar", "butter", "egg", "chips"),
    BRD: ("cocoa_liquor", "beet_sugar", "milk_powder", "hazelnuts"),
}

# GS1 prefixes by country, for customer GLNs
_COUNTRY_PREFIX = {
    "US": "081",
    "CA": "062",
    "DE": "404",
    "NL": "871",
    "FR": "347",
    "GB": "503",
    "BE": "541",
    "DK": "571",
    "AT": "901",
    "JP": "456",
    "IT": "802",
    "ES": "843",
    "SE": "735",
}

# (id, name, street, city, region, postal code, country, lat, long, phone, segment); the order
# matters: a small world takes the first ones, so the first five cover both markets and industry
_CUSTOMER_POOL = (
    (
        "CUST-FRESHWAY",
        "FreshWay Markets Distribution Center",
        "5500 W Minnesota St",
        "Indianapolis",
        "IN",
        "46241",
        "US",
        39.7502,
        -86.2601,
        "+1 317 555 0148",
        "retail",
    ),
    (
        "CUST-HOFMANN",
        "Hofmann Lebensmittel-Großhandel GmbH",
        "Robert-Perthel-Straße 45",
        "Köln",
        "NW",
        "50739",
        "DE",
        50.9868,
        6.9245,
        "+49 221 555 3810",
        "retail",
    ),
    (
        "CUST-CREAMERY",
        "Creamery Row Ice Cream Co.",
        "2121 E Washington Ave",
        "Madison",
        "WI",
        "53704",
        "US",
        43.0960,
        -89.3500,
        "+1 608 555 0172",
        "industrial",
    ),
    (
        "CUST-NOORDHOEK",
        "Noordhoek Supermarkten B.V.",
        "Hoogtij 21",
        "Zaandam",
        "NH",
        "1507 DR",
        "NL",
        52.4531,
        4.8050,
        "+31 75 555 2210",
        "retail",
    ),
    (
        "CUST-MAPLELEAF",
        "Maple Leaf Pantry Ltd.",
        "6975 Columbus Rd",
        "Mississauga",
        "ON",
        "L5T 2G1",
        "CA",
        43.6581,
        -79.6987,
        "+1 905 555 0119",
        "retail",
    ),
    (
        "CUST-LONESTAR",
        "Lone Star Foods Distribution",
        "3100 Irving Blvd",
        "Dallas",
        "TX",
        "75247",
        "US",
        32.8120,
        -96.8720,
        "+1 214 555 0190",
        "retail",
    ),
    (
        "CUST-MARCHAND",
        "Épicerie Fine Marchand SAS",
        "12 Rue de Gerland",
        "Lyon",
        "ARA",
        "69007",
        "FR",
        45.7360,
        4.8320,
        "+33 4 72 55 01 23",
        "retail",
    ),
    (
        "CUST-SUNBELT",
        "Sunbelt Grocery Supply",
        "4900 Frontage Rd",
        "Forest Park",
        "GA",
        "30297",
        "US",
        33.6220,
        -84.3690,
        "+1 404 555 0137",
        "retail",
    ),
    (
        "CUST-BRIGHTWATER",
        "Brightwater Retail Ltd",
        "Royal Oak Way North",
        "Daventry",
        "NTH",
        "NN11 8PQ",
        "GB",
        52.2700,
        -1.1500,
        "+44 1327 555 010",
        "retail",
    ),
    (
        "CUST-CASCADE",
        "Cascade Natural Markets",
        "20402 84th Ave S",
        "Kent",
        "WA",
        "98032",
        "US",
        47.4180,
        -122.2330,
        "+1 253 555 0166",
        "retail",
    ),
    (
        "CUST-VLAAMSE",
        "Vlaamse Voedingscentrale NV",
        "Noorderlaan 147",
        "Antwerpen",
        "VAN",
        "2030",
        "BE",
        51.2470,
        4.4190,
        "+32 3 555 41 20",
        "retail",
    ),
    (
        "CUST-EMPIRE",
        "Empire State Food Service",
        "6400 Kinne Rd",
        "DeWitt",
        "NY",
        "13214",
        "US",
        43.0600,
        -76.0700,
        "+1 315 555 0105",
        "retail",
    ),
    (
        "CUST-ROCKYMTN",
        "Rocky Mountain Provisions",
        "5200 E 56th Ave",
        "Commerce City",
        "CO",
        "80022",
        "US",
        39.8080,
        -104.9340,
        "+1 303 555 0184",
        "retail",
    ),
    (
        "CUST-DAGLIG",
        "Dansk Dagligvare A/S",
        "Park Allé 350",
        "Brøndby",
        "84",
        "2605",
        "DK",
        55.6460,
        12.4100,
        "+45 43 55 12 00",
        "retail",
    ),
    (
        "CUST-POLARSCOOP",
        "Polar Scoop Inc.",
        "1200 Kasota Ave SE",
        "Minneapolis",
        "MN",
        "55414",
        "US",
        44.9760,
        -93.2080,
        "+1 612 555 0153",
        "industrial",
    ),
    (
        "CUST-ALPEN",
        "Alpen Feinkost Handels GmbH",
        "Münchner Bundesstraße 118",
        "Salzburg",
        "5",
        "5020",
        "AT",
        47.8230,
        13.0190,
        "+43 662 555 730",
        "retail",
    ),
    (
        "CUST-GOLDENGATE",
        "Golden Gate Specialty Foods",
        "8400 Pardee Dr",
        "Oakland",
        "CA",
        "94621",
        "US",
        37.7370,
        -122.1960,
        "+1 510 555 0128",
        "retail",
    ),
    (
        "CUST-SAKURA",
        "Sakura Import Foods K.K.",
        "2-4-1 Shinkiba, Koto-ku",
        "Tokyo",
        "13",
        "136-0082",
        "JP",
        35.6430,
        139.8270,
        "+81 3 5555 0142",
        "retail",
    ),
    (
        "CUST-GULFCOAST",
        "Gulf Coast Wholesale Grocers",
        "9000 Market St",
        "Houston",
        "TX",
        "77029",
        "US",
        29.7730,
        -95.2520,
        "+1 713 555 0177",
        "retail",
    ),
    (
        "CUST-LAMBERT",
        "Confiserie Lambert SARL",
        "45 Rue de Lannoy",
        "Roubaix",
        "HDF",
        "59100",
        "FR",
        50.6860,
        3.1870,
        "+33 3 20 55 47 10",
        "retail",
    ),
    (
        "CUST-HEARTLAND",
        "Heartland Family Stores",
        "10500 Sapp Brothers Dr",
        "Omaha",
        "NE",
        "68138",
        "US",
        41.1800,
        -96.0800,
        "+1 402 555 0161",
        "retail",
    ),
    (
        "CUST-NORDSEE",
        "Nordsee Handelshaus GmbH",
        "Am Moldauhafen 16",
        "Hamburg",
        "HH",
        "20457",
        "DE",
        53.5330,
        10.0050,
        "+49 40 555 8120",
        "retail",
    ),
    (
        "CUST-BAYSTATE",
        "Bay State Grocers Inc.",
        "100 Pullman St",
        "Worcester",
        "MA",
        "01606",
        "US",
        42.3050,
        -71.7880,
        "+1 508 555 0113",
        "retail",
    ),
    (
        "CUST-DEHAVEN",
        "Groothandel De Haven B.V.",
        "Waalhaven Zuidzijde 10",
        "Rotterdam",
        "ZH",
        "3089 JH",
        "NL",
        51.8820,
        4.4460,
        "+31 10 555 6630",
        "retail",
    ),
    (
        "CUST-DESERTSUN",
        "Desert Sun Markets",
        "4400 W Buckeye Rd",
        "Phoenix",
        "AZ",
        "85043",
        "US",
        33.4370,
        -112.1570,
        "+1 602 555 0195",
        "retail",
    ),
    (
        "CUST-MERCATO",
        "Mercato Lombardo S.p.A.",
        "Via Emilia 54",
        "Lodi",
        "LO",
        "26900",
        "IT",
        45.3140,
        9.5030,
        "+39 0371 555 210",
        "retail",
    ),
    (
        "CUST-GREATPLAINS",
        "Great Plains Pantry",
        "3801 N Hillside St",
        "Wichita",
        "KS",
        "67219",
        "US",
        37.7450,
        -97.3000,
        "+1 316 555 0131",
        "retail",
    ),
    (
        "CUST-IBERIA",
        "Iberia Dulce S.L.",
        "Calle de Eduardo Barreiros 110",
        "Madrid",
        "MD",
        "28041",
        "ES",
        40.3700,
        -3.6950,
        "+34 91 555 2740",
        "retail",
    ),
    (
        "CUST-KEYSTONE",
        "Keystone Food Distributors",
        "4900 Ritter Rd",
        "Mechanicsburg",
        "PA",
        "17055",
        "US",
        40.2290,
        -77.0100,
        "+1 717 555 0144",
        "retail",
    ),
    (
        "CUST-NORDICSWEETS",
        "Nordic Sweets AB",
        "Bergavägen 8",
        "Helsingborg",
        "M",
        "254 64",
        "SE",
        56.0840,
        12.7360,
        "+46 42 555 18 00",
        "retail",
    ),
)


def _customers(count: int) -> list[_Location]:
    out = []
    for (
        cid,
        name,
        street,
        city,
        region,
        postal,
        country,
        lat,
        lon,
        phone,
        segment,
    ) in _CUSTOMER_POOL[:count]:
        body = _COUNTRY_PREFIX[country] + f"{random.Random(cid).randrange(10**9):09d}"
        out.append(
            _Location(
                cid,
                "customer",
                name,
                _gln(body),
                phone,
                street,
                city,
                region,
                postal,
                country,
                lat,
                lon,
                segment,
            )
        )
    return out


def _market(customer: _Location) -> str:
    return "us" if customer.country in ("US", "CA") else "eu"


# --- recipes and demand ----------------------------------------------------------------------


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


# --- formatting -----------------------------------------------------------------------------


def _qty(milli: int) -> str:
    if milli <= 0:
        raise ValueError(f"quantity must be positive, got {milli}")
    whole, frac = divmod(milli, _MILLI)
    return str(whole) if frac == 0 else f"{whole}.{frac:03d}".rstrip("0")


def _coord(value: float) -> str:
    return f"{value:.4f}"


def _poisson(rnd: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # normal approximation; never reached at sane scales
        return max(0, round(rnd.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rnd.random()
    while p > limit:
        k += 1
        p *= rnd.random()
    return k


Row = list[str | None]


class _Window:
    """A time window of one location-day: events get distinct, increasing local times on close."""

    def __init__(self, start_h: float, end_h: float, step_s: int) -> None:
        self.start, self.end, self.step = int(start_h * 3600), int(end_h * 3600), step_s
        self.events: list[list[Row]] = []

    def event(self) -> list[Row]:
        rows: list[Row] = []
        self.events.append(rows)
        return rows

    def close(self, rnd: random.Random, day: date, offset: str) -> None:
        events = [e for e in self.events if e]
        if not events:
            return
        step = self.step
        slots = (self.end - self.start) // step
        if len(events) > slots:
            step, slots = 1, self.end - self.start
        picks = sorted(rnd.sample(range(slots), len(events)))
        for rows, k in zip(events, picks, strict=True):
            t = self.start + k * step
            ts = f"{day.isoformat()}T{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}{offset}"
            for row in rows:
                row[1] = ts


# --- stock ----------------------------------------------------------------------------------


class _Entry:
    __slots__ = ("lot", "expiry", "qty", "serials")

    def __init__(self, lot: str, expiry: date, serial: bool) -> None:
        self.lot, self.expiry, self.qty = lot, expiry, 0
        self.serials: list[str] | None = [] if serial else None


Pick = tuple[str, date, int, list[str] | None]  # lot, expiry, milli-units, serials


class _Inventory:
    """Stock per (location, product), lots in first-expiry-first-out order."""

    def __init__(self) -> None:
        self.stock: dict[tuple[str, str], list[_Entry]] = {}
        self.index: dict[tuple[str, str, str], _Entry] = {}

    def entries(self, loc: str, pkey: str) -> list[_Entry]:
        return self.stock.get((loc, pkey), [])

    def get(self, loc: str, pkey: str, lot: str) -> _Entry | None:
        return self.index.get((loc, pkey, lot))

    def add(
        self,
        loc: str,
        pkey: str,
        lot: str,
        expiry: date,
        qty: int,
        serials: list[str] | None = None,
    ) -> None:
        entry = self.index.get((loc, pkey, lot))
        if entry is None:
            entry = _Entry(lot, expiry, serials is not None)
            lst = self.stock.setdefault((loc, pkey), [])
            pos = len(lst)
            while pos > 0 and lst[pos - 1].expiry > expiry:
                pos -= 1
            lst.insert(pos, entry)
            self.index[(loc, pkey, lot)] = entry
        if serials is not None:
            assert entry.serials is not None
            entry.serials.extend(serials)
            qty = len(serials) * _MILLI
        entry.qty += qty

    def _drop_empty(self, loc: str, pkey: str, entry: _Entry) -> None:
        if entry.qty == 0:
            self.stock[(loc, pkey)].remove(entry)
            del self.index[(loc, pkey, entry.lot)]

    def remove(
        self, loc: str, pkey: str, lot: str, qty: int, serials: list[str] | None = None
    ) -> None:
        entry = self.index[(loc, pkey, lot)]
        if serials is not None:
            assert entry.serials is not None
            for s in serials:
                entry.serials.remove(s)
            qty = len(serials) * _MILLI
        if qty > entry.qty:
            raise AssertionError(f"removing {qty} of {entry.qty} ({loc} {pkey} {lot})")
        entry.qty -= qty
        self._drop_empty(loc, pkey, entry)

    def available(self, loc: str, pkey: str, day: date) -> int:
        """Usable stock: lots are used and shipped only before their expiry day."""
        return sum(e.qty for e in self.entries(loc, pkey) if e.expiry > day)

    def take(
        self, loc: str, pkey: str, qty: int, day: date, skip_first: bool = False
    ) -> list[Pick]:
        """Usable stock in FEFO order; `skip_first` leaves the first usable lot (a FEFO slip)."""
        out: list[Pick] = []
        for entry in list(self.entries(loc, pkey)):
            if qty <= 0:
                break
            if entry.expiry <= day:
                continue
            if skip_first:
                skip_first = False
                continue
            q = min(qty, entry.qty)
            serials = None
            if entry.serials is not None:
                n = q // _MILLI
                if n == 0:
                    continue
                serials, q = entry.serials[:n], n * _MILLI
                del entry.serials[:n]
            entry.qty -= q
            qty -= q
            out.append((entry.lot, entry.expiry, q, serials))
            self._drop_empty(loc, pkey, entry)
        return out

    def take_all(self, loc: str, pkey: str, entry: _Entry) -> Pick:
        pick = (
            entry.lot,
            entry.expiry,
            entry.qty,
            list(entry.serials) if entry.serials is not None else None,
        )
        entry.qty = 0
        if entry.serials is not None:
            entry.serials.clear()
        self._drop_empty(loc, pkey, entry)
        return pick


# --- the simulation ---------------------------------------------------------------------------


class _World:
    def __init__(self, seed: int, scale: float, anchor: date) -> None:
        self.rnd = random.Random(seed)
        self.scale = scale
        self.anchor = anchor
        self.start = anchor - timedelta(days=HORIZON_DAYS)
        self.i = 0
        self.inv, self.held, self.quarantine = _Inventory(), _Inventory(), _Inventory()
        self.lot_dates: dict[tuple[str, str], tuple[date, date]] = {}
        self.rows: dict[str, list[Row]] = {name: [] for name in contract.RECORD_TYPES}
        self.counters: dict[str, int] = defaultdict(int)
        self.customers = _customers(min(30, max(5, round(12 * scale**0.6))))
        self.retail = {
            m: [c for c in self.customers if c.segment == "retail" and _market(c) == m]
            for m in ("us", "eu")
        }
        self.industrial = [c for c in self.customers if c.segment == "industrial"]
        self.serial_next = {
            "gift_box": 4_170_000_000 + self.rnd.randrange(10**7),
            "hamper": 100_000 + self.rnd.randrange(10**5),
        }
        self.sscc_next = 100_000_000 + self.rnd.randrange(10**8)
        self.supplier_seq = {s.lot_style: self.rnd.randrange(10_000, 90_000) for s in _SUPPLIERS}
        self.on_order: dict[tuple[str, str], int] = defaultdict(int)
        self.deliveries: dict[tuple[str, int], list[tuple[str, int, str]]] = defaultdict(list)
        self.due_returns: dict[tuple[str, int], list[tuple]] = defaultdict(list)
        self.due_dispositions: dict[tuple[str, int], list[tuple]] = defaultdict(list)
        self.planted_ships: dict[int, list[tuple[str, float]]] = defaultdict(list)
        self.pending_rework: list[tuple[str, int, str]] = []
        self.flags: set[str] = set()
        self.reserve = (
            max(2 * _HAMPER_BATCH, math.ceil(_SALES_OF["hamper"].per_day * scale * 4)) * _MILLI
        )
        self._plan_rates()

    # ids ------------------------------------------------------------------------------------

    def _next(self, name: str) -> int:
        self.counters[name] += 1
        return self.counters[name]

    def _sscc(self, extension: str) -> str:
        self.sscc_next += 1
        return with_check_digit(extension + _COMPANY + f"{self.sscc_next:09d}")

    def _move_id(self) -> str:
        return f"MV{self._next('move'):08d}"

    # planning parameters ----------------------------------------------------------------------

    def _plan_rates(self) -> None:
        """Expected use per day (for purchasing) and run caps, from demand and recipes."""
        per_unit: dict[str, tuple[tuple[str, float], ...]] = {
            k: r.inputs for k, r in _RECIPES.items()
        }
        per_unit["butter_tin"] = (("butter_dough", _TIN_DOUGH),)
        per_unit["crumb"] = ()
        self.usage: dict[tuple[str, str], float] = defaultdict(float)
        self.rate: dict[str, float] = defaultdict(float)

        def explode(pkey: str, rate: float) -> None:
            self.rate[pkey] += rate
            for inp, per in per_unit[pkey]:
                if _P[inp].level == "raw":
                    site = _RECIPES[pkey].site if pkey in _RECIPES else CHI
                    self.usage[(site, inp)] += rate * per * _MILLI
                else:
                    explode(inp, rate * per)

        for s in _SALES:
            explode(
                s.product, s.per_day * self.scale * (HORIZON_DAYS - s.season_start) / HORIZON_DAYS
            )
        self.batch_need = {
            raw: max(
                (r.batch * per for r in _RECIPES.values() for inp, per in r.inputs if inp == raw),
                default=0.0,
            )
            for raw in _SUPPLIER_OF
        }
        self.max_runs = {
            key: max(1, math.ceil(self.rate[key] * 3 * _MILLI / _RECIPES[key].batch))
            for keys in _SITE_FINISHED.values()
            for key in keys
        }

    # the day loop ----------------------------------------------------------------------------

    def run(self) -> None:
        for i in range(HORIZON_DAYS):
            self.i = i
            day = self.start + timedelta(days=i)
            workday = day.weekday() < 5
            for wh in (JOL, VNL):
                self._warehouse_day(wh, day, workday)
            for site in (CHI, BRD):
                self._site_day(site, day, workday)

    def _next_workday(self, i: int) -> int:
        while (self.start + timedelta(days=i)).weekday() >= 5:
            i += 1
        return i

    def _warehouse_day(self, wh: str, day: date, workday: bool) -> None:
        ship, ret, qa = _Window(7, 16, 60), _Window(16.25, 17.25, 60), _Window(17.5, 18.5, 1)
        if workday:
            self._customer_orders(wh, day, ship)
        for r in self.due_returns.pop((wh, self.i), []):
            self._receive_return(wh, day, ret, r)
        if workday:
            for d in self.due_dispositions.pop((wh, self.i), []):
                self._dispose(wh, qa, d)
            if day.weekday() == 0:
                self._sweep_expired(wh, day, qa, "destroy")
            self._warehouse_adjustments(wh, day, qa)
        offset = _ZONES[wh].offset(day)
        for window in (ship, ret, qa):
            window.close(self.rnd, day, offset)

    def _site_day(self, site: str, day: date, workday: bool) -> None:
        rec, shp, prd = _Window(5, 9, 60), _Window(9, 10, 60), _Window(10, 18.5, 1)
        qa, trf = _Window(18.5, 19, 1), _Window(19, 21, 60)
        self._receive(site, day, rec)
        if site == CHI:
            self._site_shipments(day, workday, shp)
        if workday:
            if site == BRD:
                self._rework(day, prd)
            self._produce(site, day, prd)
            if day.weekday() == 0:
                self._sweep_expired(site, day, qa, "scrap")
            self._site_adjustments(site, day, qa)
            self._replenish(site, day)
            self._transfer_out(site, day, trf)
        offset = _ZONES[site].offset(day)
        for window in (rec, shp, prd, qa, trf):
            window.close(self.rnd, day, offset)

    # purchasing and receiving -----------------------------------------------------------------

    def _replenish(self, site: str, day: date) -> None:
        for raw in _SITE_RAWS[site]:
            supplier = _SUPPLIER_OF[raw]
            lo, hi = supplier.lead_days
            use = self.usage[(site, raw)]
            pack = _P[raw].order_pack
            reorder_point = max(use * (hi + 5), self.batch_need[raw] * 1.5)
            cover = _RAW_COVER_DAYS.get(raw, 21)
            # one purchase order is at most a truckload (about 24 t)
            qty = math.ceil(max(use * cover, self.batch_need[raw] * 2) / pack) * pack
            qty = min(qty, max(1, 24_000_000 // pack) * pack)
            lead = lo if self.i == 0 else self.rnd.randint(lo, hi)
            for _ in range(20):
                projected = self.inv.available(site, raw, day) + self.on_order[(site, raw)]
                if projected >= reorder_point:
                    break
                arrival = self._next_workday(self.i + lead)
                self.on_order[(site, raw)] += qty
                po = f"4500{self._next('po'):06d}"
                self.deliveries[(site, arrival)].append((raw, qty, po))

    def _supplier_lot(self, supplier: _Supplier, raw: str, made: date) -> str:
        style, yy, doy = supplier.lot_style, made.year % 100, made.timetuple().tm_yday
        for n in range(1, 100):
            if style == "prairie":
                code = f"PM{yy}{doy:03d}{chr(64 + n)}"
            elif style == "gldairy":  # one code per packing day and line, whatever the product
                code = f"L{yy}{doy:03d}{n}"
            elif style == "cacao":
                self.supplier_seq[style] += self.rnd.randint(3, 40)
                code = f"CDS-{self.supplier_seq[style]:05d}"
            elif style == "nordstern":
                code = f"NS{made:%y%m%d}-{n:02d}"
            elif style == "nocciole":
                self.supplier_seq[style] += self.rnd.randint(1, 9)
                code = f"TG{yy}-{self.supplier_seq[style] % 10_000:04d}"
            else:
                self.supplier_seq[style] += self.rnd.randint(20, 400)
                code = f"FZ{self.supplier_seq[style]:07d}"
            if (raw, code) not in self.lot_dates:
                return code
        raise RuntimeError("no free supplier lot code")

    def _receive(self, site: str, day: date, window: _Window) -> None:
        due = self.deliveries.pop((site, self.i), [])
        by_supplier: dict[str, list[tuple[str, int, str]]] = {}
        for line in due:
            by_supplier.setdefault(_SUPPLIER_OF[line[0]].location.location_id, []).append(line)
        for lines in by_supplier.values():
            supplier = _SUPPLIER_OF[lines[0][0]]
            sup = supplier.location
            receipt_id = f"GR-{_CODE[site]}-{self._next('receipt'):06d}"
            if supplier.ref_doc_type == "po":
                ref_type, ref_no = "po", lines[0][2]
            else:
                ref_type = "desadv"
                ref_no = f"{sup.location_id[4:7]}-ASN-{self._next('asn_' + sup.location_id):05d}"
            packed = day - timedelta(days=self.rnd.randint(1, 2))  # one packing day per delivery
            event = window.event()
            for raw, qty, _po in lines:
                self.on_order[(site, raw)] -= qty
                pack = _P[raw].order_pack
                packs = qty // pack
                parts = [qty]
                if packs >= 2 and self.rnd.random() < 0.25:  # delivered as two lots
                    first = self.rnd.randint(1, packs - 1) * pack
                    parts = [first, qty - first]
                for part in parts:
                    if supplier.lot_style == "gldairy":
                        made = packed
                    else:
                        made = day - timedelta(days=self.rnd.randint(*_RAW_AGE[raw]))
                    lot = self._supplier_lot(supplier, raw, made)
                    expiry = made + timedelta(days=_P[raw].shelf_life_days)
                    self.lot_dates[(raw, lot)] = (made, expiry)
                    self.inv.add(site, raw, lot, expiry, part)
                    p = _P[raw]
                    row: Row = [
                        receipt_id,
                        None,
                        sup.location_id,
                        site,
                        p.gtin,
                        lot,
                        None,
                        _qty(part),
                        p.uom,
                        made.isoformat(),
                        expiry.isoformat(),
                        sup.gln,
                        ref_type,
                        ref_no,
                    ]
                    event.append(row)
                    self.rows["receipts"].append(row)

    # production -----------------------------------------------------------------------------

    def _new_lot(self, site: str, day: date) -> str:
        run = self._next(f"run {site} {day}")
        return f"{_CODE[site][0]}{day:%y}{day.timetuple().tm_yday:03d}-{run:02d}"

    def _new_serials(self, pkey: str, n: int) -> list[str]:
        start = self.serial_next[pkey]
        self.serial_next[pkey] += n
        if pkey == "hamper":
            return [f"HMP{start + k:07d}" for k in range(n)]
        return [f"{start + k:010d}" for k in range(n)]

    def _target(self, key: str) -> int:
        rate = sum(s.per_day for s in _SALES if s.product == key and self.i >= s.season_start - 7)
        if key == "gift_box" and self.i >= _HAMPER_START - 14:
            rate += _SALES_OF["hamper"].per_day
        return round(rate * self.scale * _COVER_DAYS * _MILLI)

    def _needs_run(self, key: str, day: date) -> bool:
        target = self._target(key)
        stock = sum(self.inv.available(loc, key, day) for loc in _STOCK_LOCATIONS[key])
        if (
            key == "gift_box"
            and self.i >= _GIFT_TO_CHI_START
            and (
                self.inv.available(CHI, key, day) + self.inv.available(BRD, key, day) < self.reserve
            )
        ):
            return True
        return target > 0 and stock < target

    def _produce(self, site: str, day: date, window: _Window) -> None:
        for key in _SITE_FINISHED[site]:
            runs = 0
            while runs < self.max_runs[key] and self._needs_run(key, day):
                if not self._run_finished(site, key, day, window):
                    break
                runs += 1

    def _ensure(
        self, site: str, need: dict[str, int], day: date, window: _Window, depth: int
    ) -> bool:
        """Make intermediates until every need is available; False if materials are short."""
        for pkey, qty in need.items():
            tries, size = 0, None
            short = qty - self.inv.available(site, pkey, day)
            if short > 0 and pkey in _RECIPES and _RECIPES[pkey].to_order:
                batches = math.ceil(short / _RECIPES[pkey].batch)
                size = math.ceil(short / batches / 0.99 / 50_000) * 50_000  # + mixing loss
            while self.inv.available(site, pkey, day) < qty:
                if _P[pkey].level != "intermediate" or depth > 2 or tries > 40:
                    return False
                if not self._run_intermediate(site, pkey, day, window, depth + 1, size):
                    return False
                tries += 1
        return all(self.inv.available(site, p, day) >= q for p, q in need.items())

    def _consume(self, site: str, need: dict[str, int], day: date) -> list[tuple[str, Pick]]:
        used = []
        for pkey, qty in need.items():
            picks = self.inv.take(site, pkey, qty, day)
            if sum(p[2] for p in picks) != qty:
                raise AssertionError(f"short of {pkey} at {site} on {day}")
            used += [(pkey, pick) for pick in picks]
        return used

    def _record(
        self,
        site: str,
        day: date,
        window: _Window,
        outputs: list[tuple[str, int]],
        used: list[tuple[str, Pick]],
        ref_doc_type: str,
        cap_expiry: bool,
    ) -> str:
        """Rows of one transformation; puts the outputs on hand; returns the new lot code."""
        seq = self._next("production " + site)
        production_id = f"{_CODE[site]}-WO-{seq:06d}"
        if ref_doc_type == "prodorder":
            ref_no = f"{1_000_000_000 + 7919 * self._next('prodorder') + seq:010d}"
        else:
            ref_no = f"BR-{_CODE[site]}-{day:%y%m%d}-{seq:04d}"
        lot = self._new_lot(site, day)
        cap = min((pick[1] for _, pick in used), default=None) if cap_expiry else None
        event = window.event()
        for pkey, qty in outputs:
            p = _P[pkey]
            expiry = day + timedelta(days=p.shelf_life_days)
            if cap is not None:
                expiry = min(expiry, cap)
            self.lot_dates[(pkey, lot)] = (day, expiry)
            serials = self._new_serials(pkey, qty // _MILLI) if p.tracking == "serial" else None
            for serial in serials or [None]:
                row: Row = [
                    production_id,
                    None,
                    site,
                    p.gtin,
                    lot,
                    serial,
                    "1" if serial else _qty(qty),
                    p.uom,
                    day.isoformat(),
                    expiry.isoformat(),
                    ref_doc_type,
                    ref_no,
                ]
                event.append(row)
                self.rows["production"].append(row)
            self.inv.add(site, pkey, lot, expiry, qty, serials)
        self._consumption_rows(production_id, used)
        return lot

    def _consumption_rows(self, production_id: str, used: list[tuple[str, Pick]]) -> None:
        total: dict[tuple[str, str, str | None], int] = {}
        for pkey, (lot, _exp, qty, serials) in used:
            if serials is not None:
                for s in serials:
                    total[(pkey, lot, s)] = _MILLI
            else:
                total[(pkey, lot, None)] = total.get((pkey, lot, None), 0) + qty
        for (pkey, lot, serial), qty in total.items():
            p = _P[pkey]
            self.rows["consumption"].append([production_id, p.gtin, lot, serial, _qty(qty), p.uom])

    def _run_intermediate(
        self, site: str, pkey: str, day: date, window: _Window, depth: int, size: int | None = None
    ) -> bool:
        recipe = _RECIPES[pkey]
        size = size or recipe.batch
        need = {inp: round(size * per) for inp, per in recipe.inputs}
        if not self._ensure(site, need, day, window, depth):
            return False
        used = self._consume(site, need, day)
        # mixing loses a little; the batch is what comes out, so the next bake may be short
        out = round(size * self.rnd.uniform(0.99, 0.999) / 100) * 100
        self._record(site, day, window, [(pkey, out)], used, recipe.ref_doc_type, recipe.cap_expiry)
        return True

    def _run_finished(self, site: str, key: str, day: date, window: _Window) -> bool:
        recipe = _RECIPES[key]
        planned = recipe.batch
        if key == "hamper":
            planned = (
                min(
                    planned,
                    self.inv.available(site, "gift_box", day),
                    self.inv.available(site, "butter_tin", day),
                )
                // _MILLI
                * _MILLI
            )
            if planned < 6 * _MILLI:
                return False
        need: dict[str, int] = {}
        for inp, per in recipe.inputs:
            need[inp] = need.get(inp, 0) + round(planned * per)
        tins = key == "butter_cookies" and self.i >= _TIN_START
        if tins:
            need["butter_dough"] += round(_TIN_PER_RUN * _TIN_DOUGH)
        if not self._ensure(site, need, day, window, 0):
            return False
        used = self._consume(site, need, day)
        if _P[key].tracking == "serial":
            made = planned
        else:
            made = math.floor(planned / _MILLI * self.rnd.uniform(0.97, 1.0)) * _MILLI
        outputs = [(key, made)]
        if tins:
            outputs.append(("butter_tin", math.floor(600 * self.rnd.uniform(0.97, 1.0)) * _MILLI))
        crumb = 0
        if key == "chip_cookies":
            crumb = max(20, round(planned / _MILLI * self.rnd.uniform(0.06, 0.11) / 10) * 10)
            outputs.append(("crumb", crumb * _MILLI))
        lot = self._record(site, day, window, outputs, used, recipe.ref_doc_type, recipe.cap_expiry)
        if crumb:
            self._maybe_hold_crumb(lot, crumb * _MILLI, window)
        if key == "pralines":
            self._maybe_rework(lot, made, used)
        return True

    def _status(
        self,
        window: _Window,
        pkey: str,
        lot: str,
        serial: str | None,
        status: str,
        actor: str,
        reason: str | None,
    ) -> None:
        """A hold, quarantine, release or recall decision, recorded as its own event."""
        row: Row = [
            f"ST-{self._next('status'):05d}",
            None,
            _P[pkey].gtin,
            lot,
            serial,
            status,
            actor,
            reason,
            None,
            None,
        ]
        window.event().append(row)
        self.rows["status"].append(row)

    def _maybe_hold_crumb(self, lot: str, qty: int, window: _Window) -> None:
        """PLANTED: the first crumb lot goes on QA hold and is shipped on and after its expiry
        day; the first one from day `_CRUMB_HOLD_B_FROM` is held and never released."""
        hold_a = "crumb hold A" not in self.flags
        hold_b = not hold_a and "crumb hold B" not in self.flags and self.i >= _CRUMB_HOLD_B_FROM
        if not (hold_a or hold_b):
            return
        self.flags.add("crumb hold A" if hold_a else "crumb hold B")
        self._status(window, "crumb", lot, None, "hold", "QA Chicago", "moisture above spec")
        self.inv.remove(CHI, "crumb", lot, qty)
        expiry = self.lot_dates[("crumb", lot)][1]
        self.held.add(CHI, "crumb", lot, expiry, qty)
        if hold_a:
            at = (expiry - self.start).days
            self.planted_ships[at].append((lot, 0.5))
            self.planted_ships[at + 6].append((lot, 0.5))

    def _maybe_rework(self, lot: str, made: int, used: list[tuple[str, Pick]]) -> None:
        """PLANTED: mis-wrapped pralines are held and, on the next workday, melted back into the
        praline-filling lot they were made from (same GTIN and lot): a cycle in the lot graph."""
        planted = "rework" not in self.flags and self.i >= _REWORK_FROM
        if not planted and ("rework" not in self.flags or self.rnd.random() >= 0.08):
            return
        self.flags.add("rework")
        cases = min(self.rnd.randint(4, 12), made // _MILLI - 1)
        filling = next(pick[0] for pkey, pick in used if pkey == "filling")
        self.inv.remove(BRD, "pralines", lot, cases * _MILLI)
        self.held.add(BRD, "pralines", lot, self.lot_dates[("pralines", lot)][1], cases * _MILLI)
        self.pending_rework.append((lot, cases * _MILLI, filling))

    def _rework(self, day: date, window: _Window) -> None:
        for lot, qty, filling in self.pending_rework:
            self.held.remove(BRD, "pralines", lot, qty)
            made, expiry = self.lot_dates[("filling", filling)]
            out = qty // _MILLI * 1_900  # 1.9 kg of filling recovered per case
            production_id = f"BRD-RW-{self._next('rework'):04d}"
            p, f = _P["filling"], _P["pralines"]
            row: Row = [
                production_id,
                None,
                BRD,
                p.gtin,
                filling,
                None,
                _qty(out),
                p.uom,
                made.isoformat(),
                expiry.isoformat(),
                "batch_record",
                f"RW-{day:%y%m%d}-{self.counters['rework']:03d}",
            ]
            window.event().append(row)
            self.rows["production"].append(row)
            self.rows["consumption"].append([production_id, f.gtin, lot, None, _qty(qty), f.uom])
            self.inv.add(BRD, "filling", filling, expiry, out)
        self.pending_rework = []

    # moves ------------------------------------------------------------------------------------

    def _move_rows(
        self,
        rows: list[Row],
        move_id: str,
        pkey: str,
        pick: Pick,
        src: str | None,
        dst: str | None,
        reason: str,
    ) -> None:
        lot, _exp, qty, serials = pick
        p = _P[pkey]
        for serial in serials or [None]:
            row: Row = [
                move_id,
                None,
                p.gtin,
                lot,
                serial,
                "1" if serial else _qty(qty),
                p.uom,
                src,
                dst,
                reason,
            ]
            rows.append(row)
            self.rows["moves"].append(row)

    def _transfer_out(self, site: str, day: date, window: _Window) -> None:
        events: dict[str, tuple[str, list[Row]]] = {}

        def send(pkey: str, dst: str, qty: int) -> None:
            if qty <= 0:
                return
            picks = self.inv.take(site, pkey, qty, day)
            if not picks:
                return
            if dst not in events:
                events[dst] = (self._move_id(), window.event())
            move_id, rows = events[dst]
            for pick in picks:
                self.inv.add(dst, pkey, pick[0], pick[1], pick[2], pick[3])
                self._move_rows(rows, move_id, pkey, pick, site, dst, "transfer")

        if site == CHI:
            for pkey in ("butter_cookies", "chip_cookies", "hamper"):
                send(pkey, JOL, self.inv.available(site, pkey, day))
            send("butter_tin", JOL, self.inv.available(site, "butter_tin", day) - self.reserve)
        else:
            for pkey in ("bars", "pralines"):
                send(pkey, VNL, self.inv.available(site, pkey, day))
            if self.i >= _GIFT_TO_CHI_START:
                send("gift_box", CHI, self.reserve - self.inv.available(CHI, "gift_box", day))
            send("gift_box", VNL, self.inv.available(site, "gift_box", day))

    def _sweep_expired(self, loc: str, day: date, window: _Window, reason: str) -> None:
        """Weekly QA: write off what expired (held stock stays where it is)."""
        move_id, rows = None, None
        for p in _PRODUCTS:
            for entry in list(self.inv.entries(loc, p.key)):
                if entry.expiry > day:
                    continue
                if move_id is None:
                    move_id, rows = self._move_id(), window.event()
                assert rows is not None
                pick = self.inv.take_all(loc, p.key, entry)
                self._move_rows(rows, move_id, p.key, pick, loc, None, reason)

    def _adjust(
        self,
        loc: str,
        day: date,
        window: _Window,
        kinds: tuple[str, ...],
        sign: int,
        reason: str,
        step: int,
        most: int,
    ) -> bool:
        """One stock-count adjustment (sign +1/-1) or damage scrap on a random usable lot."""
        candidates = [
            (p.key, e)
            for p in _PRODUCTS
            if p.level in kinds and p.tracking == "lot"
            for e in self.inv.entries(loc, p.key)
            if e.expiry > day and e.qty >= step
        ]
        if not candidates:
            return False
        pkey, entry = self.rnd.choice(candidates)
        qty = min(self.rnd.randint(1, most) * step, entry.qty)
        pick: Pick = (entry.lot, entry.expiry, qty, None)
        if sign > 0:
            self.inv.add(loc, pkey, entry.lot, entry.expiry, qty)
            src, dst = None, loc
        else:
            self.inv.remove(loc, pkey, entry.lot, qty)
            src, dst = loc, None
        self._move_rows(window.event(), self._move_id(), pkey, pick, src, dst, reason)
        return True

    def _warehouse_adjustments(self, wh: str, day: date, window: _Window) -> None:
        n_adjust = _poisson(self.rnd, 0.06 * self.scale)
        n_scrap = _poisson(self.rnd, 0.04 * self.scale)
        forced = f"adjust {wh}"
        # PLANTED: one count adjustment per warehouse, positive at JOL and negative at VNL
        if (
            forced not in self.flags
            and self.i >= 12
            and self._adjust(
                wh, day, window, ("finished",), 1 if wh == JOL else -1, "adjustment", _MILLI, 3
            )
        ):
            self.flags.add(forced)
        for _ in range(n_adjust):
            sign = 1 if self.rnd.random() < 0.4 else -1
            self._adjust(wh, day, window, ("finished",), sign, "adjustment", _MILLI, 3)
        if f"scrap {wh}" not in self.flags and self.i >= 16:
            n_scrap += 1
            self.flags.add(f"scrap {wh}")
        for _ in range(n_scrap):
            self._adjust(wh, day, window, ("finished",), -1, "scrap", _MILLI, 4)

    def _site_adjustments(self, site: str, day: date, window: _Window) -> None:
        for _ in range(_poisson(self.rnd, 0.03 * self.scale)):
            sign = 1 if self.rnd.random() < 0.5 else -1
            self._adjust(site, day, window, ("raw",), sign, "adjustment", 100, 40)

    # shipping, returns ------------------------------------------------------------------------

    def _ship(
        self,
        src: str,
        customer: _Location,
        day: date,
        window: _Window,
        picks: list[tuple[str, Pick]],
        returns_ok: bool,
    ) -> None:
        if not picks:
            return
        shipment_id = f"SH-{_CODE[src]}-{self._next('shipment ' + src):06d}"
        n = self._next("ship doc")
        if src == VNL:
            ref_type = "desadv" if self.rnd.random() < 0.85 else "inv"
        else:
            ref_type = "bol" if self.rnd.random() < 0.85 else "inv"
        ref_no = {
            "bol": f"BOL-{_CODE[src]}-{day:%y}{n:06d}",
            "desadv": f"DESADV{day:%y}{n:07d}",
            "inv": f"INV-{day:%y}-{n:06d}",
        }[ref_type]
        extension = {JOL: "0", VNL: "1", CHI: "2"}[src]
        rows = window.event()
        pallets: dict[str, list] = {}  # product -> [sscc, room left]
        for pkey, (lot, expiry, qty, serials) in picks:
            p, pallet = _P[pkey], _SALES_OF[pkey].pallet * _MILLI
            chunks: list[tuple[str | None, int]] = (
                [(s, _MILLI) for s in serials] if serials is not None else [(None, qty)]
            )
            for serial, amount in chunks:
                left = amount
                while left > 0:
                    current = pallets.get(pkey)
                    if current is None or current[1] <= 0:
                        current = pallets[pkey] = [self._sscc(extension), pallet]
                    part = min(left, current[1])
                    current[1] -= part
                    left -= part
                    row: Row = [
                        shipment_id,
                        None,
                        src,
                        customer.location_id,
                        p.gtin,
                        lot,
                        serial,
                        current[0],
                        "1" if serial else _qty(part),
                        p.uom,
                        ref_type,
                        ref_no,
                    ]
                    rows.append(row)
                    self.rows["shipments"].append(row)
                    if returns_ok:
                        self._maybe_return(src, customer, pkey, lot, expiry, part, serial)

    def _maybe_return(
        self,
        wh: str,
        customer: _Location,
        pkey: str,
        lot: str,
        expiry: date,
        qty: int,
        serial: str | None,
    ) -> None:
        planted = "return" not in self.flags and self.i >= _RETURN_FROM
        if not planted and self.rnd.random() >= 0.02:
            return
        back = self._next_workday(self.i + self.rnd.randint(3, 12))
        if back >= HORIZON_DAYS:
            return
        self.flags.add("return")
        if serial is None:
            units = qty // _MILLI
            qty = max(1, round(units * self.rnd.uniform(0.02, 0.15))) * _MILLI
        self.due_returns[(wh, back)].append((customer.location_id, pkey, lot, expiry, qty, serial))

    def _receive_return(self, wh: str, day: date, window: _Window, ret: tuple) -> None:
        customer, pkey, lot, expiry, qty, serial = ret
        serials = [serial] if serial else None
        self.quarantine.add(wh, pkey, lot, expiry, qty, serials)
        pick: Pick = (lot, expiry, qty, serials)
        self._move_rows(window.event(), self._move_id(), pkey, pick, customer, wh, "return")
        # returned serials are quarantined one by one; a returned lot quantity is kept apart by
        # location (the quarantine area), not by a lot status that would hold the whole lot
        for unit in serials or []:
            self._status(window, pkey, lot, unit, "quarantine", f"QA {wh}", "customer return")
        when = self._next_workday(self.i + self.rnd.randint(2, 5))
        destroy = self.rnd.random() < 0.7
        self.due_dispositions[(wh, when)].append((pkey, pick, destroy))

    def _dispose(self, wh: str, window: _Window, disposition: tuple) -> None:
        """Returned stock leaves quarantine: destroyed, or put back into usable stock."""
        pkey, pick, destroy = disposition
        lot, expiry, qty, serials = pick
        self.quarantine.remove(wh, pkey, lot, qty, serials)
        if destroy:
            self._move_rows(window.event(), self._move_id(), pkey, pick, wh, None, "destroy")
        else:
            for unit in serials or []:
                self._status(window, pkey, lot, unit, "release", f"QA {wh}", "inspected, intact")
            self.inv.add(wh, pkey, lot, expiry, qty, serials)

    def _customer_orders(self, wh: str, day: date, window: _Window) -> None:
        market = "us" if wh == JOL else "eu"
        customers = self.retail[market]
        if not customers:
            return
        sales = [s for s in _SALES if s.market == market and self.i >= s.season_start]
        # PLANTED: the first customer of the market places a season-launch order as soon as a
        # seasonal product is in the warehouse, so serialised goods ship at every scale
        launch = [
            s.product
            for s in sales
            if s.season_start > 0
            and f"launch {s.product}" not in self.flags
            and self.inv.available(wh, s.product, day) > 0
        ]
        self.flags.update(f"launch {p}" for p in launch)
        for k, customer in enumerate(customers):
            picks: list[tuple[str, Pick]] = []
            for s in sales:
                mean = s.step * (s.steps[0] + s.steps[1]) / 2
                lam = s.per_day * self.scale * 7 / 5 / (len(customers) * mean)
                units = sum(
                    s.step * self.rnd.randint(*s.steps) for _ in range(_poisson(self.rnd, lam))
                )
                if k == 0 and s.product in launch:
                    units += s.step * s.steps[1]
                if units:
                    picks += [
                        (s.product, pick) for pick in self._pick(wh, s.product, units * _MILLI, day)
                    ]
            self._ship(wh, customer, day, window, picks, returns_ok=True)

    def _pick(self, wh: str, pkey: str, qty: int, day: date) -> list[Pick]:
        """FEFO picking. PLANTED: the first Joliet butter-cookie line from day `_FEFO_SLIP_FROM`
        on takes a newer lot first while an older usable one stays on hand (a FEFO violation)."""
        slip = (
            wh == JOL
            and pkey == "butter_cookies"
            and self.i >= _FEFO_SLIP_FROM
            and "fefo slip" not in self.flags
        )
        picks = self.inv.take(wh, pkey, qty, day, skip_first=True) if slip else []
        if picks:
            self.flags.add("fefo slip")
        rest = qty - sum(p[2] for p in picks)
        return picks + (self.inv.take(wh, pkey, rest, day) if rest > 0 else [])

    def _site_shipments(self, day: date, workday: bool, window: _Window) -> None:
        """Bulk crumb goes straight from the bakery to industrial customers."""
        for lot, share in self.planted_ships.pop(self.i, []):
            # PLANTED: held crumb released by mistake, shipped on / after its expiry day
            entry = self.held.get(CHI, "crumb", lot)
            if entry is None or not self.industrial:
                continue
            qty = min(entry.qty, max(10, int(entry.qty / _MILLI * share) // 10 * 10) * _MILLI)
            self.held.remove(CHI, "crumb", lot, qty)
            pick: Pick = (lot, entry.expiry, qty, None)
            self._ship(CHI, self.industrial[0], day, window, [("crumb", pick)], returns_ok=False)
        if not workday:
            return
        s = _SALES_OF["crumb"]
        for k, customer in enumerate(self.industrial):
            if day.weekday() != (1 if k % 2 == 0 else 3):
                continue
            kg = s.per_day * self.scale * 7 / len(self.industrial) * self.rnd.uniform(0.7, 1.3)
            units = max(1, round(kg / s.step)) * s.step
            picks = [("crumb", pick) for pick in self.inv.take(CHI, "crumb", units * _MILLI, day)]
            self._ship(CHI, customer, day, window, picks, returns_ok=False)

    # output -----------------------------------------------------------------------------------

    def master_rows(self) -> None:
        for p in _PRODUCTS:
            self.rows["products"].append(
                [
                    p.gtin,
                    p.name,
                    p.brand,
                    p.commodity,
                    p.variety,
                    p.pack_size,
                    p.pack_uom,
                    p.pack_style,
                    p.tracking,
                    str(p.shelf_life_days),
                    p.uom,
                    p.expiry_kind,
                ]
            )
        locations = [*(s.location for s in _SUPPLIERS), *_OWN_LOCATIONS, *self.customers]
        for loc in locations:
            self.rows["locations"].append(
                [
                    loc.location_id,
                    loc.kind,
                    loc.business_name,
                    loc.gln,
                    loc.phone,
                    loc.street,
                    loc.city,
                    loc.region,
                    loc.postal_code,
                    loc.country,
                    _coord(loc.latitude),
                    _coord(loc.longitude),
                ]
            )


def generate_records(
    seed: int = 7,
    scale: float = 1.0,
    anchor: date = DEFAULT_ANCHOR,
    vocabulary: Vocabulary = "contract",
) -> dict[str, pl.DataFrame]:
    """Sample records of every record type, as text exactly as they would appear in CSV files.

    `scale` multiplies demand (and so lots and rows: scale 1 gives a few hundred lots and a few
    thousand rows); every planted feature is present from scale 0.2 on. Keys are the names of
    `contract.RECORD_TYPES`, columns are the contract columns in order, all `pl.String`, with
    null for an empty optional value. `vocabulary="erp"`: the same world spelled as an ERP
    export would (see the module docstring).
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if vocabulary not in ("contract", "erp"):
        raise ValueError(f"vocabulary must be 'contract' or 'erp', got {vocabulary!r}")
    world = _World(seed, scale, anchor)
    world.master_rows()
    world.run()
    frames = {}
    for name, rt in contract.RECORD_TYPES.items():
        rows = world.rows[name]
        columns = rt.columns
        # the world writes the leading contract columns; optional ones added later stay empty
        written = columns[: len(rows[0])] if rows else []
        data = (
            {c: list(values) for c, values in zip(written, zip(*rows, strict=True), strict=True)}
            if rows
            else {}
        )
        frames[name] = pl.DataFrame(
            {c: data.get(c, [None] * len(rows)) for c in columns},
            schema={c: pl.String for c in columns},
        )
    serialised = frames["products"].filter(pl.col("tracking") == "serial")["gtin"]
    packing, frames["shipments"] = _palletise(frames["shipments"], frames["moves"], serialised)
    # the contract columns the simulation does not write (corrections) stay empty
    frames["packing"] = packing.with_columns(
        pl.lit(None, pl.String).alias(c)
        for c in contract.PACKING.columns
        if c not in packing.columns
    ).select(contract.PACKING.columns)
    return _erp_records(frames) if vocabulary == "erp" else frames


_REPACK_SSCC = with_check_digit("3" + _COMPANY + "999999999")
"""PLANTED: the pallet a serial is packed onto, then taken off again before it ships on another."""


def _palletise(
    shipments: pl.DataFrame, moves: pl.DataFrame, serialised: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Packing events for every pallet shipped, and serialised pallets shipped by SSCC only.

    The simulation assigns pallets while picking; packing rows are derived from those lines so
    they agree with the shipments by construction: each line is packed onto its SSCC an hour
    before it ships, a serial returned by a customer is unpacked from its pallet on its return,
    and (PLANTED) the first serial shipped was first packed onto another pallet and unpacked
    again. Pallets of serialised goods then ship as SSCC-only lines, as a DSCSA aggregation
    does: what is inside is known from the packing events alone.
    """
    columns = [c for c in contract.PACKING.columns if c not in contract.CORRECTION_COLUMNS]

    def before(column: str, minutes: int) -> pl.Expr:
        """A local timestamp `minutes` earlier, written with the same UTC offset."""
        local = pl.col(column).str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S")
        earlier = (local - pl.duration(minutes=minutes)).dt.strftime("%Y-%m-%dT%H:%M:%S")
        return earlier + pl.col(column).str.slice(19)

    is_serial = pl.col("serial").is_not_null()
    lines = shipments.filter(pl.col("sscc").is_not_null()).sort("shipped_at", "shipment_id")
    packed = lines.select(
        ("PK-" + pl.col("shipment_id")).alias("packing_id"),
        before("shipped_at", 60).alias("packed_at"),
        pl.lit("pack").alias("action"),
        pl.col("sscc").alias("parent_sscc"),
        pl.lit(None, pl.String).alias("child_sscc"),
        "gtin",
        pl.when(is_serial).then(None).otherwise(pl.col("lot")).alias("lot"),
        "serial",
        pl.when(is_serial).then(None).otherwise(pl.col("quantity")).alias("quantity"),
        pl.when(is_serial).then(None).otherwise(pl.col("uom")).alias("uom"),
        pl.col("from_location_id").alias("location_id"),
        pl.lit(None, pl.String).alias("ref_doc_type"),
        pl.lit(None, pl.String).alias("ref_doc_number"),
    )
    first_serial = (
        packed.filter(is_serial).head(1).with_columns(pl.lit(_REPACK_SSCC).alias("parent_sscc"))
    )
    repack = pl.concat(
        [
            first_serial.with_columns(
                pl.lit("PK-REPACK-1").alias("packing_id"), before("packed_at", 120)
            ),
            first_serial.with_columns(
                pl.lit("PK-REPACK-2").alias("packing_id"),
                before("packed_at", 60),
                pl.lit("unpack").alias("action"),
            ),
        ]
    )
    instant = "%Y-%m-%dT%H:%M:%S%:z"
    returned = (
        moves.filter((pl.col("reason") == "return") & is_serial)
        .select("gtin", "serial", "move_id", "moved_at", "to_location_id")
        .with_columns(pl.col("moved_at").str.to_datetime(instant).alias("_at"))
        .sort("_at")
    )
    last_pallet = (
        packed.filter(is_serial)
        .with_columns(pl.col("packed_at").str.to_datetime(instant).alias("_at"))
        .sort("_at")
    )
    unpacked = (
        returned.join_asof(
            last_pallet,
            on="_at",
            by=["gtin", "serial"],
            strategy="backward",
            check_sortedness=False,
        )
        .filter(pl.col("parent_sscc").is_not_null())
        .select(
            ("UNPK-" + pl.col("move_id")).alias("packing_id"),
            pl.col("moved_at").alias("packed_at"),
            pl.lit("unpack").alias("action"),
            "parent_sscc",
            "child_sscc",
            "gtin",
            "lot",
            "serial",
            "quantity",
            "uom",
            pl.col("to_location_id").alias("location_id"),
            "ref_doc_type",
            "ref_doc_number",
        )
    )
    packing = pl.concat([repack.select(columns), packed.select(columns), unpacked.select(columns)])
    serial_lines = pl.col("gtin").is_in(serialised.implode()) & pl.col("sscc").is_not_null()
    pallets = (
        shipments.filter(serial_lines)
        .group_by("shipment_id", "sscc", maintain_order=True)
        .agg(pl.all().first())
        .with_columns(pl.lit(None, pl.String).alias(c) for c in ("gtin", "lot", "serial"))
        .with_columns(pl.lit(None, pl.String).alias(c) for c in ("quantity", "uom"))
    )
    shipped = pl.concat([shipments.filter(~serial_lines), pallets.select(shipments.columns)])
    return packing, shipped.sort("shipped_at", "shipment_id", "sscc", nulls_last=True)


def generate(
    out_dir: Path,
    seed: int = 7,
    scale: float = 1.0,
    anchor: date = DEFAULT_ANCHOR,
    vocabulary: Vocabulary = "contract",
) -> dict[str, Path]:
    """Write one CSV per record type (`<record type>.csv`, UTF-8, header row) into `out_dir`;
    `vocabulary="erp"` spells the same records as an ERP export would."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in generate_records(seed, scale, anchor, vocabulary).items():
        path = out_dir / f"{name}.csv"
        frame.write_csv(path)
        paths[name] = path
    return paths


# --- ERP spelling ---------------------------------------------------------------------------

_ERP_SPELLINGS: dict[str, dict[str, tuple[str, ...]]] = {
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
"""Vocabulary column (`uom` for every unit column) -> contract value -> how an ERP export spells
it; where there are several spellings, records (by id) take them in turn. Contract values not
listed here are written as they are."""

_SCRAP_AREA = {CHI: "SCRAP-CHI", BRD: "SCRAP-BRD", JOL: "SCRAP-JOL", VNL: "SCRAP-VNL"}
"""The scrap area of each own location: where an ERP books scrapped stock to."""


def _erp_records(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The contract records as an ERP export writes them: same lots, transformations and
    shipments. Every second scrap move (by move id) names its location's scrap area as
    destination, every second serialised transfer line group (move, GTIN, lot) is one lot-level
    line of that many units, and vocabulary columns are spelled as `_ERP_SPELLINGS` says."""
    frames = dict(frames)
    scrap_areas = pl.DataFrame(
        [
            {
                "location_id": _SCRAP_AREA[loc.location_id],
                "kind": "warehouse",
                "business_name": f"{loc.business_name} - scrap area",
                "street": loc.street,
                "city": loc.city,
                "region": loc.region,
                "postal_code": loc.postal_code,
                "country": loc.country,
                "latitude": _coord(loc.latitude),
                "longitude": _coord(loc.longitude),
            }
            for loc in _OWN_LOCATIONS
        ]
    )
    locations = frames["locations"]
    frames["locations"] = pl.concat([locations, scrap_areas], how="diagonal").select(
        locations.columns
    )
    frames["moves"] = _lot_level_serial_transfers(_scrap_to_scrap_area(frames["moves"]))
    return {name: _erp_spelled(name, frame) for name, frame in frames.items()}


def _scrap_to_scrap_area(moves: pl.DataFrame) -> pl.DataFrame:
    every_second = (
        moves.filter(pl.col("reason") == "scrap")
        .select("move_id")
        .unique(maintain_order=True)
        .gather_every(2)
    )
    chosen = pl.col("move_id").is_in(every_second["move_id"].implode())
    return moves.with_columns(
        pl.when(chosen & pl.col("to_location_id").is_null())
        .then(pl.col("from_location_id").replace_strict(_SCRAP_AREA, default=None))
        .otherwise(pl.col("to_location_id"))
        .alias("to_location_id")
    )


def _lot_level_serial_transfers(moves: pl.DataFrame) -> pl.DataFrame:
    group = ["move_id", "gtin", "lot"]
    moves = moves.with_row_index("_row")
    serial_transfer = (pl.col("reason") == "transfer") & pl.col("serial").is_not_null()
    chosen = (
        moves.filter(serial_transfer)
        .select(group)
        .unique(maintain_order=True)
        .gather_every(2)
        .with_columns(pl.lit(True).alias("_lot_level"))
    )
    marked = moves.join(chosen, on=group, how="left", maintain_order="left")
    is_chosen = pl.col("_lot_level").fill_null(False)
    lot_lines = (
        marked.filter(is_chosen)
        .group_by(group, maintain_order=True)
        .agg(pl.all().first(), pl.len().alias("_units"))
        .with_columns(
            pl.lit(None, pl.String).alias("serial"),
            pl.col("_units").cast(pl.String).alias("quantity"),
        )
    )
    return (
        pl.concat([marked.filter(~is_chosen), lot_lines.select(marked.columns)])
        .sort("_row")
        .select(moves.columns[1:])
    )


def _erp_spelled(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    # spellings are taken in turn per record (receipt, shipment, ...), as one export writes them
    turn = pl.col(frame.columns[0]).rank("dense").cast(pl.Int64)
    exprs = []
    for f in contract.RECORD_TYPES[name].fields:
        table = _ERP_SPELLINGS.get("uom" if f.kind == "uom" else f.name)
        if f.kind not in ("choice", "uom") or table is None or f.name not in frame.columns:
            continue
        column = pl.col(f.name)
        spelled = column
        for value, spellings in table.items():
            choice = pl.lit(spellings[0])
            for k, spelling in enumerate(spellings[1:], start=1):
                choice = (
                    pl.when(turn % len(spellings) == k).then(pl.lit(spelling)).otherwise(choice)
                )
            spelled = pl.when(column == value).then(choice).otherwise(spelled)
        exprs.append(spelled.alias(f.name))
    return frame.with_columns(exprs)
