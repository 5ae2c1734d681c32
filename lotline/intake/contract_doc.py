"""`docs/data-contract.md`, rendered from the contract and the validation suites.

The document is generated so it cannot drift from the code: a test renders it again and compares.
Regenerate with `uv run python -m lotline.intake.contract_doc > docs/data-contract.md`.
"""

from __future__ import annotations

from lotline.intake.contract import (
    EXPIRY_KINDS,
    FILE_PATTERN,
    LOCATION_KINDS,
    MOVE_REASONS,
    PACKING_ACTIONS,
    RECORD_TYPES,
    REF_DOC_TYPES,
    STATUSES,
    STATUSES_NEEDING_REASON,
    UOM_NAMES,
    RecordType,
)

INTRO = """# lotline input data contract

lotline reads **CSV (UTF-8, comma-separated, header row) or Parquet** files from a drop folder.
The record type of a file is given by the start of its name: `<record type>[_-.anything].csv`
or `.parquet`, e.g. `receipts.csv`, `shipments_2026-11-01.parquet`
(pattern `{pattern}`). Any other `.csv`/`.parquet` name is refused, so no data is ignored
silently.

Conventions:

- A **lot** is identified by `(gtin, lot)`: the same lot code can exist for two products. The
  lot code is the FSMA 204 traceability lot code (TLC). A **serial** is identified by
  `(gtin, serial)` and belongs to one lot.
- **GTIN**: GTIN-8, -12, -13 or -14 with a valid GS1 check digit; stored as GTIN-14.
  **GLN**: 13 digits, **SSCC**: 18 digits, both with a valid check digit.
- **Timestamps**: ISO 8601 with a UTC offset, e.g. `2026-09-01T08:00:00-05:00` or
  `2026-09-01T13:00:00Z` (seconds and fractions optional). A timestamp without an offset is
  rejected: the instant would be ambiguous. Stored as UTC plus the original offset (`tz_offset`,
  the EPCIS `eventTimeZoneOffset`).
- **Dates**: `YYYY-MM-DD`.
- **Quantities**: a decimal number with `.` as decimal point, greater than 0, in the unit `uom`,
  which must be the product's unit of measure (UN/CEFACT Recommendation 20 code).
- Empty cells and absent optional columns mean "no value". Blank lines are skipped. Extra
  columns are ignored.
- Row numbers in error messages and in `rejected_record` are spreadsheet row numbers: the header
  is row 1, the first record row 2.

Load order: {order}. Master data (products, locations) may be re-sent: a changed row replaces
the stored one. Event records are append-only: a row identical to a stored one is counted as
*unchanged*; a different row with the same business key is rejected
(`conflicts_with_stored_record`).
"""

EPCIS = """## Mapping to GS1 EPCIS 2.0

Every stored event row maps onto an EPCIS 2.0 event (what, when, where, why):

| record type | EPCIS event | what | when | where | why |
|---|---|---|---|---|---|
| receipts | ObjectEvent OBSERVE | `quantityList` (lgtin = gtin+lot) or `epcList` (sgtin = gtin+serial) | `received_at` + `tz_offset` | bizLocation `to_location_id`; sourceList `from_location_id` | bizStep `receiving`; bizTransactionList `ref_doc_type`/`ref_doc_number` |
| production + consumption | TransformationEvent (`transformationID` = production_id) | inputs from consumption, outputs from production; ILMD production/expiry date | `completed_at` | bizLocation `location_id` | bizStep `creating_class_instance` / `commissioning`; bizTransaction `prodorder` |
| moves | ObjectEvent OBSERVE | lot or serial quantity | `moved_at` | source/destination locations | bizStep by reason: transfer `departing`/`arriving`, adjustment `stock_taking`, scrap/destroy `destroying`, return `receiving` (disposition `returned`) |
| shipments | ObjectEvent OBSERVE (AggregationEvent for `sscc`) | lot or serial quantity; parentID = SSCC; an SSCC-only line: epcList = the SSCC, contents from packing | `shipped_at` | sourceList `from_location_id`, destinationList `to_location_id` | bizStep `shipping`, disposition `in_transit` |
| packing | AggregationEvent, action ADD (`pack`) / DELETE (`unpack`) | parentID = `parent_sscc`; childEPCs = `child_sscc` or sgtin (gtin+serial); childQuantityList = lgtin (gtin+lot) with quantity and uom | `packed_at` | bizLocation `location_id` | bizStep `packing` / `unpacking`; bizTransactionList `ref_doc_type`/`ref_doc_number` |
| status | ObjectEvent OBSERVE | lgtin (gtin+lot) or sgtin (gtin+serial) | `at` | — | hold, quarantine: bizStep `holding`, disposition `non_sellable_other`; recall: bizStep `holding`, disposition `recalled`; release: bizStep `inspecting`, disposition `sellable_accessible`; persistentDisposition set / unset; who = `actor`, why = `reason` |

Containment is derived, never stored: the contents of an SSCC at a time are the children whose
pack precedes the time with no unpack in between, followed through nesting (pallet → cases →
serials and lot quantities). An SSCC-only shipment line is resolved to those contents at
`shipped_at` (`lotline.aggregation.explode_shipments`): inference by aggregation, as DSCSA
serialisation practice does with EPCIS packing events. Likewise the status in force is the latest status event at or before a
time, per lot, and per serial where the serial has a later decision of its own
(`lotline.status`); no event means nothing restricts the stock.
"""


