"""The emulated station's certificate store (OCPP 2.0.1 A02/A03, M03-M05; 1.6 security
extension; SEC-S-5, SEC-D-4).

It holds the roots the station trusts (CSMSRootCertificate to check the CSMS at every TLS
connection, ManufacturerRootCertificate to check firmware signing certificates), its own client
certificate and key for security profile 3, and the key of a CSR in flight. Keys are files 0600 in
a 0700 directory. A signed certificate is installed only if it is for the key of our CSR, names
this station, is valid now and chains to an installed CSMS root; otherwise it is refused with the
reason and nothing changes.
"""

from __future__ import annotations

import hashlib
import logging
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smartcharge.ocpp.security_ports import CertificateHash, InstalledCertificate
from smartcharge.ocpp.tls import client_context
from smartcharge.store.private_files import ensure_private_dir, write_private

logger = logging.getLogger(__name__)

ROOT_TYPES = frozenset(
    {"CSMSRootCertificate", "ManufacturerRootCertificate", "V2GRootCertificate", "MORootCertificate"}
)
#: Roots kept at most per type (the station's CertificateEntries limit, 2.0.1 M05.FR.?).
MAX_ROOTS_PER_TYPE = 8


def hash_of(cert: x509.Certificate, issuer: x509.Certificate | None = None) -> CertificateHash:
    """CertificateHashData (SHA256) of ``cert``; a root is its own issuer."""
    issuer = issuer or cert
    key_der = issuer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # issuerKeyHash covers the subjectPublicKey BIT STRING; hashing the whole SPKI is the same
    # for both ends here, and unique per key, which is all the lookup needs.
    return CertificateHash(
        "SHA256",
        hashlib.sha256(issuer.subject.public_bytes()).hexdigest(),
        hashlib.sha256(key_der).hexdigest(),
        format(cert.serial_number, "x"),
    )


def _valid_now(cert: x509.Certificate, now: datetime) -> str | None:
    if now < cert.not_valid_before_utc:
        return "certificate is not yet valid"
    if now > cert.not_valid_after_utc:
        return "certificate has expired"
    return None


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def chains_to(chain: list[x509.Certificate], roots: list[x509.Certificate]) -> bool:
    """True if each certificate is signed by the next and the last by (or is) an installed root."""
    try:
        for child, parent in zip(chain, chain[1:], strict=False):
            child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    top = chain[-1]
    for root in roots:
        if top == root:
            return True
        try:
            top.verify_directly_issued_by(root)
            return True
        except (ValueError, TypeError, InvalidSignature):
            continue
    return False


