"""Sending reports to a real SMTP server on loopback (plain, STARTTLS + AUTH, implicit TLS) and
archiving them append-only with their retention dates."""

from __future__ import annotations

import email
import email.policy
import hashlib
import ipaddress
import shutil
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lotline import store
from lotline.delivery import (
    RETENTION,
    DeliveryError,
    MailSettings,
    Recipients,
    RetentionRule,
    add_years,
    archive_report,
    read_manifest,
    send_report,
)
from lotline.intake.ingest import load_folder

SMALL = Path(__file__).parents[1] / "data" / "small"
USER, PASSWORD, PASSWORD_ENV = "qa-mailer", "s3cret-pass", "LOTLINE_TEST_SMTP_PASSWORD"
REFUSED = "nobody@example.com"


@dataclass
class Inbox:
    """aiosmtpd handler keeping every accepted envelope; refuses `REFUSED`."""

    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def message(self, index: int = -1) -> EmailMessage:
        envelope = self.envelopes[index]
        return email.message_from_bytes(envelope.original_content, policy=email.policy.default)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost: (cert PEM, key PEM)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def plain_server() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture
def secure_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Controller, Inbox]]:
    """Requires STARTTLS before anything and AUTH before MAIL."""
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=_server_context(certificate),
        require_starttls=True,
        auth_required=True,
        authenticator=_authenticator,
    )
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def expiry_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real expiry report of the small supply chain (rendering is the slow part)."""
    from reports.expiry import render_expiry_report

    folder = tmp_path_factory.mktemp("expiry")
    shutil.copytree(SMALL, folder / "drop")
    engine = store.make_engine(store.sqlite_url(folder / "lotline.sqlite"))
    load_folder(engine, folder / "drop")
    return render_expiry_report(engine, folder / "out", as_of=date(2026, 9, 15))


def _attachments(message: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def test_plain_smtp_delivers_the_pdf_byte_for_byte(
    plain_server: tuple[Controller, Inbox], expiry_pdf: Path
) -> None:
    controller, inbox = plain_server
    settings = MailSettings(
        host="127.0.0.1", port=controller.port, security="none", sender="reports@lotline.test"
    )
    recipients = Recipients(("qa@plant.test", "ops@plant.test"), cc=("audit@plant.test",))
    message_id = send_report(settings, recipients, "Expiry report", "see attached", [expiry_pdf])

    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "reports@lotline.test"
    assert envelope.rcpt_tos == ["qa@plant.test", "ops@plant.test", "audit@plant.test"]
    message = inbox.message()
    assert message["Message-ID"] == message_id and message_id.endswith("@lotline.test>")
    assert message["Subject"] == "Expiry report"
    assert message["To"] == "qa@plant.test, ops@plant.test"
    assert message["Cc"] == "audit@plant.test"
    assert message.get_body(("plain",)).get_content().strip() == "see attached"
    (part,) = message.iter_attachments()
    assert part.get_content_type() == "application/pdf"
    assert _attachments(message) == {expiry_pdf.name: expiry_pdf.read_bytes()}


def test_starttls_and_auth(
    secure_server: tuple[Controller, Inbox],
    certificate: tuple[Path, Path],
    expiry_pdf: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    controller, inbox = secure_server
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    settings = MailSettings(
        host="127.0.0.1",
        port=controller.port,
        security="starttls",
        username=USER,
        password_env=PASSWORD_ENV,
        sender="reports@lotline.test",
        ca_file=str(certificate[0]),
    )
    message_id = send_report(
        settings, Recipients(("qa@plant.test",)), "Recall drill", "drill", [expiry_pdf]
    )
    assert inbox.message()["Message-ID"] == message_id
    assert _attachments(inbox.message()) == {expiry_pdf.name: expiry_pdf.read_bytes()}

    # a wrong password, no password, an untrusted certificate, credentials in clear: all refused
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    with pytest.raises(DeliveryError, match=rf"127\.0\.0\.1:{controller.port}.*qa@plant\.test"):
        send_report(settings, Recipients(("qa@plant.test",)), "s", "b", [expiry_pdf])
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(DeliveryError, match=rf"\${PASSWORD_ENV} is empty"):
        send_report(settings, Recipients(("qa@plant.test",)), "s", "b", [expiry_pdf])
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    untrusted = MailSettings(**{**settings.__dict__, "ca_file": ""})
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        send_report(untrusted, Recipients(("qa@plant.test",)), "s", "b", [expiry_pdf])
    cleartext = MailSettings(**{**settings.__dict__, "security": "none"})
    with pytest.raises(DeliveryError, match="unencrypted"):
        send_report(cleartext, Recipients(("qa@plant.test",)), "s", "b", [expiry_pdf])
    assert len(inbox.envelopes) == 1


def test_implicit_tls(certificate: tuple[Path, Path], expiry_pdf: Path) -> None:
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), ssl_context=_server_context(certificate)
    )
    controller.start()
    try:
        settings = MailSettings(
            host="127.0.0.1", port=controller.port, security="ssl", ca_file=str(certificate[0])
        )
        send_report(settings, Recipients(("qa@plant.test",)), "s", "b", [expiry_pdf])
    finally:
        controller.stop()
    assert _attachments(inbox.message()) == {expiry_pdf.name: expiry_pdf.read_bytes()}


def test_failures_name_the_server_and_the_recipients(
    plain_server: tuple[Controller, Inbox], expiry_pdf: Path
) -> None:
    closed = MailSettings(host="127.0.0.1", port=free_port(), security="none", timeout=5)
    with pytest.raises(DeliveryError) as error:
        send_report(closed, Recipients(("qa@plant.test",)), "Expiry", "b", [expiry_pdf])
    assert f"127.0.0.1:{closed.port} (none)" in str(error.value)
    assert "qa@plant.test" in str(error.value) and "refused" in str(error.value).lower()

    controller, inbox = plain_server
    settings = MailSettings(host="127.0.0.1", port=controller.port, security="none")
    with pytest.raises(DeliveryError, match=f"refused {REFUSED}"):
        send_report(settings, Recipients(("qa@plant.test", REFUSED)), "Expiry", "b", [expiry_pdf])
    with pytest.raises(DeliveryError, match="no recipients"):
        send_report(settings, Recipients(()), "Expiry", "b", [expiry_pdf])
    with pytest.raises(ValueError, match="security"):
        MailSettings(host="x", security="tls")  # type: ignore[arg-type]


def test_recipients_parse_and_default_ports() -> None:
    assert Recipients.parse(" a@x.test, ,b@y.test ").to == ("a@x.test", "b@y.test")
    assert not Recipients.parse("")
    assert [MailSettings("h", security=s).effective_port for s in ("starttls", "ssl", "none")] == [
        587,
        465,
        25,
    ]


def test_archive_writes_a_manifest_and_is_append_only(tmp_path: Path, expiry_pdf: Path) -> None:
    now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    archived = archive_report(expiry_pdf, tmp_path / "archive", "expiry", RETENTION["expiry"], now)
    assert archived == tmp_path / "archive" / "expiry" / "2026" / expiry_pdf.name
    assert archived.read_bytes() == expiry_pdf.read_bytes()
    manifest = read_manifest(archived)
    assert manifest["sha256"] == hashlib.sha256(expiry_pdf.read_bytes()).hexdigest()
    assert manifest["archived_at"] == "2026-12-01T06:00:00+00:00"
    assert manifest["retain_until"] == "2028-12-01"  # FSMA 204: 2 years
    assert "1.1455(d)" in manifest["retention_basis"] and "211.180" in manifest["retention_basis"]
    assert oct(archived.stat().st_mode & 0o777) == "0o444"

    # a retry archives the same bytes again: the existing copy is kept untouched
    before = archived.stat().st_mtime_ns
    again = archive_report(expiry_pdf, tmp_path / "archive", "expiry", 2, now + timedelta(hours=1))
    assert again == archived and archived.stat().st_mtime_ns == before
    assert read_manifest(archived)["archived_at"] == manifest["archived_at"]

    # different bytes under an archived name are refused, the archived file stays
    forged = tmp_path / "forged" / expiry_pdf.name
    forged.parent.mkdir()
    forged.write_bytes(b"%PDF-1.7 not the original")
    with pytest.raises(DeliveryError, match="append-only"):
        archive_report(forged, tmp_path / "archive", "expiry", RETENTION["expiry"], now)
    assert archived.read_bytes() == expiry_pdf.read_bytes()


def test_retention_rules(tmp_path: Path, expiry_pdf: Path) -> None:
    now = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    drill = archive_report(
        expiry_pdf,
        tmp_path,
        "recall_drill",
        RETENTION["recall_drill"],
        now,
        latest_expiry=date(2028, 6, 20),
    )
    assert read_manifest(drill)["retain_until"] == "2032-12-01"  # DSCSA 6 years wins
    assert "DSCSA" in read_manifest(drill)["retention_basis"]
    # a lot expiring late: 21 CFR 211.180(a) one year after expiry outlives FSMA's two years
    rule = RETENTION["expiry"]
    assert rule.retain_until(now, date(2030, 3, 31)) == date(2031, 3, 31)
    assert rule.retain_until(now, date(2027, 2, 16)) == date(2028, 12, 1)
    assert RetentionRule(1, "x").retain_until(now, date(2040, 1, 1)) == date(2027, 12, 1)
    assert add_years(date(2028, 2, 29), 2) == date(2030, 3, 1)  # never a day short
    # the year folder and archived_at are UTC
    new_year_in_utc = datetime(2026, 12, 31, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    path = archive_report(expiry_pdf, tmp_path / "y", "expiry", 2, new_year_in_utc)
    assert path.parent.name == "2027"
    assert read_manifest(path)["archived_at"] == "2027-01-01T03:00:00+00:00"
    assert read_manifest(path)["retain_until"] == "2029-01-01"
