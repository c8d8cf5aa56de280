"""Blocks A, L, M and N through the operator API itself: a real CEM serving its HTTP API and its
OCPP TLS port (EC and RSA chains, its own CA), a real emulated station over mutual TLS
(profile 3), every CSMS-initiated message sent as ``POST /api/v1/stations/{id}/ocpp/{Action}``.
Also the external CA (``cem/ca.py::CommandSigner``), a real command in another process, and its
refusals: each one logged as a security event, nothing sent to the station, its old
certificate kept."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from security.conftest import SecurePki
from security.test_firmware import HAPPY_STEPS, _image
from web.support import WebCem, start_web_cem

from interface_b_harness import StationHandle, free_port, register, start_station, wait_for
from smartcharge.cem.ca import CertificateAuthority, CommandSigner
from smartcharge.cem.firmware import publish
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.domain import format_time
from smartcharge.station.security import StationSecurity

pytestmark = pytest.mark.integration


@dataclass
class WebRig:
    web: WebCem
    station: StationHandle
    security: StationSecurity
    pki: SecurePki
    token: str

    async def send(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        async with self.web.client(self.token) as op:
            answer = await op.post(f"/api/v1/stations/P3/ocpp/{action}", json=payload)
        assert answer.status_code == 200, answer.text
        assert answer.json()["outcome"] == "CallResult", answer.text
        return answer.json()["payload"]  # type: ignore[no-any-return]

    def security_events(self, kind: str) -> list[Any]:
        return [e for e in self.web.services.store.security.recent(200, "P3") if e.event_type == kind]


async def _rig(
    sqlite_url: str, pki: SecurePki, tmp_path: Path, ca_command: tuple[str, ...] | None = None
) -> WebRig:
    tls_port = free_port()
    web = await start_web_cem(
        sqlite_url,
        tls_port=tls_port,
        cert=pki.ec_chain[0],
        key=pki.ec_chain[1],
        client_ca=pki.ca_file,
        extra_chains=(pki.rsa_chain,),
        ca_dir=pki.ca_file.parent,
        files_port=free_port(),
        firmware_dir=tmp_path / "published",
        ca_command=ca_command,
    )
    register(web.services.store, "P3", profile=3)  # type: ignore[arg-type]
    station = start_station("P3", f"wss://localhost:{tls_port}/ocpp")
    security = StationSecurity(station.device, tmp_path / "station-P3")
    security.certificates.provision(pki.ca.cert_pem, *pki.client("P3"))
    station.device.security = security
    await wait_for(lambda: station.runner.connected.is_set(), what="P3 connected over mutual TLS")
    return WebRig(web, station, security, pki, await web.token("operator"))


@pytest.fixture
async def web_rig(sqlite_url: str, secure_pki: SecurePki, tmp_path: Path) -> AsyncIterator[WebRig]:
    rig = await _rig(sqlite_url, secure_pki, tmp_path)
    yield rig
    await rig.station.close()
    await rig.web.close()


def _serial(rig: WebRig) -> int:
    return x509.load_pem_x509_certificate(rig.security.certificates.client_cert.read_bytes()).serial_number  # type: ignore[union-attr]


async def test_a_certificate_renewal_through_http(web_rig: WebRig) -> None:
    """A02: TriggerMessage SignChargingStationCertificate -> SignCertificate -> CertificateSigned;
    the station installs it and reconnects with it."""
    before = _serial(web_rig)
    answer = await web_rig.send("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})
    assert answer == {"status": "Accepted"}
    await wait_for(lambda: web_rig.security.certificates.installs == 1, what="renewed certificate installed")
    assert _serial(web_rig) != before
    await wait_for(lambda: web_rig.station.runner.connected.is_set(), what="reconnected with it")
    await wait_for(lambda: web_rig.security_events("CertificateIssued"), what="issue logged")


async def test_m_install_list_and_delete_a_root_through_http(web_rig: WebRig, tmp_path: Path) -> None:
    maker = CertificateAuthority.create(tmp_path / "maker")
    install = {"certificateType": "ManufacturerRootCertificate", "certificate": maker.cert_pem}
    assert await web_rig.send("InstallCertificate", install) == {"status": "Accepted"}
    leaf = maker.issue("not a CA").cert_pem
    refused = await web_rig.send("InstallCertificate", {**install, "certificate": leaf})
    assert refused["status"] == "Rejected"  # M05: only a CA certificate is a root
    listed = await web_rig.send(
        "GetInstalledCertificateIds", {"certificateType": ["ManufacturerRootCertificate"]}
    )
    (entry,) = listed["certificateHashDataChain"]
    hash_data = entry["certificateHashData"]
    assert await web_rig.send("DeleteCertificate", {"certificateHashData": hash_data}) == {
        "status": "Accepted"
    }
    assert (await web_rig.send("DeleteCertificate", {"certificateHashData": hash_data}))[
        "status"
    ] == "NotFound"


async def test_l_signed_firmware_through_http(web_rig: WebRig, tmp_path: Path) -> None:
    maker = CertificateAuthority.create(tmp_path / "maker", name="manufacturer root")
    root = {"certificateType": "ManufacturerRootCertificate", "certificate": maker.cert_pem}
    assert await web_rig.send("InstallCertificate", root) == {"status": "Accepted"}
    cert, key = maker.write_issued(maker.issue("firmware signer"), tmp_path / "signer", "signer")
    files = web_rig.web.services.gateway.security.files
    image = publish(_image(tmp_path, "0.9.0"), key, cert, files.firmware_dir)
    firmware = {
        "location": image.location(files.base_url),
        "retrieveDateTime": format_time(datetime.now(UTC)),
        "signingCertificate": image.signing_certificate,
        "signature": image.signature,
    }
    assert await web_rig.send("UpdateFirmware", {"requestId": 61, "firmware": firmware}) == {
        "status": "Accepted"
    }
    statuses = web_rig.web.services.gateway.security.firmware_status
    await wait_for(lambda: [s for _, s, _ in statuses][-1:] == ["Installed"], 30, what="Installed")
    assert [s for _, s, _ in statuses] == HAPPY_STEPS
    untrusted = CertificateAuthority.create(tmp_path / "other").issue("someone").cert_pem
    refused = await web_rig.send(
        "UpdateFirmware", {"requestId": 62, "firmware": {**firmware, "signingCertificate": untrusted}}
    )
    assert refused["status"] == "InvalidCertificate"


async def test_n_log_upload_and_periodic_monitor_through_http(web_rig: WebRig) -> None:
    async with web_rig.web.client(web_rig.token) as op:
        handed = await op.post("/api/v1/stations/P3/upload-location", json={"request_id": 71})
    assert handed.status_code == 200, handed.text
    location = handed.json()["location"]
    log = {"log": {"remoteLocation": location}, "logType": "SecurityLog", "requestId": 71}
    assert (await web_rig.send("GetLog", log))["status"] == "Accepted"
    await wait_for(lambda: ("P3", "Uploaded", 71) in web_rig.web.services.gateway.log_status, what="uploaded")
    uploaded = web_rig.web.services.gateway.security.files.slots
    assert any(slot.received is not None and slot.request_id == 71 for slot in uploaded.values())
    monitor = {
        "value": 1,  # N08: every second, the tick of the station
        "type": "Periodic",
        "severity": 2,
        "component": {"name": "EVSE"},
        "variable": {"name": "Power"},
    }
    set_result = await web_rig.send("SetVariableMonitoring", {"setMonitoringData": [monitor]})
    assert set_result["setMonitoringResult"][0]["status"] == "Accepted"
    alerts = web_rig.web.services.gateway.security.alerts
    await wait_for(lambda: len(alerts) >= 3, what="three periodic NotifyEvents")
    assert {(a.trigger, a.component, a.variable, a.actual_value) for _, a in alerts} == {
        ("Periodic", "EVSE", "Power", "0")
    }
    monitor_id = set_result["setMonitoringResult"][0]["id"]
    cleared = await web_rig.send("ClearVariableMonitoring", {"id": [monitor_id]})
    assert cleared["clearMonitoringResult"] == [{"id": monitor_id, "status": "Accepted"}]
    ticked = web_rig.station.device.now_s
    await wait_for(lambda: web_rig.station.device.now_s >= ticked + 2, what="two more ticks")
    await wait_for(lambda: not web_rig.station.device.outbox, what="alerts queued before the clear sent")
    count = len(alerts)
    await wait_for(lambda: web_rig.station.device.now_s >= ticked + 4, what="two ticks after the count")
    assert len(alerts) == count  # cleared: no more reports


# ---- the external CA ----------------------------------------------------------------------------

_SIGNER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from cryptography import x509
    from smartcharge.cem.ca import CertificateAuthority

    mode, ca_dir, station_id = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    csr = x509.load_pem_x509_csr(sys.stdin.buffer.read())
    ca = CertificateAuthority.load_or_create(ca_dir)
    if mode == "fail":
        sys.exit(3)
    if mode == "garbage":
        print("no certificate here")
    elif mode == "foreign":
        print(ca.issue(station_id).cert_pem + ca.cert_pem)  # a certificate for another key
    elif mode == "slow":
        import time
        time.sleep(30)
    else:
        print(ca.sign(csr, station_id), end="")
    """
)


