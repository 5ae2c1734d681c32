"""`lotline verify`: read a document's provenance record back and check it.

Two questions, answered separately because they call for different actions: is the document
as rendered (every embedded file still has the SHA-256 the record gives — else it was
tampered with), and does the data it describes still stand (its snapshot still exists, is still
the current one, and no input file was loaded since — else it should be rendered again).

Exit codes: 0 unchanged; 1 tampered or data changed (the verdict says which); 2 cannot verify
(not a lotline document, unreadable PDF, no database). The record is not signed: a forger who
rewrites attachments and record consistently is not caught, only accidental or naive changes.
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

    def lines(self) -> list[str]:
        out = [self.summary]
        out += [f"  tampered: {m}" for m in self.tampered]
        out += [f"  data changed: {m}" for m in self.data_changed]
        out += [f"  {m}" for m in self.notes]
        return out


def _spec_name(spec: object) -> str:
    return str(spec.get("/UF") or spec.get("/F") or "")  # type: ignore[attr-defined]


def embedded_files(path: Path) -> dict[str, list[bytes]]:
    """Every embedded file of the PDF by name, from both the catalog's associated files (`/AF`)
    and the EmbeddedFiles name tree; a name seen with different bytes has several entries."""
    import pypdf

    try:
        reader = pypdf.PdfReader(path)
        root = reader.trailer["/Root"]
    except Exception as error:
        raise NotVerifiable(f"not a readable PDF: {error}") from error
    files: dict[str, list[bytes]] = {}

    def add(spec: object) -> None:
        spec = spec.get_object()  # type: ignore[attr-defined]
        ef = spec.get("/EF")
        if not ef:
            return
        data = ef.get_object()["/F"].get_object().get_data()
        name = _spec_name(spec)
        if data not in files.setdefault(name, []):
            files[name].append(data)

    for spec in root.get("/AF") or []:
        add(spec)
    for name, contents in reader.attachments.items():
        for data in contents:
            if data not in files.setdefault(name, []):
                files[name].append(data)
    return files


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


def verify(path: Path, database_url: str | None = None) -> Verdict:
    """The verdict on one document; never raises for a bad file or database (exit code 2)."""
    try:
        files = embedded_files(Path(path))
        record = read_record(files)
    except NotVerifiable as error:
        return Verdict(CANNOT_VERIFY, f"CANNOT VERIFY {path}: {error}")
    tampered = integrity(record, files)
    document = record.get("document") or {}
    snapshot = record.get("snapshot") or {}
    notes = [
        f"document {document.get('number')} generated {document.get('generated_at')}",  # type: ignore[union-attr]
        f"snapshot {snapshot.get('snapshot_id', '(no data loaded)')}",  # type: ignore[union-attr]
    ]
    try:
        engine = _engine(database_url)
        changed = data_changes(record, engine)
        notes.append(_issued_note(engine, str(document.get("number")), Path(path)))  # type: ignore[union-attr]
    except NotVerifiable as error:
        if tampered:
            return Verdict(CHANGED, f"TAMPERED {path}", tampered, [], [*notes, str(error)])
        intact = "embedded files match the provenance record (document intact)"
        summary = f"CANNOT VERIFY the data of {path}: {error}"
        return Verdict(CANNOT_VERIFY, summary, [], [], [*notes, intact])
    if tampered and changed:
        summary = f"TAMPERED and DATA CHANGED SINCE {path}"
    elif tampered:
        summary = f"TAMPERED {path}: embedded files differ from the provenance record"
    elif changed:
        summary = f"DATA CHANGED SINCE {path}: render it again for the current data"
    else:
        summary = f"UNCHANGED {path}: document intact, snapshot still current"
    code = CHANGED if tampered or changed else UNCHANGED
    return Verdict(code, summary, tampered, changed, notes)


def _issued_note(engine: sa.Engine, number: str, path: Path) -> str:
    """Whether this database issued the document number, and whether this file is the PDF it
    recorded then. A PDF re-saved by a viewer differs in bytes with its data intact, so this
    is a note beside the verdict, not a verdict of its own."""
    from reports import register

    entry = register.issued(engine, number)
    if entry is None:
        return f"document number {number} is not in this database's register of issued documents"
    if not entry.get("pdf_sha256"):
        return f"document number {number} was issued {entry['generated_at']}; no file recorded"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest == entry["pdf_sha256"]:
        return f"issued document {number}: this file is byte-identical to the PDF issued"
    return (
        f"issued document {number}: this file is not byte-identical to the PDF issued "
        f"(SHA-256 {entry['pdf_sha256'][:16]}…; re-saved or altered)"
    )