def render() -> str:
    from lotline.intake.validation import References, build_rules

    parts = [
        INTRO.format(pattern=FILE_PATTERN.pattern, order=", ".join(f"`{n}`" for n in RECORD_TYPES))
    ]
    for rt in RECORD_TYPES.values():
        parts.append(_record_type(rt, build_rules(rt, References())))
    parts.append(EPCIS)
    parts.append("## Code lists\n")
    parts.append(f"- `kind` of a location: {', '.join(f'`{k}`' for k in LOCATION_KINDS)}")
    parts.append(f"- `reason` of a move: {', '.join(f'`{r}`' for r in MOVE_REASONS)}")
    parts.append(f"- `action` of a packing row: {', '.join(f'`{a}`' for a in PACKING_ACTIONS)}")
    parts.append(
        f"- `status`: {', '.join(f'`{v}`' for v in STATUSES)} "
        f"(a `reason` is required for {', '.join(f'`{v}`' for v in STATUSES_NEEDING_REASON)})"
    )
    parts.append(
        f"- `expiry_kind` of a product: {', '.join(f'`{k}`' for k in EXPIRY_KINDS)} "
        "(use-by: not to be used or shipped after the date; best-before: a quality date)"
    )
    parts.append(
        "- `ref_doc_type` (CBV bizTransaction types and lotline additions): "
        + ", ".join(f"`{t}`" for t in REF_DOC_TYPES)
    )
    parts.append(
        "- `uom` (UN/CEFACT Rec 20): "
        + ", ".join(f"`{code}` {name}" for code, name in UOM_NAMES.items())
    )
    return "\n".join(parts) + "\n"


def _record_type(rt: RecordType, rules: list) -> str:  # type: ignore[type-arg]
    lines = [
        f"## `{rt.name}`\n",
        rt.doc,
        "",
        f"EPCIS: {rt.epcis}.",
        "",
        f"Business key of a line: `{', '.join(rt.key)}`.",
        "",
        "| column | type | required | notes |",
        "|---|---|---|---|",
    ]
    for f in rt.fields:
        notes = f.doc
        if f.choices:
            notes = (
                (notes + "; " if notes else "") + "one of " + ", ".join(f"`{c}`" for c in f.choices)
            )
        if f.default is not None:
            notes += f"; default `{f.default}`"
        lines.append(f"| `{f.name}` | {f.kind} | {'yes' if f.required else 'no'} | {notes} |")
    lines += [
        "",
        "Validation rules (Great Expectations suite; a failing row goes to "
        "`rejected_record` with the rule name):",
        "",
    ]
    seen = set()
    for rule in rules:
        key = (rule.rule, rule.column)
        if key not in seen:
            seen.add(key)
            lines.append(f"- `{rule.rule}` on `{rule.column}`: {rule.message}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
