"""Drafting a mapping file from the exports in a folder: `lotline mapping suggest DIR`.

Writing a mapping by hand means reading every header, finding the date format in the values and
telling a decimal comma from a thousands separator. The draft does that work and says how sure it
is: a line it could not decide from the evidence alone ends in `# GUESS: why`, and a required
contract column it found no header for is written as a commented placeholder, also marked. A
person then reviews only the marked lines. Nothing here is trusted silently: the mapping loader
still checks every key, and the validator every value.

The evidence, per file: the name (English and German words for each record type), the headers
(contract names and their usual English and German synonyms), and the values (GTIN check digits,
date formats that parse every sampled value, decimal commas, contract vocabulary).
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import glob
import io
import json
import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import polars as pl

from lotline import gs1
from lotline.intake import vocabulary
from lotline.intake.contract import RECORD_TYPES, RecordType, record_type_of

SAMPLE_ROWS = 500
"""Rows read from each file: enough to see every format an export uses, fast on large files."""

DATA_SUFFIXES = (".csv", ".xlsx", ".parquet")
DELIMITERS = (";", ",", "\t", "|")


@dataclass(frozen=True)
class Choice:
    """A drafted value and, when the evidence did not settle it, why it is a guess."""

    value: str | int
    guess: str | None = None


@dataclass
class FileDraft:
    """What the draft says about one file; `render` turns a list of these into TOML."""

    name: str
    match: Choice
    record_type: Choice
    sheet: Choice | None = None
    columns: dict[str, Choice] = field(default_factory=dict)
    """contract column -> header"""
    constants: dict[str, Choice] = field(default_factory=dict)
    values: dict[str, dict[str, Choice]] = field(default_factory=dict)
    """contract column -> {source value: contract value ('' = unknown, a placeholder)}"""
    column_placeholders: dict[str, str] = field(default_factory=dict)
    """required contract column without a header -> why"""
    constant_placeholders: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Choice] = field(default_factory=dict)


# --- words -------------------------------------------------------------------------------------

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _key(text: str) -> str:
    """Compare form of a header or name: case-folded, umlauts spelled out, accents dropped, any
    run of other characters one space (`Artikel-EAN` -> `artikel ean`, `Straße` -> `strasse`)."""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_TRANSLIT))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]+", " ", plain).strip()


TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "products": (
        "product",
        "produkt",
        "artikel",
        "artikelstamm",
        "item",
        "material",
        "materialstamm",
        "sku",
        "product template",
    ),
    "locations": (
        "location",
        "standort",
        "lager",
        "lagerort",
        "warehouse",
        "kunde",
        "kunden",
        "customer",
        "lieferant",
        "supplier",
        "vendor",
        "partner",
        "adresse",
        "debitor",
        "kreditor",
        "stock location",
    ),
    "receipts": (
        "receipt",
        "wareneingang",
        "eingang",
        "goods in",
        "receiving",
        "purchase receipt",
        "anlieferung",
    ),
    "production": (
        "production",
        "produktion",
        "fertigung",
        "fertigmeldung",
        "produced",
        "herstellung",
        "output",
    ),
    "consumption": (
        "consumption",
        "verbrauch",
        "consumed",
        "materialverbrauch",
        "entnahme",
        "einsatz",
    ),
    "moves": ("move", "umlagerung", "transfer", "bewegung", "lagerbewegung", "internal transfer"),
    "shipments": (
        "shipment",
        "lieferung",
        "lieferschein",
        "versand",
        "warenausgang",
        "ausgang",
        "delivery",
        "deliveries",
        "delivery note",
        "despatch",
        "dispatch",
    ),
    "packing": ("packing", "verpackung", "palettierung", "aggregation"),
    "status": ("status", "sperre", "sperrung", "freigabe", "hold", "recall", "rueckruf"),
    # EPCIS evidence only: an ERP's "inventory transactions" are stock moves, not these
    "associations": ("association", "associations"),
    "transactions": ("epcis transaction", "transaction event"),
}
"""Words in a file name that say its record type (compare form; German compounds match)."""

KIND_WORDS: dict[str, tuple[str, ...]] = {
    "customer": ("kunde", "kunden", "customer", "debitor", "abnehmer", "consignee"),
    "supplier": ("lieferant", "supplier", "vendor", "kreditor"),
    "site": ("werk", "site", "plant", "betrieb"),
    "warehouse": ("lager", "warehouse", "standort", "location", "depot"),
}

_DATE = ("date", "datum", "zeitpunkt", "timestamp", "zeit", "date time", "buchungsdatum")
_PRODUCTION_ID = (
    "production id",
    "production order",
    "work order",
    "manufacturing order",
    "mo",
    "wo",
    "fertigungsauftrag",
    "produktionsauftrag",
    "auftrag",
    "auftragsnummer",
    "auftrag nr",
    "reference",
    "referenz",
    "id",
)

SYNONYMS: dict[str, tuple[str, ...]] = {
    "gtin": (
        "gtin",
        "ean",
        "ean13",
        "ean 13",
        "ean code",
        "ean nr",
        "ean nummer",
        "artikel ean",
        "barcode",
        "product barcode",
        "upc",
        "gtin 14",
        "strichcode",
    ),
    "lot": (
        "lot",
        "lot number",
        "lot no",
        "lot nr",
        "lotnummer",
        "charge",
        "chargen",
        "chargennummer",
        "charge nr",
        "chargen nr",
        "chargennr",
        "los",
        "losnummer",
        "los nr",
        "batch",
        "batch no",
        "batch number",
        "batch id",
        "lot serial number",
    ),
    "serial": (
        "serial",
        "serial number",
        "serial no",
        "seriennummer",
        "serien nr",
        "seriennr",
        "sn",
    ),
    "quantity": (
        "quantity",
        "qty",
        "menge",
        "anzahl",
        "liefermenge",
        "stueckzahl",
        "istmenge",
        "buchungsmenge",
        "quantity in product uom",
        "qty in stock uom",
    ),
    "uom": (
        "uom",
        "unit",
        "unit of measure",
        "einheit",
        "me",
        "mengeneinheit",
        "masseinheit",
        "basiseinheit",
        "stock uom",
        "product unit of measure",
    ),
    "expiry_date": (
        "expiry",
        "expiry date",
        "expiration",
        "expiration date",
        "exp date",
        "best before",
        "best before date",
        "use by",
        "bbd",
        "mhd",
        "mindesthaltbarkeit",
        "mindesthaltbarkeitsdatum",
        "verfallsdatum",
        "verfall",
        "ablaufdatum",
        "haltbar bis",
        "verbrauchsdatum",
    ),
    "production_date": (
        "production date",
        "manufacturing date",
        "mfg date",
        "produced on",
        "produktionsdatum",
        "herstelldatum",
        "herstellungsdatum",
        "packdatum",
    ),
    "name": (
        "name",
        "product name",
        "item name",
        "description",
        "bezeichnung",
        "artikelbezeichnung",
        "artikelname",
        "produktname",
        "produktbezeichnung",
        "beschreibung",
    ),
    "tracking": ("tracking", "verfolgung", "rueckverfolgung", "chargenfuehrung"),
    "brand": ("brand", "marke"),
    "commodity": ("commodity", "warengruppe", "category", "kategorie"),
    "variety": ("variety", "sorte"),
    "shelf_life_days": ("shelf life", "shelf life days", "haltbarkeit tage", "haltbarkeit"),
    "location_id": ("location id", "location", "standort", "standortnummer"),
    "kind": ("kind", "type", "art", "typ", "partnerart"),
    "business_name": (
        "business name",
        "name",
        "firma",
        "firmenname",
        "company",
        "company name",
        "name 1",
        "name1",
        "kundenname",
        "lieferantenname",
        "bezeichnung",
    ),
    "gln": ("gln", "iln", "global location number"),
    "phone": ("phone", "telephone", "tel", "telefon", "telefonnummer"),
    "street": ("street", "address", "address line 1", "strasse", "str", "adresse", "anschrift"),
    "city": ("city", "town", "ort", "stadt"),
    "region": ("region", "state", "province", "bundesland", "kanton"),
    "postal_code": ("postal code", "zip", "zip code", "postcode", "plz", "postleitzahl"),
    "country": ("country", "country code", "land", "laendercode"),
    "latitude": ("latitude", "lat", "breitengrad"),
    "longitude": ("longitude", "lon", "lng", "laengengrad"),
    "sscc": ("sscc", "nve", "sscc nve", "pallet id", "palettennummer"),
    "ref_doc_type": ("ref doc type", "document type", "belegart", "dokumentart"),
    "ref_doc_number": (
        "ref doc number",
        "document number",
        "belegnummer",
        "bestellnummer",
        "bestellung",
        "purchase order",
        "po",
        "po number",
        "order",
        "order number",
        "rechnungsnummer",
    ),
    "correction_reason": ("correction reason", "korrekturgrund"),
    "void": ("void", "storno", "storniert"),
}
"""Headers that name a contract column in any record type (compare form)."""

TYPE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "locations": {
        "location_id": (
            "id",
            "display name",
            "nr",
            "nummer",
            "code",
            "lager",
            "lagerort",
            "lager nr",
            "lagernummer",
            "kundennummer",
            "kunden nr",
            "kundennr",
            "lieferantennummer",
            "lieferanten nr",
            "lieferantennr",
            "debitorennummer",
            "kreditorennummer",
        ),
    },
    "receipts": {
        "receipt_id": (
            "receipt id",
            "receipt",
            "receipt no",
            "receipt number",
            "goods receipt",
            "grn",
            "wareneingang",
            "wareneingangsnummer",
            "we nr",
            "we nummer",
            "eingangsnummer",
            "reference",
            "referenz",
            "id",
        ),
        "received_at": ("received at", "received", "receipt date", "eingangsdatum", *_DATE),
        "from_location_id": (
            "from",
            "supplier",
            "vendor",
            "lieferant",
            "lieferantennummer",
            "lieferanten nr",
            "absender",
            "von",
            "kreditor",
        ),
        "to_location_id": (
            "to",
            "warehouse",
            "lager",
            "lagerort",
            "empfangslager",
            "nach",
            "ziel",
            "ziellager",
        ),
        "tlc_source_reference": ("tlc source reference", "tlc source", "tlc quelle"),
    },
    "shipments": {
        "shipment_id": (
            "shipment id",
            "shipment",
            "shipment no",
            "delivery",
            "delivery note",
            "delivery no",
            "lieferschein",
            "lieferscheinnummer",
            "lieferschein nr",
            "ls nr",
            "versandnummer",
            "sendungsnummer",
            "sendung",
            "reference",
            "referenz",
            "id",
        ),
        "shipped_at": (
            "shipped at",
            "shipped",
            "ship date",
            "versanddatum",
            "lieferdatum",
            "ausgangsdatum",
            *_DATE,
        ),
        "from_location_id": (
            "from",
            "ship from",
            "warehouse",
            "lager",
            "versandlager",
            "lagerort",
            "von",
            "absender",
        ),
        "to_location_id": (
            "to",
            "ship to",
            "customer",
            "consignee",
            "recipient",
            "kunde",
            "kundennummer",
            "kunden nr",
            "empfaenger",
            "warenempfaenger",
            "debitor",
        ),
    },
    "production": {
        "production_id": _PRODUCTION_ID,
        "completed_at": ("completed at", "completed", "finished", "fertigmeldung", *_DATE),
        "location_id": ("to", "warehouse", "site", "plant", "lager", "werk", "betrieb"),
    },
    "consumption": {"production_id": _PRODUCTION_ID},
    "moves": {
        "move_id": (
            "move id",
            "move",
            "transfer",
            "umlagerung",
            "buchung",
            "beleg",
            "reference",
            "id",
        ),
        "moved_at": ("moved at", *_DATE),
        "from_location_id": ("from", "source", "von", "von lager", "quelllager", "abgangslager"),
        "to_location_id": ("to", "destination", "target", "nach", "nach lager", "ziellager"),
        "reason": ("reason", "grund", "bewegungsart"),
    },
    "packing": {
        "packing_id": ("packing id", "packvorgang", "reference"),
        "packed_at": ("packed at", *_DATE),
        "parent_sscc": ("parent sscc", "pallet", "palette", "nve", "sscc"),
        "child_sscc": ("child sscc", "case sscc", "karton sscc"),
        "location_id": ("location", "lager", "standort"),
    },
    "status": {
        "status_id": ("status id", "reference", "vorgang"),
        "at": ("at", *_DATE),
        "status": ("status", "sperrstatus"),
        "actor": ("actor", "user", "benutzer", "bearbeiter", "verantwortlich"),
        "reason": ("reason", "grund", "begruendung"),
    },
}
"""Headers whose meaning depends on the record type: `Datum` is when a receipt was received or
a shipment shipped; `Lager` is where a receipt went but where a shipment came from."""

WEAK_SYNONYMS: dict[str, tuple[str, ...]] = {
    "gtin": ("artikelnummer", "artikel nr", "artikelnr", "item code", "product code", "sku"),
}
"""Headers that often hold the column but as often an internal code: always a guess unless the
values prove it (valid GTIN check digits)."""

GERMAN_MARKS = frozenset(
    (
        "datum",
        "menge",
        "einheit",
        "charge",
        "kunde",
        "lieferant",
        "lager",
        "artikel",
        "bezeichnung",
        "lieferschein",
        "mhd",
        "verfallsdatum",
        "strasse",
        "plz",
        "ort",
        "land",
        "telefon",
        "anzahl",
        "wareneingang",
    )
)
"""Header words that say the export was written in German (and so likely in German time)."""

# --- reading -----------------------------------------------------------------------------------


@dataclass
class _Sample:
    headers: list[str]
    rows: list[list[str]]
    encoding: Choice | None = None
    delimiter: Choice | None = None
    skip_rows: Choice | None = None
    typed: bool = False
    sheet: Choice | None = None

    def column(self, index: int) -> list[str]:
        return [r[index].strip() for r in self.rows if index < len(r) and r[index].strip()]


class SuggestError(ValueError):
    """A folder nothing can be drafted from; the message names it (one line on the CLI)."""


def _read_csv(path: Path) -> _Sample:
    data = path.read_bytes()[: 4 * 1024 * 1024]
    if not data.strip():
        raise ValueError("empty file")
    text, encoding = _decode(data)
    lines = text.splitlines()[: SAMPLE_ROWS + 50]
    delimiter = _delimiter(lines)
    skip = _skip_rows(list(csv.reader(lines[:200], delimiter=str(delimiter.value))))
    body = "\n".join(lines[int(skip.value) :])
    rows = [r for r in csv.reader(io.StringIO(body), delimiter=str(delimiter.value)) if any(r)]
    if not rows:
        raise ValueError("no header row")
    headers = [h.strip() for h in rows[0]]
    return _Sample(headers, rows[1:], encoding, delimiter, skip)


def _decode(data: bytes) -> tuple[str, Choice | None]:
    """The text and its encoding; None where the bytes are ASCII (any encoding reads them)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), Choice("utf-8")
    if data.isascii():
        return data.decode("ascii"), None
    try:
        return data.decode("utf-8"), Choice("utf-8")
    except UnicodeDecodeError as exc:
        # a cut at the 4 MiB sample boundary is not evidence against UTF-8
        if exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8"), Choice("utf-8")
        byte = data[exc.start]
    try:
        return data.decode("cp1252"), Choice(
            "cp1252", f"not UTF-8 (byte 0x{byte:02X}); Windows-1252 (Western Europe) assumed"
        )
    except UnicodeDecodeError:
        return data.decode("latin-1"), Choice(
            "latin-1", f"neither UTF-8 nor Windows-1252 (byte 0x{byte:02X}); Latin-1 assumed"
        )


