"""TLS for OCPP security profiles 2 and 3 (SEC-S-1, SEC-S-3): TLS 1.2 or newer only.

:func:`make_pki` issues a small EC P-256 CA, a server certificate and one client certificate per
station (subject CN = station id, as profile 3 requires), for tests and demos. Keys are written
with mode 0600 into the directory given; nothing is ever generated into the source tree.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def server_context(cert: Path, key: Path, client_ca: Path | None) -> ssl.SSLContext:
    """Server side: TLS >= 1.2; with ``client_ca`` a client certificate is checked when offered
    (profile 3) and optional otherwise (profile 2 on the same port)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def client_context(ca: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    """Station side: verify the CSMS against ``ca``; present ``cert`` for profile 3."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(ca)
    if cert is not None and key is not None:
        context.load_cert_chain(cert, key)
    return context


def peer_common_name(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> str | None:
    """The subject CN of a verified client certificate, or None when none was presented."""
    if ssl_object is None:
        return None
    peer = ssl_object.getpeercert()
    if not peer:
        return None
    for rdn in peer.get("subject", ()):
        for attribute in rdn:
            if attribute[0] == "commonName":
                return str(attribute[1])
    return None


@dataclass(frozen=True, slots=True)
class Pki:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    directory: Path

    def client(self, station_id: str) -> tuple[Path, Path]:
        return self.directory / f"{station_id}.crt", self.directory / f"{station_id}.key"


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _issue(
    subject_cn: str,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    usage: x509.ObjectIdentifier | None,
    days: int,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    issuer_name, issuer_key = issuer if issuer is not None else (name, key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if usage == ExtendedKeyUsageOID.SERVER_AUTH:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256()), key


def make_pki(directory: Path, station_ids: list[str], days: int = 30) -> Pki:
    """Issue a CA, a server certificate for localhost and a client certificate per station."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _issue("smartcharge test CA", None, None, days)
    pem = serialization.Encoding.PEM
    (directory / "ca.crt").write_bytes(ca_cert.public_bytes(pem))
    server_cert, server_key = _issue(
        "localhost", (ca_cert.subject, ca_key), ExtendedKeyUsageOID.SERVER_AUTH, days
    )
    (directory / "server.crt").write_bytes(server_cert.public_bytes(pem))
    _write_key(directory / "server.key", server_key)
    for station_id in station_ids:
        cert, key = _issue(station_id, (ca_cert.subject, ca_key), ExtendedKeyUsageOID.CLIENT_AUTH, days)
        (directory / f"{station_id}.crt").write_bytes(cert.public_bytes(pem))
        _write_key(directory / f"{station_id}.key", key)
    return Pki(directory / "ca.crt", directory / "server.crt", directory / "server.key", directory)


__all__ = ["Pki", "client_context", "make_pki", "peer_common_name", "server_context"]
