"""Validating raw records with Great Expectations suites: errors quarantine, warnings annotate.

One suite per record type, built from the data contract. What a rule needs computed per row (a
GS1 check digit, a parsed time, a join with stored data) is computed once as a Polars flag column,
and the suite's expectation checks the flag. Each expectation is also generated as a Polars
expression (`Expectation.failing`): a batch runs every rule in one Polars pass, and GX validates
the rows those fail, its verdict the outcome. GX stays the definition and the report of the
rules; a clean batch of millions of rows costs no GX run. A load without a report of GX's run
(`ingest.load_folder`) also leaves to Polars the warnings over a flag Polars computed, where GX
would only compare a boolean with True (`_decided_by_flag`). Every expectation carries the rule
name, the contract column and its severity in its `meta`, and GX returns the failing rows by
`_rid`.
A failed *error* rule (the row cannot be placed in the lineage: a missing or malformed key, a bad
GS1 check digit, an unparseable quantity or time, a reference to nothing) quarantines the row in
`rejected_record` naming file, row, column, rule and value. A failed *warning* rule (suspicious but
traceable) lets the row load and stores a finding with it. `strict` makes every warning an error.
Rows that pass every error rule flow on; `valid + rejected == read` by construction.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import types
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache

import polars as pl

from lotline import aggregation, gs1
from lotline.intake import findings, values, vocabulary
from lotline.intake.contract import RECORD_TYPES, STATUSES_NEEDING_REASON, UOM_NAMES, RecordType
from lotline.intake.findings import ERROR, WARNING, Severity
from lotline.intake.reading import SOURCE_ROW

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # GX must not call home from a load

SOURCE_FILE = "_source_file"
SOURCE_SHA256 = "_source_sha256"
RECORD_HASH = "_record_hash"
_RID = "_rid"
_SEP = "\x1f"

REJECTED_SCHEMA = {
    "source_sha256": pl.String,
    "source_file": pl.String,
    "record_type": pl.String,
    "row_number": pl.Int64,
    "column": pl.String,
    "rule": pl.String,
    "value": pl.String,
    "message": pl.String,
    "record": pl.String,
}


@dataclass(frozen=True)
class References:
    """What a batch may refer to or must not repeat: stored data plus this load's valid rows."""

    products: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"gtin": pl.String, "tracking": pl.String, "uom": pl.String}
        )
    )
    location_ids: frozenset[str] | pl.Series = frozenset()
    production_ids: frozenset[str] | pl.Series = frozenset()
    serial_keys: frozenset[str] | pl.Series = frozenset()
    """`gtin14<US>serial` of serials already commissioned (received or produced). These sets may
    be Polars string columns: a load's hundreds of thousands stay out of Python objects."""
    packing: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=aggregation.PACKING_SCHEMA)
    )
    """Typed packing events stored or valid in this load: an unpack must undo an earlier pack."""
    ssccs: frozenset[str] | pl.Series = frozenset()
    """SSCCs named by any packing event (as parent or child): a pallet-only shipment needs one."""


@dataclass(frozen=True)
class RuleOutcome:
    record_type: str
    rule: str
    column: str
    expectation: str
    passed: bool
    failed_rows: int
    examples: tuple[str, ...]
    severity: Severity = ERROR


@dataclass(frozen=True)
class Validation:
    record_type: str
    valid: pl.DataFrame
    rejected: pl.DataFrame
    outcomes: list[RuleOutcome]
    findings: pl.DataFrame = field(default_factory=findings.empty)
    """Warnings on rows that load (`lotline.intake.findings.FINDING_SCHEMA` plus record_hash)."""
    gx_rows: int = 0
    """Rows Great Expectations validated: those a generated Polars check failed (`_run_checks`)."""

    @property
    def rows_rejected(self) -> int:
        if self.rejected.is_empty():
            return 0
        return self.rejected.select("source_sha256", "row_number").n_unique()


def line_key(record_type: RecordType) -> pl.Expr:
    parts = [
        (pl.col(c).str.zfill(14) if c == "gtin" else pl.col(c)).fill_null("")
        for c in record_type.key
    ]
    return pl.concat_str(parts, separator=_SEP)


def serial_key() -> pl.Expr:
    return pl.when(pl.col("serial").is_not_null()).then(
        pl.concat_str([pl.col("gtin").str.zfill(14), pl.col("serial")], separator=_SEP)
    )


def content_encoding(record_type: RecordType) -> pl.Expr:
    """An unambiguous text of a row's content: each value as `<byte length>:<value>`, a null as
    `-`, so no value can spill into its neighbour whatever characters it holds."""
    parts = [
        pl.when(pl.col(c).is_null())
        .then(pl.lit("-"))
        .otherwise(
            pl.concat_str([pl.col(c).str.len_bytes().cast(pl.String), pl.lit(":"), pl.col(c)])
        )
        for c in record_type.content_columns
    ]
    return pl.concat_str([pl.lit(record_type.name), *parts], separator="|")


def with_record_hash(record_type: RecordType, raw: pl.DataFrame) -> pl.DataFrame:
    """Content hash of each row (record type + every content value): its identity on re-load."""
    import hashlib

    joined = raw.select(content_encoding(record_type)).to_series()
    hashes = [hashlib.blake2b(s.encode(), digest_size=16).hexdigest() for s in joined]
    return raw.with_columns(pl.Series(RECORD_HASH, hashes, dtype=pl.String))


# --- the suite ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    rule: str
    column: str
    message: str
    expectation: Expectation
    severity: Severity = ERROR


WARNING_RULES: frozenset[str] = frozenset(
    {
        "gln_check_digit",  # the location is still known by its location_id
        "latitude_range",
        "longitude_range",
        "uom_code",  # kept verbatim: quantities stay, only unit conversion cannot use them
        "uom_matches_product",
        "expiry_not_before_production",
        "serial_required",  # a lot-level line of a serial-tracked product still moves the lot
        "serial_quantity_one",
        "reason_required",
        "scrap_without_destination",
        "time_in_future",
        "nothing_to_void",
    }
)
"""Rules whose failure leaves the row traceable: it loads with a finding. Every other rule is an
error. Vocabulary (`allowed_value`) rules are warnings unless `vocabulary.STRICT_COLUMNS`; a
`required`, `number` or `integer` rule on a column the lineage never reads is a warning too
(`_ADVISORY_COLUMNS`)."""

