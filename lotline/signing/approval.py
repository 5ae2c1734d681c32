"""Part 11 approval of an issued document: an officer re-enters the password and signs.

A signed document is never altered: the signature produces a NEW VERSION, rendered again by the
same renderer with the same arguments and generation time, whose only differences are the
document control (its own number, version + 1, `supersedes` the version signed, status APPROVED
for the meaning "approved") and the filled signature block (printed name, date-time with
offset, meaning and the SHA-256 of the version signed: 21 CFR 11.50, 11.70). The new version
is refused unless every embedded data file is byte-identical to the version signed, so the
officer's signature never lands on data they did not see.

The new file carries the organisation's certification signature and then the officer's
approval as a second PAdES signature in an incremental update; the e-signature row
(`document_signature`) and the register rows join the audit chain in their transactions.

The version being rendered is passed to the renderers through a context variable
(`revising`) read by `reports.register.issue_number` and `reports.render`, so the renderers
need no approval-specific arguments.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lotline.signing.keys import SigningError, SigningKey

if TYPE_CHECKING:
    from reports.render import DocumentControl

MEANINGS = ("prepared", "reviewed", "approved")
SIGNERS = ("officer", "admin")


class ApprovalRefused(SigningError):
    """The signature cannot be made; the message says why (never with the password)."""


@dataclass(frozen=True)
class ESignature:
    """One electronic signature as the signature block shows it."""

    meaning: str
    printed_name: str
    user_name: str
    signed_at: datetime  # aware, in the signer's offset
    document_number: str  # the version signed
    version: int
    sha256: str  # of the version signed

    @property
    def signed_local(self) -> str:
        from reports.render import fmt_offset_time

        return fmt_offset_time(self.signed_at)

    @property
    def reason(self) -> str:
        return f"{self.meaning} by {self.printed_name}"


@dataclass(frozen=True)
class Revision:
    """The version being rendered: what it supersedes and which signatures it shows."""

    supersedes: str
    version: int
    status: str
    signatures: tuple[ESignature, ...]  # every signature of the document so far, newest last
    data_files: dict[str, str]  # name → SHA-256 of each embedded data file of the version signed


@dataclass(frozen=True)
class Approved:
    document_number: str  # the new version
    path: Path
    signature: ESignature


_REVISION: ContextVar[Revision | None] = ContextVar("lotline_revision", default=None)


def current_revision() -> Revision | None:
    return _REVISION.get()


@contextmanager
def revising(revision: Revision) -> Iterator[Revision]:
    token = _REVISION.set(revision)
    try:
        yield revision
    finally:
        _REVISION.reset(token)


def revised(doc: DocumentControl) -> DocumentControl:
    """`doc` as the version being rendered shows it (unchanged outside an approval)."""
    revision = current_revision()
    if revision is None:
        return doc
    return dataclasses.replace(
        doc,
        status=revision.status,
        version=str(revision.version),
        signatures=revision.signatures,
        supersedes=revision.supersedes,
    )


def add_pending_signature(path: Path, key: SigningKey) -> None:
    """During an approval, after the organisation signed the new version: check its data files
    are those of the version signed, then add the officer's PAdES signature."""
    from lotline.signing import pades

    revision = current_revision()
    if revision is None:
        return
    files = data_file_hashes(path)
    if files != revision.data_files:
        changed = sorted(
            set(files.items()).symmetric_difference(revision.data_files.items()),
        )
        names = ", ".join(sorted({name for name, _ in changed}))
        raise ApprovalRefused(
            f"the data of document {revision.supersedes} changed since it was issued ({names}): "
            "render it again and sign the new document"
        )
    signature = revision.signatures[-1]
    pades.sign_file(
        path,
        key,
        field_name=f"Approval{revision.version}",
        reason=signature.reason,
        name=signature.printed_name,
    )


def data_file_hashes(path: Path) -> dict[str, str]:
    """SHA-256 of every embedded file but the provenance record (which names the document)."""
    from lotline import provenance
    from reports.verify import embedded_files

    return {
        name: hashlib.sha256(contents[0]).hexdigest()
        for name, contents in embedded_files(Path(path)).items()
        if name != provenance.FILE_NAME and len(contents) == 1
    }


