"""HTML → archival PDF for every lotline report: Jinja2 templates, WeasyPrint, PDF/A-3b.

Why these choices:

- PDF/A-3b is the archive format that may carry the machine-readable data as embedded files
  (`/AFRelationship /Data`), so the PDF a regulator gets and the sortable CSV behind it travel as
  one immutable document.
- Fonts are the DejaVu files bundled in `templates/fonts/` and every resource is fetched through
  a fetcher that refuses anything but files under `templates/`: a report renders the same on a
  laptop, in CI and in an offline container, and a template can never make the renderer call
  the network.
- WeasyPrint signals a blocked or missing resource with `FatalURLFetchingError`, which derives
  from `BaseException`; it is turned into a `RuntimeError` here so callers (Dagster steps, the
  CLI) see an ordinary failure.
- Tables use `table-layout: fixed` with column widths and are cut at `MAX_TABLE_ROWS` rows:
  WeasyPrint's layout time grows with the number of pages a table spans, and the full rows are
  in the attached CSV anyway.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import mimetypes
import secrets
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
import polars as pl

from lotline import provenance
from lotline.intake.contract import REF_DOC_NAMES, REF_DOC_TYPES
from lotline.safe_csv import neutralise
from lotline.signing.keys import SigningError

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_TABLE_ROWS = 500
RESPONSE_HOURS = 24
PDF_VARIANT = "pdf/a-3b"
DASH = "—"
PROVENANCE = provenance.FILE_NAME
ISSUE_REASON = "issued by lotline: the organisation vouches for this document as rendered"

Attachment = tuple[str, bytes, str]
"""(file name, content, MIME type) of a file embedded in the PDF."""


# --- formatting --------------------------------------------------------------------------------


def fmt_qty(value: float | int | None) -> str:
    """A quantity without float noise: 1,000 / 2.5 / 0.125; missing → em dash."""
    if value is None:
        return DASH
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def fmt_share(value: float | None) -> str:
    """A share of material as a percentage with enough digits for small exposures."""
    if value is None:
        return DASH
    percent = float(value) * 100
    return f"{percent:.1f} %" if percent >= 1 else f"{percent:.3g} %"


def fmt_qty_uom(value: float | int | None, uom: str | None) -> str:
    return DASH if value is None else f"{fmt_qty(value)} {uom or ''}".rstrip()


def fmt_text(value: object) -> str:
    if value is None or value == "":
        return DASH
    if isinstance(value, datetime):
        return fmt_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return fmt_qty(value)
    return str(value)


def fmt_utc(value: datetime | None, seconds: bool = False) -> str:
    """An instant as 'YYYY-MM-DD HH:MM UTC' (naive values are UTC, as everywhere in lotline)."""
    if value is None:
        return DASH
    value = as_utc(value)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def fmt_offset_time(value: datetime) -> str:
    """An aware instant in its own offset: '2026-11-26 14:37:40 -05:00'."""
    text = value.strftime("%Y-%m-%d %H:%M:%S %z")
    return text[:-2] + ":" + text[-2:]


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def join_nonempty(parts: Iterable[object], separator: str = " ") -> str:
    text = separator.join(str(p) for p in parts if p not in (None, ""))
    return text or DASH


# --- tables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a PDF table: `width` in % of the table (fixed layout needs widths)."""

    key: str
    label: str
    width: float
    align: str = "left"  # left | right | center
    fmt: str = "text"  # text | qty | utc | utc_short | date | int
    unit: str | None = None  # column holding the unit printed after a quantity


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: list[list[str]]
    total: int
    csv_name: str | None = None
    empty_text: str = "None."

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


_FORMATS = {
    "text": fmt_text,
    "qty": fmt_qty,
    "share": fmt_share,
    "utc": fmt_utc,
    "utc_short": lambda v: fmt_utc(v).removesuffix(" UTC"),  # the header says UTC
    "date": lambda v: v.isoformat() if isinstance(v, date) else fmt_text(v),
    "int": lambda v: DASH if v is None else f"{int(v):,}",
}


