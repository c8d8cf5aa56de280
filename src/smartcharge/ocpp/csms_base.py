# mypy: disable-error-code="untyped-decorator"
"""What the CSMS end (the CEM's side) of an OCPP link does the same way in 1.6J and 2.0.1.

Subclasses bind ``_call_result`` to their version's message classes and map the rest.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ocpp.exceptions import ProtocolError
from ocpp.messages import Call, MessageType
from ocpp.routing import on

from smartcharge.ocpp.csms import CsmsEvents
from smartcharge.ocpp.rpc import FaultCallback, FaultTolerantChargePoint
from smartcharge.ocpp.schemas import validate_request


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """A station's answer to one call: its CALLRESULT payload (as sent, camelCase) or its CALLERROR."""

    unique_id: str
    result: dict[str, Any] | None = None
    error_code: str | None = None
    error_description: str = ""
    error_details: dict[str, Any] | None = None


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

    async def call_action(self, action: str, payload: dict[str, Any], timeout_s: float) -> CallOutcome:
        """Send any CSMS-initiated message of this station's version, as given (camelCase), and
        return its answer. The payload is checked against the official schema first: a
        :class:`~smartcharge.ocpp.schemas.SchemaViolation` or ``UnknownAction`` means nothing was
        sent. ``TimeoutError`` when no answer came within ``timeout_s`` (waiting for an earlier
        call on this link included: one call in flight per connection, OCPP-J 4.1.1)."""
        validate_request(self._ocpp_version, action, payload)
        call = Call(unique_id=str(self._unique_id_generator()), action=action, payload=payload)
        async with asyncio.timeout(timeout_s):
            async with self._call_lock:
                await self._send(call.to_json())
                response = await self._get_specific_response(call.unique_id, timeout_s)
        if response.message_type_id == MessageType.CallError:
            return CallOutcome(
                call.unique_id, None, response.error_code, response.error_description, response.error_details
            )
        return CallOutcome(call.unique_id, dict(response.payload))

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


__all__ = ["CallOutcome", "CsmsBase"]
