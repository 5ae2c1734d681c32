"""PAdES signatures on issued PDFs with pyHanko, and their offline validation.

Signing: the organisation's signature is a *certification* signature (DocMDP, form filling
allowed) so that later approvals can only add signatures; every signature is an incremental
update, so the PDF/A-3 content and metadata of the rendered file stay byte for byte, and the
baseline is B-B, or B-T with an RFC 3161 timestamp when a TSA URL is configured.

Validation answers, per signature: is it intact (the digest of the signed byte ranges), valid
(the CMS signature over it), trusted (its chain ends at a configured trust root), and what was
changed after it (pyHanko's difference analysis between the signed revision and the file:
anything beyond adding signatures is a modification of the document).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lotline.signing.keys import SigningError, SigningKey, SigningKeyError

ORG_FIELD = "OrgSignature"
APPROVAL_FIELD_PREFIX = "Approval"


@cache
def _signer(path: str, mtime_ns: int, password: bytes | None):  # type: ignore[no-untyped-def]
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load_pkcs12(path, passphrase=password)
    if signer is None:  # pyHanko logs the cause and returns None
        raise SigningKeyError(f"cannot open the signing key {path} (wrong password or not PKCS#12)")
    return signer


def load_signer(key: SigningKey):  # type: ignore[no-untyped-def]
    """The pyHanko signer of `key`, loaded once per process (and again if the file changes)."""
    try:
        return _signer(str(key.path), key.path.stat().st_mtime_ns, key.password)
    except SigningKeyError:
        raise
    except Exception as error:  # never echo the password: name the file and the kind of error
        raise SigningKeyError(
            f"cannot open the signing key {key.path}: {type(error).__name__}"
        ) from None


def sign_file(
    path: Path,
    key: SigningKey,
    *,
    field_name: str = ORG_FIELD,
    reason: str,
    certify: bool = False,
    name: str | None = None,
) -> Path:
    """Sign the PDF at `path` in place (written beside it and renamed, never half-written)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.fields import MDPPerm

    signer = load_signer(key)
    timestamper = None
    if key.tsa_url:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        timestamper = HTTPTimeStamper(key.tsa_url)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        name=name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=certify,
        docmdp_permissions=MDPPerm.FILL_FORMS,
    )
    path = Path(path)
    writer = IncrementalPdfFileWriter(io.BytesIO(path.read_bytes()), strict=False)
    partial = path.with_name(path.name + ".signing")
    try:
        with partial.open("wb") as out:
            signers.PdfSigner(meta, signer=signer, timestamper=timestamper).sign_pdf(
                writer, output=out
            )
        os.replace(partial, path)
    except Exception as error:  # e.g. the TSA did not answer: no document without its timestamp
        raise SigningError(f"signing {path.name} failed: {type(error).__name__}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return path


# --- validation --------------------------------------------------------------------------------


@dataclass
class SignatureCheck:
    """What one signature of a PDF says; `problems` empty means it holds."""

    field: str
    signer: str
    reason: str | None
    signed_at: str | None
    revision: int
    covers_whole_file: bool
    timestamped: bool
    intact: bool = False  # the revision it signed is byte for byte as signed, signature valid
    problems: list[str] = field(default_factory=list)


def load_trust_roots(files: list[Path]) -> list[object]:
    """Certificates (asn1crypto) from PEM or DER files; a missing file is an error, not silence."""
    from asn1crypto import pem, x509

    roots = []
    for path in files:
        data = Path(path).read_bytes()
        if pem.detect(data):
            roots += [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
        else:
            roots.append(x509.Certificate.load(data))
    return roots


def pdf_reader(data: bytes):  # type: ignore[no-untyped-def]
    """pyHanko's reader, parsing each object stream's index once.

    pyHanko's reader scans an object stream's index from the start for every object it takes
    from that stream: quadratic in the stream's size, and WeasyPrint packs the thousands of
    tag-tree dictionaries of a report into one stream, so the difference analysis behind a
    verdict took 7 s on a 100 kB report. The index is parsed once per stream here; anything
    unexpected falls back to pyHanko's own reading."""
    from pyhanko.pdf_utils import generic, misc
    from pyhanko.pdf_utils.decode_limits import DecodePurpose
    from pyhanko.pdf_utils.reader import PdfFileReader

    class IndexedReader(PdfFileReader):
        def _get_object_from_stream(self, idnum, stmnum, idx):  # type: ignore[no-untyped-def]
            try:
                stream = generic.Reference(stmnum, 0, self).get_object()
                cache = self.__dict__.setdefault("_lotline_objstm", {})
                entry = cache.get(stmnum)
                if entry is None or entry[0] is not stream:
                    content = stream.read_data(DecodePurpose.OBJECT_STREAM)
                    index = io.BytesIO(content)
                    offsets: dict[int, int] = {}
                    for _ in range(int(stream["/N"])):
                        misc.read_non_whitespace(index, seek_back=True)
                        number = int(generic.NumberObject.read_from_stream(index))
                        misc.read_non_whitespace(index, seek_back=True)
                        offset = int(generic.NumberObject.read_from_stream(index))
                        offsets.setdefault(number, offset)
                    entry = (stream, content, int(stream["/First"]), offsets)
                    cache[stmnum] = entry
                _, content, first, offsets = entry
                if idnum not in offsets:
                    raise LookupError(idnum)
                body = io.BytesIO(content)
                body.seek(first + offsets[idnum])
                return generic.read_object(body, generic.Reference(idnum, 0, self))
            except Exception:
                return super()._get_object_from_stream(idnum, stmnum, idx)

    return IndexedReader(io.BytesIO(data), strict=False)


def check_signatures(data: bytes, trust_roots: list[object] | None) -> list[SignatureCheck]:
    """Validate every signature of the PDF in `data` (oldest first). Without trust roots the
    chain of trust is not judged (the caller says so); everything else still is."""
    from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    reader = pdf_reader(data)
    checks = []
    allowed = (
        ModificationLevel.NONE,
        ModificationLevel.LTA_UPDATES,
        ModificationLevel.FORM_FILLING,
    )
    for embedded in reader.embedded_signatures:
        context = ValidationContext(
            trust_roots=list(trust_roots or []), allow_fetching=False, revocation_mode="soft-fail"
        )
        check = SignatureCheck(
            field=embedded.field_name,
            signer=embedded.signer_cert.subject.human_friendly,
            reason=_text(embedded.sig_object.get("/Reason")),
            signed_at=_text(embedded.sig_object.get("/M")),
            revision=embedded.signed_revision,
            covers_whole_file=False,
            timestamped=False,
        )
        checks.append(check)
        try:
            with _quiet("pyhanko"):  # what it would log is in our messages
                status = validate_pdf_signature(embedded, signer_validation_context=context)
        except (SignatureValidationError, ValueError, KeyError) as error:
            check.problems.append(f"cannot be validated: {error}")
            continue
        check.covers_whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        check.intact = bool(status.intact and status.valid)
        check.timestamped = status.timestamp_validity is not None
        if not status.intact:
            check.problems.append(
                "the bytes it signed were changed after signing (digest does not match)"
            )
        elif not status.valid:
            check.problems.append("the signature value does not match the signed bytes")
        if status.coverage not in (
            SignatureCoverageLevel.ENTIRE_FILE,
            SignatureCoverageLevel.ENTIRE_REVISION,
        ):
            check.problems.append("it does not cover its whole revision of the file")
        elif status.coverage == SignatureCoverageLevel.ENTIRE_REVISION:
            level = status.modification_level
            if isinstance(status.diff_result, SuspiciousModification):
                first = str(status.diff_result).strip().splitlines()[0].split(":")[0][:120]
                check.problems.append(
                    f"a later incremental update modifies the document (pyHanko: {first})"
                )
            elif level is None or level not in allowed:
                name = level.name if level is not None else "unknown changes"
                check.problems.append(f"a later incremental update modifies the document ({name})")
            elif status.docmdp_ok is False:
                check.problems.append("a later update breaks the certification's permissions")
        stamp = status.timestamp_validity
        if stamp is not None and not (stamp.intact and stamp.valid):
            check.problems.append("its RFC 3161 timestamp does not match the signature")
        elif stamp is not None and trust_roots and not stamp.trusted:
            check.problems.append("its timestamp's TSA does not chain to a configured trust root")
        if trust_roots and status.intact and status.valid and not status.trusted:
            check.problems.append(
                f"the signer {check.signer} does not chain to a configured trust root"
            )
    return checks


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def signed_revision_end(data: bytes, field_name: str) -> int | None:
    """Where the revision signed by the signature in `field_name` ends (its byte range's end):
    `data[:end]` is the document as that signer saw it."""
    for embedded in pdf_reader(data).embedded_signatures:
        if embedded.field_name == field_name:
            ranges = list(embedded.sig_object["/ByteRange"])
            return int(ranges[2]) + int(ranges[3])
    return None


def _text(value: object) -> str | None:
    return None if value is None else str(value)
