"""Getting rendered reports to the people and the archive that must have them: SMTP and retention.

Why here and not in the pipeline: sending and archiving are plain I/O with legal consequences
(a report nobody received, an archived record that was overwritten), so they are testable on their
own against a real SMTP server and a real folder, and the Dagster assets only decide *when*.

Every failure raises `DeliveryError` naming the server and the recipients, so the caller (a
Dagster step with retries) can retry and, in the end, fail visibly. Nothing is swallowed.
"""

from __future__ import annotations

import hashlib
import json
import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Literal

Security = Literal["starttls", "ssl", "none"]
SECURITIES: tuple[Security, ...] = ("starttls", "ssl", "none")
DEFAULT_PORTS: dict[Security, int] = {"starttls": 587, "ssl": 465, "none": 25}
ReportKind = Literal["expiry", "recall_drill"]
MANIFEST_SUFFIX = ".manifest.json"


class DeliveryError(RuntimeError):
    """A report could not be delivered (e-mail) or archived; the message says where and to whom."""


@dataclass(frozen=True)
class MailSettings:
    """How to reach the SMTP server. The password is never held here, only the name of the
    environment variable that holds it, so it never lands in Dagster's run config or UI."""

    host: str
    port: int = 0
    """0 means the usual port for `security` (587, 465, 25)."""
    security: Security = "starttls"
    username: str = ""
    password_env: str = "LOTLINE_SMTP_PASSWORD"
    sender: str = "lotline@localhost"
    ca_file: str = ""
    """CA bundle to verify the server certificate against (a private CA); empty: system CAs."""
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.security not in SECURITIES:
            raise ValueError(f"SMTP security must be one of {SECURITIES}, not {self.security!r}")

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    @property
    def address(self) -> str:
        return f"{self.host}:{self.effective_port} ({self.security})"

    def password(self) -> str:
        return os.environ.get(self.password_env, "")

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file or None)


@dataclass(frozen=True)
class Recipients:
    """Who receives one kind of report."""

    to: tuple[str, ...]
    cc: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Recipients:
        """`a@x, b@y` (what the `LOTLINE_*_RECIPIENTS` variables hold) → recipients."""
        return cls(tuple(part.strip() for part in text.split(",") if part.strip()))

    @property
    def all(self) -> tuple[str, ...]:
        return self.to + self.cc

    def __bool__(self) -> bool:
        return bool(self.to)


def send_report(
    settings: MailSettings,
    recipients: Recipients,
    subject: str,
    body: str,
    attachments: list[Path],
) -> str:
    """Send one message with the PDFs attached; return its Message-ID once the server accepted it
    for every recipient. A recipient the server refused is a failure, not a partial success."""
    if not recipients:
        raise DeliveryError(f"no recipients for {subject!r}")
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(recipients.to)
    if recipients.cc:
        message["Cc"] = ", ".join(recipients.cc)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or "localhost")
    message.set_content(body)
    for path in attachments:
        message.add_attachment(
            Path(path).read_bytes(), maintype="application", subtype="pdf", filename=path.name
        )
    where = f"{settings.address} to {', '.join(recipients.all)}"
    try:
        with _connect(settings) as smtp:
            if settings.username:
                password = settings.password()
                if not password:
                    raise DeliveryError(
                        f"SMTP user {settings.username!r} is set but ${settings.password_env} "
                        f"is empty: cannot authenticate at {settings.address}"
                    )
                if settings.security == "none":
                    raise DeliveryError(
                        f"refusing to send SMTP credentials unencrypted to {settings.address}"
                    )
                smtp.login(settings.username, password)
            refused = smtp.send_message(message, to_addrs=list(recipients.all))
    except DeliveryError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"could not send {subject!r} via {where}: {exc}") from exc
    if refused:
        raise DeliveryError(f"{settings.address} refused {', '.join(refused)} for {subject!r}")
    return str(message["Message-ID"])


