"""Certificate management over real TLS websockets (OCPP 2.0.1 A02/A03, M03-M05; SEC-S-5):
renewal through TriggerMessage -> SignCertificate -> CertificateSigned, the station reconnecting
with its new certificate, and every bad certificate or CSR refused, reported, nothing installed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.v201 import call
from security.conftest import Rig

from interface_b_harness import CemHandle, wait_for
from smartcharge.cem.ca import CertificateAuthority
from smartcharge.ocpp.domain import OcppVersion
from smartcharge.station.certificates import hash_of

pytestmark = pytest.mark.integration


def _invalid_cert_event(version: OcppVersion) -> str:
    """The security event's name: 1.6's security extension calls the station a charge point."""
    return (
        "InvalidChargePointCertificate" if version is OcppVersion.V16 else "InvalidChargingStationCertificate"
    )


def _serial_seen_by_cem(cem: CemHandle, station_id: str) -> int:
    session = cem.server.sessions[station_id]
    der = session._connection.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
    return int(x509.load_der_x509_certificate(der).serial_number)


def _serial_of(path: Path) -> int:
    return int(x509.load_pem_x509_certificates(path.read_bytes())[0].serial_number)


async def test_renewal_installs_the_new_certificate_and_reconnects_with_it(rig: Rig) -> None:
    """A02: the CEM triggers a renewal; the station's CSR is checked and signed by the CEM's CA,
    the station installs the certificate and its next TLS connection presents it."""
    first = _serial_seen_by_cem(rig.cem, "P3")
    assert first == _serial_of(rig.security.certificates.client_cert)  # type: ignore[arg-type]
    assert await rig.cem.gateway.security.renew_certificate("P3") == "Accepted"
    await wait_for(lambda: rig.security.certificates.installs == 1, what="new certificate installed")
    await wait_for(lambda: rig.station.runner.boots == 2, what="reconnected")
    await wait_for(lambda: "P3" in rig.cem.server.sessions, what="session")
    renewed = _serial_of(rig.security.certificates.client_cert)  # type: ignore[arg-type]
    assert renewed != first and _serial_seen_by_cem(rig.cem, "P3") == renewed
    await wait_for(lambda: rig.cem.store.security.count("CertificateIssued") == 1, what="issue logged")


async def test_csr_that_does_not_name_the_station_is_refused(rig: Rig) -> None:
    """A CSR whose subject CN is another station: SignCertificate Rejected with the reason,
    logged, nothing signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SOMEONE-ELSE")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    pem = csr.public_bytes(serialization.Encoding.PEM).decode("ascii")
    session = rig.station.runner.session
    assert session is not None
    result = await session.call(call.SignCertificate(csr=pem, certificate_type="ChargingStationCertificate"))
    assert result.status == "Rejected"
    assert "csr.subject.CN" in result.status_info["additional_info"]
    await wait_for(lambda: rig.cem.store.security.count("InvalidCsr") == 1, what="refusal logged")
    (event,) = [e for e in rig.cem.store.security.recent(10) if e.event_type == "InvalidCsr"]
    assert "must be the station's identity 'P3'" in event.detail
    assert rig.cem.gateway.security.signed == []


async def test_certificate_from_an_unknown_ca_is_refused_and_reported(
    rig: Rig, tmp_path: Path, version: OcppVersion
) -> None:
    """CertificateSigned with a chain from a CA the station does not trust: Rejected, an
    InvalidChargingStationCertificate security event reaches the CEM, the old certificate stays."""
    before = rig.security.certificates.client_cert.read_bytes()  # type: ignore[union-attr]
    csr = x509.load_pem_x509_csr(rig.security.new_csr("ChargingStationCertificate").encode())
    foreign = CertificateAuthority.create(tmp_path / "foreign", name="foreign CA")
    link = rig.cem.gateway.stations["P3"].link
    assert await link.certificate_signed(foreign.sign(csr, "P3")) == "Rejected"  # type: ignore[union-attr]
    await wait_for(
        lambda: rig.cem.store.security.count(_invalid_cert_event(version)) == 1,
        what="event at the CEM",
    )
    (event,) = [e for e in rig.cem.store.security.recent(10) if e.event_type == _invalid_cert_event(version)]
    assert "does not chain to an installed CSMSRootCertificate" in event.detail
    assert rig.security.certificates.client_cert.read_bytes() == before  # type: ignore[union-attr]
    assert rig.security.certificates.installs == 0


async def test_expired_certificate_is_refused_and_reported(rig: Rig, version: OcppVersion) -> None:
    csr = x509.load_pem_x509_csr(rig.security.new_csr("ChargingStationCertificate").encode())
    expired = rig.pki.ca.sign(csr, "P3", days=1, not_before=datetime.now(UTC) - timedelta(days=5))
    link = rig.cem.gateway.stations["P3"].link
    assert await link.certificate_signed(expired) == "Rejected"  # type: ignore[union-attr]
    await wait_for(
        lambda: rig.cem.store.security.count(_invalid_cert_event(version)) == 1,
        what="event at the CEM",
    )
    (event,) = [e for e in rig.cem.store.security.recent(10) if e.event_type == _invalid_cert_event(version)]
    assert event.detail == "certificate has expired"
    assert rig.security.certificates.installs == 0


async def test_install_list_and_delete_roots(rig: Rig, tmp_path: Path) -> None:
    """M05 InstallCertificate (CSMS and manufacturer roots), M03 GetInstalledCertificateIds, M04
    DeleteCertificate; a leaf is no root, and the last CSMS root cannot be deleted."""
    link = rig.cem.gateway.stations["P3"].link
    maker = CertificateAuthority.create(tmp_path / "maker", name="manufacturer root")
    assert await link.install_certificate("ManufacturerRootCertificate", maker.cert_pem) == "Accepted"  # type: ignore[union-attr]
    leaf = maker.issue("not-a-ca").cert_pem
    assert await link.install_certificate("CSMSRootCertificate", leaf) == "Rejected"  # type: ignore[union-attr]
    status, found = await link.get_installed_certificate_ids()  # type: ignore[union-attr]
    assert status == "Accepted"
    assert {(c.certificate_type, c.hash) for c in found} == {
        ("CSMSRootCertificate", hash_of(rig.pki.ca.cert)),
        ("ManufacturerRootCertificate", hash_of(maker.cert)),
    }
    assert await link.delete_certificate(hash_of(maker.cert)) == "Accepted"  # type: ignore[union-attr]
    status, found = await link.get_installed_certificate_ids(["ManufacturerRootCertificate"])  # type: ignore[union-attr]
    assert status == "NotFound" and found == []
    assert await link.delete_certificate(hash_of(rig.pki.ca.cert)) == "Failed"  # type: ignore[union-attr]
    assert await link.delete_certificate(hash_of(maker.cert)) == "NotFound"  # type: ignore[union-attr]