_ADVISORY_COLUMNS: frozenset[tuple[str, str]] = frozenset(
    {
        ("products", "pack_size"),
        ("products", "shelf_life_days"),
        ("locations", "latitude"),
        ("locations", "longitude"),
    }
)
"""(record type, column) that describe rather than place a row: a missing or unparseable value
there is a warning (the value is kept in the finding, the row loads with the column empty)."""

IDENTIFIER_COLUMNS = ("gtin", "lot", "serial", "sscc", "parent_sscc", "child_sscc")
GS1_MAX_LENGTH = 20
"""GS1 AI (10) batch/lot and AI (21) serial: at most 20 characters."""
FUTURE_TOLERANCE_HOURS = 24
"""An event time later than the load by more than this is a warning (a clock or format slip)."""

_INVISIBLE = r"[\x00-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]"


GS1_LENGTHS = {"gtin": gs1.GTIN_LENGTHS, "gln": (13,), "sscc": (18,)}
"""Lengths of the GS1 keys whose check digit a rule checks, by contract kind."""


def identifier_columns(record_type: RecordType) -> list[str]:
    """Columns that identify something (keys, references, GS1 codes): no invisible characters."""
    names = set(record_type.columns)
    candidates = [*record_type.key, *record_type.references, *IDENTIFIER_COLUMNS]
    return [c for c in dict.fromkeys(candidates) if c in names]


def severity_of(record_type: str, rule: str, column: str) -> Severity:
    """The severity of a rule on a column (before `strict`)."""
    if rule in WARNING_RULES:
        return WARNING
    if rule == "allowed_value":
        return ERROR if vocabulary.is_strict(record_type, column) else WARNING
    if rule in ("required", "number", "integer") and (record_type, column) in _ADVISORY_COLUMNS:
        return WARNING
    return ERROR


def _gx():
    _defer_iri_parser()
    import great_expectations.expectations as gxe

    return gxe


IRI_SYNTAX = "rfc3987_syntax"


def _defer_iri_parser() -> None:
    """Before GX is first imported: let `rfc3987_syntax` build its parsers when first used.

    GX imports altair, altair imports jsonschema, and jsonschema's format checks import
    `rfc3987_syntax`, which compiles 39 Earley parsers as it is imported — half of GX's import
    (4.7 → 2.5 s measured), for an IRI format check a load never runs. A stand-in module gives
    jsonschema the one function it takes and imports the real module at the first call (or the
    first other attribute asked for), so every check behaves as before."""
    if IRI_SYNTAX in sys.modules or "jsonschema" in sys.modules:
        return  # imported already: nothing left to save
    if importlib.util.find_spec(IRI_SYNTAX) is None:
        return  # not installed: jsonschema leaves the IRI check out, as it would anyway

    def real() -> types.ModuleType:
        if sys.modules.get(IRI_SYNTAX) is stand_in:
            del sys.modules[IRI_SYNTAX]
        return importlib.import_module(IRI_SYNTAX)

    def is_valid_syntax(term: str, value: str) -> bool:
        return real().is_valid_syntax(term, value)

    def attribute(name: str) -> object:
        if name.startswith("__"):  # the import system probing (`__path__`…): not a use
            raise AttributeError(name)
        return getattr(real(), name)

    stand_in = types.ModuleType(IRI_SYNTAX, "imported at first use (lotline.intake.validation)")
    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    stand_in.__getattr__ = attribute  # type: ignore[method-assign]
    sys.modules[IRI_SYNTAX] = stand_in


@dataclass(frozen=True)
class Expectation:
    """One expectation of a suite: its Great Expectations class name and arguments.

    The suite is defined by these, and `to_gx` builds the GX object from them when GX runs.
    `failing` is the same expectation as a Polars expression (`failing_rows`), so a clean batch
    of millions of rows is checked in one Polars pass and GX is imported and run only where a
    row fails (see `_run_checks`)."""

    kind: str
    kwargs: dict[str, object] = field(default_factory=dict)

    def to_gx(self) -> object:
        return getattr(_gx(), self.kind)(**self.kwargs)

    def failing(self) -> pl.Expr:
        return failing_rows(self)


class _Expectations:
    """`EXPECT.ExpectColumnValuesToBeInSet(column=..., value_set=...)`: the GX spelling, without
    importing GX."""

    def __getattr__(self, kind: str):  # type: ignore[no-untyped-def]
        if not kind.startswith("Expect"):
            raise AttributeError(kind)
        return lambda **kwargs: Expectation(kind, kwargs)


EXPECT = _Expectations()


def _is_true(flag: str) -> Expectation:
    """The expectation that a Polars-computed flag column holds for the row (see `_prepare`)."""
    return EXPECT.ExpectColumnValuesToBeInSet(column=flag, value_set=[True])


