"""`lotline verify`: read a document's provenance record back and check it, offline.

Two questions, answered separately because they call for different actions: is the document
as issued (else it was tampered with), and does the data it describes still stand (its
snapshot still exists, is still the current one, and no input file was loaded since — else it
should be rendered again).

"As issued" is established by, in order of strength:

- the PAdES signatures (`lotline.signing.pades`): each intact, valid, chaining to a configured
  trust root (`--trust-roots` or `LOTLINE_TRUST_ROOTS`), followed only by updates that add
  signatures; `provenance.json` and every attachment must be the ones a valid signature signed;
- the register of issued documents: the file must be byte-identical to the PDF issued under
  its number (else MODIFIED), and where the issued file is still on disk the verdict names the
  pages and attachments that differ from it;
- the SHA-256 of every embedded file in `provenance.json`, which alone proves nothing (a
  forger rewrites the record too), so an unsigned document the register cannot vouch for is
  never called intact.

Exit codes: 0 unchanged; 1 tampered, modified or data changed (the verdict says which); 2
cannot verify (not a lotline document, unreadable PDF, no database and no signature, no trust
roots for a signed document).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from lotline import provenance

UNCHANGED, CHANGED, CANNOT_VERIFY = 0, 1, 2


class NotVerifiable(Exception):
    """The file or the database does not allow a verdict."""


@dataclass
class Verdict:
    code: int
    summary: str
    tampered: list[str] = field(default_factory=list)
    data_changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [self.summary]
        out += [f"  tampered: {m}" for m in self.tampered]
        out += [f"  data changed: {m}" for m in self.data_changed]
        out += [f"  signature: {m}" for m in self.signatures]
        out += [f"  {m}" for m in self.notes]
        return out


def _spec_name(spec: object) -> str:
    return str(spec.get("/UF") or spec.get("/F") or "")  # type: ignore[attr-defined]


def embedded_files(path: Path) -> dict[str, list[bytes]]:
    """Every embedded file of the PDF by name, from both the catalog's associated files (`/AF`)
    and the EmbeddedFiles name tree; a name seen with different bytes has several entries."""
    import pypdf

    try:
        return _files_of(pypdf.PdfReader(path))
    except Exception as error:
        raise NotVerifiable(f"not a readable PDF: {error}") from error


def read_record(files: dict[str, list[bytes]]) -> dict[str, object]:
    contents = files.get(provenance.FILE_NAME)
    if not contents:
        raise NotVerifiable(f"not a lotline document: no {provenance.FILE_NAME} embedded")
    if len(contents) > 1:
        raise NotVerifiable(f"{provenance.FILE_NAME} embedded more than once with different bytes")
    try:
        record = json.loads(contents[0])
    except ValueError as error:
        raise NotVerifiable(f"{provenance.FILE_NAME} is not JSON: {error}") from error
    if not isinstance(record, dict) or record.get("format") != provenance.FORMAT:
        raise NotVerifiable(f"not a lotline provenance record (format {provenance.FORMAT!r})")
    return record


def integrity(record: dict[str, object], files: dict[str, list[bytes]]) -> list[str]:
    """What differs between the embedded files and the hashes the record gives for them."""
    problems = []
    listed = {a["name"]: a for a in record.get("attachments", [])}  # type: ignore[union-attr]
    for name, entry in listed.items():
        contents = files.get(name)
        if not contents:
            problems.append(f"{name} is recorded but no longer embedded")
            continue
        for data in contents:
            digest = hashlib.sha256(data).hexdigest()
            if digest != entry["sha256"]:
                problems.append(f"{name} has SHA-256 {digest}, the record says {entry['sha256']}")
    for name in sorted(set(files) - set(listed) - {provenance.FILE_NAME}):
        problems.append(f"{name} is embedded but not in the provenance record")
    snapshot = record.get("snapshot")
    if isinstance(snapshot, dict):
        expected = provenance.snapshot_id_of(snapshot.get("input_sha256", []))
        if snapshot.get("snapshot_id") != expected:
            problems.append("the recorded snapshot id does not match the recorded input hashes")
    return problems


def _engine(database_url: str | None) -> sa.Engine:
    from lotline import store

    url = store.database_url(database_url)
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if not db or db == ":memory:" or not Path(db).is_file():
            raise NotVerifiable(f"no database at {url}")
    engine = store.make_engine(url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    except sa.exc.SQLAlchemyError as error:
        raise NotVerifiable(f"cannot use the database: {error}") from error
    missing = {"snapshot", "source_file", "lot"} - tables
    if missing:
        raise NotVerifiable(f"{url} is not a lotline database (no {', '.join(sorted(missing))})")
    return engine


def data_changes(record: dict[str, object], engine: sa.Engine) -> list[str]:
    """What changed in the database since the document's snapshot (empty: nothing)."""
    import models
    from lotline import api, store

    snapshot = record.get("snapshot")
    current = api.current_snapshot(engine)
    with engine.connect() as conn:
        sources = store.read_frame(
            conn, models.SourceFile, columns=["sha256", "file_name", "loaded_at"]
        )
    if not isinstance(snapshot, dict):
        return [f"data was loaded since (now snapshot {current['snapshot_id']})"] if current else []
    recorded = set(snapshot.get("input_sha256", []))
    snapshot_id = snapshot.get("snapshot_id")
    if recorded and not recorded & set(sources["sha256"]):
        raise NotVerifiable("this database never loaded the document's input files")
    table = store.table(models.Snapshot)
    with engine.connect() as conn:
        row = conn.execute(sa.select(table).where(table.c.snapshot_id == snapshot_id)).first()
    changes = []
    if row is None:
        changes.append(f"snapshot {snapshot_id} is no longer in the database")
    elif set(json.loads(row.input_sha256)) != recorded:
        changes.append(f"snapshot {snapshot_id} lists other input files in the database")
    if current is None or current["snapshot_id"] != snapshot_id:
        now = current["snapshot_id"] if current else "none"
        changes.append(f"snapshot {snapshot_id} is not the current one (now {now})")
    added = sources.filter(~sources["sha256"].is_in(list(recorded))).sort("loaded_at")
    for f in added.iter_rows(named=True):
        changes.append(
            f"input loaded since: {f['file_name']} ({f['sha256'][:12]}…, {f['loaded_at']})"
        )
    gone = recorded - set(sources["sha256"])
    if gone:
        changes.append(f"{len(gone)} input file(s) of the snapshot no longer in source_file")
    return changes


