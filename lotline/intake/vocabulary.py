"""Vocabulary columns as other systems spell them: matched loosely, stored in the contract's words.

An export that writes `ASN`, `Bill of Lading` or ` Transfer ` means the contract's `desadv`, `bol`
and `transfer`; quarantining those rows would silently drop shipments from a recall. A value is
matched after case folding and with runs of spaces, `_`, `-`, `.` and `/` made one space, against
the contract value itself and its usual synonyms. A value that matches nothing is kept verbatim;
the validator then raises the column's `allowed_value` (or `uom_code`) finding, a warning unless
the column decides where a row sits in the lineage (`STRICT_COLUMNS`).
"""

from __future__ import annotations

import re

import polars as pl

from lotline.intake.contract import RECORD_TYPES, UOM_NAMES, RecordType

SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "ref_doc_type": {
        "desadv": (
            "asn",
            "advance shipping notice",
            "advance ship notice",
            "despatch advice",
            "dispatch advice",
            "delivery note",
            "dn",
            "desadv",
        ),
        "bol": ("bill of lading", "b l", "bl", "waybill", "cmr", "consignment note"),
        "inv": ("invoice", "inv", "commercial invoice", "rechnung"),
        "po": ("purchase order", "po", "order", "bestellung"),
        "prodorder": (
            "production order",
            "work order",
            "wo",
            "mo",
            "manufacturing order",
            "prod order",
            "fertigungsauftrag",
        ),
        "recadv": ("receiving advice", "goods receipt", "grn", "receipt", "wareneingang"),
        "rma": (
            "return authorisation",
            "return authorization",
            "return merchandise authorisation",
            "return merchandise authorization",
            "return",
        ),
        "batch_record": ("batch record", "batch log", "production log", "ebr", "bmr"),
    },
    "reason": {
        "transfer": ("move", "relocation", "internal transfer", "umlagerung"),
        "adjustment": (
            "stock adjustment",
            "inventory adjustment",
            "stock count",
            "count",
            "correction",
            "inventur",
        ),
        "scrap": ("scrapped", "waste", "write off", "write-off", "spoilage", "ausschuss"),
        "return": ("returned", "customer return", "retoure"),
        "destroy": ("destroyed", "destruction", "disposal", "vernichtung"),
    },
    "kind": {
        "supplier": ("vendor", "lieferant", "supplier"),
        "site": ("plant", "factory", "production site", "manufacturing site", "werk"),
        "warehouse": (
            "dc",
            "distribution center",
            "distribution centre",
            "depot",
            "store",
            "lager",
        ),
        "customer": ("client", "consignee", "retailer", "kunde", "customer"),
    },
    "tracking": {
        "lot": ("batch", "lots", "by lots", "lot number", "charge", "los"),
        "serial": (
            "serial number",
            "serialised",
            "serialized",
            "by unique serial number",
            "sn",
            "serial no",
            "serials",
        ),
    },
    "action": {
        "pack": ("add", "packing", "aggregate", "aggregation"),
        "unpack": ("delete", "unpacking", "disaggregate", "disaggregation"),
    },
    "status": {
        "hold": ("on hold", "blocked", "block", "qa hold", "sperre", "gesperrt"),
        "release": ("released", "unblock", "unblocked", "freigabe", "freigegeben"),
        "recall": ("recalled", "rueckruf"),
        "quarantine": ("quarantined", "quarantaene"),
    },
    "expiry_kind": {
        "use_by": ("use by", "expiry", "expiration", "exp", "verbrauchsdatum"),
        "best_before": ("best before", "bbd", "best by", "mhd", "bb"),
    },
    "uom": {
        "EA": (
            "each",
            "ea",
            "pc",
            "pcs",
            "piece",
            "pieces",
            "unit",
            "units",
            "nos",
            "no",
            "stk",
            "stueck",
            "stück",
        ),
        "H87": ("h87",),
        "C62": ("c62", "one"),
        "CS": ("case", "cases", "cs", "karton"),
        "BX": ("box", "boxes", "bx"),
        "PK": ("pack", "packs", "pk", "pkg", "package"),
        "BG": ("bag", "bags", "bg", "sack"),
        "BO": ("bottle", "bottles", "bo", "flasche"),
        "CT": ("carton", "cartons", "ct"),
        "DR": ("drum", "drums", "dr"),
        "PF": ("pallet", "pallets", "pf", "plt", "palette"),
        "KGM": ("kg", "kgs", "kilogram", "kilograms", "kilo", "kgm"),
        "GRM": ("g", "gr", "gram", "grams", "grm"),
        "MGM": ("mg", "milligram", "milligrams", "mgm"),
        "TNE": ("t", "tonne", "tonnes", "metric ton", "tne"),
        "LBR": ("lb", "lbs", "pound", "pounds", "lbr"),
        "ONZ": ("oz", "ounce", "ounces", "onz"),
        "LTR": ("l", "liter", "litre", "liters", "litres", "ltr"),
        "MLT": ("ml", "millilitre", "milliliter", "mlt"),
        "MTQ": ("m3", "cubic metre", "cubic meter", "mtq"),
        "GLL": ("gal", "gallon", "gallons", "us gallon", "gll"),
    },
}
"""Per vocabulary column: contract value -> the spellings other systems use for it (already in
matching form: lower case, single spaces). The contract value itself always matches too."""