def build_rules(record_type: RecordType, refs: References) -> list[_Rule]:
    """The expectation suite of one record type, as rules naming their contract column."""
    gxe = EXPECT
    rules: list[_Rule] = []

    def add(rule: str, column: str, message: str, expectation: object) -> None:
        severity = severity_of(record_type.name, rule, column)
        rules.append(_Rule(rule, column, message, expectation, severity))

    for f in record_type.fields:
        c = f.name
        if f.required:
            add("required", c, f"{c} is required", gxe.ExpectColumnValuesToNotBeNull(column=c))
        match f.kind:
            case "gtin":
                add(
                    "gtin_check_digit",
                    c,
                    "not a GTIN-8/12/13/14 with a valid GS1 check digit",
                    _is_true(f"{c}__gs1"),
                )
            case "gln":
                add(
                    "gln_check_digit",
                    c,
                    "not a 13-digit GLN with a valid GS1 check digit",
                    _is_true(f"{c}__gs1"),
                )
            case "sscc":
                add(
                    "sscc_check_digit",
                    c,
                    "not an 18-digit SSCC with a valid GS1 check digit",
                    _is_true(f"{c}__gs1"),
                )
            case "timestamp":
                add(
                    "timestamp_with_offset",
                    c,
                    "not an ISO 8601 date-time with a UTC offset (e.g. 2026-03-01T08:30:00+01:00)",
                    _is_true(f"{c}__parsed"),
                )
            case "date":
                add(
                    "iso_date",
                    c,
                    "not an existing date written YYYY-MM-DD",
                    _is_true(f"{c}__parsed"),
                )
            case "decimal" | "latitude" | "longitude":
                add(
                    "number",
                    c,
                    "not a finite number (digits with an optional '.' decimal point)",
                    _is_true(f"{c}__num_ok"),
                )
            case "integer":
                add(
                    "integer",
                    c,
                    "not a whole number",
                    gxe.ExpectColumnValuesToMatchRegex(column=c, regex=values.INTEGER_PATTERN),
                )
            case "choice":
                add(
                    "allowed_value",
                    c,
                    f"must be one of {', '.join(f.choices)}",
                    gxe.ExpectColumnValuesToBeInSet(column=c, value_set=list(f.choices)),
                )
            case "uom":
                add(
                    "uom_code",
                    c,
                    "not a known UN/CEFACT Rec 20 unit code",
                    gxe.ExpectColumnValuesToBeInSet(column=c, value_set=sorted(UOM_NAMES)),
                )
        if f.kind == "latitude":
            add(
                "latitude_range",
                c,
                "latitude must be between -90 and 90",
                gxe.ExpectColumnValuesToBeBetween(column=f"{c}__num", min_value=-90, max_value=90),
            )
        if f.kind == "longitude":
            add(
                "longitude_range",
                c,
                "longitude must be between -180 and 180",
                gxe.ExpectColumnValuesToBeBetween(
                    column=f"{c}__num", min_value=-180, max_value=180
                ),
            )

    names = set(record_type.columns)
    for c in identifier_columns(record_type):
        add(
            "identifier_characters",
            c,
            "control or invisible (zero-width) characters in an identifier",
            _is_true(f"{c}__visible"),
        )
    for c in ("lot", "serial"):
        if c in names:
            add(
                "gs1_length",
                c,
                f"longer than the {GS1_MAX_LENGTH} characters GS1 allows for a {c} code",
                _is_true(f"{c}__gs1_length"),
            )
    for f in record_type.fields:
        if f.kind == "timestamp":
            add(
                "time_in_future",
                f.name,
                f"more than {FUTURE_TOLERANCE_HOURS} h after the load: check the date format "
                "and the clock of the system that wrote it",
                _is_true(f"{f.name}__not_future"),
            )
        if f.kind == "flag":
            add(
                "flag",
                f.name,
                "not a yes/no value (true/false, yes/no, 1/0, x or empty)",
                _is_true(f"{f.name}__ok"),
            )
    if "quantity" in names:
        add(
            "quantity_positive",
            "quantity",
            "quantity must be greater than 0",
            gxe.ExpectColumnValuesToBeBetween(column="quantity__num", min_value=0, strict_min=True),
        )
    if {"production_date", "expiry_date"} <= names:
        add(
            "expiry_not_before_production",
            "expiry_date",
            "expiry date is before the production date",
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="expiry_date__date",
                column_B="production_date__date",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        )
    for column, target in record_type.references.items():
        if target == "products":
            add(
                "known_product",
                column,
                "GTIN not in the product master data",
                gxe.ExpectColumnValuesToBeInSet(
                    column="gtin__14", value_set=refs.products["gtin"].to_list()
                ),
            )
        elif target == "locations":
            add(
                "known_location",
                column,
                "location_id not in the location master data",
                gxe.ExpectColumnValuesToBeInSet(column=column, value_set=sorted(refs.location_ids)),
            )
        elif target == "production":
            add(
                "known_production",
                column,
                "no production record with this production_id",
                _is_true("_production_known"),
            )
    if "uom" in names and "gtin" in record_type.references:
        add(
            "uom_matches_product",
            "uom",
            "unit differs from the product's unit of measure",
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="uom", column_B="_product_uom", ignore_row_if="either_value_is_missing"
            ),
        )
    if {"serial", "quantity"} <= names:
        add(
            "serial_required",
            "serial",
            "product is serial-tracked: serial is required",
            gxe.ExpectColumnValuesToNotBeNull(
                column="serial",
                row_condition='_product_tracking=="serial"',
                condition_parser="pandas",
            ),
        )
        add(
            "serial_quantity_one",
            "quantity",
            "a serialised line must have quantity 1",
            gxe.ExpectColumnValuesToBeInSet(
                column="quantity__num",
                value_set=[1.0],
                row_condition="serial.notnull()",
                condition_parser="pandas",
            ),
        )
    if record_type.name in ("receipts", "production"):
        add(
            "serial_unique",
            "serial",
            "serial appears more than once for this GTIN in the batch",
            gxe.ExpectColumnValuesToBeUnique(column="_serial_key"),
        )
        add(
            "serial_not_already_commissioned",
            "serial",
            "serial of this GTIN was already received or produced",
            _is_true("_serial_new"),
        )
    if record_type.name in ("packing", "status"):
        add(
            "serial_known",
            "serial",
            "serial of this GTIN was never received or produced",
            _is_true("_serial_known"),
        )
    if record_type.name == "shipments":
        add(
            "lot_or_sscc",
            "lot",
            "a line names either gtin and lot, or only an sscc (a whole pallet or case)",
            _is_true("_line_identified"),
        )
        add(
            "known_sscc",
            "sscc",
            "an sscc-only line needs packing records saying what the SSCC contains",
            _is_true("_sscc_known"),
        )
        add(
            "quantity_with_lot",
            "quantity",
            "a lot line needs quantity and uom",
            _is_true("_quantity_given"),
        )
    if record_type.name == "packing":
        add(
            "one_child",
            "child_sscc",
            "name exactly one child: child_sscc alone, gtin+serial, or gtin+lot+quantity+uom",
            _is_true("_one_child"),
        )
        add(
            "child_is_not_parent",
            "child_sscc",
            "an SSCC cannot be packed into itself",
            _is_true("_child_not_parent"),
        )
        add(
            "unpack_of_packed",
            "action",
            "unpack of something that was not in this SSCC at that time",
            _is_true("_unpack_ok"),
        )
        add(
            "child_not_already_packed",
            "action",
            "this SSCC or serial is already inside an SSCC at that time: unpack it first",
            _is_true("_pack_ok"),
        )
    if record_type.name == "status":
        add(
            "lot_or_serial",
            "lot",
            "a status names a lot, a serial or both",
            _is_true("_subject_given"),
        )
        add(
            "reason_required",
            "reason",
            f"a reason is required for {', '.join(STATUSES_NEEDING_REASON)}",
            _is_true("_reason_given"),
        )
    if record_type.name == "moves":
        add(
            "move_locations_match_reason",
            "from_location_id",
            "transfer/return need both locations; scrap/destroy need from_location_id; "
            "adjustment needs exactly one of them",
            _is_true("_move_locations_ok"),
        )
        add(
            "scrap_without_destination",
            "to_location_id",
            "scrap/destroy names a destination: the stock is counted as leaving "
            "from_location_id, the destination is kept as recorded",
            _is_true("_scrap_destination_ok"),
        )
    add(
        "unique_line",
        ",".join(record_type.key),
        f"two different rows with the same {'/'.join(record_type.key)} in one load: send the "
        "correction in a later load (or as one row)",
        gxe.ExpectColumnValuesToBeUnique(column="_line_key"),
    )
    return rules