def verify(
    path: Path, database_url: str | None = None, trust_roots: list[Path] | None = None
) -> Verdict:
    """The verdict on one document; never raises for a bad file or database (exit code 2).
    `trust_roots` default to the PEM files in `LOTLINE_TRUST_ROOTS`."""
    path = Path(path)
    try:
        files = embedded_files(path)
        record = read_record(files)
        data = path.read_bytes()
    except (NotVerifiable, OSError) as error:
        return Verdict(CANNOT_VERIFY, f"CANNOT VERIFY {path}: {error}")
    tampered = integrity(record, files)
    document = record.get("document") or {}
    number = str(document.get("number"))  # type: ignore[union-attr]
    snapshot = record.get("snapshot") or {}
    notes = [
        f"document {number} generated {document.get('generated_at')}",  # type: ignore[union-attr]
        f"snapshot {snapshot.get('snapshot_id', '(no data loaded)')}",  # type: ignore[union-attr]
    ]
    signed = check_signed(data, files, trust_roots)
    tampered += signed.problems
    try:
        engine = _engine(database_url)
    except NotVerifiable as error:
        engine, no_database = None, error
    issued = _issued(engine, number, data) if engine is not None else None
    if issued is not None:
        notes.append(issued.note)
        if issued.modified:
            tampered.append(issued.modified)
            if not signed.differences:  # the signed revision did not already say what changed
                tampered += issued.differences
    if not tampered and signed.present and not signed.trusted_checked:
        notes.append("signatures intact, but no trust roots given: the signer is not checked")
    if engine is None:
        if tampered:
            return Verdict(
                CHANGED, f"TAMPERED {path}", tampered, [], [*notes, str(no_database)], signed.lines
            )
        if signed.vouched:
            summary = f"CANNOT VERIFY the data of {path}: {no_database}"
            intact = "signed and intact: the document and its provenance record are as issued"
            return Verdict(CANNOT_VERIFY, summary, [], [], [*notes, intact], signed.lines)
        summary = f"CANNOT VERIFY {path}: {no_database}"
        why = (
            "signed, but without trust roots the signer cannot be checked"
            if signed.present
            else "not signed: its embedded files match its provenance record, which proves "
            "nothing without a signature or the register of issued documents"
        )
        return Verdict(CANNOT_VERIFY, summary, [], [], [*notes, why], signed.lines)
    try:
        changed = data_changes(record, engine)
    except NotVerifiable as error:
        if tampered:
            return Verdict(CHANGED, f"TAMPERED {path}", tampered, [], [*notes, str(error)])
        return Verdict(
            CANNOT_VERIFY, f"CANNOT VERIFY the data of {path}: {error}", [], [], notes, signed.lines
        )
    as_issued = issued is not None and issued.identical
    if not tampered and not signed.vouched and not as_issued:
        why = (
            "signed, but without trust roots the signer cannot be checked"
            if signed.present
            else "not signed, and not in this database's register of issued documents"
        )
        if changed:  # whatever the file, its data is out of date
            summary = f"DATA CHANGED SINCE {path}: render it again for the current data"
            return Verdict(CHANGED, summary, [], changed, [*notes, why], signed.lines)
        return Verdict(
            CANNOT_VERIFY, f"CANNOT VERIFY {path}: {why}", [], changed, notes, signed.lines
        )
    if not signed.present:
        notes.append("not signed (no signing key was configured when it was issued)")
    modified = issued is not None and issued.modified is not None
    if tampered and changed:
        summary = f"TAMPERED and DATA CHANGED SINCE {path}"
    elif tampered and modified and len(tampered) == 1 + len(issued.differences):  # type: ignore[union-attr]
        summary = f"MODIFIED {path}: not the file issued as {number}"
    elif tampered:
        summary = f"TAMPERED {path}: {tampered[0]}"
    elif changed:
        summary = f"DATA CHANGED SINCE {path}: render it again for the current data"
    else:
        summary = f"UNCHANGED {path}: document intact, snapshot still current"
    code = CHANGED if tampered or changed else UNCHANGED
    return Verdict(code, summary, tampered, changed, notes, signed.lines)


