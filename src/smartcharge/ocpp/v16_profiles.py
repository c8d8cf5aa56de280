# mypy: disable-error-code="untyped-decorator"
"""OCPP 1.6 feature profiles beyond Core and Smart Charging, on both ends: Firmware Management's
diagnostics (GetDiagnostics -> upload -> DiagnosticsStatusNotification) and Remote Trigger
(TriggerMessage for BootNotification, Heartbeat, StatusNotification, DiagnosticsStatusNotification,
FirmwareStatusNotification). Uploads go to the CEM's HTTPS upload endpoint like GetLog (N01).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import call, call_result

from smartcharge.ocpp.log_upload import upload_log
from smartcharge.ocpp.v201_security import _Tasks

logger = logging.getLogger(__name__)

#: Messages a 1.6 TriggerMessage may ask for that this station sends on request.
TRIGGERABLE = frozenset(
    {
        "BootNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
    }
)


class CsmsProfilesV16(_Tasks):
    """CEM end: DiagnosticsStatusNotification and FirmwareStatusNotification in; GetDiagnostics and
    TriggerMessage out."""

    station_id: str
    _events: Any
    call: Any

    @on("DiagnosticsStatusNotification")
    async def on_diagnostics_status_notification(self, status: str, **_: Any) -> Any:
        await self._events.on_log_status(self.station_id, f"Diagnostics{status}", None)
        return call_result.DiagnosticsStatusNotification()

    @on("FirmwareStatusNotification")
    async def on_firmware_status_notification(self, status: str, **_: Any) -> Any:
        security = getattr(self._events, "security", None)
        if security is not None:
            await security.on_firmware_status(self.station_id, status, None)
        return call_result.FirmwareStatusNotification()

    async def get_diagnostics(self, location: str) -> str | None:
        """GetDiagnostics; the file name the station will upload, or None if it has nothing."""
        result = await self.call(call.GetDiagnostics(location=location), suppress=False)
        return None if result.file_name is None else str(result.file_name)

    async def trigger(self, requested_message: str) -> str:
        result = await self.call(call.TriggerMessage(requested_message=requested_message), suppress=False)
        return str(result.status)


class StationProfilesV16(_Tasks):
    """Station end: GetDiagnostics (TriggerMessage, with these triggers, is StationV16's)."""

    id: str
    device: Any
    call: Any
    faults: int

    @on("GetDiagnostics")
    def on_get_diagnostics(self, location: str, **_: Any) -> Any:
        return call_result.GetDiagnostics(file_name=f"{self.id}-diagnostics.log")

    @after("GetDiagnostics")
    def after_get_diagnostics(self, location: str, **_: Any) -> None:
        self._hold(self._upload_diagnostics(location))

    async def _upload_diagnostics(self, location: str) -> None:
        notify = call.DiagnosticsStatusNotification
        await self.call(notify(status="Uploading"), suppress=False)
        lines = [
            f"station {self.id} mode={getattr(self.device, 'mode', '?')}",
            f"power_w={getattr(self.device, 'power_w', '?')} faults={self.faults}",
        ]
        security = getattr(self.device, "security", None)
        context = security.ssl_context() if security is not None and location.startswith("https:") else None
        ok = await asyncio.to_thread(upload_log, location, f"{self.id}-diagnostics.log", lines, context)
        await self.call(notify(status="Uploaded" if ok else "UploadFailed"), suppress=False)


__all__ = ["TRIGGERABLE", "CsmsProfilesV16", "StationProfilesV16"]
