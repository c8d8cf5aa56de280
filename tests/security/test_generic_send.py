"""Each security flow started through the generic send path the operator API uses
(``CsmsBase.call_action``: payload checked against the official schema, sent as given), over real
TLS websockets: what the operator sends through ``POST /api/v1/stations/{id}/ocpp/{Action}``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from security.conftest import Rig
from security.test_firmware import _cem_statuses, _maker, _publish

from interface_b_harness import wait_for
from smartcharge.cem.ca import CertificateAuthority
from smartcharge.ocpp.domain import format_time

pytestmark = pytest.mark.integration


def _session(rig: Rig):  # type: ignore[no-untyped-def]
    return rig.cem.server.sessions["P3"]


async def test_renewal_through_trigger_message(rig: Rig) -> None:
    outcome = await _session(rig).call_action(
        "TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"}, 10
    )
    assert outcome.result == {"status": "Accepted"}
    await wait_for(lambda: rig.security.certificates.installs == 1, what="renewed certificate installed")


async def test_install_certificate_and_list(rig: Rig, tmp_path: Path) -> None:
    maker = CertificateAuthority.create(tmp_path / "maker")
    session = _session(rig)
    installed = await session.call_action(
        "InstallCertificate",
        {"certificateType": "ManufacturerRootCertificate", "certificate": maker.cert_pem},
        10,
    )
    assert installed.result == {"status": "Accepted"}
    listed = await session.call_action(
        "GetInstalledCertificateIds", {"certificateType": ["ManufacturerRootCertificate"]}, 10
    )
    assert listed.result is not None and listed.result["status"] == "Accepted"
    assert len(listed.result["certificateHashDataChain"]) == 1


async def test_update_firmware_through_the_generic_send(rig: Rig, tmp_path: Path) -> None:
    image = _publish(rig, tmp_path, await _maker(rig, tmp_path), "0.5.0")
    files = rig.cem.gateway.security.files
    payload = {
        "requestId": 41,
        "firmware": {
            "location": image.location(files.base_url),
            "retrieveDateTime": format_time(datetime.now(UTC)),
            "signingCertificate": image.signing_certificate,
            "signature": image.signature,
        },
    }
    outcome = await _session(rig).call_action("UpdateFirmware", payload, 10)
    assert outcome.result == {"status": "Accepted"}
    await wait_for(lambda: "Installed" in _cem_statuses(rig), what="Installed")


async def test_get_log_to_a_location_the_cem_handed_out(rig: Rig) -> None:
    files = rig.cem.gateway.security.files
    location = files.upload_location("P3", 77)
    outcome = await _session(rig).call_action(
        "GetLog", {"log": {"remoteLocation": location}, "logType": "SecurityLog", "requestId": 77}, 10
    )
    assert outcome.result is not None and outcome.result["status"] == "Accepted"
    await wait_for(lambda: ("P3", "Uploaded", 77) in rig.cem.gateway.log_status, what="uploaded")


async def test_monitoring_through_the_generic_send(rig: Rig) -> None:
    data = [
        {
            "value": 1,
            "type": "LowerThreshold",
            "severity": 3,
            "component": {"name": "EVSE"},
            "variable": {"name": "Power"},
        }
    ]
    outcome = await _session(rig).call_action("SetVariableMonitoring", {"setMonitoringData": data}, 10)
    assert outcome.result is not None and outcome.result["setMonitoringResult"][0]["status"] == "Accepted"
    await wait_for(lambda: len(rig.cem.gateway.security.alerts) == 1, what="NotifyEvent alert")
