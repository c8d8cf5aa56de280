"""GetLog uploaded over HTTPS to the CEM's own upload endpoint (OCPP 2.0.1 N01; SEC-S-6), and
uploads to any other location refused and logged with nothing stored."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request

import pytest
from security.conftest import Rig

from interface_b_harness import wait_for
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.tls import client_context

pytestmark = pytest.mark.integration


def _statuses(rig: Rig, request_id: int) -> list[str]:
    return [s for station, s, r in rig.cem.gateway.log_status if station == "P3" and r == request_id]


@pytest.mark.parametrize(
    ("log_type", "expect"), [("SecurityLog", "TamperDetectionActivated"), ("DiagnosticsLog", "mode=")]
)
async def test_log_uploaded_to_the_cem_endpoint(rig: Rig, log_type: str, expect: str) -> None:
    rig.station.device.record_security_event("TamperDetectionActivated", "enclosure opened")
    await wait_for(lambda: rig.cem.store.security.count("TamperDetectionActivated") == 1, what="event sent")
    request_id, status = await rig.cem.gateway.security.request_log("P3", log_type)
    assert status == "Accepted"
    await wait_for(lambda: "Uploaded" in _statuses(rig, request_id), what="upload finished")
    assert _statuses(rig, request_id) == ["Uploading", "Uploaded"]
    files = rig.cem.gateway.security.files
    (stored,) = list((files.upload_dir / "P3").iterdir())
    assert stored.name.startswith(f"{request_id}-P3-") and expect in stored.read_text(encoding="utf-8")
    assert stored.stat().st_mode & 0o077 == 0


async def test_upload_to_a_location_not_allowed_is_refused(rig: Rig) -> None:
    """The operator asks for an upload elsewhere: refused with the reason, logged, no GetLog sent."""
    with pytest.raises(ValidationError, match="remoteLocation"):
        await rig.cem.gateway.security.request_log("P3", remote_location="https://elsewhere.example/logs/")
    await wait_for(lambda: rig.cem.store.security.count("LogUploadRefused") == 1, what="refusal logged")
    assert not rig.cem.gateway.log_status


def _put(url: str, context: ssl.SSLContext) -> int:
    request = urllib.request.Request(url, data=b"forged log\n", method="PUT")
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as error:
        with error:  # close the connection it holds
            return int(error.code)


async def test_upload_endpoint_refuses_unknown_and_used_locations(rig: Rig) -> None:
    """A PUT to a location the CEM never handed out, or to one already used: HTTP 403, a
    LogUploadRefused event, nothing stored."""
    import asyncio

    files = rig.cem.gateway.security.files
    context = client_context(rig.pki.ca.cert_pem, ca_is_pem_text=True)
    status = await asyncio.to_thread(_put, f"{files.base_url}/logs/not-a-token/x.log", context)
    assert status == 403
    location = files.upload_location("P3", 99)
    assert await asyncio.to_thread(_put, location + "first.log", context) == 201
    assert await asyncio.to_thread(_put, location + "second.log", context) == 403
    await wait_for(lambda: rig.cem.store.security.count("LogUploadRefused") == 2, what="refusals logged")
    assert [p.name for p in (files.upload_dir / "P3").iterdir()] == ["99-first.log"]