def _prepare(record_type: RecordType, raw: pl.DataFrame, refs: References) -> pl.DataFrame:
    """Raw text plus the helper columns the expectations look at."""
    names = set(record_type.columns)
    times = [f.name for f in record_type.fields if f.kind == "timestamp"]
    # each time parsed once: the format rule, the future rule and the packing history read it
    raw = raw.with_columns(values.parse_timestamp(pl.col(c)).alias(f"{c}__at") for c in times)
    helpers: list[pl.Expr] = [
        pl.int_range(pl.len(), dtype=pl.Int64).alias(_RID),
        line_key(record_type).alias("_line_key"),
    ]
    for f in record_type.fields:
        if f.kind in ("decimal", "latitude", "longitude", "integer"):
            number = values.parse_number(pl.col(f.name))
            helpers.append(number.alias(f"{f.name}__num"))
            helpers.append(
                (pl.col(f.name).is_null() | number.is_not_null()).alias(f"{f.name}__num_ok")
            )
        if f.kind == "date":
            parsed = values.parse_date(pl.col(f.name))
            helpers.append(parsed.alias(f"{f.name}__date"))
            helpers.append(
                (pl.col(f.name).is_null() | parsed.is_not_null()).alias(f"{f.name}__parsed")
            )
    if "gtin" in names:
        helpers.append(
            # only a well-formed GTIN can be looked up: a bad check digit is one finding, not two
            pl.when(gs1.valid_check_digit_expr(pl.col("gtin"), gs1.GTIN_LENGTHS))
            .then(pl.col("gtin").str.zfill(14))
            .alias("gtin__14")
        )
    if "serial" in names:
        helpers.append(serial_key().alias("_serial_key"))
    # booleans computed once in Polars: GX then checks a flag instead of running a regex per row
    identifiers = identifier_columns(record_type)
    # one pass over all identifiers first: in a clean batch (the usual one) no column needs its own
    any_invisible = bool(
        raw.select(
            pl.concat_str(identifiers, ignore_nulls=True).str.contains(_INVISIBLE).any()
        ).item()
    )
    for c in identifiers:
        visible = ~pl.col(c).str.contains(_INVISIBLE) if any_invisible else pl.lit(True)
        helpers.append(visible.fill_null(True).alias(f"{c}__visible"))
    for c in ("lot", "serial"):
        if c in names:
            helpers.append(
                (pl.col(c).str.len_chars() <= GS1_MAX_LENGTH)
                .fill_null(True)
                .alias(f"{c}__gs1_length")
            )
    now = datetime.now(UTC) + timedelta(hours=FUTURE_TOLERANCE_HOURS)
    for f in record_type.fields:
        if f.kind in GS1_LENGTHS:
            valid = gs1.valid_check_digit_expr(pl.col(f.name), GS1_LENGTHS[f.kind])
            helpers.append((pl.col(f.name).is_null() | valid).alias(f"{f.name}__gs1"))
    for c in times:
        helpers.append(
            (pl.col(c).is_null() | pl.col(f"{c}__at").is_not_null()).alias(f"{c}__parsed")
        )
        helpers.append((pl.col(f"{c}__at") <= now).fill_null(True).alias(f"{c}__not_future"))
    for f in record_type.fields:
        if f.kind == "flag":
            flag = values.parse_flag(pl.col(f.name)).is_not_null()
            helpers.append((pl.col(f.name).is_null() | flag).alias(f"{f.name}__ok"))
    if record_type.name == "moves":
        has_from, has_to = (
            pl.col("from_location_id").is_not_null(),
            pl.col("to_location_id").is_not_null(),
        )
        scrap = pl.col("reason").is_in(["scrap", "destroy"])
        helpers.append(
            pl.when(pl.col("reason").is_in(["transfer", "return"]))
            .then(has_from & has_to)
            .when(scrap)
            .then(has_from)
            .when(pl.col("reason") == "adjustment")
            .then(has_from ^ has_to)
            .otherwise(True)
            .alias("_move_locations_ok")
        )
        helpers.append((~scrap | ~has_to).fill_null(True).alias("_scrap_destination_ok"))
    helpers += _composite_checks(record_type)
    frame = raw.with_columns(helpers).with_columns(_membership(record_type, refs))
    if record_type.name == "packing":
        frame = frame.join(_packing_history_checks(frame, refs.packing), on=_RID, how="left")
    if "gtin" in record_type.references:
        products = refs.products.select(
            pl.col("gtin").alias("gtin__14"),
            pl.col("tracking").alias("_product_tracking"),
            pl.col("uom").alias("_product_uom"),
        ).unique("gtin__14")
        frame = frame.join(products, on="gtin__14", how="left")
    return frame.sort(_RID)