def table(
    frame: pl.DataFrame,
    columns: Sequence[Column],
    *,
    csv_name: str | None = None,
    limit: int = MAX_TABLE_ROWS,
    empty_text: str = "None.",
) -> Table:
    """The first `limit` rows of `frame` formatted for the template; the rest are only counted
    (the template says how many more are in `csv_name`)."""
    head = frame.head(limit)
    rows = [[_cell(c, record) for c in columns] for record in head.iter_rows(named=True)]
    return Table(tuple(columns), rows, frame.height, csv_name, empty_text)


def _cell(column: Column, record: dict[str, object]) -> str:
    value = record.get(column.key)
    if column.unit is not None and value is not None:
        return fmt_qty_uom(value, record.get(column.unit))  # type: ignore[arg-type]
    return _FORMATS[column.fmt](value)


@dataclass(frozen=True)
class Glossary:
    units: Table | None
    ref_docs: Table
    terms: Table


def glossary(units: Sequence[tuple[str, str]], terms: Sequence[tuple[str, str]]) -> Glossary:
    """The glossary tables: units that appear in the report, reference document types, terms."""

    def two(rows: Sequence[tuple[str, str]], first: str, second: str, width: float) -> Table:
        frame = pl.DataFrame(
            {"a": [r[0] for r in rows], "b": [r[1] for r in rows]},
            schema={"a": pl.String, "b": pl.String},
        )
        return table(
            frame,
            [Column("a", first, width), Column("b", second, 100 - width)],
            limit=len(rows) or 1,
        )

    return Glossary(
        units=two(units, "Code", "Unit", 12) if units else None,
        ref_docs=two(
            [(code, REF_DOC_NAMES.get(code, code)) for code in REF_DOC_TYPES],
            "Code",
            "Reference document type",
            12,
        ),
        terms=two(terms, "Term", "Meaning", 18),
    )


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """CSV as attached: UTF-8, header row, ISO 8601 dates, UTC instants with a 'Z'; text cells a
    spreadsheet would run as a formula are neutralised (`lotline.safe_csv`)."""
    out = neutralise(frame).with_columns(
        pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    )
    return out.write_csv().encode("utf-8")


# --- document control --------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachedFile:
    """A file embedded in the PDF. `relationship` is its PDF/A-3 /AFRelationship: `Data` for
    the rows the document's tables are drawn from and for the regulator's spreadsheet,
    `Supplement` for the provenance record that describes the document itself."""

    name: str
    data: bytes
    mime_type: str
    rows: int | None = None
    description: str = ""
    relationship: str = "Data"

    @cached_property
    def sha256(self) -> str:  # the manifest prints it: hashed once (a hub's files are 300 MB)
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)

    def as_tuple(self) -> Attachment:
        return self.name, self.data, self.mime_type


