# mypy: disable-error-code="untyped-decorator"
"""What the station end of an OCPP link does the same way in 1.6J and 2.0.1.

The two versions differ in message classes (``_call``, ``_call_result`` on each subclass), not in
what the device does: keep its follow-up work as tasks it holds, accept a Reset and reset after
answering, and upload its security log after answering GetLog (OCPP 2.0.1 N01, SEC-S-6). Follow-up
calls run from ``@after`` hooks in held tasks, never inside the ``@on`` handler (that deadlocks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from ocpp.routing import after, on

from smartcharge.ocpp.domain import SecurityNotice, StationDevice, format_time
from smartcharge.ocpp.log_upload import upload_log
from smartcharge.ocpp.rpc import FaultCallback, FaultTolerantChargePoint


def _log_name(station_id: str, log_type: str) -> str:
    return f"{station_id}-{'diagnostics' if log_type == 'DiagnosticsLog' else 'security'}.log"


class StationBase(FaultTolerantChargePoint):
    """Shared station-side duties; subclasses bind ``_call`` and ``_call_result`` to their version."""

    _call: Any
    _call_result: Any

    def __init__(self, station_id: str, connection: Any, device: StationDevice, on_fault: FaultCallback):
        super().__init__(station_id, connection, on_fault)
        self.device = device
        self._tasks: set[asyncio.Task[None]] = set()
        self.security_log: list[SecurityNotice] = []
        #: The CSMS's last boot answer and interval (B01-B03); set by ``boot``.
        self.boot_status: str | None = None
        self.boot_interval_s = 0
        #: Set by TriggerMessage BootNotification: the runner boots again at once (F06).
        self.boot_requested = asyncio.Event()
        self._reset_status = "Accepted"
        self._trigger_status = "Rejected"

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @on("Reset")
    def on_reset(self, type: str, **_: Any) -> Any:
        return self._call_result.Reset(status="Accepted")

    @after("Reset")
    def after_reset(self, type: str, **_: Any) -> None:
        self.device.reset()

    @on("GetLog")
    def on_get_log(self, log: dict[str, Any], log_type: str, request_id: int, **_: Any) -> Any:
        return self._call_result.GetLog(status="Accepted", filename=_log_name(self.id, log_type))

    @after("GetLog")
    def after_get_log(self, log: dict[str, Any], log_type: str, request_id: int, **_: Any) -> None:
        self._spawn(self._upload_log(log["remote_location"], request_id, log_type))

    def _log_lines(self, log_type: str) -> list[str]:
        if log_type == "DiagnosticsLog":  # what an engineer asks for first: state and counters
            device = self.device
            return [
                f"station {self.id} mode={getattr(device, 'mode', '?')}",
                f"power_w={getattr(device, 'power_w', '?')}",
                f"transaction={getattr(device, 'transaction_id', None)} faults={self.faults}",
            ]
        return [f"{format_time(n.occurred_at)} {n.event_type} {n.tech_info or ''}" for n in self.security_log]

    async def _upload_log(self, location: str, request_id: int, log_type: str = "SecurityLog") -> None:
        notify = self._call.LogStatusNotification
        await self.call(notify(status="Uploading", request_id=request_id), suppress=False)
        lines = self._log_lines(log_type)
        security = getattr(self.device, "security", None)  # verify the upload server like the CSMS
        context = None
        if security is not None and location.startswith("https:"):
            context = security.ssl_context()
        ok = await asyncio.to_thread(upload_log, location, _log_name(self.id, log_type), lines, context)
        status = "Uploaded" if ok else "UploadFailure"
        await self.call(notify(status=status, request_id=request_id), suppress=False)


__all__ = ["StationBase"]
