"""The CEM's certificate authority: signs station CSRs (OCPP 2.0.1 A02/A03, 1.6 security
extension SignCertificate; SEC-S-5) and issues the CEM's own server certificates.

The CA key lives 0600 in a 0700 directory (SEC-D-4) and is never logged or shown in a repr. A CSR
is refused with a one-line reason unless it is well formed, its self-signature verifies, its
subject CN is the station that sent it (A02.FR.?; OCPP 2.0.1 part 2 "the CSMS SHALL verify ... the
CN equals the charging station's identity"), and its key is EC >= 256 bits or RSA >= 2048 bits.
An external CA plugs in through :class:`CsrSigner` (for example :class:`CommandSigner`, which runs
a configured command with the CSR on stdin and reads the PEM chain from stdout).
"""

from __future__ import annotations

import ipaddress
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from smartcharge.core.errors import ValidationError
from smartcharge.store.private_files import ensure_private_dir, write_private

#: Smallest keys accepted in a CSR (OCPP 2.0.1 part 2 A00.FR.306-307 key sizes; TC_086 checks).
MIN_EC_BITS = 256
MIN_RSA_BITS = 2048
#: Validity of a signed station certificate.
STATION_CERT_DAYS = 365
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def check_csr(csr_pem: str, station_id: str) -> x509.CertificateSigningRequest:
    """The parsed CSR, or a ValidationError naming the rule it breaks."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValidationError("csr", "<pem>", "is not a PEM certificate signing request") from None
    if not csr.is_signature_valid:
        raise ValidationError("csr", "<pem>", "its signature does not verify")
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    cn = str(names[0].value) if names else None
    if cn != station_id:
        raise ValidationError("csr.subject.CN", cn, f"must be the station's identity {station_id!r}")
    key = csr.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.key_size < MIN_EC_BITS:
            raise ValidationError("csr.key", key.key_size, f"EC keys need at least {MIN_EC_BITS} bits")
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValidationError("csr.key", key.key_size, f"RSA keys need at least {MIN_RSA_BITS} bits")
    else:
        raise ValidationError("csr.key", type(key).__name__, "must be EC or RSA")
    return csr


class CsrSigner(Protocol):
    """Whatever signs a station's checked CSR: the CEM's own CA or an external one."""

    def sign(self, csr: x509.CertificateSigningRequest, station_id: str) -> str:
        """The PEM certificate chain (leaf first) for ``csr``."""
        ...


@dataclass(frozen=True, slots=True)
class Issued:
    cert_pem: str
    key_pem: bytes


class CertificateAuthority:
    """A small EC P-256 CA kept in ``directory`` (ca.crt, ca.key 0600)."""

    CERT_FILE = "ca.crt"
    KEY_FILE = "ca.key"

    def __init__(self, cert: x509.Certificate, key: PrivateKey, directory: Path | None = None) -> None:
        self.cert = cert
        self._key = key
        self.directory = directory

    def __repr__(self) -> str:  # the key is never shown
        return f"CertificateAuthority({self.cert.subject.rfc4514_string()}, key hidden)"

    @property
    def cert_pem(self) -> str:
        return _pem(self.cert)

    @classmethod
    def create(
        cls, directory: Path, name: str = "smartcharge CEM CA", days: int = 3650
    ) -> CertificateAuthority:
        ensure_private_dir(directory)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .sign(key, hashes.SHA256())
        )
        (directory / cls.CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        write_private(
            directory / cls.KEY_FILE,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        return cls(cert, key, directory)

    @classmethod
    def load_or_create(cls, directory: Path, name: str = "smartcharge CEM CA") -> CertificateAuthority:
        cert_file, key_file = directory / cls.CERT_FILE, directory / cls.KEY_FILE
        if not (cert_file.exists() and key_file.exists()):
            return cls.create(directory, name)
        if key_file.stat().st_mode & 0o077:
            key_file.chmod(0o600)
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
        return cls(x509.load_pem_x509_certificate(cert_file.read_bytes()), key, directory)

    def _builder(
        self, subject_cn: str, public_key: object, not_before: datetime, days: float
    ) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]))
            .issuer_name(self.cert.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_before + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )

    def sign(
        self,
        csr: x509.CertificateSigningRequest,
        station_id: str,
        days: float = STATION_CERT_DAYS,
        not_before: datetime | None = None,
    ) -> str:
        """Sign a checked CSR as a station (TLS client) certificate; PEM leaf then this CA."""
        start = not_before or datetime.now(UTC) - timedelta(minutes=5)
        cert = (
            self._builder(station_id, csr.public_key(), start, days)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return _pem(cert) + self.cert_pem

    def issue(
        self,
        subject_cn: str,
        server: bool = False,
        use_rsa: bool = False,
        days: float = 30,
        not_before: datetime | None = None,
    ) -> Issued:
        """A key and certificate (a server certificate for localhost, or a client one); an expired
        one with ``not_before`` in the past and a short ``days``."""
        key: PrivateKey = (
            rsa.generate_private_key(65537, 2048) if use_rsa else ec.generate_private_key(ec.SECP256R1())
        )
        start = not_before or datetime.now(UTC) - timedelta(minutes=5)
        builder = self._builder(subject_cn, key.public_key(), start, days)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        cert = builder.sign(self._key, hashes.SHA256())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return Issued(_pem(cert), key_pem)

    def write_issued(self, issued: Issued, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write a certificate (0644) and its key (0600) as ``stem.crt`` / ``stem.key``."""
        ensure_private_dir(directory)
        cert = directory / f"{stem}.crt"
        cert.write_text(issued.cert_pem, encoding="ascii")
        return cert, write_private(directory / f"{stem}.key", issued.key_pem)


