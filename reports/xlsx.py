"""A sortable XLSX workbook written straight from Polars frames, a column at a time.

Why not a general spreadsheet library: the FSMA 204 spreadsheet of a hub lot's recall holds
half a million rows of forty columns, and libraries that write cell by cell from Python
(xlsxwriter, openpyxl) need minutes and gigabytes for that — longer than the whole recall
report may take. The sheets here need only what a regulator sorts and filters: text, numbers,
dates, a bold frozen header row, an autofilter and column widths. Each cell's XML is built by
Polars expressions over a whole column, rows are streamed into the zip a chunk at a time, and
the bytes depend only on the frames (fixed zip timestamps and creation date), so the same data
gives the same file.

Text is written as inline strings, so nothing is ever read as a formula, number or link: a lot
code `=1+1` or `00123` stays exactly that.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

import polars as pl

CHUNK_ROWS = 20_000
ZIP_LEVEL = 1
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
EXCEL_EPOCH = date(1899, 12, 30)
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384

# cell style indexes in styles.xml
DATE_STYLE, DATETIME_STYLE, HEADER_STYLE = 1, 2, 3

_INVALID_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write_workbook(
    frames: Mapping[str, pl.DataFrame],
    target: Path | str | BinaryIO,
    *,
    title: str = "",
    subject: str = "",
    creator: str = "lotline",
    created: datetime,
    widths: Mapping[str, list[float]] | None = None,
) -> None:
    """Write one sheet per frame (sheet names ≤ 31 characters, in mapping order)."""
    names = [_clean(name)[:31] for name in frames]
    for name, frame in frames.items():
        if frame.height + 1 > MAX_ROWS or frame.width > MAX_COLUMNS:
            raise ValueError(f"sheet {name} ({frame.height:,} rows) does not fit an XLSX sheet")
    path = str(target) if isinstance(target, str | Path) else target
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as book:

        def add(member: str, text: str) -> None:
            book.writestr(_info(member), text.encode("utf-8"))

        add("[Content_Types].xml", _content_types(len(names)))
        add("_rels/.rels", _ROOT_RELS)
        add("docProps/core.xml", _core(title, subject, creator, created))
        add("docProps/app.xml", _APP)
        add("xl/workbook.xml", _workbook(names, list(frames.values())))
        add("xl/_rels/workbook.xml.rels", _workbook_rels(len(names)))
        add("xl/styles.xml", _STYLES)
        for number, (name, frame) in enumerate(frames.items(), start=1):
            column_widths = (widths or {}).get(name) or [10.0] * frame.width
            with book.open(_info(f"xl/worksheets/sheet{number}.xml"), "w") as sheet:
                for piece in _sheet(frame, column_widths):
                    sheet.write(piece.encode("utf-8"))


def _info(member: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(member, ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    # fastest deflate: the sheets are large and embedded in a PDF that compresses again
    # (`compress_level` from Python 3.13, `_compresslevel` before)
    if hasattr(info, "compress_level"):
        info.compress_level = ZIP_LEVEL
    else:
        info._compresslevel = ZIP_LEVEL  # type: ignore[attr-defined]
    return info


def _sheet(frame: pl.DataFrame, widths: list[float]):  # type: ignore[no-untyped-def]
    last = column_letter(max(frame.width - 1, 0))
    yield (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} {_REL_NS}>'
        f'<dimension ref="A1:{last}{frame.height + 1}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/><cols>'
        + "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{w:g}" customWidth="1"/>'
            for i, w in enumerate(widths)
        )
        + "</cols><sheetData>"
    )
    header = "".join(
        f'<c r="{column_letter(i)}1" t="inlineStr" s="{HEADER_STYLE}"><is><t xml:space="preserve">'
        f"{escape(_clean(name))}</t></is></c>"
        for i, name in enumerate(frame.columns)
    )
    yield f'<row r="1">{header}</row>'
    cells = [_cell_xml(name, dtype, i) for i, (name, dtype) in enumerate(frame.schema.items())]
    for offset in range(0, frame.height, CHUNK_ROWS):
        chunk = frame.slice(offset, CHUNK_ROWS).with_row_index("_row", offset=offset + 2)
        row = pl.col("_row").cast(pl.String)
        rows = chunk.select(
            pl.concat_str(
                [pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>")],
                ignore_nulls=True,
            )
        ).to_series()
        yield rows.str.join("").item()
    yield (f'</sheetData><autoFilter ref="A1:{last}{max(frame.height, 1) + 1}"/></worksheet>')


def _cell_xml(name: str, dtype: pl.DataType, index: int) -> pl.Expr:
    """The XML of one column's cells, null where the value is null (the cell is left out)."""
    ref = pl.concat_str([pl.lit(f'<c r="{column_letter(index)}'), pl.col("_row").cast(pl.String)])
    value = pl.col(name)
    if dtype == pl.Date:
        serial = (value - pl.lit(EXCEL_EPOCH)).dt.total_days().cast(pl.String)
        return pl.concat_str([ref, pl.lit(f'" s="{DATE_STYLE}"><v>'), serial, pl.lit("</v></c>")])
    if isinstance(dtype, pl.Datetime):
        naive = value.dt.replace_time_zone(None) if dtype.time_zone else value
        days = (naive - pl.lit(datetime(1899, 12, 30))).dt.total_microseconds() / 86_400_000_000
        return pl.concat_str(
            [ref, pl.lit(f'" s="{DATETIME_STYLE}"><v>'), days.cast(pl.String), pl.lit("</v></c>")]
        )
    if dtype == pl.Boolean:
        return pl.concat_str(
            [ref, pl.lit('" t="b"><v>'), value.cast(pl.Int8).cast(pl.String), pl.lit("</v></c>")]
        )
    if dtype.is_numeric():
        finite = pl.when(value.cast(pl.Float64).is_finite()).then(value.cast(pl.String))
        return pl.concat_str([ref, pl.lit('"><v>'), finite, pl.lit("</v></c>")])
    text = (
        value.cast(pl.String)
        .str.replace_all(_INVALID_XML, "")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )
    return pl.concat_str(
        [ref, pl.lit('" t="inlineStr"><is><t xml:space="preserve">'), text, pl.lit("</t></is></c>")]
    )


def _clean(text: str) -> str:
    import re

    return re.sub(_INVALID_XML, "", text)


def _content_types(sheets: int) -> str:
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, sheets + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
        'package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.extended-properties+xml"/>' + overrides + "</Types>"
    )


_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
    'metadata/core-properties" Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/extended-properties" Target="docProps/app.xml"/></Relationships>'
)

_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>lotline</Application></Properties>"
)

_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f"<styleSheet {_NS}>"
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
    'applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _core(title: str, subject: str, creator: str, created: datetime) -> str:
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/'
        'XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:subject>{escape(subject)}</dc:subject>"
        f"<dc:creator>{escape(creator)}</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _workbook(names: list[str], frames: list[pl.DataFrame]) -> str:
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
        for n, name in enumerate(names, start=1)
    )
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"{escape(_quoted_sheet(name))}!$A$1:${column_letter(max(frame.width - 1, 0))}$"
        f"{max(frame.height, 1) + 1}</definedName>"
        for n, (name, frame) in enumerate(zip(names, frames, strict=True))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<workbook {_NS} {_REL_NS}><bookViews><workbookView/></bookViews>"
        f"<sheets>{sheets}</sheets><definedNames>{filters}</definedNames></workbook>"
    )


def _quoted_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _workbook_rels(sheets: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'{rels}<Relationship Id="rId{sheets + 1}" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>'
    )
