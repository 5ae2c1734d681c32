"""The organisation's signing key: where it comes from and a pair to try signing out.

The key is a PKCS#12 file named by the environment, never a database value: whoever can read
the database (auditors, a DBA, a backup) must not be able to sign as the organisation.

- `LOTLINE_SIGNING_KEY`: path of the .p12 file (key, certificate and its chain);
- `LOTLINE_SIGNING_KEY_PASSWORD`, or `LOTLINE_SIGNING_KEY_PASSWORD_FILE` (a file holding it);
- `LOTLINE_TRUST_ROOTS`: PEM file(s) of the certificates `lotline verify` trusts
  (several separated by the path separator, ':' on Unix);
- `LOTLINE_TSA_URL`: an RFC 3161 time-stamping authority; signatures then carry a timestamp.

`init` makes a throwaway CA certificate and a signing certificate it issued, writes the signing
key and chain as PKCS#12 and the CA certificate as the trust root, and forgets the CA key: the
pair is for trying it out, a production key comes from the organisation's PKI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

KEY_ENV = "LOTLINE_SIGNING_KEY"
PASSWORD_ENV = "LOTLINE_SIGNING_KEY_PASSWORD"
PASSWORD_FILE_ENV = "LOTLINE_SIGNING_KEY_PASSWORD_FILE"
TRUST_ROOTS_ENV = "LOTLINE_TRUST_ROOTS"
TSA_URL_ENV = "LOTLINE_TSA_URL"
KEY_FILE = "signing-key.p12"
PASSWORD_FILE = "signing-key.password"
TRUST_ROOT_FILE = "trust-root.pem"
VALID_DAYS = 3 * 365


class SigningError(RuntimeError):
    """Signing an issued document cannot go on; the message says why, never with a secret."""


class SigningKeyError(SigningError):
    """The configured key cannot be used; the message names the file, never the password."""


@dataclass(frozen=True)
class SigningKey:
    """Where the organisation's key is; `password` stays out of repr so it is never logged."""

    path: Path
    password: bytes | None
    tsa_url: str | None = None

    def __repr__(self) -> str:
        return f"SigningKey(path={str(self.path)!r}, tsa_url={self.tsa_url!r})"


def configured_key(environ: Mapping[str, str] | None = None) -> SigningKey | None:
    """The key the environment names, or None when signing is not configured."""
    env = os.environ if environ is None else environ
    path = env.get(KEY_ENV)
    if not path:
        return None
    password: str | None = env.get(PASSWORD_ENV)
    password_file = env.get(PASSWORD_FILE_ENV)
    if password is None and password_file:
        try:
            password = Path(password_file).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise SigningKeyError(
                f"cannot read {PASSWORD_FILE_ENV} file {password_file}: {error.strerror}"
            ) from None
    if not Path(path).is_file():
        raise SigningKeyError(f"{KEY_ENV} names no file: {path}")
    return SigningKey(
        Path(path), password.encode() if password else None, env.get(TSA_URL_ENV) or None
    )


def trust_root_files(environ: Mapping[str, str] | None = None) -> list[Path]:
    env = os.environ if environ is None else environ
    return [Path(p) for p in (env.get(TRUST_ROOTS_ENV) or "").split(os.pathsep) if p]


@dataclass(frozen=True)
class KeyPair:
    key_file: Path
    trust_root: Path
    password_file: Path | None


def init(out_dir: Path, organisation: str, password: bytes, *, write_password: bool) -> KeyPair:
    """Write `signing-key.p12` and `trust-root.pem` (and, with `write_password`, the password in
    a file only the owner may read) into `out_dir`; existing files are never overwritten."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    out_dir = Path(out_dir)
    targets = [out_dir / KEY_FILE, out_dir / TRUST_ROOT_FILE]
    if write_password:
        targets.append(out_dir / PASSWORD_FILE)
    existing = [str(p) for p in targets if p.exists()]
    if existing:
        raise FileExistsError(f"will not overwrite {', '.join(existing)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(minutes=5)
    until = now + timedelta(days=VALID_DAYS)

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                x509.NameAttribute(NameOID.COMMON_NAME, common),
            ]
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name(f"{organisation} document signing root (trial)")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(f"{organisation} document signing (trial)"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"lotline signing key",
        key,
        cert,
        [ca],
        serialization.BestAvailableEncryption(password),
    )
    _write_private(out_dir / KEY_FILE, p12)
    (out_dir / TRUST_ROOT_FILE).write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    password_file = None
    if write_password:
        password_file = out_dir / PASSWORD_FILE
        _write_private(password_file, password + b"\n")
    return KeyPair(out_dir / KEY_FILE, out_dir / TRUST_ROOT_FILE, password_file)


def _write_private(path: Path, data: bytes) -> None:
    """Create `path` readable by its owner only (0600) before any byte is written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