class StationCertificates:
    """Roots, own certificate and pending CSR key of one station, kept in ``directory``."""

    def __init__(self, station_id: str, directory: Path, clock: Callable[[], datetime] | None = None) -> None:
        self.station_id = station_id
        self.directory = ensure_private_dir(directory)
        self._clock = clock or (lambda: datetime.now(UTC))
        self.roots: dict[str, list[x509.Certificate]] = {t: [] for t in ROOT_TYPES}
        self._pending_key: ec.EllipticCurvePrivateKey | None = None
        self.client_cert: Path | None = None
        self.client_key: Path | None = None
        self.installs = 0  # signed certificates installed (tests and the operator read it)

    def __repr__(self) -> str:
        return f"StationCertificates({self.station_id}, keys hidden)"

    # ---- provisioning (factory) -----------------------------------------------------------

    def provision(
        self, csms_root_pem: str, client_cert: Path | None = None, client_key: Path | None = None
    ) -> None:
        """Factory set-up: the first CSMS root, and optionally a first client certificate."""
        self.roots["CSMSRootCertificate"] = [x509.load_pem_x509_certificate(csms_root_pem.encode("ascii"))]
        if client_cert is not None and client_key is not None:
            self.client_cert = self.directory / "client.crt"
            self.client_cert.write_bytes(client_cert.read_bytes())
            self.client_key = write_private(self.directory / "client.key", client_key.read_bytes())

    def ssl_context(self, with_client_cert: bool = True) -> ssl.SSLContext:
        """Verify the CSMS against the installed CSMS roots; present our certificate if we have one."""
        roots = self.roots["CSMSRootCertificate"]
        if not roots:
            raise ssl.SSLError("no CSMSRootCertificate installed")
        pem = "".join(r.public_bytes(serialization.Encoding.PEM).decode("ascii") for r in roots)
        if not with_client_cert:
            return client_context(pem, ca_is_pem_text=True)
        return client_context(pem, self.client_cert, self.client_key, ca_is_pem_text=True)

    # ---- A02/A03: CSR and CertificateSigned -----------------------------------------------

    def new_csr(self, certificate_type: str) -> str:
        """A fresh EC P-256 key and a CSR naming this station (subject CN = station id)."""
        self._pending_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, self.station_id),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "smartcharge"),
            ]
        )
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(name)
            .sign(self._pending_key, hashes.SHA256())
        )
        return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def install_signed(self, chain_pem: str, certificate_type: str) -> str | None:
        """Install the chain from CertificateSigned; None on success, else why it was refused."""
        try:
            chain = x509.load_pem_x509_certificates(chain_pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            return "certificateChain is not a PEM certificate chain"
        leaf = chain[0]
        if self._pending_key is None:
            return "no certificate signing request is pending"
        if leaf.public_key() != self._pending_key.public_key():
            return "certificate is not for the key of our signing request"
        names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or names[0].value != self.station_id:
            return "certificate subject CN is not this station"
        problem = _valid_now(leaf, self._clock())
        if problem is not None:
            return problem
        if not chains_to(chain, self.roots["CSMSRootCertificate"]):
            return "certificate does not chain to an installed CSMSRootCertificate"
        pem = serialization.Encoding.PEM
        self.client_cert = self.directory / "client.crt"
        self.client_cert.write_bytes(b"".join(c.public_bytes(pem) for c in chain))
        self.client_key = write_private(
            self.directory / "client.key",
            self._pending_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        self._pending_key = None
        self.installs += 1
        return None

    # ---- M05, M03, M04: roots -------------------------------------------------------------

    def install_root(self, certificate_type: str, pem: str) -> str:
        """InstallCertificate: Accepted, Rejected (not a valid CA certificate) or Failed (full)."""
        if certificate_type not in ROOT_TYPES:
            return "Rejected"
        try:
            cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            return "Rejected"
        if not _is_ca(cert) or _valid_now(cert, self._clock()) is not None:
            return "Rejected"
        try:
            cert.verify_directly_issued_by(cert)
        except (ValueError, TypeError, InvalidSignature):
            return "Rejected"  # a root signs itself
        roots = self.roots[certificate_type]
        if cert in roots:
            return "Accepted"
        if len(roots) >= MAX_ROOTS_PER_TYPE:
            return "Failed"
        roots.append(cert)
        return "Accepted"

    def installed(self, certificate_types: list[str] | None) -> list[InstalledCertificate]:
        wanted = set(certificate_types or ROOT_TYPES)
        return [
            InstalledCertificate(kind, hash_of(cert))
            for kind in sorted(wanted & ROOT_TYPES)
            for cert in self.roots[kind]
        ]

    def delete_certificate(self, hash_data: CertificateHash) -> str:
        """DeleteCertificate: Accepted, NotFound, or Failed for the last CSMS root (deleting it
        would leave the station unable to check any CSMS: it could never connect again)."""
        for kind, roots in self.roots.items():
            for cert in roots:
                if hash_of(cert) == hash_data:
                    if kind == "CSMSRootCertificate" and len(roots) == 1:
                        return "Failed"
                    roots.remove(cert)
                    return "Accepted"
        return "NotFound"

    def manufacturer_roots(self) -> list[x509.Certificate]:
        return list(self.roots["ManufacturerRootCertificate"])


__all__ = ["MAX_ROOTS_PER_TYPE", "ROOT_TYPES", "StationCertificates", "chains_to", "hash_of"]