def _delimiter(lines: list[str]) -> Choice:
    """The separator that splits most lines into the same number (> 1) of fields."""
    scored = []
    for delimiter in DELIMITERS:
        counts = [len(r) for r in csv.reader(lines[:200], delimiter=delimiter) if any(r)]
        if not counts:
            continue
        width, hits = Counter(counts).most_common(1)[0]
        if width > 1:
            scored.append((hits / len(counts), width, delimiter))
    if not scored:
        return Choice(",", "every line is one field: the separator could not be told")
    scored.sort(reverse=True)
    best = scored[0]
    if len(scored) > 1 and scored[1][0] == best[0] and scored[1][1] == best[1]:
        return Choice(best[2], f"{scored[1][2]!r} splits the lines as evenly")
    return Choice(best[2])


def _skip_rows(rows: list[list[str]]) -> Choice:
    """Rows above the header: a title or export date with fewer filled fields than the table."""
    widths = [sum(1 for v in r if v.strip()) for r in rows if any(v.strip() for v in r)]
    if not widths:
        return Choice(0)
    table = Counter(widths[len(widths) // 2 :]).most_common(1)[0][0]
    for index, row in enumerate(rows[:20]):
        filled = sum(1 for v in row if v.strip())
        if filled >= max(2, table * 0.75):
            if index == 0:
                return Choice(0)
            lines = "line 1 has" if index == 1 else f"lines 1-{index} have"
            return Choice(index, f"{lines} fewer filled fields than the table: a title")
    return Choice(0)


def _read_xlsx(path: Path) -> _Sample:
    """The cells of the first sheet holding a table (a cover sheet before it is passed over), as
    text, read as `lotline.intake.reading` reads them (calamine grid from the first used row), so
    `skip_rows` counts the same rows."""
    try:
        import fastexcel
    except ModuleNotFoundError as exc:
        raise ValueError(f"XLSX needs the fastexcel package ({exc.name} is missing)") from None
    try:
        workbook = fastexcel.read_excel(path.read_bytes())
        names = list(workbook.sheet_names)
        grids = {
            name: workbook.load_sheet(
                name, header_row=None, dtypes="string", n_rows=SAMPLE_ROWS
            ).to_polars()
            for name in names
        }
    except Exception as exc:  # fastexcel raises its own hierarchy and plain errors alike
        raise ValueError(f"not a readable XLSX file: {exc}") from None
    for index, name in enumerate(names):
        rows = [["" if v is None else str(v) for v in row] for row in grids[name].rows()]
        skip = _skip_rows(rows)
        rows = rows[int(skip.value) :]
        if len(rows) >= 2 and sum(1 for h in rows[0] if h.strip()) >= 2:
            sheet = None
            if index:
                passed = ", ".join(repr(n) for n in names[:index])
                sheet = Choice(name, f"the first sheet holding a table (not {passed})")
            headers = [h.strip() for h in rows[0]]
            return _Sample(headers, rows[1:], skip_rows=skip, typed=True, sheet=sheet)
    raise ValueError("no sheet holds a header row with records below it")


def _read_parquet(path: Path) -> _Sample:
    frame = pl.read_parquet(path, n_rows=SAMPLE_ROWS)
    text = frame.select(pl.all().cast(pl.String))
    return _Sample(list(frame.columns), [list(r) for r in text.rows()], typed=True)


def _sample(path: Path) -> _Sample:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix == ".parquet":
        return _read_parquet(path)
    return _read_csv(path)


# --- record type and columns -------------------------------------------------------------------


def _name_hits(name: str, words: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Per key, the length of the longest of its words in the file name (0: none)."""
    key = _key(Path(name).stem)
    squashed = key.replace(" ", "")
    hits: dict[str, int] = {}
    for target, options in words.items():
        best = 0
        for word in options:
            w = _key(word)
            if re.search(rf"(^| ){re.escape(w)}", key) or (
                len(w) >= 5 and w.replace(" ", "") in squashed
            ):
                best = max(best, len(w))
        hits[target] = best
    return hits


@dataclass(frozen=True)
class _Match:
    column: str
    header: int
    strength: float
    """3 the header is a synonym; 2.5 its last part is (`Product/Barcode`, `Batch No (Delivery
    Note Item)`); 2 a weak synonym; 1-2 the header contains a synonym (more of it: stronger)."""
    reason: str | None

    @property
    def certain(self) -> bool:
        return self.strength >= 2.5 and self.reason is None


GENERIC_WORDS = frozenset(("id", "nr", "nummer", "code", "type", "typ", "art", "from", "to", "an"))
"""Synonyms too general to count inside a longer header (`State Code` is no location id)."""


def _synonyms(record_type: str, column: str) -> tuple[str, ...]:
    own = TYPE_SYNONYMS.get(record_type, {}).get(column, ())
    return (column.replace("_", " "), *own, *SYNONYMS.get(column, ()))


def _variants(header: str) -> list[str]:
    """The header's compare form and the forms of its last part: ERP exports qualify a field
    by its record (`Product/Barcode` in Odoo, `Batch No (Delivery Note Item)` in ERPNext)."""
    key = _key(header)
    parts = [_key(re.sub(r"\s*\([^()]*\)\s*$", "", header)), _key(header.rsplit("/", 1)[-1])]
    return [key, *(p for p in dict.fromkeys(parts) if p and p != key)]


def _candidates(rt: RecordType, sample: _Sample) -> list[_Match]:
    found = []
    keys = set(rt.key) if rt.master_data else set()  # gtin, location_id
    for index, header in enumerate(sample.headers):
        variants = _variants(header)
        values = sample.column(index)
        if not variants[0] or (sample.rows and not values):  # an empty column holds nothing
            continue
        key = variants[-1]  # a part is searched in the field's own name, not its record's
        squashed = key.replace(" ", "")
        unique = len(set(values)) == len(values)
        for column in rt.columns:
            words = [_key(w) for w in _synonyms(rt.name, column)]
            weak = [_key(w) for w in WEAK_SYNONYMS.get(column, ())]
            if variants[0] in words:
                found.append(_Match(column, index, 3, None))
            elif any(v in words for v in variants[1:]):
                found.append(_Match(column, index, 2.5, None))
            elif any(v in weak for v in variants):
                found.append(_Match(column, index, 2, f"{header!r} may be an internal code"))
            else:
                part = next(
                    (
                        w
                        for w in sorted(words, key=len, reverse=True)
                        if w not in GENERIC_WORDS
                        and (
                            (len(w) >= 3 and re.search(rf"(^| ){re.escape(w)}( |$)", key))
                            or (len(w) >= 5 and w.replace(" ", "") in squashed)
                        )
                    ),
                    None,
                )
                if part is not None:
                    coverage = len(part) / len(key)
                    if column in keys and not unique:  # `Location Type` repeats: no key
                        coverage -= 0.5
                    reason = f"{header!r} contains {part!r}"
                    found.append(_Match(column, index, 1 + coverage, reason))
    return found


def _assign(rt: RecordType, sample: _Sample) -> dict[str, _Match]:
    """Contract column -> header: strongest matches first, each header and column used once. A
    column two headers fit equally well is a guess that names the other one."""
    candidates = _candidates(rt, sample)
    chosen: dict[str, _Match] = {}
    used: set[int] = set()
    order = {c: i for i, c in enumerate(rt.columns)}
    for m in sorted(candidates, key=lambda m: (-m.strength, m.header, order[m.column])):
        if m.column in chosen or m.header in used:
            continue
        rivals = [
            sample.headers[o.header]
            for o in candidates
            if o.column == m.column
            and o.header != m.header
            and o.strength == m.strength
            and o.header not in used
        ]
        if rivals:
            m = replace(m, reason=(m.reason + "; " if m.reason else "") + f"or {rivals[0]!r}")
        chosen[m.column] = m
        used.add(m.header)
    return chosen


def _score(rt: RecordType, sample: _Sample, name_hit: int) -> float:
    matched = _assign(rt, sample)
    required = [c for c in rt.required_columns if c not in ("kind",)]
    got = sum(1.0 if matched[c].strength >= 2 else 0.5 for c in required if c in matched)
    share = got / len(required) if required else 0.0
    extra = sum(0.1 for c in matched if c not in rt.required_columns)
    return (1.5 if name_hit else 0.0) + name_hit / 20 + 2 * share + extra


def _record_type(name: str, sample: _Sample) -> Choice:
    """Named like a contract file (`receipts_2026.csv`): that type. Otherwise the type whose
    words are in the name and whose required columns the headers cover best."""
    own = record_type_of(re.sub(r"\.xlsx$", ".csv", name, flags=re.IGNORECASE))
    if own is not None:
        return Choice(own)
    hits = _name_hits(name, TYPE_WORDS)
    scores = sorted(
        ((_score(rt, sample, hits[n]), n) for n, rt in RECORD_TYPES.items()), reverse=True
    )
    (best, best_type), (second, second_type) = scores[0], scores[1]
    if not hits[best_type]:
        return Choice(best_type, "from the headers only; nothing in the file name says it")
    if best - second < 0.5:
        return Choice(best_type, f"the headers would also fit {second_type}")
    return Choice(best_type)


# --- values ------------------------------------------------------------------------------------

_WITH_OFFSET = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$"
)
DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%d-%m-%Y %H:%M",
)
DATE_FORMATS = (
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%Y%m%d",
)


def _parses(values: list[str], fmt: str) -> bool:
    try:
        for v in values:
            datetime.strptime(v, fmt)
    except ValueError:
        return False
    return True


def _day_month(values: list[str], fmt: str) -> Choice:
    """`%d/%m` and `%m/%d` read the same values unless a day above 12 says which."""
    if "/" not in fmt:
        return Choice(fmt)
    other = fmt.replace("%d", "%D").replace("%m", "%d").replace("%D", "%m")
    if _parses(values, other):
        return Choice(fmt, f"{other!r} reads the values too (no day above 12)")
    return Choice(fmt)


def _time_format(values: list[str], date_only: bool) -> Choice | None:
    """The strptime format every sampled value parses with; None for ISO with an offset."""
    if not values:
        return None
    if not date_only and all(_WITH_OFFSET.match(v) for v in values):
        return None
    # a date may be written as a date-time at midnight (Odoo's lot expiration date)
    formats = (
        (*DATE_FORMATS, *DATETIME_FORMATS) if date_only else (*DATETIME_FORMATS, *DATE_FORMATS)
    )
    for fmt in formats:
        if _parses(values, fmt):
            return _day_month(values, fmt)
    best = max(formats, key=lambda f: sum(_parses([v], f) for v in values))
    count = sum(_parses([v], best) for v in values)
    if not count:
        return None
    return Choice(best, f"{len(values) - count} of {len(values)} sampled values do not match")


def _decimal(values: list[str]) -> Choice | None:
    comma = sum(bool(re.fullmatch(r"[+-]?\d+(\.\d{3})*,\d+", v)) for v in values)
    dot = sum(bool(re.fullmatch(r"[+-]?\d+(,\d{3})*\.\d+", v)) for v in values)
    if comma and not dot:
        return Choice(",")
    if dot and not comma:
        return Choice(".")
    if comma and dot:
        return Choice(
            "," if comma > dot else ".", f"{comma} values read as decimal comma, {dot} dot"
        )
    return None


def _share_gtin(values: list[str]) -> float:
    digits = [re.sub(r"\.0+$", "", v) for v in values]
    return sum(gs1.is_gtin(v) for v in digits) / len(digits) if digits else 0.0


def _vocabulary_map(rt: RecordType, column: str, values: list[str]) -> dict[str, Choice] | None:
    """Source values the contract vocabulary does not know, each with a placeholder."""
    tables = vocabulary.vocabulary_columns(rt)
    if column not in tables:
        return None
    table = tables[column]
    unknown = sorted({v for v in values if vocabulary.match_key(v) not in table})[:30]
    if not unknown:
        return None
    allowed = sorted(set(table.values()))
    listed = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
    return {v: Choice("", f"not a {column} the contract knows; one of {listed}") for v in unknown}


# --- drafting ----------------------------------------------------------------------------------

_EXPECTED_WITH_GTIN = {"shipments": ("gtin", "lot", "quantity", "uom")}
_CONSTANT_LIKE = ("location_id", "kind", "reason", "action", "status", "actor", "tracking", "uom")


def _placeholder_is_constant(column: str) -> bool:
    return column.endswith("location_id") or column in _CONSTANT_LIKE


def draft_file(path: Path) -> FileDraft:
    """What the draft says about one export (raises ValueError when it cannot be read)."""
    sample = _sample(path)
    record_type = _record_type(path.name, sample)
    rt = RECORD_TYPES[str(record_type.value)]
    draft = FileDraft(path.name, Choice(glob.escape(path.name)), record_type, sample.sheet)
    matched = _assign(rt, sample)
    kinds = {f.name: f.kind for f in rt.fields}
    tables = vocabulary.vocabulary_columns(rt)
    for column, m in list(matched.items()):  # `Customer Type: Company` is not a location kind
        values = sample.column(m.header)
        if column in tables and not m.certain and values:
            known = sum(vocabulary.match_key(v) in tables[column] for v in values)
            if known < len(values) / 2:
                del matched[column]
    free = [i for i in range(len(sample.headers)) if i not in {m.header for m in matched.values()}]
    if "gtin" not in matched:  # a column of valid GTINs is the product, whatever its header
        for i in free:
            if _share_gtin(sample.column(i)[:200]) >= 0.9:
                matched["gtin"] = _Match("gtin", i, 1, "its values are valid GTINs")
                free.remove(i)
                break
    for column, m in sorted(matched.items(), key=lambda kv: rt.columns.index(kv[0])):
        header = sample.headers[m.header]
        reason = m.reason
        if kinds[column] == "gtin":
            share = _share_gtin(sample.column(m.header)[:200])
            if reason and share >= 0.9 and m.strength >= 2:
                reason = None  # the check digits prove it
            elif share < 0.5 and sample.rows:
                reason = f"only {share:.0%} of the values are valid GTINs"
        draft.columns[column] = Choice(header, reason)
    _settings(draft, rt, sample, {c: m.header for c, m in matched.items()})
    _vocabulary(draft, rt, sample, matched)
    _missing(draft, rt, path.name)
    return draft


def _settings(draft: FileDraft, rt: RecordType, sample: _Sample, headers: dict[str, int]) -> None:
    """How the file is written, from its bytes and the values of the matched columns."""
    kinds = {f.name: f.kind for f in rt.fields}
    if sample.encoding is not None:
        draft.settings["encoding"] = sample.encoding
    if sample.delimiter is not None:
        draft.settings["delimiter"] = sample.delimiter
    if sample.skip_rows is not None:  # 0 too: it is what this file says, not a default
        draft.settings["skip_rows"] = sample.skip_rows
    numbers = [
        v
        for c, i in headers.items()
        if kinds[c] in ("decimal", "latitude", "longitude")
        for v in sample.column(i)[:SAMPLE_ROWS]
    ]
    decimal = _decimal(numbers)
    if sample.typed and decimal is not None:  # number cells read `1.5`: only text says `1,5`
        decimal = Choice(",") if any(re.search(r"\d,\d", v) for v in numbers) else None
    if decimal is not None:
        draft.settings["decimal"] = decimal
    stamps = [v for c, i in headers.items() if kinds[c] == "timestamp" for v in sample.column(i)]
    dates = [v for c, i in headers.items() if kinds[c] == "date" for v in sample.column(i)]
    if sample.typed:  # XLSX and Parquet dates are cells, not text
        stamps = [v for v in stamps if not re.match(r"^\d{4}-\d{2}-\d{2}", v)]
        dates = [v for v in dates if not re.match(r"^\d{4}-\d{2}-\d{2}", v)]
    stamp_format = _time_format(stamps[:SAMPLE_ROWS], date_only=False)
    if stamp_format is not None:
        draft.settings["datetime_format"] = stamp_format
    date_format = _time_format(dates[:SAMPLE_ROWS], date_only=True)
    if date_format is not None and date_format.value != "%Y-%m-%d":
        draft.settings["date_format"] = date_format
    naive = [v for v in stamps if not _WITH_OFFSET.match(v)]
    if naive or (sample.typed and any(kinds[c] == "timestamp" for c in headers)):
        german = any(set(_key(h).split()) & GERMAN_MARKS for h in sample.headers)
        zone = "Europe/Berlin" if german else "UTC"
        why = "German headers" if german else "nothing says which zone"
        draft.settings["timezone"] = Choice(
            zone, f"no UTC offset in the times; {why}: the zone the export was written in"
        )


def _vocabulary(
    draft: FileDraft, rt: RecordType, sample: _Sample, matched: dict[str, _Match]
) -> None:
    for column, m in matched.items():
        found = _vocabulary_map(rt, column, sample.column(m.header))
        if found:
            draft.values[column] = found


def _missing(draft: FileDraft, rt: RecordType, name: str) -> None:
    """Constants the file name gives, and a placeholder for every other required column."""
    needed = [*rt.required_columns, *_EXPECTED_WITH_GTIN.get(rt.name, ())]
    for column in dict.fromkeys(needed):
        if column in draft.columns:
            continue
        if rt.name == "locations" and column == "kind":
            hits = _name_hits(name, KIND_WORDS)
            kind = max(hits, key=lambda k: hits[k])
            if hits[kind]:
                draft.constants["kind"] = Choice(kind, f"every row of {name!r} taken as a {kind}")
                continue
        if rt.name == "moves" and column == "reason":
            draft.constants["reason"] = Choice("transfer", "no reason column: every row a transfer")
            continue
        if rt.name == "products" and column == "tracking":
            draft.constants["tracking"] = Choice("lot", "no tracking column: every product by lot")
            continue
        why = "required" if column in rt.required_columns else "required with gtin"
        field_doc = rt.field(column).doc
        reason = f"{why}; no header matched" + (f" ({field_doc})" if field_doc else "")
        if _placeholder_is_constant(column):
            draft.constant_placeholders[column] = reason + ": the value for every row"
        else:
            draft.column_placeholders[column] = reason + ": the header in the file"


def _generalised_match(drafts: list[FileDraft]) -> list[FileDraft]:
    """`Lieferungen_2026-03.csv` -> `Lieferungen*.csv`, so next month's export matches too. Kept
    exact where the glob would also take a file drafted differently; files the glob takes that
    were drafted alike (last month's export) share one entry."""
    kept: list[FileDraft] = []
    for d in drafts:
        stem, dot, suffix = d.name.rpartition(".")
        cut = re.search(r"[_\-\s.]*\d", stem)
        if cut and cut.start() > 0:
            pattern = glob.escape(stem[: cut.start()]) + "*" + dot + suffix
            others = [
                o for o in drafts if o is not d and fnmatch.fnmatch(o.name.lower(), pattern.lower())
            ]
            if all(_alike(o, d) for o in others):
                if any(k.match.value == pattern for k in kept):
                    continue  # drafted alike: the entry already kept reads this file too
                d.match = Choice(pattern, "later exports assumed to differ only in the digits")
        kept.append(d)
    return kept


def _alike(a: FileDraft, b: FileDraft) -> bool:
    """Read the same way (the reasons for a guess may differ: another byte, another count)."""

    def body(d: FileDraft) -> tuple[object, ...]:
        def plain(table: dict[str, Choice]) -> dict[str, str | int]:
            return {k: c.value for k, c in table.items()}

        return (
            d.record_type.value,
            d.sheet.value if d.sheet else None,
            plain(d.columns),
            plain(d.constants),
            {c: plain(t) for c, t in d.values.items()},
            plain(d.settings),
            d.column_placeholders.keys(),
            d.constant_placeholders.keys(),
        )

    return body(a) == body(b)


def suggest(drop_dir: Path) -> str:
    """A draft mapping (TOML text) for the data files in `drop_dir`."""
    drop_dir = Path(drop_dir)
    if not drop_dir.is_dir():
        raise SuggestError(f"{drop_dir}: folder not found (or not a directory)")
    drafts: list[FileDraft] = []
    skipped: list[str] = []
    for path in sorted(drop_dir.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() not in DATA_SUFFIXES:
            continue
        try:
            drafts.append(draft_file(path))
        except (ValueError, OSError, pl.exceptions.PolarsError) as exc:
            skipped.append(f"{path.name}: {exc}")
    if not drafts:
        raise SuggestError(
            f"{drop_dir}: no readable data file ({', '.join(DATA_SUFFIXES)})"
            + (f"; {'; '.join(skipped)}" if skipped else "")
        )
    drafts = _generalised_match(drafts)
    order = list(RECORD_TYPES)
    drafts.sort(key=lambda d: (order.index(str(d.record_type.value)), d.name))
    text = render(drafts, drop_dir, skipped)
    tomllib.loads(text)  # a draft that is not TOML would be a bug here, not the user's problem
    return text


# --- TOML --------------------------------------------------------------------------------------

_DEFAULT_SETTINGS = {"encoding": "utf-8", "delimiter": ",", "decimal": ".", "skip_rows": 0}
_SETTING_ORDER = (
    "encoding",
    "delimiter",
    "decimal",
    "date_format",
    "datetime_format",
    "timezone",
    "skip_rows",
)


def _str(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; DEL must be escaped too)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: str | int) -> str:
    return str(value) if isinstance(value, int) else _str(value)


def _line(key: str, choice: Choice) -> str:
    line = f"{key} = {_value(choice.value)}"
    return f"{line}  # GUESS: {_comment(choice.guess)}" if choice.guess else line


def _comment(text: str) -> str:
    return " ".join(text.split())


def _defaults(drafts: list[FileDraft]) -> dict[str, Choice]:
    """Per setting, the value most files share (files that do not say are not counted)."""
    chosen: dict[str, Choice] = {}
    for key in _SETTING_ORDER:
        said = [d.settings[key] for d in drafts if key in d.settings]
        if not said:
            continue
        value, _ = Counter(c.value for c in said).most_common(1)[0]
        guesses = [c.guess for c in said if c.value == value and c.guess]
        chosen[key] = Choice(value, guesses[0] if guesses else None)
    return chosen


def render(drafts: list[FileDraft], drop_dir: Path, skipped: list[str] | None = None) -> str:
    defaults = _defaults(drafts)
    out = [
        f"# Draft mapping for the exports in {_comment(str(drop_dir))}, written by",
        "# `lotline mapping suggest`. Review every line marked `# GUESS` (uncomment and fill a",
        "# commented one), then: lotline ingest DIR --mapping THIS_FILE.toml",
        "",
        "[defaults]",
    ]
    for key in _SETTING_ORDER:
        if key in defaults and not (
            key in _DEFAULT_SETTINGS
            and defaults[key].value == _DEFAULT_SETTINGS[key]
            and not defaults[key].guess
        ):
            out.append(_line(key, defaults[key]))
    for note in skipped or ():
        out.append(f"# not drafted: {_comment(note)}")
    for d in drafts:
        out += ["", "[[file]]", _line("match", d.match), _line("type", d.record_type)]
        if d.sheet is not None:
            out.append(_line("sheet", d.sheet))
        for key in _SETTING_ORDER:
            own = d.settings.get(key)
            if own is not None and (key not in defaults or own.value != defaults[key].value):
                out.append(_line(key, own))
        out.append("[file.columns]")
        for column, header in d.columns.items():
            out.append(_line(column, header))
        for column, why in d.column_placeholders.items():
            out.append(f'# {column} = ""  # GUESS: {_comment(why)}')
        for column, table in d.values.items():
            active = {k: c for k, c in table.items() if c.value != ""}
            header = f"[file.values.{column}]"
            out.append(header if active else f"# {header}  # GUESS: uncomment with a value below")
            for source, choice in table.items():
                if choice.value == "":
                    out.append(f'# {_str(source)} = ""  # GUESS: {_comment(choice.guess or "")}')
                else:
                    out.append(_line(_str(source), choice))
        if d.constants or d.constant_placeholders:
            out.append("[file.constants]")
            for column, choice in d.constants.items():
                out.append(_line(column, choice))
            for column, why in d.constant_placeholders.items():
                out.append(f'# {column} = ""  # GUESS: {_comment(why)}')
    return "\n".join(out) + "\n"
