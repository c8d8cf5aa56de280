"""EC P-256 certificates for Interface A, and the OpenADR certificate fingerprint.

OpenADR 2.0b trust is out of band: each side hands the other the *fingerprint* of its certificate
(the last 10 bytes of the SHA-256 of the DER form, colon hex), and the VTN admits only VENs whose
TLS client certificate and message-signing certificate match the fingerprint it holds (SEC-S-8).
EC P-256 keys are used because an RSA key costs ~75 ms of CPU per signed message here.

:func:`issue_pki` makes a private CA and leaf certificates in a directory for tests, demos and
benchmarks; production keys come from the operator's own CA. Keys are written with mode 0600.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from smartcharge.core.errors import ValidationError

#: Validity of test certificates; short on purpose.
TEST_VALIDITY_DAYS = 30


@dataclass(frozen=True, slots=True)
class CertPaths:
    """Where one party's PEM certificate and private key are, and the certificate's fingerprint."""

    cert: Path
    key: Path
    fingerprint: str


def fingerprint_of_der(der: bytes) -> str:
    """OpenADR fingerprint: last 10 bytes of SHA-256 over the DER certificate, colon-separated hex."""
    tail = hashlib.sha256(der).digest()[-10:]
    return ":".join(f"{b:02X}" for b in tail)


def fingerprint_of(cert_path: Path) -> str:
    """Fingerprint of the PEM certificate at ``cert_path``."""
    try:
        cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    except (OSError, ValueError) as exc:
        raise ValidationError("cert", str(cert_path), f"not a readable PEM certificate: {exc}") from None
    return fingerprint_of_der(cert.public_bytes(serialization.Encoding.DER))


def is_fingerprint(text: str) -> bool:
    """Whether ``text`` has the shape of an OpenADR fingerprint (10 colon-separated hex bytes)."""
    parts = text.split(":")
    return len(parts) == 10 and all(len(p) == 2 and all(c in "0123456789ABCDEF" for c in p) for p in parts)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue_pki(directory: Path, names: list[str], now: dt.datetime) -> tuple[Path, dict[str, CertPaths]]:
    """Create ``ca.pem`` and one EC P-256 leaf per name in ``directory``; return (CA path, leaves).

    Every leaf serves both as TLS server and client certificate for ``localhost``/127.0.0.1 and
    signs messages. ``now`` is the issue time (aware UTC).
    """
    if now.tzinfo is None:
        raise ValidationError("now", now.isoformat(), "must be timezone-aware")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("smartcharge test CA")
    not_after = now + dt.timedelta(days=TEST_VALIDITY_DAYS)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    leaves: dict[str, CertPaths] = {}
    for name in names:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key_path, key)
        leaves[name] = CertPaths(cert_path, key_path, fingerprint_of(cert_path))
    return ca_path, leaves


__all__ = ["CertPaths", "fingerprint_of", "fingerprint_of_der", "is_fingerprint", "issue_pki"]