def _membership(record_type: RecordType, refs: References) -> list[pl.Expr]:
    """Booleans for the rules that compare a row with stored data (true where the row is fine).

    Computed here as hash joins rather than handed to GX as `value_set`s: GX copies and
    re-validates a value set each time it reads the expectation's configuration, which with
    millions of stored serials or line keys costs minutes per load."""

    def member(column: str, values: frozenset[str] | pl.Series) -> pl.Expr:
        series = values if isinstance(values, pl.Series) else pl.Series(list(values))
        return pl.col(column).is_in(series.cast(pl.String).implode())

    flags: list[pl.Expr] = []
    if "production" in record_type.references.values():
        column = next(c for c, t in record_type.references.items() if t == "production")
        flags.append(
            (pl.col(column).is_null() | member(column, refs.production_ids)).alias(
                "_production_known"
            )
        )
    if "serial" in record_type.columns:
        key = pl.col("_serial_key").is_null()
        flags.append((key | ~member("_serial_key", refs.serial_keys)).alias("_serial_new"))
        flags.append((key | member("_serial_key", refs.serial_keys)).alias("_serial_known"))
    if record_type.name == "shipments":
        flags.append(
            (pl.col("_sscc_only").is_null() | member("_sscc_only", refs.ssccs)).alias("_sscc_known")
        )
    return flags


def _composite_checks(record_type: RecordType) -> list[pl.Expr]:
    """Booleans for rules spanning several columns of a row (true where the row is fine)."""
    match record_type.name:
        case "shipments":
            lot_line = pl.col("gtin").is_not_null() & pl.col("lot").is_not_null()
            sscc_only = (
                pl.col("gtin").is_null()
                & pl.col("lot").is_null()
                & pl.col("serial").is_null()
                & pl.col("sscc").is_not_null()
            )
            return [
                (lot_line | sscc_only).alias("_line_identified"),
                pl.when(sscc_only).then(pl.col("sscc")).alias("_sscc_only"),
                _quantity_given(),
            ]
        case "packing":
            sscc_child = pl.col("child_sscc").is_not_null() & pl.all_horizontal(
                pl.col(c).is_null() for c in ("gtin", "lot", "serial", "quantity", "uom")
            )
            serial_child = pl.all_horizontal(
                pl.col("gtin").is_not_null(), pl.col("serial").is_not_null()
            ) & pl.all_horizontal(pl.col(c).is_null() for c in ("child_sscc", "lot", "quantity"))
            lot_child = pl.all_horizontal(
                pl.col(c).is_not_null() for c in ("gtin", "lot", "quantity", "uom")
            ) & pl.all_horizontal(pl.col(c).is_null() for c in ("child_sscc", "serial"))
            return [
                (sscc_child | serial_child | lot_child).alias("_one_child"),
                (pl.col("child_sscc") != pl.col("parent_sscc"))
                .fill_null(True)
                .alias("_child_not_parent"),
            ]
        case "status":
            return [
                (pl.col("lot").is_not_null() | pl.col("serial").is_not_null()).alias(
                    "_subject_given"
                ),
                (
                    ~pl.col("status").is_in(list(STATUSES_NEEDING_REASON))
                    | pl.col("reason").is_not_null()
                )
                .fill_null(True)
                .alias("_reason_given"),
            ]
    return []


def _quantity_given() -> pl.Expr:
    lot_line = pl.col("lot").is_not_null() & pl.col("serial").is_null()
    return (~lot_line | (pl.col("quantity").is_not_null() & pl.col("uom").is_not_null())).alias(
        "_quantity_given"
    )