@dataclass(frozen=True)
class DocumentControl:
    """What identifies one rendering: printed on the cover and in every page header/footer."""

    number: str
    title: str
    generated_at: datetime  # aware
    snapshot: dict[str, object] | None
    status: str = "DRAFT"
    version: str = "1"
    confidentiality: str = "Confidential — for regulatory and recall use"
    generator: str = field(default_factory=lambda: f"lotline {package_version()}")
    request_reference: str | None = None
    run_id: str | None = None  # the Dagster run that rendered it, if any
    requester: str | None = None
    received_at: datetime | None = None  # when the request reached the firm (aware)
    response_hours: int = RESPONSE_HOURS
    prepared_by: str | None = None
    signatures: tuple[Any, ...] = ()  # lotline.signing.approval.ESignature, oldest first
    supersedes: str | None = None  # the document number this signed version replaces

    def signature_for(self, meaning: str) -> Any | None:
        """The newest e-signature with this meaning (prepared | reviewed | approved), if any."""
        return next((s for s in reversed(self.signatures) if s.meaning == meaning), None)

    @property
    def due_at(self) -> datetime | None:
        """Received + 24 h: FSMA 204 (21 CFR 1.1455(c)(3)) and DSCSA give a day to answer."""
        if self.received_at is None:
            return None
        return self.received_at + timedelta(hours=self.response_hours)

    @property
    def on_time(self) -> bool | None:
        due = self.due_at
        return None if due is None else as_utc(self.generated_at) <= as_utc(due)

    @property
    def code_revision(self) -> str:
        """The git commit the generator ran from ('+ local changes' when the tree differed)."""
        code = provenance.code_version()
        commit = code.get("git_commit")
        if not commit:
            return "not from a git checkout"
        return f"{str(commit)[:12]}{' + local changes' if code.get('dirty') else ''}"

    @property
    def snapshot_id(self) -> str:
        return str(self.snapshot["snapshot_id"]) if self.snapshot else "(no data loaded)"

    @property
    def generated_local(self) -> str:
        return fmt_offset_time(self.generated_at)

    @property
    def generated_utc(self) -> str:
        return fmt_utc(self.generated_at, seconds=True)

    @property
    def generated_iso(self) -> str:
        return self.generated_at.isoformat(timespec="seconds")

    @property
    def snapshot_created(self) -> str:
        created = self.snapshot.get("created_at") if self.snapshot else None
        return fmt_utc(created, seconds=True) if isinstance(created, datetime) else DASH


def generated_now(generated_at: datetime | None = None) -> datetime:
    """The rendering time as an aware datetime: now in the machine's offset by default; a naive
    value is taken as UTC (lotline stores every instant in UTC)."""
    if generated_at is None:
        return datetime.now().astimezone()
    return generated_at if generated_at.tzinfo is not None else generated_at.replace(tzinfo=UTC)


def document_number(prefix: str, generated_at: datetime) -> str:
    """`<prefix>-<UTC yyyymmddHHMMSS>-<6 hex>`: sortable by time, unique per rendering even for
    two renderings in the same second (24 random bits)."""
    stamp = as_utc(generated_at).strftime("%Y%m%d%H%M%S")
    return f"{prefix}-{stamp}-{secrets.token_hex(3)}"


@cache
def package_version() -> str:
    try:
        return metadata.version("lotline")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def safe_name(text: str, max_length: int = 60) -> str:
    """A file-name part: letters, digits, '-' and '_' only (lots can contain '/', spaces, '..')."""
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in text)
    cleaned = cleaned.strip("_")[:max_length]
    return cleaned or "_"


# --- templates ---------------------------------------------------------------------------------


