# mypy: disable-error-code="untyped-decorator"
"""What the CSMS end (the CEM's side) of an OCPP link does the same way in 1.6J and 2.0.1.

Subclasses bind ``_call_result`` to their version's message classes and map the rest.
"""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import ProtocolError
from ocpp.routing import on

from smartcharge.ocpp.csms import CsmsEvents
from smartcharge.ocpp.rpc import FaultCallback, FaultTolerantChargePoint


class CsmsBase(FaultTolerantChargePoint):
    """One station as the CEM sees it: its messages go to ``events``; commands go out."""

    _call_result: Any

    def __init__(self, station_id: str, connection: Any, events: CsmsEvents, on_fault: FaultCallback):
        super().__init__(station_id, connection, on_fault)
        self.station_id = station_id
        self._events = events

    @on("LogStatusNotification")
    async def on_log_status_notification(self, status: str, request_id: int | None = None, **_: Any) -> Any:
        await self._events.on_log_status(self.station_id, status, request_id)
        return self._call_result.LogStatusNotification()

    async def _request(self, payload: Any) -> Any:
        return await self.call(payload, suppress=False)

    async def _request_own(self, action: str, payload: dict[str, Any], statuses: frozenset[str]) -> str:
        """A call built here from a validated domain object (see ``call_prepared``); the one answer
        field we read is checked against its enumeration."""
        result = await self.call_prepared(action, payload)
        status = result.get("status")
        if status not in statuses:
            raise ProtocolError(description=f"status {status!r} is not one of {sorted(statuses)}")
        return str(status)


__all__ = ["CsmsBase"]