# --- approve -----------------------------------------------------------------------------------


def approve(
    engine: Engine,
    document_number: str,
    user_name: str,
    password: str,
    meaning: str,
    *,
    now: datetime | None = None,
) -> Approved:
    """Sign `document_number` as `user_name` with `meaning`: a new version showing the
    signature, PAdES-signed twice (organisation, then the approval), and its e-signature row."""
    from lotline.portal import users
    from lotline.signing import keys

    if meaning not in MEANINGS:
        raise ApprovalRefused(f"meaning must be one of {', '.join(MEANINGS)}")
    if not users.verify_password(engine, user_name, password):
        raise ApprovalRefused("the password does not match the account (or it is disabled)")
    account = _account(engine, user_name)
    if account["role"] not in SIGNERS:
        raise ApprovalRefused(f"{user_name} is an {account['role']}: only officers may sign")
    key = keys.configured_key()
    if key is None:
        raise ApprovalRefused(
            f"no signing key configured ({keys.KEY_ENV}): an approval is a digital signature"
        )
    entry = _signable(engine, document_number)
    signed_at = (
        now if now is not None and now.tzinfo is not None else (now or datetime.now()).astimezone()
    )
    earlier = tuple(signatures_of_chain(engine, document_number))
    signature = ESignature(
        meaning=meaning,
        printed_name=str(account.get("full_name") or user_name),
        user_name=user_name,
        signed_at=signed_at.replace(microsecond=0),
        document_number=document_number,
        version=int(entry["version"] or 1),
        sha256=str(entry["pdf_sha256"]),
    )
    status = "APPROVED" if meaning == "approved" else str(entry["status"] or "DRAFT")
    revision = Revision(
        supersedes=document_number,
        version=signature.version + 1,
        status=status,
        signatures=(*earlier, signature),
        data_files=data_file_hashes(Path(str(entry["file_path"]))),
    )
    with revising(revision):
        path = _render_again(engine, entry, Path(str(entry["file_path"])).parent)
    new_number = _superseding(engine, document_number)
    _record_signature(engine, signature, new_number)
    return Approved(new_number, path, signature)


def _account(engine: Engine, name: str) -> dict[str, object]:
    from lotline import store

    table = store.table("portal_user")
    with engine.connect() as conn:
        row = conn.execute(sa.select(table).where(table.c.name == name)).mappings().first()
    if row is None:
        raise ApprovalRefused(f"no account {name}")
    return dict(row)


def _signable(engine: Engine, number: str) -> dict[str, object]:
    """The register entry of a document that may be signed: issued, its file where the register
    says and byte-identical to what was issued, and not superseded yet."""
    from reports import register

    entry = register.issued(engine, number)
    if entry is None or not entry.get("pdf_sha256"):
        raise ApprovalRefused(f"document {number} is not in the register of issued documents")
    if not entry.get("parameters"):
        raise ApprovalRefused(
            f"document {number} ({entry['kind']}) cannot be rendered again for signing: "
            "its renderer's arguments were not recorded"
        )
    later = _superseding(engine, number, required=False)
    if later is not None:
        raise ApprovalRefused(f"document {number} is superseded by {later}: sign the latest")
    path = Path(str(entry.get("file_path") or ""))
    if not entry.get("file_path") or not path.is_file():
        raise ApprovalRefused(f"the file of document {number} is not at {path}")
    if hashlib.sha256(path.read_bytes()).hexdigest() != entry["pdf_sha256"]:
        raise ApprovalRefused(f"{path} is not the file issued as {number}: it was modified")
    return entry


def _superseding(engine: Engine, number: str, required: bool = True) -> str | None:
    from reports.register import superseded_by

    found = superseded_by(engine, number, written_only=True)
    if found is None and required:
        raise ApprovalRefused(f"no new version of {number} was recorded")
    return found


