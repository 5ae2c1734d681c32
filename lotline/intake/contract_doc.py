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
from lotline.intake.vocabulary import STRICT_COLUMNS, SYNONYMS

INTRO = """# lotline input data contract

lotline reads **CSV (UTF-8, comma-separated, header row), XLSX or Parquet** files from a drop
folder. Without a mapping file, the record type of a file is given by the start of its name:
`<record type>[_-.anything].csv`, `.xlsx` or `.parquet`, e.g. `receipts.csv`,
`shipments_2026-11-01.parquet` (pattern `{pattern}`). Any other data file is refused, so no data
is ignored silently; everything else in the folder (subfolders, other extensions, links that
lead out of the folder, files waiting for their `.ready` marker) is skipped and listed.

Exports in another layout — other headers, vocabularies, encodings, delimiters, decimal commas,
date formats, local times — load through a **mapping file** (`lotline ingest DIR --mapping
FILE.toml`, or a bundled profile: `odoo`, `erpnext`); `lotline mapping suggest DIR` drafts one.
The mapping turns each file into the text this document describes, so the rules below apply to
every source alike.

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

**Severities.** Every rule is an *error* or a *warning*. An error means the row cannot be placed
in the lineage (a missing or malformed key, a bad GS1 check digit, an unparseable quantity or
time, a reference to an unknown product, location or production, a quantity ≤ 0): the row is
quarantined in `rejected_record` with file, row, column, rule and value. A warning means the row is
suspicious but traceable: it loads, and the finding is stored with it in `record_finding`.
`lotline ingest --strict` makes every warning an error. When one rule quarantines more than 5 %
of a file (`--max-reject-share`), the valid rows still load but `lotline ingest` exits 3: the file
or its mapping is probably wrong.

**Vocabularies** (`ref_doc_type`, move `reason`, location `kind`, `tracking`, packing `action`,
`status`, `expiry_kind`, units) are matched ignoring case, surrounding spaces and the separators
`_ - . /`, and with the usual synonyms listed under *Code lists*: `ASN`, `Despatch Advice` and
`desadv` are one value. A value that matches nothing is kept as written with an `allowed_value`
warning — except `tracking`, location `kind`, packing `action` and `status`, which decide where a
row sits in the lineage and are errors.

**Corrections.** Event records are append-only, and a correction is a new version: a row whose
business key matches a stored record but whose values differ replaces it; the replaced version is
kept in `record_history` with what changed (old and new value per column), when, from which file
and row, and why (the optional `correction_reason` column). A row with `void` = yes voids the
stored record with that key: it leaves the lineage and stays in the history. The same row sent
again is a no-op. Two different rows with one key in the same load are an error (`unique_line`):
send a correction in a later load. A re-sent row replaces the whole record: a column left empty
or absent is empty in the new version.

**Identifiers** are Unicode-normalised (NFC); control and zero-width characters in an identifier
and lot or serial codes longer than GS1's 20 characters are errors. GTINs that lost their leading
zeros in a spreadsheet are padded when the padded value is a valid GTIN; lot codes are always text.

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
| associations | AssociationEvent, action ADD / DELETE / OBSERVE | parentID = `parent_id`; childEPCs / childQuantityList = `child_id` (one row per child; gtin, lot, serial, sscc decoded when it is a trade item or logistic unit) | `associated_at` | bizLocation `location_id` | bizTransactionList `ref_doc_type`/`ref_doc_number` |
| transactions | TransactionEvent, action ADD / DELETE / OBSERVE | epcList / quantityList = `child_id`; parentID = `parent_id` | `transacted_at` | bizLocation `location_id` | bizTransactionList = `transaction_type`/`transaction_number` (one row per transaction and object) |

Containment is derived, never stored: the contents of an SSCC at a time are the children whose
pack precedes the time with no unpack in between, followed through nesting (pallet → cases →
serials and lot quantities). An SSCC-only shipment line is resolved to those contents at
`shipped_at` (`lotline.aggregation.explode_shipments`): inference by aggregation, as DSCSA
serialisation practice does with EPCIS packing events. Likewise the status in force is the latest status event at or before a
time, per lot, and per serial where the serial has a later decision of its own
(`lotline.status`); no event means nothing restricts the stock.
"""


