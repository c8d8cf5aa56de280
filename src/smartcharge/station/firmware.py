"""The emulated station's firmware agent: signed firmware updates (OCPP 2.0.1 L01-L04; 1.6
SignedUpdateFirmware; SEC-D-3, SEC-S-4; ETSI EN 303 645 5.3-2, 5.3-5, 5.3-9).

An image is installed only when its signing certificate chains to an installed
ManufacturerRootCertificate and its signature (ECDSA or RSA, SHA-256, base64) verifies over the
exact bytes downloaded. Every step is reported with FirmwareStatusNotification: Downloading,
Downloaded, SignatureVerified, Installing, InstallRebooting, then Installed after the reboot; on a
bad signature InvalidSignature and an ``InvalidFirmwareSignature`` security event, on a download
error DownloadFailed, on an untrusted signing certificate the UpdateFirmware answer is
InvalidCertificate with an ``InvalidFirmwareSigningCertificate`` event (L01.FR.02). In every
failure the running firmware stays as it was.

The image is a small JSON document ``{"firmwareVersion": ..., "payload": ...}``: "installing" it
means running that version from the next boot on.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import ssl
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from smartcharge.ocpp.security_ports import FirmwareRequest
from smartcharge.station.certificates import chains_to

logger = logging.getLogger(__name__)

#: Largest image the station downloads (an emulated image is a few hundred bytes).
MAX_IMAGE_BYTES = 16 * 1024 * 1024
DOWNLOAD_TIMEOUT_S = 30.0
Notify = Callable[[str, int | None], Awaitable[None]]


def verify_signature(image: bytes, signature_b64: str, certificate: x509.Certificate) -> bool:
    """True if ``signature_b64`` is the signing key's signature of ``image`` (SHA-256)."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    key = certificate.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, image, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, image, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def image_version(image: bytes) -> str | None:
    try:
        document = json.loads(image)
    except (ValueError, UnicodeDecodeError):
        return None
    version = document.get("firmwareVersion") if isinstance(document, dict) else None
    return version if isinstance(version, str) and 0 < len(version) <= 50 else None


def download(location: str, context: ssl.SSLContext | None) -> bytes:
    """GET the image over HTTPS (the server checked against the station's CSMS roots)."""
    url = urlparse(location)
    if url.scheme != "https":
        raise ValueError(f"firmware location scheme {url.scheme!r} refused: only https")
    with urllib.request.urlopen(location, timeout=DOWNLOAD_TIMEOUT_S, context=context) as response:  # noqa: S310
        data = response.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"firmware image larger than {MAX_IMAGE_BYTES} bytes")
    return bytes(data)


@dataclass
class FirmwareAgent:
    """Checks, downloads and installs signed images; keeps the running version."""

    version: str | None = None
    pending_version: str | None = None
    pending_request: int | None = None
    statuses: list[str] | None = None  # every status reported (tests and the operator read it)

    def check_signing_certificate(self, pem: str | None, roots: list[x509.Certificate]) -> str | None:
        """L01.FR.02: None if the signing certificate chains to a manufacturer root, else why not."""
        if pem is None:
            return "no signing certificate given"
        try:
            chain = x509.load_pem_x509_certificates(pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            return "signingCertificate is not PEM"
        if not chains_to(chain, roots):
            return "signing certificate does not chain to an installed ManufacturerRootCertificate"
        return None

    async def update(
        self,
        request: FirmwareRequest,
        notify: Notify,
        context: ssl.SSLContext | None,
        security_event: Callable[[str, str], None],
        reboot: Callable[[], None],
    ) -> None:
        """Download, verify and install; ``reboot`` afterwards. Nothing changes on any failure."""
        self.statuses = self.statuses if self.statuses is not None else []

        async def report(status: str) -> None:
            self.statuses.append(status)  # type: ignore[union-attr]
            await notify(status, request.request_id)

        await report("Downloading")
        try:
            image = await asyncio.to_thread(download, request.location, context)
        except (OSError, ValueError) as error:
            logger.warning("firmware download from %s failed: %s", request.location, error)
            await report("DownloadFailed")
            return
        await report("Downloaded")
        assert request.signing_certificate is not None  # checked when UpdateFirmware arrived
        certificate = x509.load_pem_x509_certificates(request.signing_certificate.encode("ascii"))[0]
        if request.signature is None or not verify_signature(image, request.signature, certificate):
            security_event(
                "InvalidFirmwareSignature",
                f"request {request.request_id}: signature does not match the image",
            )
            await report("InvalidSignature")
            return
        await report("SignatureVerified")
        version = image_version(image)
        await report("Installing")
        if version is None:
            await report("InstallationFailed")
            return
        self.pending_version, self.pending_request = version, request.request_id
        await report("InstallRebooting")
        reboot()

    async def after_boot(self, notify: Notify, security_event: Callable[[str, str], None]) -> None:
        """First link after the reboot: the new version runs; report Installed (L01.FR.?)."""
        if self.pending_version is None:
            return
        self.version, request_id = self.pending_version, self.pending_request
        self.pending_version = self.pending_request = None
        security_event("FirmwareUpdated", f"now running {self.version}")
        if self.statuses is not None:
            self.statuses.append("Installed")
        await notify("Installed", request_id)


__all__ = ["MAX_IMAGE_BYTES", "FirmwareAgent", "download", "image_version", "verify_signature"]
