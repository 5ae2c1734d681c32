"""Document numbers that are never reused: each number is inserted into `issued_document`
before anything is rendered, so a clash (another process, a clock set back) is caught by the
primary key, and the written PDF's SHA-256 is recorded against its number.

The number itself (`<prefix>-<UTC yyyymmddHHMMSS>-<6 hex>`) stays unique across separate
databases too (a test database and production never hand out the same number by counting up
from one); the register is what makes it a guarantee within one.

A number is *reserved* by `issue_number` and *confirmed* by `record_file`. Every renderer takes
its number through `document_number`, which gives the number back when the rendering fails, so
the register holds no number without its document, whoever renders (CLI, Dagster, notebook).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import models
from lotline import store
from lotline.audit import chain

ATTEMPTS = 5


class NumberUnavailable(RuntimeError):
    """Every attempt to take a fresh document number clashed with an issued one."""


def issue_number(
    engine: Engine,
    kind: str,
    prefix: str,
    generated_at: datetime,
    title: str,
    *,
    snapshot_id: str | None = None,
    run_id: str | None = None,
    request_reference: str | None = None,
    parameters: dict[str, object] | None = None,
    number_source=None,  # type: ignore[no-untyped-def]  # tests force a clash
) -> str:
    """Take a new document number for a report about to be rendered. `parameters` (JSON) are
    the renderer's arguments, kept so a signed version can be rendered from the same data.
    During an approval (`lotline.signing.approval.revising`) the number is that of the new
    version: it supersedes the version signed."""
    from lotline.signing.approval import current_revision
    from reports.render import document_number

    revision = current_revision()
    version = {}
    if revision is not None:
        version = {
            "version": revision.version,
            "supersedes": revision.supersedes,
            "status": revision.status,
        }
    make = number_source or document_number
    table = store.table(models.IssuedDocument)
    table.create(engine, checkfirst=True)  # databases created before the register existed
    chain.create_tables(engine)
    for _ in range(ATTEMPTS):
        number = make(prefix, generated_at)
        try:
            with engine.begin() as conn:
                conn.execute(
                    table.insert().values(
                        document_number=number,
                        kind=kind,
                        title=title,
                        generated_at=generated_at,
                        snapshot_id=snapshot_id,
                        pipeline_run_id=run_id,
                        request_reference=request_reference,
                        parameters=None if parameters is None else json.dumps(parameters),
                        **version,
                    )
                )
                chain.seal_rows(conn, table.name, table.c.document_number == number)
            return number
        except sa.exc.IntegrityError:
            if revision is not None and superseded_by(engine, revision.supersedes):
                from lotline.signing.approval import ApprovalRefused

                raise ApprovalRefused(
                    f"document {revision.supersedes} was signed at the same time by another "
                    "approval: sign the latest version"
                ) from None
            continue
    raise NumberUnavailable(f"no unused {prefix} document number after {ATTEMPTS} attempts")


def superseded_by(engine: Engine, number: str, written_only: bool = False) -> str | None:
    """The number of the version that supersedes `number` (`written_only`: whose PDF is
    recorded), or None."""
    table = store.table(models.IssuedDocument)
    where = table.c.supersedes == number
    if written_only:
        where &= table.c.pdf_sha256.is_not(None)
    with engine.connect() as conn:
        return conn.execute(sa.select(table.c.document_number).where(where)).scalar()


def record_file(engine: Engine, number: str, path: Path) -> None:
    """Note which file is the issued document (name, absolute path, size, SHA-256). The file is
    hashed as written, signatures included: `lotline verify` reports any other bytes as
    modified."""
    data = Path(path).read_bytes()
    table = store.table(models.IssuedDocument)
    with engine.begin() as conn:
        conn.execute(
            table.update()
            .where(table.c.document_number == number)
            .values(
                file_name=Path(path).name,
                file_path=str(Path(path).resolve()),
                pdf_sha256=hashlib.sha256(data).hexdigest(),
                pdf_bytes=len(data),
            )
        )
        chain.seal_rows(conn, table.name, table.c.document_number == number)


@contextmanager
def number_for_document(
    engine: Engine, kind: str, prefix: str, generated_at: datetime, title: str, **entry: object
) -> Iterator[str]:
    """A fresh number (`issue_number`) for the document written inside the block, which must
    `record_file` it; if the block raises, the number leaves the register again."""
    number = issue_number(engine, kind, prefix, generated_at, title, **entry)  # type: ignore[arg-type]
    try:
        yield number
    except BaseException:
        return_unconfirmed(engine, [number])
        raise


def return_unconfirmed(engine: Engine, numbers: list[str]) -> int:
    """Remove those of `numbers` whose document was never written (no file recorded)."""
    if not numbers:
        return 0
    table = store.table(models.IssuedDocument)
    with engine.begin() as conn:
        gone = conn.execute(
            table.delete()
            .where(table.c.document_number.in_(numbers) & table.c.pdf_sha256.is_(None))
            .returning(table.c.document_number)
        ).all()
        chain.seal_deleted(conn, table.name, gone)
    return len(gone)


def issued(engine: Engine, number: str) -> dict[str, object] | None:
    """The register entry of a document number, or None if this database never issued it."""
    table = store.table(models.IssuedDocument)
    if not sa.inspect(engine).has_table(table.name):
        return None
    with engine.connect() as conn:
        row = conn.execute(table.select().where(table.c.document_number == number)).mappings()
        first = row.first()
    return dict(first) if first else None