CAPTURE_INTRO = """## EPCIS 2.0 documents in the drop folder

An EPCIS 2.0 document (JSON-LD `EPCISDocument` or `EPCISQueryDocument`, or XML in namespace
`urn:epcglobal:epcis:xsd:2`) is recognised by its content, whatever its name or extension, and
loads beside the CSV files: its events become rows of the record types below and go through the
same validation, quarantine, corrections and commit. Its row numbers are event positions (1 =
the first event; 0 = the document as a whole) and findings name the event's JSON pointer. JSON
documents are validated against GS1's EPCIS 2.0 JSON Schema: an event that breaks it, or cannot
be placed, is quarantined with the schema rule or mapping error; the other events load. GTINs and
GLNs that no master data names get a minimal product or location record (name unknown, or the
name in the document's `epcisMasterData`) with the warning `epcis_master_data_synthesised`.
"""


def _capture() -> str:
    """The event-to-record mapping, from the docstring of the code that applies it."""
    from lotline.gs1.capture import events

    return CAPTURE_INTRO + "\n" + (events.__doc__ or "").split("\n", 2)[2]


def render() -> str:
    from lotline.intake.validation import References, build_rules

    parts = [
        INTRO.format(pattern=FILE_PATTERN.pattern, order=", ".join(f"`{n}`" for n in RECORD_TYPES))
    ]
    for rt in RECORD_TYPES.values():
        parts.append(_record_type(rt, build_rules(rt, References())))
    parts.append(EPCIS)
    parts.append(_capture())
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
    parts.append(SYNONYMS_INTRO)
    for column, table in SYNONYMS.items():
        for value, spellings in table.items():
            strict = " (error when unknown)" if column in _strict_columns() else ""
            parts.append(
                f"| `{column}`{strict} | `{value}` | {', '.join(f'`{w}`' for w in spellings)} |"
            )
    parts.append(READING_RULES)
    return "\n".join(parts) + "\n"


def _strict_columns() -> set[str]:
    return {column for _, column in STRICT_COLUMNS}


SYNONYMS_INTRO = """
### Synonyms

Also accepted for a value, in any case and with any of `_ - . /` or spaces between words:

| column | value | also accepted |
|---|---|---|"""

READING_RULES = """
## Reading rules

Found while reading a file, before the suites run; each names the file and the row:

- **error** `ragged_row`: a row with more or fewer fields than the header.
- **error** `unclosed_quote`: a quoted field that never closes.
- **error** `truncated_row`: the last row is cut short (the file was still being written).
- **error** `date_format` / `datetime_format`: a value that does not parse with the mapping's
  format (when no value of the column parses, the mapping is wrong and the load stops).
- **error** `number`: a number so long it overflows (e.g. `1e999`).
- **error** `dst_gap`: a local time that does not exist in the mapping's time zone (spring
  forward).
- **warning** `dst_fold`: a local time that occurs twice (autumn back): the first occurrence is
  taken.
- **warning** `nothing_to_void`: a `void` row for a record that was never loaded.

A file that cannot be read at all — missing, empty, not decodable with its encoding, a duplicated
or missing column, a mapping mistake — stops the load with one line naming the file, row and
column, and nothing is written."""


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
        "Validation rules (Great Expectations suite). **error**: the row is quarantined in "
        "`rejected_record` with the rule name; **warning**: the row loads and the finding is "
        "stored in `record_finding`:",
        "",
    ]
    seen = set()
    for rule in rules:
        key = (rule.rule, rule.column)
        if key not in seen:
            seen.add(key)
            lines.append(f"- **{rule.severity}** `{rule.rule}` on `{rule.column}`: {rule.message}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