def _command(tmp_path: Path, mode: str, ca_dir: Path) -> list[str]:
    script = tmp_path / "external_ca.py"
    script.write_text(_SIGNER, encoding="utf-8")
    return [sys.executable, str(script), mode, str(ca_dir)]


def _csr(station_id: str) -> x509.CertificateSigningRequest:
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, station_id)])
    return x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())


def test_command_signer_signs_with_the_external_ca(secure_pki: SecurePki, tmp_path: Path) -> None:
    csr = _csr("P3")
    chain = CommandSigner(_command(tmp_path, "sign", secure_pki.ca_file.parent)).sign(csr, "P3")
    leaf, issuer = x509.load_pem_x509_certificates(chain.encode("ascii"))
    assert leaf.public_key() == csr.public_key() and issuer.subject == secure_pki.ca.cert.subject


@pytest.mark.parametrize(
    ("mode", "rule"),
    [
        ("fail", "the signing command failed"),
        ("garbage", "did not print a PEM certificate chain"),
        ("foreign", "not for this CSR's key"),
        ("slow", "did not answer in time"),
    ],
)
def test_command_signer_refusals(secure_pki: SecurePki, tmp_path: Path, mode: str, rule: str) -> None:
    signer = CommandSigner(_command(tmp_path, mode, secure_pki.ca_file.parent), timeout_s=3.0)
    with pytest.raises(ValidationError, match=rule):
        signer.sign(_csr("P3"), "P3")


