"""Machine-readable identifiers on documents: Digital Links on lot codes, a QR code per document.

- Every lot code in a report table links to its GS1 Digital Link URI
  (`https://id.gs1.org/01/<GTIN>/10/<lot>`, `lotline.gs1.uri.digital_link`): the identifier a
  trading partner's system, a Digital Product Passport or a scanner app resolves, carried as a
  PDF link annotation on the code itself so the printed table stays as it was.
- The document QR code carries the document number, the data snapshot and the command that
  checks the file, so a paper copy leads back to the archived PDF and to `lotline verify`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from markupsafe import Markup

from lotline.gs1 import is_gtin, symbols
from lotline.gs1.uri import digital_link
from reports.render import DASH, DocumentControl, Table

LOT_COLUMNS = (("lot", "gtin"), ("input_lot", "input_gtin"), ("output_lot", "output_gtin"))
"""Table columns holding a lot code, with the column of its GTIN in the same row."""
QR_MODULE_MM = 0.3
QR_PREFIX = "LOTLINE-DOC:"


class Linked(str):
    """A table cell's text with the URI it links to (`macros.data_table` writes an <a>)."""

    href: str

    def __new__(cls, text: str, href: str) -> Linked:
        cell = super().__new__(cls, text)
        cell.href = href
        return cell


def with_digital_links(t: Table) -> Table:
    """`t` with each lot code that has a valid GTIN in its row linked to its Digital Link."""
    keys = [c.key for c in t.columns]
    pairs = [
        (keys.index(lot), keys.index(gtin))
        for lot, gtin in LOT_COLUMNS
        if lot in keys and gtin in keys
    ]
    if not pairs or not t.rows:
        return t
    rows = []
    for row in t.rows:
        row = list(row)
        for lot_at, gtin_at in pairs:
            lot, gtin = row[lot_at], row[gtin_at]
            if lot and lot != DASH and is_gtin(gtin):
                row[lot_at] = Linked(lot, digital_link(gtin, lot=lot))
        rows.append(row)
    return replace(t, rows=rows)


@dataclass(frozen=True)
class DocumentCode:
    """The QR code of one document and what it says, for the page-1 title block."""

    text: str
    svg: Markup
    caption: str


def document_code(doc: DocumentControl, file_name: str) -> DocumentCode:
    """`LOTLINE-DOC:<number>;SNAPSHOT:<id>;VERIFY:lotline verify <file name>` as a QR code."""
    text = f"{QR_PREFIX}{doc.number};SNAPSHOT:{doc.snapshot_id};VERIFY:lotline verify {file_name}"
    symbol = symbols.qr(text, QR_MODULE_MM)
    return DocumentCode(
        text,
        Markup(symbol.svg),
        "QR code: the document number, the data snapshot and how to check this file "
        "(lotline verify)",
    )


def parse_document_code(text: str) -> dict[str, str]:
    """The fields of a document QR code's text: number, snapshot, verify."""
    if not text.startswith(QR_PREFIX):
        raise ValueError(f"not a lotline document code: {text[:40]!r}")
    first, *rest = text.split(";")
    fields = {"number": first.removeprefix(QR_PREFIX)}
    for part in rest:
        key, _, value = part.partition(":")
        fields[key.lower()] = value
    return fields