def _connect(settings: MailSettings) -> smtplib.SMTP:
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host,
            settings.effective_port,
            timeout=settings.timeout,
            context=settings.tls_context(),
        )
    smtp = smtplib.SMTP(settings.host, settings.effective_port, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            smtp.ehlo()
            smtp.starttls(context=settings.tls_context())
            smtp.ehlo()
    except BaseException:
        smtp.close()
        raise
    return smtp


# --- archive -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionRule:
    """How long an archived report must be kept, and why.

    `retain_until` is the later of archiving + `years` and the latest lot expiry the report
    covers + `years_after_expiry` (when given): the longest applicable rule wins.
    """

    years: int
    basis: str
    years_after_expiry: int | None = None

    def retain_until(self, archived_at: datetime, latest_expiry: date | None = None) -> date:
        until = add_years(archived_at.astimezone(UTC).date(), self.years)
        if self.years_after_expiry is not None and latest_expiry is not None:
            until = max(until, add_years(latest_expiry, self.years_after_expiry))
        return until


RETENTION: dict[ReportKind, RetentionRule] = {
    "expiry": RetentionRule(
        years=2,
        years_after_expiry=1,
        basis=(
            "FSMA 204, 21 CFR 1.1455(d): records kept 2 years from creation; drug CGMP, "
            "21 CFR 211.180(a): distribution and inventory records at least 1 year after the "
            "expiration date of the batch; the later date applies"
        ),
    ),
    "recall_drill": RetentionRule(
        years=6,
        years_after_expiry=1,
        basis=(
            "DSCSA, 21 U.S.C. 360eee-1: transaction information and investigation records 6 "
            "years (covers FSMA 204's 2 years, 21 CFR 1.1455(d), and EU 2017/1572 Art. 9's 5 years "
            "after certification); 21 CFR 211.180(a): at least 1 year after batch expiry"
        ),
    ),
}


def add_years(day: date, years: int) -> date:
    """`day` plus whole years; 29 February becomes 1 March (keeping longer, never shorter)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def archive_report(
    pdf: Path,
    archive_root: Path,
    kind: str,
    retention: RetentionRule | int,
    now: datetime,
    *,
    latest_expiry: date | None = None,
    extra: dict[str, object] | None = None,
) -> Path:
    """Copy `pdf` to `archive_root/<kind>/<yyyy>/<name>` with a `<name>.manifest.json` sidecar
    (SHA-256, archived_at, retain_until, the rule's legal basis) and return the archived path.

    Append-only: an archived file is never overwritten. Archiving the same bytes again (a retried
    delivery) returns the existing copy untouched; different bytes under the same name raise.
    """
    pdf = Path(pdf)
    rule = (
        retention
        if isinstance(retention, RetentionRule)
        else RetentionRule(retention, f"{retention} years (configured)")
    )
    content = pdf.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    folder = Path(archive_root) / kind / f"{now.astimezone(UTC).year:04d}"
    target = folder / pdf.name
    manifest = target.with_name(target.name + MANIFEST_SUFFIX)
    if target.exists():
        existing = hashlib.sha256(target.read_bytes()).hexdigest()
        if existing != digest:
            raise DeliveryError(
                f"{target} is already archived with different content (sha256 {existing}); "
                "the archive is append-only"
            )
        if not manifest.exists():
            raise DeliveryError(f"{target} is archived but its manifest {manifest.name} is missing")
        return target
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "file": target.name,
        "kind": kind,
        "sha256": digest,
        "size": len(content),
        "archived_at": now.astimezone(UTC).isoformat(),
        "retain_until": rule.retain_until(now, latest_expiry).isoformat(),
        "retention_years": rule.years,
        "retention_years_after_expiry": rule.years_after_expiry,
        "latest_expiry": latest_expiry.isoformat() if latest_expiry else None,
        "retention_basis": rule.basis,
        **(extra or {}),
    }
    try:
        # exclusive creation: two deliveries racing for one name cannot overwrite each other
        with target.open("xb") as out:
            out.write(content)
        with manifest.open("x") as out:
            json.dump(record, out, indent=2, default=str)
    except OSError as exc:
        raise DeliveryError(f"could not archive {pdf.name} into {folder}: {exc}") from exc
    target.chmod(0o444)
    manifest.chmod(0o444)
    return target


def read_manifest(archived: Path) -> dict[str, object]:
    """The sidecar manifest of an archived report."""
    return json.loads(archived.with_name(archived.name + MANIFEST_SUFFIX).read_text())