def _packing_history_checks(batch: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """`_unpack_ok` and `_pack_ok` per batch row, from stored plus batch events in time order.

    Per parent and child the balance of packs minus unpacks before an unpack must cover it; an
    SSCC or serial must not be inside any SSCC when it is packed (a child is in one place).
    Batch rows count when well formed (time, one child, SSCC check digits); a row rejected
    only by another rule (say an unknown location) still counts: the check is about the history.
    """
    well_formed = (
        values.parse_timestamp(pl.col("packed_at")).is_not_null()
        & pl.col("_one_child")
        & pl.col("_child_not_parent")
        & gs1.valid_check_digit_expr(pl.col("parent_sscc"), (18,))
        & (pl.col("child_sscc").is_null() | gs1.valid_check_digit_expr(pl.col("child_sscc"), (18,)))
    )
    batch_events = batch.filter(well_formed).select(
        pl.col(_RID),
        values.parse_timestamp(pl.col("packed_at")).alias("packed_at"),
        "action",
        "parent_sscc",
        aggregation.child_key().alias("_child_key"),
        aggregation.child_kind().alias("_kind"),
        aggregation.packed_quantity(values.parse_number(pl.col("quantity")))
        .fill_null(0.0)
        .alias("_signed"),
    )
    stored_events = aggregation.packing_frame(stored).select(
        pl.lit(None, dtype=pl.Int64).alias(_RID),
        "packed_at",
        "action",
        "parent_sscc",
        aggregation.child_key().alias("_child_key"),
        aggregation.child_kind().alias("_kind"),
        aggregation.packed_quantity().fill_null(0.0).alias("_signed"),
    )
    events = (
        pl.concat([stored_events, batch_events])
        .filter(
            pl.col("packed_at").is_not_null()
            & pl.col("_child_key").is_not_null()
            & pl.col("action").is_in(["pack", "unpack"])
        )
        .with_columns((pl.col("action") == "unpack").cast(pl.Int8).alias("_order"))
        .sort("packed_at", "_order", pl.col(_RID).fill_null(-1))
    )
    in_parent = pl.col("_signed").cum_sum().over("parent_sscc", "_child_key") - pl.col("_signed")
    anywhere = pl.col("_signed").cum_sum().over("_child_key") - pl.col("_signed")
    single = pl.col("_kind") != "lot"  # an SSCC or a serial is in one place; a lot in many
    checked = events.with_columns(
        pl.when(pl.col("action") == "unpack")
        .then(in_parent + pl.col("_signed") > -1e-9)
        .otherwise(True)
        .alias("_unpack_ok"),
        pl.when((pl.col("action") == "pack") & single)
        .then(anywhere < 1e-9)
        .otherwise(True)
        .alias("_pack_ok"),
    ).filter(pl.col(_RID).is_not_null())
    return (
        batch.select(_RID)
        .join(checked.select(_RID, "_unpack_ok", "_pack_ok"), on=_RID, how="left")
        .with_columns(pl.col("_unpack_ok", "_pack_ok").fill_null(True))
    )


def validate(
    record_type: RecordType | str,
    raw: pl.DataFrame,
    refs: References,
    *,
    strict: bool = False,
    read_findings: pl.DataFrame | None = None,
    confirm_flag_warnings: bool = True,
) -> Validation:
    """Run the record type's suite over `raw` (text columns + provenance) and split the rows.

    `read_findings` are what reading and mapping found (`FINDING_SCHEMA`, by file and row): their
    errors quarantine the row like a failed rule. `strict` turns every warning into an error.
    `confirm_flag_warnings=False` leaves the warnings over a Polars-computed flag to Polars
    (`_decided_by_flag`: GX's verdict on them is the flag's by construction), so a load that
    reports no GX run imports no GX for, say, a time in the future; errors stay GX's."""
    rt = RECORD_TYPES[record_type] if isinstance(record_type, str) else record_type
    unreadable = _unreadable_rows(rt, raw, read_findings)
    if raw.is_empty():
        return Validation(rt.name, raw, unreadable, [])
    rules = build_rules(rt, refs)
    if strict:
        rules = [replace(r, severity=ERROR) for r in rules]
    prepared = _prepare(rt, raw, refs)
    failures, gx_rows = _run_checks(rt.name, prepared, rules, confirm_flag_warnings)

    outcomes = []
    for rule, rids in zip(rules, failures, strict=True):
        examples = (
            tuple(
                prepared[_value_column(rule.column)]
                .gather(rids[:3])
                .cast(pl.String)
                .fill_null("(empty)")
            )
            if rids
            else ()
        )
        outcomes.append(
            RuleOutcome(
                rt.name,
                rule.rule,
                rule.column,
                rule.expectation.kind,
                not rids,
                len(rids),
                examples,
                rule.severity,
            )
        )

    with_rid = raw.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(_RID))
    failed = pl.concat(
        [
            _rule_failures(rules, failures),
            _read_failures(with_rid, read_findings, strict),
        ]
    )
    errors = failed.filter(pl.col("severity") == ERROR)
    rejected = pl.concat([_rejected_rows(rt, with_rid, errors), unreadable])
    valid = with_rid.join(errors.select(_RID).unique(), on=_RID, how="anti")
    warned = _finding_rows(rt, valid, failed.filter(pl.col("severity") == WARNING))
    return Validation(rt.name, valid.drop(_RID), rejected, outcomes, warned, gx_rows)


_FAILED_SCHEMA = {
    _RID: pl.Int64,
    "rule": pl.String,
    "column": pl.String,
    "message": pl.String,
    "severity": pl.String,
}


