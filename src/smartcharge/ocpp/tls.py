"""TLS for OCPP security profiles 2 and 3 (SEC-S-1, SEC-S-3): TLS 1.2 and 1.3 only.

The CSMS side offers what OCPP 2.0.1 part 2 (A00.FR.318-320, and the OCTT's TC_086 check) asks of
a CSMS: TLS 1.2 with TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
TLS_RSA_WITH_AES_128_GCM_SHA256 and TLS_RSA_WITH_AES_256_GCM_SHA384 (plus their ECDHE_RSA forms,
which add forward secrecy for RSA stations), and TLS 1.3's own suites. The ECDSA suites need an EC
server certificate and the RSA suites an RSA one, so :func:`server_context` loads both chains into
one context; OpenSSL picks the chain that matches the suite the station offers.

:func:`make_pki` issues a small EC P-256 CA, an EC and an RSA-2048 server certificate and one client
certificate per station (subject CN = station id, as profile 3 requires), for tests and demos.
Keys are written with mode 0600 into the directory given; nothing is generated into the source tree.
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
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: TLS 1.2 suites of OCPP 2.0.1 part 2 for the CSMS (OpenSSL names), ECDSA first.
OCPP_TLS12_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "AES128-GCM-SHA256",  # TLS_RSA_WITH_AES_128_GCM_SHA256
    "AES256-GCM-SHA384",  # TLS_RSA_WITH_AES_256_GCM_SHA384
)


def _versions(context: ssl.SSLContext) -> None:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_3
    context.options |= ssl.OP_NO_COMPRESSION


def server_context(
    cert: Path,
    key: Path,
    client_ca: Path | None,
    extra_chains: tuple[tuple[Path, Path], ...] = (),
) -> ssl.SSLContext:
    """Server side: TLS 1.2-1.3, the OCPP suites; ``cert`` and every ``extra_chains`` entry loaded
    side by side (one EC and one RSA chain serve both suite families). With ``client_ca`` a client
    certificate is checked when offered (profile 3) and optional otherwise (profile 2, same port)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _versions(context)
    context.set_ciphers(":".join(OCPP_TLS12_CIPHERS))
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    context.load_cert_chain(cert, key)
    for chain, chain_key in extra_chains:
        context.load_cert_chain(chain, chain_key)
    if client_ca is not None:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def client_context(
    ca: Path | str, cert: Path | None = None, key: Path | None = None, *, ca_is_pem_text: bool = False
) -> ssl.SSLContext:
    """Station side: verify the CSMS against ``ca`` (its installed CSMSRootCertificate; a file, or
    PEM text with ``ca_is_pem_text``); present ``cert`` for profile 3. TLS 1.2-1.3 only."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _versions(context)
    if ca_is_pem_text:
        context.load_verify_locations(cadata=str(ca))
    else:
        context.load_verify_locations(ca)
    if cert is not None and key is not None:
        context.load_cert_chain(cert, key)
    return context


def describe_tls_failure(error: BaseException) -> tuple[str, str]:
    """(OCPP security event type, reason) for a refused TLS handshake (SEC-S-6 event names)."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return "InvalidChargingStationCertificate", f"client certificate refused: {error.verify_message}"
    reason = getattr(error, "reason", None) or type(error).__name__
    text = str(reason).upper()
    if "CERTIFICATE" in text or "UNKNOWN_CA" in text:
        return "InvalidChargingStationCertificate", f"client certificate refused: {reason}"
    if "VERSION" in text or "PROTOCOL" in text:
        return "InvalidTLSVersion", f"TLS version refused: {reason}"
    if "CIPHER" in text:
        return "InvalidTLSCipherSuite", f"no OCPP cipher suite offered: {reason}"
    return "TLSHandshakeFailed", f"TLS handshake failed: {reason}"


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

    @property
    def rsa_chain(self) -> tuple[Path, Path]:
        """The RSA-2048 server certificate and key issued next to the EC one."""
        return self.directory / "server-rsa.crt", self.directory / "server-rsa.key"

    def client(self, station_id: str) -> tuple[Path, Path]:
        return self.directory / f"{station_id}.crt", self.directory / f"{station_id}.key"


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _issue(
    subject_cn: str,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey] | None,
    usage: x509.ObjectIdentifier | None,
    days: int,
    use_rsa: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey]:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
        rsa.generate_private_key(65537, 2048) if use_rsa else ec.generate_private_key(ec.SECP256R1())
    )
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
    rsa_cert, rsa_key = _issue(
        "localhost", (ca_cert.subject, ca_key), ExtendedKeyUsageOID.SERVER_AUTH, days, use_rsa=True
    )
    (directory / "server-rsa.crt").write_bytes(rsa_cert.public_bytes(pem))
    _write_key(directory / "server-rsa.key", rsa_key)
    for station_id in station_ids:
        cert, key = _issue(station_id, (ca_cert.subject, ca_key), ExtendedKeyUsageOID.CLIENT_AUTH, days)
        (directory / f"{station_id}.crt").write_bytes(cert.public_bytes(pem))
        _write_key(directory / f"{station_id}.key", key)
    return Pki(directory / "ca.crt", directory / "server.crt", directory / "server.key", directory)


__all__ = [
    "OCPP_TLS12_CIPHERS",
    "Pki",
    "client_context",
    "describe_tls_failure",
    "make_pki",
    "peer_common_name",
    "server_context",
]