STRICT_COLUMNS: frozenset[tuple[str, str]] = frozenset(
    {
        ("products", "tracking"),  # lot or serial decides how the product's lines are keyed
        ("locations", "kind"),  # own site, customer or supplier decides stock and consignees
        ("packing", "action"),  # pack or unpack decides what an SSCC contains
        ("status", "status"),  # hold or release decides whether stock may move
    }
)
"""(record type, column) whose unknown values are errors: the row cannot be placed without them."""

_SEPARATORS = re.compile(r"[\s_\-./]+")


def match_key(value: str) -> str:
    """The form a value is compared in: case-folded, separators made one space."""
    return _SEPARATORS.sub(" ", value.casefold()).strip()


def _key_expr(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase().str.replace_all(r"[\s_\-./]+", " ").str.strip_chars()


def lookup(column: str, choices: tuple[str, ...]) -> dict[str, str]:
    """Every accepted spelling (in matching form) of a vocabulary column -> its contract value."""
    table: dict[str, str] = {}
    for canonical in choices:
        table[match_key(canonical)] = canonical
        for spelling in SYNONYMS.get(column, {}).get(canonical, ()):
            table.setdefault(match_key(spelling), canonical)
    return table


def vocabulary_columns(record_type: RecordType) -> dict[str, dict[str, str]]:
    """The record type's vocabulary columns with their lookup tables."""
    columns: dict[str, dict[str, str]] = {}
    for f in record_type.fields:
        if f.kind == "choice":
            columns[f.name] = lookup(f.name, f.choices)
        elif f.kind == "uom":
            columns[f.name] = lookup("uom", tuple(UOM_NAMES))
    return columns


def canonical(record_type: RecordType | str, raw: pl.DataFrame) -> pl.DataFrame:
    """`raw` with every vocabulary value that matches written as the contract spells it."""
    rt = RECORD_TYPES[record_type] if isinstance(record_type, str) else record_type
    exprs = []
    for column, table in vocabulary_columns(rt).items():
        if column not in raw.columns:
            continue
        keys = pl.Series(list(table), dtype=pl.String)
        values = pl.Series(list(table.values()), dtype=pl.String)
        exprs.append(
            _key_expr(pl.col(column))
            .replace_strict(keys, values, default=pl.col(column), return_dtype=pl.String)
            .alias(column)
        )
    return raw.with_columns(exprs) if exprs else raw


def is_strict(record_type: str, column: str) -> bool:
    return (record_type, column) in STRICT_COLUMNS
