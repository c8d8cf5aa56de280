"""OCPP 1.6 Firmware Management diagnostics and Remote Trigger over real TLS websockets."""

from __future__ import annotations

import pytest
from security.conftest import Rig

from interface_b_harness import wait_for
from smartcharge.ocpp.domain import OcppVersion

pytestmark = pytest.mark.integration


@pytest.fixture
def version() -> OcppVersion:
    return OcppVersion.V16


async def test_get_diagnostics_uploads_to_the_cem(rig: Rig) -> None:
    files = rig.cem.gateway.security.files
    link = rig.cem.gateway.stations["P3"].link
    assert await link.get_diagnostics(files.upload_location("P3", 5)) == "P3-diagnostics.log"  # type: ignore[union-attr]
    await wait_for(lambda: ("P3", "DiagnosticsUploaded", None) in rig.cem.gateway.log_status, what="uploaded")
    assert ("P3", "DiagnosticsUploading", None) in rig.cem.gateway.log_status
    (stored,) = list((files.upload_dir / "P3").iterdir())
    assert stored.name == "5-P3-diagnostics.log" and "mode=" in stored.read_text(encoding="utf-8")


async def test_get_diagnostics_to_a_location_not_allowed_fails(rig: Rig) -> None:
    """A location the CEM never handed out: the endpoint refuses (403), the station reports
    UploadFailed, the refusal is logged and nothing is stored."""
    files = rig.cem.gateway.security.files
    link = rig.cem.gateway.stations["P3"].link
    await link.get_diagnostics(f"{files.base_url}/logs/forged/")  # type: ignore[union-attr]
    await wait_for(
        lambda: ("P3", "DiagnosticsUploadFailed", None) in rig.cem.gateway.log_status, what="failure"
    )
    await wait_for(lambda: rig.cem.store.security.count("LogUploadRefused") == 1, what="refusal logged")
    assert not (files.upload_dir / "P3").exists()


async def test_trigger_message(rig: Rig) -> None:
    link = rig.cem.gateway.stations["P3"].link
    assert await link.trigger("DiagnosticsStatusNotification") == "Accepted"  # type: ignore[union-attr]
    await wait_for(
        lambda: ("P3", "DiagnosticsIdle", None) in rig.cem.gateway.log_status, what="triggered message"
    )
    for message in ("Heartbeat", "StatusNotification", "FirmwareStatusNotification", "MeterValues"):
        assert await link.trigger(message) == "Accepted"  # type: ignore[union-attr]
    # Once accepted, a triggered BootNotification is refused (as OCPP 2.0.1 F06.FR.17 says; the
    # station's core trigger rules are shared by both versions).
    assert await link.trigger("BootNotification") == "Rejected"  # type: ignore[union-attr]
    await wait_for(
        lambda: ("P3", "Idle", None) in rig.cem.gateway.security.firmware_status, what="firmware status"
    )
