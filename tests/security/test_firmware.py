"""Signed firmware over real TLS (OCPP 2.0.1 L01; SEC-D-3, SEC-S-4; ETSI EN 303 645 5.3): the CEM
publishes a signed image on its HTTPS endpoint, the station downloads it, checks the signing
certificate and the signature, reports each step, installs and reboots into the new version. A
tampered image or an untrusted signing certificate changes nothing and is reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from security.conftest import Rig
from sqlalchemy import select

from interface_b_harness import wait_for
from smartcharge.cem.ca import CertificateAuthority
from smartcharge.cem.firmware import PublishedImage, publish
from smartcharge.store.models import Station

pytestmark = pytest.mark.integration

HAPPY_STEPS = [
    "Downloading",
    "Downloaded",
    "SignatureVerified",
    "Installing",
    "InstallRebooting",
    "Installed",
]


def _cem_statuses(rig: Rig) -> list[str]:
    return [status for station, status, _ in rig.cem.gateway.security.firmware_status if station == "P3"]


async def _maker(rig: Rig, tmp_path: Path, install: bool = True) -> tuple[Path, Path]:
    maker = CertificateAuthority.create(tmp_path / "maker", name="manufacturer root")
    if install:
        link = rig.cem.gateway.stations["P3"].link
        assert await link.install_certificate("ManufacturerRootCertificate", maker.cert_pem) == "Accepted"  # type: ignore[union-attr]
    return maker.write_issued(maker.issue("firmware signer"), tmp_path / "signer", "signer")


def _booted_version(rig: Rig) -> str | None:
    with rig.cem.store.engine.connect() as conn:
        return conn.scalar(select(Station.firmware_version).where(Station.station_id == "P3"))


def _image(tmp_path: Path, version: str) -> Path:
    path = tmp_path / f"scp-{version}.img"
    path.write_text(json.dumps({"firmwareVersion": version, "payload": "emulated image"}), encoding="utf-8")
    return path


def _publish(rig: Rig, tmp_path: Path, signer: tuple[Path, Path], version: str) -> PublishedImage:
    return publish(
        _image(tmp_path, version), signer[1], signer[0], rig.cem.gateway.security.files.firmware_dir
    )


async def test_signed_image_is_installed_with_every_status_step(rig: Rig, tmp_path: Path) -> None:
    signer = await _maker(rig, tmp_path)
    image = _publish(rig, tmp_path, signer, "0.2.0")
    request_id, status = await rig.cem.gateway.security.update_firmware("P3", image)
    assert status == "Accepted"
    await wait_for(lambda: "Installed" in _cem_statuses(rig), what="Installed reported")
    assert _cem_statuses(rig) == HAPPY_STEPS
    assert all(r == request_id for s, _, r in rig.cem.gateway.security.firmware_status if s == "P3")
    await wait_for(lambda: rig.station.runner.boots == 2, what="rebooted")
    await wait_for(lambda: _booted_version(rig) == "0.2.0", what="new version in BootNotification")
    await wait_for(lambda: rig.cem.store.security.count("FirmwareUpdated") == 1, what="FirmwareUpdated event")


async def test_tampered_image_is_refused_old_firmware_kept(rig: Rig, tmp_path: Path) -> None:
    """The image on the server no longer matches its signature (its hash changed): the station
    reports InvalidSignature and an InvalidFirmwareSignature security event, keeps 0.1.0."""
    signer = await _maker(rig, tmp_path)
    image = _publish(rig, tmp_path, signer, "0.3.0")
    served = rig.cem.gateway.security.files.firmware_dir / image.name
    served.write_bytes(served.read_bytes().replace(b"emulated image", b"evil image!!!!"))
    _, status = await rig.cem.gateway.security.update_firmware("P3", image)
    assert status == "Accepted"
    await wait_for(lambda: "InvalidSignature" in _cem_statuses(rig), what="InvalidSignature reported")
    assert _cem_statuses(rig) == ["Downloading", "Downloaded", "InvalidSignature"]
    await wait_for(
        lambda: rig.cem.store.security.count("InvalidFirmwareSignature") == 1, what="security event"
    )
    assert rig.security.firmware_version("0.1.0") == "0.1.0" and rig.station.runner.boots == 1


async def test_untrusted_signing_certificate_is_refused_at_once(rig: Rig, tmp_path: Path) -> None:
    """L01.FR.02: a signing certificate that does not chain to an installed manufacturer root is
    refused in the UpdateFirmware answer (InvalidCertificate), reported, nothing downloaded."""
    signer = await _maker(rig, tmp_path, install=False)
    image = _publish(rig, tmp_path, signer, "0.4.0")
    _, status = await rig.cem.gateway.security.update_firmware("P3", image)
    assert status == "InvalidCertificate"
    await wait_for(
        lambda: rig.cem.store.security.count("InvalidFirmwareSigningCertificate") == 1, what="security event"
    )
    assert _cem_statuses(rig) == [] and rig.security.firmware_version("0.1.0") == "0.1.0"


def test_cli_signs_and_publishes_an_image(tmp_path: Path) -> None:
    """``smartcharge cem firmware`` signs and publishes; the signature verifies over the image;
    a key that is not the certificate's is refused with one line (exit 2), nothing published."""
    from cryptography import x509
    from typer.testing import CliRunner

    from smartcharge.cli.main import app
    from smartcharge.station.firmware import verify_signature

    maker = CertificateAuthority.create(tmp_path / "maker")
    cert, key = maker.write_issued(maker.issue("signer"), tmp_path / "signer", "signer")
    image = _image(tmp_path, "1.0.0")
    data = tmp_path / "data"
    runner = CliRunner()
    args = ["cem", "firmware", "--image", str(image), "--signing-key", str(key), "--signing-cert", str(cert)]
    result = runner.invoke(app, [*args, "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    published = data / "firmware" / out["name"]
    assert published.read_bytes() == image.read_bytes()
    signer_cert = x509.load_pem_x509_certificate(cert.read_bytes())
    assert verify_signature(published.read_bytes(), out["signature"], signer_cert)
    _, other_key = maker.write_issued(maker.issue("other"), tmp_path / "other", "other")
    bad = runner.invoke(
        app,
        [
            "cem",
            "firmware",
            "--image",
            str(image),
            "--signing-key",
            str(other_key),
            "--signing-cert",
            str(cert),
            "--name",
            "second.img",
            "--data-dir",
            str(data),
        ],
    )
    assert bad.exit_code == 2
    assert "is not the certificate of the signing key" in bad.output
    assert not (data / "firmware" / "second.img").exists()