@cache
def environment() -> jinja2.Environment:
    """Jinja2 over `reports/templates/`: HTML autoescaped, undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        qty=fmt_qty,
        qty_uom=fmt_qty_uom,
        text=fmt_text,
        utc=fmt_utc,
        offset_time=fmt_offset_time,
        share=fmt_share,
    )
    return env


def render_html(template: str, **context: object) -> str:
    """The template filled in; during an approval the document control shows the new version
    (status, version, signatures: `lotline.signing.approval.revised`)."""
    if isinstance(context.get("doc"), DocumentControl):
        from lotline.signing.approval import revised

        context["doc"] = revised(context["doc"])  # type: ignore[arg-type]
    return environment().get_template(template).render(**context)


# --- PDF ---------------------------------------------------------------------------------------


def _local_fetcher(root: Path):  # type: ignore[no-untyped-def]
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalOnlyFetcher(URLFetcher):
        """Serves files under `root`; anything else (http, data:, files elsewhere) is refused,
        and with fail_on_errors a refusal stops the rendering instead of a silent fallback."""

        def __init__(self) -> None:
            super().__init__(fail_on_errors=True, allowed_protocols={"file"})

        def fetch(self, url, headers=None):  # type: ignore[no-untyped-def,override]
            parts = urlsplit(url)
            if parts.scheme != "file":
                raise ValueError(f"resource outside the report templates refused: {url}")
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                raise ValueError(f"resource outside the report templates refused: {url}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                path.as_uri(), body=path.read_bytes(), headers={"Content-Type": mime}
            )

    return LocalOnlyFetcher()


ATTACHMENT_DEFLATE_LEVEL = 1
"""pydyf deflates every stream at level 9: for the 100+ MB of CSV a hub lot's recall embeds that
alone takes longer than laying out the pages; level 1 is ~10x faster for ~25 % more bytes."""


Deflated = Sequence[tuple[bytes, "Future[bytes]"]]
"""(data, its deflating at `ATTACHMENT_DEFLATE_LEVEL`) of files begun before the PDF is written."""


def _finish(document: object, pdf: object, deflated: Deflated = ()) -> None:
    _dedupe_associated_files(document, pdf)
    _deflate_attachments_fast(pdf, deflated)


def _deflate_attachments_fast(pdf: object, deflated: Deflated = ()) -> None:
    """Compress the embedded files ourselves at `ATTACHMENT_DEFLATE_LEVEL` (same /FlateDecode
    filter, same bytes once decoded) instead of leaving them to pydyf's level 9; the files
    `deflated` holds were compressed while the pages were laid out."""
    for spec_ref in pdf.catalog.get("AF") or []:  # type: ignore[attr-defined]
        spec = pdf.objects[_object_number(spec_ref)]  # type: ignore[attr-defined]
        stream = pdf.objects[_object_number(spec["EF"]["F"])]  # type: ignore[attr-defined]
        if not getattr(stream, "compress", False):
            continue
        raw = b"\n".join(stream.stream)
        begun = next((d for data, d in deflated if len(data) == len(raw) and data == raw), None)
        done = begun.result() if begun else zlib.compress(raw, ATTACHMENT_DEFLATE_LEVEL)
        stream.stream = [done]
        stream.extra["Filter"] = "/FlateDecode"
        stream.compress = False


def _object_number(reference: object) -> int:
    text = reference.decode() if isinstance(reference, bytes) else str(reference)
    return int(text.split()[0])


def _dedupe_associated_files(_document: object, pdf: object) -> None:
    """WeasyPrint 70 lists each embedded file twice in the catalog's /AF array (once from the
    EmbeddedFiles name tree, once from the file specifications); keep one reference each.

    The provenance record stays an associated file of the document (`/AF`) but leaves the
    EmbeddedFiles name tree: the attachment list a reader sees is the report's data files, and
    `reports.verify` finds the record through `/AF`."""
    associated = pdf.catalog.get("AF")  # type: ignore[attr-defined]
    if associated:
        unique = list(dict.fromkeys(associated))
        associated.clear()
        associated.extend(unique)
    names = pdf.catalog.get("Names", {}).get("EmbeddedFiles")  # type: ignore[attr-defined]
    if names:
        ref = names.decode() if isinstance(names, bytes) else str(names)
        tree = pdf.objects[int(ref.split()[0])]  # type: ignore[attr-defined]
        pairs = list(zip(tree["Names"][::2], tree["Names"][1::2], strict=True))
        hidden = {PROVENANCE, PROVENANCE.encode()}  # pydyf holds the names as str or bytes
        kept = [
            x for key, ref in pairs if getattr(key, "string", key) not in hidden for x in (key, ref)
        ]
        tree["Names"].clear()
        tree["Names"].extend(kept)


def write_pdf(
    html: str,
    path: Path,
    attachments: Sequence[Attachment | AttachedFile] | None = None,
    title: str = "",
    *,
    generated_at: datetime | None = None,
    base_dir: Path = TEMPLATES,
    pdf_tags: bool = True,
    doc: DocumentControl | None = None,
) -> Path:
    """Render `html` to a PDF/A-3b file at `path` with `attachments` embedded as associated
    files (`/AFRelationship /Data`), and return `path`.

    Relative URLs in the HTML (stylesheet, fonts) resolve against `base_dir`, the only folder
    resources may come from. The file is written next to its destination and renamed into
    place, so an archive folder never holds a half-written report. Any WeasyPrint failure,
    including the `BaseException`-derived `FatalURLFetchingError`, is raised as RuntimeError.

    With `doc`, the provenance record of `lotline.provenance` (snapshot, inputs, code version,
    run id, hash of every attachment) is embedded as `provenance.json` for `lotline verify`,
    and when `LOTLINE_SIGNING_KEY` names the organisation's key the issued file is PAdES-signed
    before it is renamed into place (`lotline.signing`); without a key it stays unsigned.
    """
    generated_at = generated_now(generated_at)
    files = [f if isinstance(f, AttachedFile) else AttachedFile(*f) for f in attachments or []]
    # deflating releases the GIL: a second thread compresses the files (a hub's 300 MB) while
    # this one hashes them for the provenance record and WeasyPrint lays out the pages
    background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lotline-deflate")
    deflated = [
        (f.data, background.submit(zlib.compress, f.data, ATTACHMENT_DEFLATE_LEVEL)) for f in files
    ]
    try:
        return _write_pdf(html, path, files, deflated, title, generated_at, base_dir, pdf_tags, doc)
    finally:
        background.shutdown(wait=False, cancel_futures=True)


def _write_pdf(
    html: str,
    path: Path,
    files: list[AttachedFile],
    deflated: Deflated,
    title: str,
    generated_at: datetime,
    base_dir: Path,
    pdf_tags: bool,
    doc: DocumentControl | None,
) -> Path:
    """`write_pdf` once the files' deflating is under way."""
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    root = Path(base_dir).resolve()
    if doc is not None:
        record = provenance.build_record(
            document_number=doc.number,
            title=doc.title,
            generated_at=doc.generated_at,
            snapshot=doc.snapshot,
            attachments=[f.as_tuple() for f in files],
            run_id=doc.run_id,
        )
        files.append(
            AttachedFile(
                PROVENANCE,
                provenance.to_bytes(record),
                provenance.MIME_TYPE,
                description="provenance record of this document",
                relationship="Supplement",
            )
        )
    stamp = as_utc(generated_at).replace(tzinfo=None)  # WeasyPrint writes it with a 'Z'
    fetcher = _local_fetcher(root)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        document = weasyprint.HTML(
            string=html, base_url=root.as_uri() + "/", url_fetcher=fetcher
        ).render()
        if title:
            document.metadata.title = title
        embedded = [
            weasyprint.Attachment(
                file_obj=io.BytesIO(f.data),
                name=f.name,
                url_fetcher=fetcher,
                description=f"{f.name} ({f.mime_type})",
                relationship=f.relationship,
                created=stamp,
                modified=stamp,
            )
            for f in files
        ]
        document.write_pdf(
            partial,
            pdf_variant=PDF_VARIANT,
            attachments=embedded,
            pdf_tags=pdf_tags,
            finisher=functools.partial(_finish, deflated=deflated),
        )
        if doc is not None:
            _sign_issued(partial)
        partial.replace(path)
    except FatalURLFetchingError as error:
        partial.unlink(missing_ok=True)
        cause = f": {error.__cause__}" if error.__cause__ else ""
        raise RuntimeError(f"PDF rendering refused a resource: {error}{cause}") from error
    except SigningError:
        partial.unlink(missing_ok=True)
        raise
    except Exception as error:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"PDF rendering failed: {type(error).__name__}: {error}") from error
    return path


def _sign_issued(path: Path) -> None:
    """Sign an issued document with the organisation's key when one is configured, before it is
    renamed into place (so no unsigned copy is ever visible) and before the register hashes it.
    During an approval (`lotline.signing.approval`), the officer's signature follows as an
    incremental update."""
    from lotline.signing import approval, keys, pades

    key = keys.configured_key()
    if key is None:
        return
    pades.sign_file(path, key, reason=ISSUE_REASON, certify=True)
    approval.add_pending_signature(path, key)