def _rule_failures(rules: list[_Rule], failures: list[list[int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            _RID: [rid for rids in failures for rid in rids],
            "rule": [r.rule for r, rids in zip(rules, failures, strict=True) for _ in rids],
            "column": [r.column for r, rids in zip(rules, failures, strict=True) for _ in rids],
            "message": [r.message for r, rids in zip(rules, failures, strict=True) for _ in rids],
            "severity": [r.severity for r, rids in zip(rules, failures, strict=True) for _ in rids],
        },
        schema=_FAILED_SCHEMA,
    )


def _read_failures(
    raw: pl.DataFrame, read_findings: pl.DataFrame | None, strict: bool
) -> pl.DataFrame:
    """Reading's row findings as rule failures of the rows they name."""
    if read_findings is None or read_findings.is_empty():
        return pl.DataFrame(schema=_FAILED_SCHEMA)
    severity = pl.lit(ERROR) if strict else pl.col("severity")
    return (
        read_findings.filter(pl.col("row_number").is_not_null())
        .join(
            raw.select(_RID, pl.col(SOURCE_SHA256).alias("source_sha256"), SOURCE_ROW),
            left_on=["source_sha256", "row_number"],
            right_on=["source_sha256", SOURCE_ROW],
        )
        .select(_RID, "rule", "column", "message", severity.alias("severity"))
    )


def _unreadable_rows(
    rt: RecordType, raw: pl.DataFrame, read_findings: pl.DataFrame | None
) -> pl.DataFrame:
    """Rows reading could not split into columns (ragged, an unclosed quote, cut short): they
    never reach `raw`, so they are quarantined here with their line as read."""
    if read_findings is None or read_findings.is_empty():
        return pl.DataFrame(schema=REJECTED_SCHEMA)
    present = raw.select(pl.col(SOURCE_SHA256).alias("source_sha256"), SOURCE_ROW)
    return (
        read_findings.filter((pl.col("severity") == ERROR) & pl.col("row_number").is_not_null())
        .join(
            present,
            left_on=["source_sha256", "row_number"],
            right_on=["source_sha256", SOURCE_ROW],
            how="anti",
        )
        .select(
            "source_sha256",
            "source_file",
            pl.lit(rt.name).alias("record_type"),
            "row_number",
            pl.col("column").fill_null("(whole row)"),
            "rule",
            "value",
            "message",
            pl.struct(pl.col("value").alias("line")).struct.json_encode().alias("record"),
        )
        .cast(REJECTED_SCHEMA)
    )


def _cell_value(rt: RecordType) -> pl.Expr:
    """The value of the finding's (first) column in the row."""
    first_column = pl.col("column").str.split(",").list.first()
    value = pl.lit(None, dtype=pl.String)
    for c in rt.columns:
        value = pl.when(first_column == c).then(pl.col(c)).otherwise(value)
    return value


def _finding_rows(rt: RecordType, valid: pl.DataFrame, warned: pl.DataFrame) -> pl.DataFrame:
    """Warnings on rows that load, with the row's content hash to find them later."""
    schema = {**findings.FINDING_SCHEMA, "record_hash": pl.String}
    if warned.is_empty():
        return pl.DataFrame(schema=schema)
    rows = warned.join(valid, on=_RID, how="inner")
    return (
        rows.with_columns(_cell_value(rt).alias("value"))
        .select(
            *_where_found(rt),
            "column",
            "rule",
            "severity",
            "value",
            "message",
            pl.col(RECORD_HASH).alias("record_hash")
            if RECORD_HASH in rows.columns
            else pl.lit(None, dtype=pl.String).alias("record_hash"),
        )
        .unique(maintain_order=True)
        .sort("source_file", "row_number", "rule")
    )


def _where_found(rt: RecordType) -> list[pl.Expr]:
    """File, record type and row of a finding or a rejected row."""
    return [
        pl.col(SOURCE_SHA256).alias("source_sha256"),
        pl.col(SOURCE_FILE).alias("source_file"),
        pl.lit(rt.name).alias("record_type"),
        pl.col(SOURCE_ROW).alias("row_number"),
    ]


def _value_column(column: str) -> str:
    return column.split(",")[0]


def _rejected_rows(rt: RecordType, raw: pl.DataFrame, failed: pl.DataFrame) -> pl.DataFrame:
    if failed.is_empty():
        return pl.DataFrame(schema=REJECTED_SCHEMA)
    rows = failed.join(raw, on=_RID, how="left")
    value = _cell_value(rt)
    record = pl.Series(
        "record",
        [json.dumps(r, ensure_ascii=False) for r in rows.select(rt.columns).iter_rows(named=True)],
        dtype=pl.String,
    )
    return (
        rows.with_columns(record, value.alias("value"))
        .select(
            *_where_found(rt),
            "column",
            "rule",
            "value",
            "message",
            "record",
        )
        .sort("source_file", "row_number", "rule")
    )


def failing_rows(expectation: Expectation) -> pl.Expr:
    """The rows an expectation fails, as Polars computes them: GX's semantics for the kinds the
    suites use (a missing value passes every kind but `NotBeNull`; a pair kind with
    `ignore_row_if="either_value_is_missing"` skips a row missing either value; `Unique` fails
    every copy of a repeated value; a pandas `row_condition` narrows the rows checked)."""
    kw = expectation.kwargs
    known = {"column", "column_A", "column_B", "row_condition", "condition_parser", "ignore_row_if"}
    column = pl.col(str(kw.get("column", "")))
    present = column.is_not_null()
    match expectation.kind:
        case "ExpectColumnValuesToNotBeNull":
            fails = column.is_null()
        case "ExpectColumnValuesToBeInSet":
            known.add("value_set")
            fails = present & ~column.is_in(list(kw["value_set"]))  # type: ignore[call-overload]
        case "ExpectColumnValuesToMatchRegex":
            known.add("regex")
            fails = present & ~column.cast(pl.String).str.contains(str(kw["regex"]))
        case "ExpectColumnValuesToBeBetween":
            known.update({"min_value", "max_value", "strict_min", "strict_max"})
            inside = pl.lit(True)
            if kw.get("min_value") is not None:
                low = pl.lit(kw["min_value"])
                inside &= column > low if kw.get("strict_min") else column >= low
            if kw.get("max_value") is not None:
                high = pl.lit(kw["max_value"])
                inside &= column < high if kw.get("strict_max") else column <= high
            fails = present & ~inside
        case "ExpectColumnValuesToBeUnique":
            fails = present & column.is_duplicated()
        case "ExpectColumnPairValuesAToBeGreaterThanB" | "ExpectColumnPairValuesToBeEqual":
            known.add("or_equal")
            if kw.get("ignore_row_if") != "either_value_is_missing":
                raise ValueError(f"{expectation.kind}: only ignore_row_if=either_value_is_missing")
            a, b = pl.col(str(kw["column_A"])), pl.col(str(kw["column_B"]))
            if expectation.kind == "ExpectColumnPairValuesToBeEqual":
                holds = a == b
            else:
                holds = a >= b if kw.get("or_equal") else a > b
            fails = a.is_not_null() & b.is_not_null() & ~holds
        case _:
            raise ValueError(f"no Polars form for {expectation.kind}")
    if unknown := set(kw) - known:
        raise ValueError(f"{expectation.kind}: no Polars form for {sorted(unknown)}")
    condition = kw.get("row_condition")
    if condition is not None:
        fails &= _row_condition(str(condition))
    return fails.fill_null(False)


def _row_condition(condition: str) -> pl.Expr:
    """The pandas row conditions the suites use: `name=="value"` and `name.notnull()`."""
    if match := re.fullmatch(r'\s*(\w+)\s*==\s*"([^"]*)"\s*', condition):
        return pl.col(match[1]) == match[2]
    if match := re.fullmatch(r"\s*(\w+)\.notnull\(\)\s*", condition):
        return pl.col(match[1]).is_not_null()
    raise ValueError(f"no Polars form for the row condition {condition!r}")


def _run_checks(
    name: str, prepared: pl.DataFrame, rules: list[_Rule], confirm_flag_warnings: bool = True
) -> tuple[list[list[int]], int]:
    """Failing `_rid`s per rule, and how many rows GX validated.

    Every rule runs as its generated Polars expression over the whole batch (one pass). The
    rules that fail somewhere then run in GX on the rows that failed them, and GX's verdict is
    the outcome: the suite stays the definition and the report, and a clean batch — the usual
    one — costs no GX import, no pandas copy and no GX run. (Every kind but `Unique` looks at
    one row; a repeated value's copies all fail, so they are all among the rows GX sees.)
    Without `confirm_flag_warnings`, a warning decided by a flag keeps the Polars verdict."""
    flags = prepared.select(
        pl.col(_RID), *[r.expectation.failing().alias(f"_fails_{i}") for i, r in enumerate(rules)]
    )
    failed_rules = [
        i
        for i, hit in enumerate(flags.select(pl.all().exclude(_RID).any()).row(0))
        if hit  # type: ignore[truthy-bool]
    ]
    failures: list[list[int]] = [[] for _ in rules]
    if not confirm_flag_warnings:
        for i in [i for i in failed_rules if _decided_by_flag(rules[i], prepared)]:
            failures[i] = flags.filter(pl.col(f"_fails_{i}"))[_RID].sort().to_list()
            failed_rules.remove(i)
    if not failed_rules:
        return failures, 0
    any_failed = pl.any_horizontal(pl.col(f"_fails_{i}") for i in failed_rules)
    rids = flags.filter(any_failed).select(_RID)
    suspects = prepared.join(rids, on=_RID, how="semi")
    checked = _run_suite(name, suspects, [rules[i] for i in failed_rules])
    for i, rule_failures in zip(failed_rules, checked, strict=True):
        failures[i] = rule_failures
    return failures, suspects.height


def _decided_by_flag(rule: _Rule, prepared: pl.DataFrame) -> bool:
    """A warning whose expectation is `_is_true` of a Boolean column Polars computed: GX would
    compare each flag with True, skipping nulls as the generated check does, so its verdict
    cannot differ from the flag's. An error rule is still confirmed by GX (it quarantines)."""
    kwargs = rule.expectation.kwargs
    column = kwargs.get("column")
    return (
        rule.severity == WARNING
        and rule.expectation.kind == "ExpectColumnValuesToBeInSet"
        and set(kwargs) == {"column", "value_set"}
        and kwargs["value_set"] == [True]
        and isinstance(column, str)
        and prepared.schema.get(column) == pl.Boolean
    )


def _run_suite(name: str, prepared: pl.DataFrame, rules: list[_Rule]) -> list[list[int]]:
    """Failing `_rid`s per rule, from one GX validation of `prepared`."""
    _defer_iri_parser()
    import great_expectations as gx

    batch_definition = _batch_definition()  # creates the GX context a suite needs
    suite = gx.ExpectationSuite(name=f"lotline.{name}")
    for i, rule in enumerate(rules):
        expectation = rule.expectation.to_gx()
        expectation.meta = {  # type: ignore[attr-defined]
            "rule": rule.rule,
            "column": rule.column,
            "severity": rule.severity,
            "index": i,
        }
        suite.add_expectation(expectation)  # type: ignore[arg-type]
    frame = prepared.select(_suite_columns(prepared, rules)).to_pandas()
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [_RID]},
    )
    failures: list[list[int]] = [[] for _ in rules]
    for res in result.results:
        index = res.expectation_config.meta["index"]
        if res.exception_info and res.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"expectation {rules[index].rule} on {name} failed to run: "
                f"{res.exception_info.get('exception_message')}"
            )
        if not res.success:
            failures[index] = sorted(
                {int(item[_RID]) for item in res.result.get("unexpected_index_list") or []}
            )
    return failures


