"""PAdES B-T: with `LOTLINE_TSA_URL` set, the organisation's signature carries an RFC 3161
timestamp. The TSA is a real HTTP server on 127.0.0.1 answering with pyHanko's test TSA."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import weasyprint

from lotline.signing import keys, pades

PASSWORD = b"trial key password 5"


def tsa_certificate(out: Path):  # type: ignore[no-untyped-def]
    """A self-signed time-stamping certificate (critical EKU timeStamping), written as PEM."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's test TSA
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test TSA")])
    now = datetime.now(UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    out.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return (
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        asn1_keys.PrivateKeyInfo.load(der_key),
    )


@pytest.fixture
def tsa_url(tmp_path: Path) -> Iterator[str]:
    from asn1crypto import tsp
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    stamper = DummyTimeStamper(*tsa_certificate(tmp_path / "tsa.pem"))
    served: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = stamper.request_tsa_response(request).dump()
            served.append(1)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
        assert served, "the TSA was never asked"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_signature_carries_a_timestamp_when_a_tsa_is_configured(tsa_url: str, tmp_path: Path):
    pair = keys.init(tmp_path / "keys", "Acme", PASSWORD, write_password=False)
    key = keys.configured_key(
        {
            keys.KEY_ENV: str(pair.key_file),
            keys.PASSWORD_ENV: PASSWORD.decode(),
            keys.TSA_URL_ENV: tsa_url,
        }
    )
    assert key is not None and key.tsa_url == tsa_url
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(weasyprint.HTML(string="<p>a document</p>").write_pdf())
    pades.sign_file(pdf, key, reason="issued", certify=True)
    roots = pades.load_trust_roots([pair.trust_root, tmp_path / "tsa.pem"])
    (check,) = pades.check_signatures(pdf.read_bytes(), roots)
    assert check.timestamped and check.problems == [] and check.covers_whole_file
    # without the TSA's certificate among the trust roots the timestamp is not trusted
    (untrusted,) = pades.check_signatures(
        pdf.read_bytes(), pades.load_trust_roots([pair.trust_root])
    )
    assert untrusted.problems, "an untrusted timestamp must not pass"
