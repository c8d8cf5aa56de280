"""Signing and publishing firmware images (OCPP 2.0.1 L01, 1.6 SignedUpdateFirmware; SEC-D-3,
SEC-S-4). ``smartcharge cem firmware`` signs an image with a firmware-signing key, copies it into
the CEM's published directory (served over HTTPS by :mod:`smartcharge.cem.file_server`) and writes
the signature and signing certificate next to it, so an UpdateFirmware can be built from them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from smartcharge.core.errors import ValidationError
from smartcharge.store.private_files import ensure_private_dir

IMAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def sign_image(image: bytes, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    """Base64 signature of ``image`` with SHA-256 (ECDSA, or RSA PKCS#1 v1.5)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(image, ec.ECDSA(hashes.SHA256()))
    else:
        signature = key.sign(image, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


@dataclass(frozen=True, slots=True)
class PublishedImage:
    name: str
    sha256: str
    signature: str
    signing_certificate: str

    def location(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/firmware/{self.name}"


def publish(
    image_path: Path, key_path: Path, cert_path: Path, directory: Path, name: str | None = None
) -> PublishedImage:
    """Sign ``image_path`` and publish it in ``directory`` as ``name`` (+ ``name.json`` manifest)."""
    name = name or image_path.name
    if not IMAGE_NAME.match(name):
        raise ValidationError("name", name, "1-100 characters of A-Z a-z 0-9 . _ - (a file name, no path)")
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValidationError("key", key_path.name, "a firmware-signing key is EC or RSA")
    cert_pem = cert_path.read_text(encoding="ascii")
    leaf = x509.load_pem_x509_certificates(cert_pem.encode("ascii"))[0]
    if leaf.public_key() != key.public_key():
        raise ValidationError("cert", cert_path.name, "is not the certificate of the signing key")
    image = image_path.read_bytes()
    published = PublishedImage(name, hashlib.sha256(image).hexdigest(), sign_image(image, key), cert_pem)
    ensure_private_dir(directory)
    shutil.copyfile(image_path, directory / name)
    manifest = {
        "name": name,
        "sha256": published.sha256,
        "signature": published.signature,
        "signingCertificate": published.signing_certificate,
    }
    (directory / f"{name}.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return published


def load_published(directory: Path, name: str) -> PublishedImage:
    if not IMAGE_NAME.match(name):
        raise ValidationError("name", name, "not a published image name")
    manifest = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
    return PublishedImage(
        manifest["name"], manifest["sha256"], manifest["signature"], manifest["signingCertificate"]
    )


__all__ = ["IMAGE_NAME", "PublishedImage", "load_published", "publish", "sign_image"]