@dataclass
class Signed:
    """What the PDF's signatures establish."""

    present: bool = False
    vouched: bool = False  # every signature holds, a trusted one covers the record and files
    trusted_checked: bool = False
    problems: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def check_signed(
    data: bytes, files: dict[str, list[bytes]], trust_roots: list[Path] | None
) -> Signed:
    """Validate the PDF signatures and check that `provenance.json` and every attachment are
    the ones a valid signature signed (an update after the signature may only add signatures)."""
    from lotline.signing import keys, pades

    result = Signed()
    roots_files = trust_roots if trust_roots is not None else keys.trust_root_files()
    try:
        roots = pades.load_trust_roots(roots_files) if roots_files else []
    except (OSError, ValueError) as error:
        result.problems.append(f"cannot read the trust roots: {error}")
        roots = []
    try:
        checks = pades.check_signatures(data, roots or None)
    except Exception as error:  # a rewritten file pyHanko cannot even parse is not as signed
        if b"/ByteRange" not in data:
            return result
        result.present = True
        result.problems.append(
            f"the PDF signatures cannot be read: {type(error).__name__}: {error}"
        )
        return result
    if not checks:
        return result
    result.present = True
    result.trusted_checked = bool(roots)
    for check in checks:
        state = "FAILS (see tampered)" if check.problems else "intact and valid"
        stamp = ", timestamped" if check.timestamped else ""
        result.lines.append(
            f"{check.field} ({check.reason}) by {check.signer}, {check.signed_at}{stamp}: {state}"
        )
        result.problems += [f"signature {check.field}: {p}" for p in check.problems]
    covering = None
    for check in checks:
        if not check.intact:
            continue
        end = pades.signed_revision_end(data, check.field)
        if end is None:
            continue
        differences = [] if end >= len(data) else document_differences(data[:end], data)
        if not differences and not check.problems:
            covering = check
        else:
            result.differences += [f"since signature {check.field}: {d}" for d in differences]
    if covering is None:
        result.problems.append(
            f"{provenance.FILE_NAME} and the attachments are not covered by a valid signature"
        )
    result.problems += result.differences
    result.vouched = not result.problems and covering is not None and bool(roots)
    return result


def _file_differences(signed: dict[str, list[bytes]], now: dict[str, list[bytes]]) -> list[str]:
    out = []
    for name in sorted(set(signed) | set(now)):
        if name not in now:
            out.append(f"{name} was removed")
        elif name not in signed:
            out.append(f"{name} was added")
        elif signed[name] != now[name]:
            out.append(f"{name} was replaced (other bytes than signed)")
    return out


@dataclass
class Issued:
    note: str
    identical: bool = False
    modified: str | None = None
    differences: list[str] = field(default_factory=list)