def _render_again(engine: Engine, entry: dict[str, object], out_dir: Path) -> Path:
    """Run the document's renderer again with its recorded arguments."""
    parameters = json.loads(str(entry["parameters"]))
    generated_at = datetime.fromisoformat(parameters.pop("generated_at"))
    kind = entry["kind"]
    if kind == "expiry":
        from reports.expiry import render_expiry_report

        return render_expiry_report(
            engine,
            out_dir,
            as_of=date.fromisoformat(parameters["as_of"]),
            within_days=int(parameters["within_days"]),
            max_rows=int(parameters["max_rows"]),
            run_id=parameters.get("run_id"),
            generated_at=generated_at,
        )
    if kind == "recall":
        from reports.recall import RecallRequest, render_recall_report

        received = parameters.get("received_at")
        return render_recall_report(
            engine,
            parameters["gtin"],
            parameters["lot"],
            out_dir,
            generated_at=generated_at,
            direction=parameters["direction"],
            request=RecallRequest(
                parameters.get("reference"),
                parameters.get("requester"),
                datetime.fromisoformat(received) if received else None,
            ),
            max_rows=parameters.get("max_rows"),
            run_id=parameters.get("run_id"),
            prepared_by=parameters.get("prepared_by"),
        )
    raise ApprovalRefused(f"documents of kind {kind} cannot be signed yet")


def _record_signature(engine: Engine, signature: ESignature, issued_as: str) -> None:
    import models
    from lotline import store
    from lotline.audit import chain

    table = store.table(models.DocumentSignature)
    offset = signature.signed_at.strftime("%z")
    with engine.begin() as conn:
        key = conn.execute(
            table.insert().values(
                document_number=signature.document_number,
                version=signature.version,
                issued_as=issued_as,
                printed_name=signature.printed_name,
                user_name=signature.user_name,
                meaning=signature.meaning,
                signed_at=signature.signed_at.astimezone(UTC),  # SQLite keeps no offset
                signed_at_offset=f"{offset[:3]}:{offset[3:]}",
                document_sha256=signature.sha256,
                reason=signature.reason,
            )
        ).inserted_primary_key
        chain.seal_rows(conn, table.name, table.c.id == key[0], actor=signature.user_name)


def signatures_of_chain(engine: Engine, number: str) -> list[ESignature]:
    """The e-signatures of `number` and of every version it superseded, oldest first."""
    import models
    from lotline import store

    signatures = store.table(models.DocumentSignature)
    if not sa.inspect(engine).has_table(signatures.name):
        return []
    numbers = [row["document_number"] for row in versions(engine, number)]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(signatures)
            .where(signatures.c.document_number.in_(numbers))
            .order_by(signatures.c.signed_at, signatures.c.id)
        ).mappings()
        found = []
        for row in rows:
            found.append(
                ESignature(
                    row["meaning"],
                    row["printed_name"],
                    row["user_name"],
                    _in_offset(row["signed_at"], row["signed_at_offset"]),
                    row["document_number"],
                    row["version"],
                    row["document_sha256"],
                )
            )
    return found


def _in_offset(stored: datetime, offset: str) -> datetime:
    from datetime import timedelta, timezone

    sign = -1 if offset.startswith("-") else 1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    value = stored if stored.tzinfo is not None else stored.replace(tzinfo=UTC)
    return value.astimezone(zone)


def versions(engine: Engine, number: str) -> list[dict[str, object]]:
    """Every version of the document `number` belongs to, oldest first (register entries)."""
    import models
    from lotline import store

    table = store.table(models.IssuedDocument)
    with engine.connect() as conn:

        def entry(where: sa.ColumnElement) -> dict[str, object] | None:
            row = conn.execute(sa.select(table).where(where)).mappings().first()
            return dict(row) if row else None

        first = entry(table.c.document_number == number)
        if first is None:
            return []
        chain = [first]
        while chain[0].get("supersedes"):
            earlier = entry(table.c.document_number == chain[0]["supersedes"])
            if earlier is None:
                break
            chain.insert(0, earlier)
        while True:
            later = entry(
                (table.c.supersedes == chain[-1]["document_number"])
                & table.c.pdf_sha256.is_not(None)
            )
            if later is None:
                break
            chain.append(later)
    return chain