def _suite_columns(prepared: pl.DataFrame, rules: list[_Rule]) -> list[str]:
    """The columns the expectations read (and `_rid`): only those go to pandas for GX, which
    halves the copy of a wide batch."""
    wanted = {_RID}
    for rule in rules:
        for attribute in ("column", "column_A", "column_B"):
            value = rule.expectation.kwargs.get(attribute)
            if isinstance(value, str):
                wanted.add(value)
        condition = rule.expectation.kwargs.get("row_condition")
        if condition is not None:  # a string or GX's condition object: take every name in it
            wanted.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", str(condition)))
    return [c for c in prepared.columns if c in wanted]


@cache
def _batch_definition():
    _defer_iri_parser()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("lotline")
    return source.add_dataframe_asset("records").add_batch_definition_whole_dataframe("batch")


def typed(record_type: RecordType | str, valid: pl.DataFrame) -> pl.DataFrame:
    """Valid rows with contract types (GTIN-14, floats, UTC datetimes + offset, dates)."""
    rt = RECORD_TYPES[record_type] if isinstance(record_type, str) else record_type
    exprs: list[pl.Expr] = []
    for f in rt.fields:
        col = pl.col(f.name)
        match f.kind:
            case "gtin":
                exprs.append(col.str.zfill(14))
            case "decimal" | "latitude" | "longitude":
                exprs.append(values.parse_number(col).alias(f.name))
            case "integer":
                exprs.append(col.cast(pl.Int64, strict=False))
            case "timestamp":
                exprs.append(values.parse_timestamp(col).alias(f.name))
                exprs.append(values.timestamp_offset(col).alias("tz_offset"))
            case "date":
                exprs.append(values.parse_date(col).alias(f.name))
            case "flag":
                exprs.append(values.parse_flag(col).fill_null(False).alias(f.name))
            case _:
                exprs.append(col.fill_null(f.default) if f.default is not None else col)
    if not rt.master_data:
        exprs.append(line_key(rt).alias("line_key"))
    provenance = [
        pl.col(RECORD_HASH).alias("record_hash"),
        pl.col(SOURCE_SHA256).alias("source_sha256"),
        pl.col(SOURCE_FILE).alias("source_file"),
        pl.col(SOURCE_ROW).alias("source_row"),
    ]
    return valid.select(*exprs, *provenance)
