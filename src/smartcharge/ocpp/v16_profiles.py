# mypy: disable-error-code="untyped-decorator"
"""OCPP 1.6 feature profiles beyond Core and Smart Charging, on both ends: Firmware Management's
diagnostics (GetDiagnostics -> upload -> DiagnosticsStatusNotification), Remote Trigger
(TriggerMessage for BootNotification, Heartbeat, StatusNotification, DiagnosticsStatusNotification,
FirmwareStatusNotification), and the station's end of Local Auth List Management (SendLocalList,
GetLocalListVersion; sections 5.15, 5.10) and Reservation (ReserveNow, CancelReservation;
sections 5.13, 5.3). Uploads go to the CEM's HTTPS upload endpoint like GetLog (N01).

The CEM sends the list and reservation messages through ``CsmsBase.call_action`` (the operator
API), the list from its id-token store (``cem/local_list.py``); it keeps reservations from the
answers (``cem/reservations.py``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import call, call_result

from smartcharge.ocpp.domain import parse_time
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
    """Station end: GetDiagnostics (TriggerMessage, with these triggers, is StationV16's), the
    local authorization list and reservations."""

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

    # ---- Local Auth List Management (station/authorization.py) -------------------------------

    @on("SendLocalList")
    def on_send_local_list(self, list_version: int, update_type: str, **kw: Any) -> Any:
        """Accepted, Failed, NotSupported (list disabled) or VersionMismatch (5.15)."""
        from smartcharge.ocpp.v16 import id_tag_info_from_wire  # v16 imports this module

        entries = [
            (e["id_tag"], None if e.get("id_tag_info") is None else id_tag_info_from_wire(e["id_tag_info"]))
            for e in kw.get("local_authorization_list") or []
        ]
        status = self.device.send_local_list(list_version, update_type, entries)
        if status != "Accepted":
            logger.info("%s: SendLocalList %s v%d: %s", self.id, update_type, list_version, status)
        return call_result.SendLocalList(status=status)

    @on("GetLocalListVersion")
    def on_get_local_list_version(self) -> Any:
        """0: no list; -1: Local Auth List disabled (5.10)."""
        auth = getattr(self.device, "auth", None)
        version = self.device.local_list_version() if auth is None else auth.list_version()
        return call_result.GetLocalListVersion(list_version=version)

    # ---- Reservation (station/reservations.py) -------------------------------------------------

    @on("ReserveNow")
    def on_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None = None,
        **_: Any,
    ) -> Any:
        """Accepted, Faulted, Occupied, Rejected or Unavailable (5.13); connector 0 reserves the
        charge point (one connector here). A parentIdTag admits the tags of that group."""
        status = self.device.reserve(
            reservation_id, parse_time(expiry_date, "expiryDate"), id_tag, connector_id or None, parent_id_tag
        )
        return call_result.ReserveNow(status=status)

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id: int) -> Any:
        ok = self.device.cancel_reservation(reservation_id)
        return call_result.CancelReservation(status="Accepted" if ok else "Rejected")


__all__ = ["TRIGGERABLE", "CsmsProfilesV16", "StationProfilesV16"]