def test_command_signer_refuses_a_leaf_for_another_station(secure_pki: SecurePki, tmp_path: Path) -> None:
    csr = _csr("P3")  # the CSR names P3 but the command is asked for P4: the leaf names P4's CSR CN
    signer = CommandSigner(_command(tmp_path, "sign", secure_pki.ca_file.parent))
    chain = signer.sign(csr, "P3")
    assert "BEGIN CERTIFICATE" in chain
    wrong = CommandSigner([sys.executable, "-c", f"import sys; sys.stdin.read(); print({chain!r})"])
    with pytest.raises(ValidationError, match="must name 'P4'"):
        wrong.sign(csr, "P4")
    with pytest.raises(ValidationError, match="cannot run"):
        CommandSigner([str(tmp_path / "no-such-command")]).sign(csr, "P3")


@pytest.mark.parametrize("mode", ["sign", "fail"])
async def test_renewal_through_an_external_ca(
    sqlite_url: str, secure_pki: SecurePki, tmp_path: Path, mode: str
) -> None:
    """The CEM configured with an external CA command: it signs the renewal; when it fails the
    refusal is a security event, nothing is sent and the station keeps its certificate."""
    rig = await _rig(
        sqlite_url, secure_pki, tmp_path, tuple(_command(tmp_path, mode, secure_pki.ca_file.parent))
    )
    try:
        before = _serial(rig)
        answer = await rig.send("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})
        assert answer == {"status": "Accepted"}
        if mode == "sign":
            await wait_for(lambda: rig.security.certificates.installs == 1, what="installed")
            assert _serial(rig) != before
        else:
            await wait_for(lambda: rig.security_events("CertificateSigningFailed"), what="refusal logged")
            (event,) = rig.security_events("CertificateSigningFailed")
            assert "the signing command failed" in event.detail
            assert rig.security.certificates.installs == 0 and _serial(rig) == before
    finally:
        await rig.station.close()
        await rig.web.close()


async def test_get_log_to_a_location_not_handed_out_is_refused_through_http(web_rig: WebRig) -> None:
    """N01 bad input through the raw endpoint: a foreign location, a forged one on the CEM's own
    endpoint, or one handed out for another station: 422 naming the field, nothing sent, logged."""
    files = web_rig.web.services.gateway.security.files
    other_station = files.upload_location("P4", 72)
    async with web_rig.web.client(web_rig.token) as op:
        for location in ("https://elsewhere.example/logs/", f"{files.base_url}/logs/forged/", other_station):
            log = {"log": {"remoteLocation": location}, "logType": "SecurityLog", "requestId": 72}
            refused = await op.post("/api/v1/stations/P3/ocpp/GetLog", json=log)
            assert refused.status_code == 422, refused.text
            assert "log.remoteLocation" in refused.text and "handed out" in refused.text
        unknown = await op.post("/api/v1/stations/NOPE/upload-location", json={"request_id": 1})
        assert unknown.status_code == 404
        negative = await op.post("/api/v1/stations/P3/upload-location", json={"request_id": -1})
        assert negative.status_code == 422 and "request_id" in negative.text
    await wait_for(lambda: len(web_rig.security_events("LogUploadRefused")) >= 1, what="refusals logged")
    details = " ".join(e.detail for e in web_rig.security_events("LogUploadRefused"))
    assert "elsewhere.example" in details
    assert not any(s.received for s in files.slots.values())  # nothing was uploaded anywhere
    assert not [
        s for s, _, r in web_rig.web.services.gateway.log_status if r == 72
    ]  # the station got nothing


async def test_get_log_fan_out_is_refused_per_station(web_rig: WebRig) -> None:
    """A fan-out of GetLog: refused for each station whose location was not handed out for it
    (outcome Refused, nothing sent to it), sent where it was."""
    files = web_rig.web.services.gateway.security.files
    good = {
        "log": {"remoteLocation": files.upload_location("P3", 81)},
        "logType": "SecurityLog",
        "requestId": 81,
    }
    bad = {**good, "log": {"remoteLocation": "https://elsewhere.example/up/"}}
    async with web_rig.web.client(web_rig.token) as op:
        refused = await op.post("/api/v1/ocpp/GetLog/fan-out", json={"station_ids": ["P3"], "payload": bad})
        assert refused.status_code == 200, refused.text
        (item,) = refused.json()["results"]
        assert item["outcome"] == "Refused" and "log.remoteLocation" in item["error"]["description"]
        sent = await op.post("/api/v1/ocpp/GetLog/fan-out", json={"station_ids": ["P3"], "payload": good})
        assert [r["outcome"] for r in sent.json()["results"]] == ["CallResult"]
    await wait_for(lambda: ("P3", "Uploaded", 81) in web_rig.web.services.gateway.log_status, what="uploaded")
