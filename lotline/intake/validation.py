"""Validating raw records with Great Expectations suites and quarantining the rows that fail.

One suite per record type, built from the data contract. Every expectation carries the rule name
and the contract column in its `meta`, and GX returns the failing rows by `_rid`, so each failure
becomes a rejected-record row naming file, row, column, rule and value. Rows that pass every rule
flow on; `valid + rejected == read` by construction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache

import polars as pl

from lotline import aggregation, gs1
from lotline.intake import expectations as lx
from lotline.intake import values
from lotline.intake.contract import RECORD_TYPES, STATUSES_NEEDING_REASON, UOM_NAMES, RecordType
from lotline.intake.reading import SOURCE_ROW

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
    location_ids: frozenset[str] = frozenset()
    production_ids: frozenset[str] = frozenset()
    serial_keys: frozenset[str] = frozenset()
    """`gtin14<US>serial` of serials already commissioned (received or produced)."""
    line_keys: frozenset[str] = frozenset()
    """Business keys of stored lines of this record type (see `RecordType.key`)."""
    packing: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=aggregation.PACKING_SCHEMA)
    )
    """Typed packing events stored or valid in this load: an unpack must undo an earlier pack."""
    ssccs: frozenset[str] = frozenset()
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


@dataclass(frozen=True)
class Validation:
    record_type: str
    valid: pl.DataFrame
    rejected: pl.DataFrame
    outcomes: list[RuleOutcome]

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


def with_record_hash(record_type: RecordType, raw: pl.DataFrame) -> pl.DataFrame:
    """Content hash of each row (record type + every contract value): its identity on re-load."""
    import hashlib

    joined = raw.select(
        pl.concat_str(
            [pl.lit(record_type.name), *[pl.col(c).fill_null("\x00") for c in record_type.columns]],
            separator=_SEP,
        )
    ).to_series()
    hashes = [hashlib.blake2b(s.encode(), digest_size=16).hexdigest() for s in joined]
    return raw.with_columns(pl.Series(RECORD_HASH, hashes, dtype=pl.String))


# --- the suite ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    rule: str
    column: str
    message: str
    expectation: object


def _gx():
    import great_expectations.expectations as gxe

    return gxe


def build_rules(record_type: RecordType, refs: References) -> list[_Rule]:
    """The expectation suite of one record type, as rules naming their contract column."""
    gxe = _gx()
    rules: list[_Rule] = []

    def add(rule: str, column: str, message: str, expectation: object) -> None:
        rules.append(_Rule(rule, column, message, expectation))

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
                    lx.ExpectColumnValuesToBeValidGtin(column=c),
                )
            case "gln":
                add(
                    "gln_check_digit",
                    c,
                    "not a 13-digit GLN with a valid GS1 check digit",
                    lx.ExpectColumnValuesToBeValidGln(column=c),
                )
            case "sscc":
                add(
                    "sscc_check_digit",
                    c,
                    "not an 18-digit SSCC with a valid GS1 check digit",
                    lx.ExpectColumnValuesToBeValidSscc(column=c),
                )
            case "timestamp":
                add(
                    "timestamp_with_offset",
                    c,
                    "not an ISO 8601 date-time with a UTC offset (e.g. 2026-03-01T08:30:00+01:00)",
                    lx.ExpectColumnValuesToBeTimestampWithOffset(column=c),
                )
            case "date":
                add(
                    "iso_date",
                    c,
                    "not an existing date written YYYY-MM-DD",
                    lx.ExpectColumnValuesToBeIsoDate(column=c),
                )
            case "decimal" | "latitude" | "longitude":
                add(
                    "number",
                    c,
                    "not a number (digits with an optional '.' decimal point)",
                    gxe.ExpectColumnValuesToMatchRegex(column=c, regex=values.NUMBER_PATTERN),
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
                gxe.ExpectColumnValuesToBeInSet(column="_production_known", value_set=[True]),
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
            gxe.ExpectColumnValuesToBeInSet(column="_serial_new", value_set=[True]),
        )
    if record_type.name in ("packing", "status"):
        add(
            "serial_known",
            "serial",
            "serial of this GTIN was never received or produced",
            gxe.ExpectColumnValuesToBeInSet(column="_serial_known", value_set=[True]),
        )
    if record_type.name == "shipments":
        add(
            "lot_or_sscc",
            "lot",
            "a line names either gtin and lot, or only an sscc (a whole pallet or case)",
            gxe.ExpectColumnValuesToBeInSet(column="_line_identified", value_set=[True]),
        )
        add(
            "known_sscc",
            "sscc",
            "an sscc-only line needs packing records saying what the SSCC contains",
            gxe.ExpectColumnValuesToBeInSet(column="_sscc_known", value_set=[True]),
        )
        add(
            "quantity_with_lot",
            "quantity",
            "a lot line needs quantity and uom",
            gxe.ExpectColumnValuesToBeInSet(column="_quantity_given", value_set=[True]),
        )
    if record_type.name == "packing":
        add(
            "one_child",
            "child_sscc",
            "name exactly one child: child_sscc alone, gtin+serial, or gtin+lot+quantity+uom",
            gxe.ExpectColumnValuesToBeInSet(column="_one_child", value_set=[True]),
        )
        add(
            "child_is_not_parent",
            "child_sscc",
            "an SSCC cannot be packed into itself",
            gxe.ExpectColumnValuesToBeInSet(column="_child_not_parent", value_set=[True]),
        )
        add(
            "unpack_of_packed",
            "action",
            "unpack of something that was not in this SSCC at that time",
            gxe.ExpectColumnValuesToBeInSet(column="_unpack_ok", value_set=[True]),
        )
        add(
            "child_not_already_packed",
            "action",
            "this SSCC or serial is already inside an SSCC at that time: unpack it first",
            gxe.ExpectColumnValuesToBeInSet(column="_pack_ok", value_set=[True]),
        )
    if record_type.name == "status":
        add(
            "lot_or_serial",
            "lot",
            "a status names a lot, a serial or both",
            gxe.ExpectColumnValuesToBeInSet(column="_subject_given", value_set=[True]),
        )
        add(
            "reason_required",
            "reason",
            f"a reason is required for {', '.join(STATUSES_NEEDING_REASON)}",
            gxe.ExpectColumnValuesToBeInSet(column="_reason_given", value_set=[True]),
        )
    if record_type.name == "moves":
        add(
            "move_locations_match_reason",
            "from_location_id",
            "transfer/return need both locations; scrap/destroy need from_location_id only; "
            "adjustment needs exactly one of them",
            gxe.ExpectColumnValuesToBeInSet(column="_move_locations_ok", value_set=[True]),
        )
    add(
        "unique_line",
        ",".join(record_type.key),
        f"duplicate {'/'.join(record_type.key)} in the batch",
        gxe.ExpectColumnValuesToBeUnique(column="_line_key"),
    )
    if not record_type.master_data:
        add(
            "conflicts_with_stored_record",
            ",".join(record_type.key),
            "a different record with the same key was loaded before; records are append-only",
            gxe.ExpectColumnValuesToBeInSet(column="_line_new", value_set=[True]),
        )
    return rules


def _prepare(record_type: RecordType, raw: pl.DataFrame, refs: References) -> pl.DataFrame:
    """Raw text plus the helper columns the expectations look at."""
    names = set(record_type.columns)
    helpers: list[pl.Expr] = [
        pl.int_range(pl.len(), dtype=pl.Int64).alias(_RID),
        line_key(record_type).alias("_line_key"),
    ]
    for f in record_type.fields:
        if f.kind in ("decimal", "latitude", "longitude", "integer"):
            helpers.append(values.parse_number(pl.col(f.name)).alias(f"{f.name}__num"))
        if f.kind == "date":
            helpers.append(values.parse_date(pl.col(f.name)).alias(f"{f.name}__date"))
    if "gtin" in names:
        helpers.append(
            pl.when(pl.col("gtin").str.contains(r"^[0-9]{8}$|^[0-9]{12,14}$"))
            .then(pl.col("gtin").str.zfill(14))
            .alias("gtin__14")
        )
    if "serial" in names:
        helpers.append(serial_key().alias("_serial_key"))
    if record_type.name == "moves":
        has_from, has_to = (
            pl.col("from_location_id").is_not_null(),
            pl.col("to_location_id").is_not_null(),
        )
        helpers.append(
            pl.when(pl.col("reason").is_in(["transfer", "return"]))
            .then(has_from & has_to)
            .when(pl.col("reason").is_in(["scrap", "destroy"]))
            .then(has_from & ~has_to)
            .when(pl.col("reason") == "adjustment")
            .then(has_from ^ has_to)
            .otherwise(True)
            .alias("_move_locations_ok")
        )
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

    def member(column: str, values: frozenset[str]) -> pl.Expr:
        return pl.col(column).is_in(pl.Series(list(values), dtype=pl.String).implode())

    flags = [
        (pl.col("_line_key").is_null() | ~member("_line_key", refs.line_keys)).alias("_line_new")
    ]
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


def validate(record_type: RecordType | str, raw: pl.DataFrame, refs: References) -> Validation:
    """Run the record type's suite over `raw` (text columns + provenance) and split the rows."""
    rt = RECORD_TYPES[record_type] if isinstance(record_type, str) else record_type
    if raw.is_empty():
        return Validation(rt.name, raw, pl.DataFrame(schema=REJECTED_SCHEMA), [])
    rules = build_rules(rt, refs)
    prepared = _prepare(rt, raw, refs)
    failures = _run_suite(rt.name, prepared, rules)

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
                type(rule.expectation).__name__,
                not rids,
                len(rids),
                examples,
            )
        )

    failed = pl.DataFrame(
        {
            _RID: [rid for rids in failures for rid in rids],
            "_rule_index": [i for i, rids in enumerate(failures) for _ in rids],
        },
        schema={_RID: pl.Int64, "_rule_index": pl.Int64},
    )
    rule_table = pl.DataFrame(
        {
            "_rule_index": list(range(len(rules))),
            "rule": [r.rule for r in rules],
            "column": [r.column for r in rules],
            "message": [r.message for r in rules],
        },
        schema={
            "_rule_index": pl.Int64,
            "rule": pl.String,
            "column": pl.String,
            "message": pl.String,
        },
    )
    with_rid = raw.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(_RID))
    rejected = _rejected_rows(rt, with_rid, failed.join(rule_table, on="_rule_index"))
    valid = with_rid.join(failed.select(_RID).unique(), on=_RID, how="anti").drop(_RID)
    return Validation(rt.name, valid, rejected, outcomes)


