# mypy: disable-error-code="untyped-decorator"
"""What the CSMS end (the CEM's side) of an OCPP link does the same way in 1.6J and 2.0.1.

Subclasses bind ``_call_result`` to their version's message classes and map the rest.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocpp.charge_point import snake_to_camel_case
from ocpp.exceptions import ProtocolError
from ocpp.routing import on

from smartcharge.ocpp.csms import CsmsEvents
from smartcharge.ocpp.domain import StationNotice
from smartcharge.ocpp.rpc import CALLERROR, CallErrorReply, FaultCallback, FaultTolerantChargePoint, Frame
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
        #: The last boot answer on this connection (None: no BootNotification yet).
        self.boot_status: str | None = None
        #: Calls refused because the station was not Accepted (B02/B03).
        self.refused_before_accepted = 0

    async def _answer_call(self, frame: Frame) -> None:
        """While the last boot answer is Pending or Rejected, every station call but
        BootNotification gets CALLERROR SecurityError (OCPP 2.0.1 B02, B03; 1.6 4.2). This is the
        station obeying, or not, a state the operator chose: not a malformed message, so it is
        counted here and not written to the security log as a violation."""
        if frame.action != "BootNotification" and self.boot_status not in (None, "Accepted"):
            self.refused_before_accepted += 1
            reason = f"{frame.action} refused: the station is not accepted (boot status {self.boot_status})"
            await self._send_frame([CALLERROR, frame.unique_id, "SecurityError", reason, {}])
            return
        await super()._answer_call(frame)

    async def _store_notice(self, action: str, summary: str, payload: dict[str, Any]) -> None:
        """Keep a station message that needs no further action, as the station sent it."""
        text = json.dumps(snake_to_camel_case(payload), default=str, sort_keys=True)
        notice = StationNotice(action, datetime.now(UTC), summary[:200], text)
        await self._events.on_notice(self.station_id, notice)

    @on("LogStatusNotification")
    async def on_log_status_notification(self, status: str, request_id: int | None = None, **_: Any) -> Any:
        await self._events.on_log_status(self.station_id, status, request_id)
        return self._call_result.LogStatusNotification()

    async def call_action(
        self, action: str, payload: dict[str, Any], timeout_s: float, *, checked: bool = False
    ) -> CallOutcome:
        """Send any CSMS-initiated message of this station's version, as given (camelCase), and
        return its answer. The payload is checked against the official schema first: a
        :class:`~smartcharge.ocpp.schemas.SchemaViolation` or ``UnknownAction`` means nothing was
        sent. ``TimeoutError`` when no answer came within ``timeout_s`` (waiting for an earlier
        call on this link included: one call in flight per connection, OCPP-J 4.1.1).
        ``checked=True`` skips the check for a payload the caller already checked for this version
        (a fan-out checks once per version, not once per station)."""
        if not checked:
            validate_request(self._ocpp_version, action, payload)
        # The CEM's own rules on what may go out (a log upload only to its own endpoint, N01):
        # a ValidationError here means nothing was sent.
        guard = getattr(self._events, "check_call", None)
        if guard is not None:
            await guard(self.station_id, self._ocpp_version, action, payload)
        unique_id = str(uuid.uuid4())
        try:
            answer = await self._round_trip(action, payload, unique_id, timeout_s)
        except CallErrorReply as error:
            return CallOutcome(unique_id, None, error.code, str(error.description), error.details or None)
        # What the CEM keeps of an operator's call (a reservation made, a customer-data request):
        # the events see the payload sent and the answer (cem/reservations.py).
        hook = getattr(self._events, "on_call_answered", None)
        if hook is not None:
            await hook(self.station_id, self._ocpp_version, action, payload, answer)
        return CallOutcome(unique_id, answer)

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