def _issued(engine: sa.Engine, number: str, data: bytes) -> Issued | None:
    """Whether this database issued the document number, and whether this file is the PDF it
    recorded then; if not, what differs from the issued file when that is still on disk."""
    from reports import register

    try:
        entry = register.issued(engine, number)
    except sa.exc.SQLAlchemyError as error:
        return Issued(f"cannot read the register of issued documents: {error}")
    if entry is None:
        return Issued(
            f"document number {number} is not in this database's register of issued documents"
        )
    if not entry.get("pdf_sha256"):
        return Issued(
            f"document number {number} was issued {entry['generated_at']}; no file recorded"
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest == entry["pdf_sha256"]:
        return Issued(
            f"issued document {number}: this file is byte-identical to the PDF issued", True
        )
    issued = Issued(
        f"issued document {number}: this file is not byte-identical to the PDF issued "
        f"(SHA-256 {entry['pdf_sha256'][:16]}…; re-saved or altered)",
        modified=f"MODIFIED: SHA-256 {digest[:16]}… is not that of the PDF issued as {number} "
        f"({entry['pdf_sha256'][:16]}…)",
    )
    original = Path(str(entry.get("file_path") or ""))
    if entry.get("file_path") and original.is_file():
        reference = original.read_bytes()
        if hashlib.sha256(reference).hexdigest() == entry["pdf_sha256"]:
            issued.differences = [
                f"compared with the issued file {original}: {d}"
                for d in document_differences(reference, data)
            ]
    return issued


def _files_of(reader: object) -> dict[str, list[bytes]]:
    files: dict[str, list[bytes]] = {}
    root = reader.trailer["/Root"]  # type: ignore[attr-defined]
    for spec in root.get("/AF") or []:
        spec = spec.get_object()
        ef = spec.get("/EF")
        if not ef:
            continue
        content = ef.get_object()["/F"].get_object().get_data()
        files.setdefault(_spec_name(spec), [])
        if content not in files[_spec_name(spec)]:
            files[_spec_name(spec)].append(content)
    for name, contents in reader.attachments.items():  # type: ignore[attr-defined]
        for content in contents:
            if content not in files.setdefault(name, []):
                files[name].append(content)
    return files


def document_differences(reference: bytes, data: bytes) -> list[str]:
    """What differs between two renderings of a PDF, page by page and file by file: the page
    count, each page's content stream and resources, and the embedded files."""
    import io

    import pypdf

    try:
        before = pypdf.PdfReader(io.BytesIO(reference))
        after = pypdf.PdfReader(io.BytesIO(data))
        pages_before, pages_after = len(before.pages), len(after.pages)
    except Exception as error:
        return [f"the file cannot be read as a PDF any more ({type(error).__name__})"]
    out = []
    if pages_before != pages_after:
        out.append(f"{pages_after} pages instead of {pages_before}")
    changed: dict[str, list[int]] = {}
    for index in range(min(pages_before, pages_after)):
        old, new = before.pages[index], after.pages[index]
        if _page_content(old) != _page_content(new):
            changed.setdefault("content stream was changed", []).append(index + 1)
        elif _resource_names(old) != _resource_names(new):
            changed.setdefault("resources were changed", []).append(index + 1)
    for what, pages in changed.items():
        out.append(f"{_pages_text(pages)}: {what}")
    try:
        out += _file_differences(_files_of(before), _files_of(after))
    except Exception as error:
        out.append(f"the embedded files cannot be read ({type(error).__name__})")
    return out


def _pages_text(pages: list[int]) -> str:
    """'page 2' / 'pages 1, 3-13' for a sorted list of page numbers."""
    runs: list[list[int]] = []
    for page in pages:
        if runs and page == runs[-1][-1] + 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    parts = [str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs]
    return ("page " if len(pages) == 1 else "pages ") + ", ".join(parts)


def _page_content(page: object) -> bytes:
    try:
        contents = page.get_contents()  # type: ignore[attr-defined]
        return b"" if contents is None else contents.get_data()
    except Exception:  # a stream that no longer inflates is a changed stream
        raw = page.get("/Contents")  # type: ignore[attr-defined]
        try:
            return b"!unreadable " + raw.get_object()._data  # type: ignore[union-attr]
        except Exception:
            return b"!unreadable"


def _resource_names(page: object) -> list[str]:
    resources = page.get("/Resources") or {}  # type: ignore[attr-defined]
    resources = resources.get_object() if hasattr(resources, "get_object") else resources
    names = []
    for kind in ("/XObject", "/Font", "/ExtGState", "/Pattern", "/Shading"):
        entry = resources.get(kind)
        if entry is not None:
            names += [f"{kind}{name}" for name in entry.get_object()]
    return sorted(names)