def _value_column(column: str) -> str:
    return column.split(",")[0]


def _rejected_rows(rt: RecordType, raw: pl.DataFrame, failed: pl.DataFrame) -> pl.DataFrame:
    if failed.is_empty():
        return pl.DataFrame(schema=REJECTED_SCHEMA)
    rows = failed.join(raw, on=_RID, how="left")
    first_column = pl.col("column").str.split(",").list.first()
    value = pl.lit(None, dtype=pl.String)
    for c in rt.columns:
        value = pl.when(first_column == c).then(pl.col(c)).otherwise(value)
    record = pl.Series(
        "record",
        [json.dumps(r, ensure_ascii=False) for r in rows.select(rt.columns).iter_rows(named=True)],
        dtype=pl.String,
    )
    return (
        rows.with_columns(record, value.alias("value"))
        .select(
            pl.col(SOURCE_SHA256).alias("source_sha256"),
            pl.col(SOURCE_FILE).alias("source_file"),
            pl.lit(rt.name).alias("record_type"),
            pl.col(SOURCE_ROW).alias("row_number"),
            "column",
            "rule",
            "value",
            "message",
            "record",
        )
        .sort("source_file", "row_number", "rule")
    )


def _run_suite(name: str, prepared: pl.DataFrame, rules: list[_Rule]) -> list[list[int]]:
    """Failing `_rid`s per rule, from one GX validation of the whole batch."""
    import great_expectations as gx

    batch_definition = _batch_definition()  # creates the GX context a suite needs
    suite = gx.ExpectationSuite(name=f"lotline.{name}")
    for i, rule in enumerate(rules):
        rule.expectation.meta = {"rule": rule.rule, "column": rule.column, "index": i}
        suite.add_expectation(rule.expectation)
    frame = prepared.to_pandas()
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


@cache
def _batch_definition():
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
            case _:
                exprs.append(col.fill_null(f.default) if f.default is not None else col)
    provenance = [
        pl.col(RECORD_HASH).alias("record_hash"),
        pl.col(SOURCE_SHA256).alias("source_sha256"),
        pl.col(SOURCE_FILE).alias("source_file"),
        pl.col(SOURCE_ROW).alias("source_row"),
    ]
    return valid.select(*exprs, *provenance)