class CommandSigner:
    """An external CA: ``command`` (with the station id as its last argument) gets the CSR (PEM)
    on stdin and prints the PEM chain, leaf first, on stdout.

    Its answer is checked before anything is sent to the station: the command must exit 0
    within ``timeout_s``, print PEM certificates, and the leaf must be for the CSR's key and name
    the station (CN). Any other outcome is a ValidationError naming the rule; the CEM logs it as
    a security event and sends nothing (``cem/security.py``)."""

    def __init__(self, command: list[str], timeout_s: float = 30.0) -> None:
        if not command:
            raise ValidationError("external CA", command, "give the signing command")
        self._command = command
        self._timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"CommandSigner({self._command[0]!r})"

    def sign(self, csr: x509.CertificateSigningRequest, station_id: str) -> str:
        try:
            done = subprocess.run(  # noqa: S603 - the operator configures this command
                [*self._command, station_id],
                input=csr.public_bytes(serialization.Encoding.PEM),
                capture_output=True,
                timeout=self._timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ValidationError(
                "external CA", self._timeout_s, "the signing command did not answer in time (s)"
            ) from None
        except OSError as error:
            raise ValidationError("external CA", self._command[0], f"cannot run: {error.strerror}") from None
        if done.returncode != 0:
            raise ValidationError("external CA", done.returncode, "the signing command failed")
        chain = done.stdout.decode("ascii", "replace")
        try:
            certificates = x509.load_pem_x509_certificates(chain.encode("ascii"))
        except ValueError:
            raise ValidationError(
                "external CA", "<output>", "did not print a PEM certificate chain"
            ) from None
        leaf = certificates[0]
        if leaf.public_key() != csr.public_key():
            raise ValidationError(
                "external CA", "<leaf>", "the certificate printed is not for this CSR's key"
            )
        names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or names[0].value != station_id:
            raise ValidationError(
                "external CA", names[0].value if names else None, f"the leaf must name {station_id!r}"
            )
        return chain


__all__ = ["CertificateAuthority", "CommandSigner", "CsrSigner", "Issued", "check_csr"]
