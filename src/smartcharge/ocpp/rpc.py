"""The shared OCPP-J core for both versions: frame faults answered, counted, never fatal.

The ``ocpp`` library logs and drops a frame it cannot parse; OCPP-J (1.6 section 4.2.3, 2.0.1
part 4 section 4.2.3) wants a CALLERROR instead, with message id ``"-1"`` when the id cannot be
read. :class:`FaultTolerantChargePoint` answers such frames and schema violations with the right
error code, keeps the connection open, and reports every fault through a callback so the CEM can
count it and log it as a security event (SEC-S-6 "InvalidMessages").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ocpp import messages
from ocpp.charge_point import ChargePoint, camel_to_snake_case
from ocpp.exceptions import (
    FormationViolationError,
    FormatViolationError,
    OCPPError,
    PropertyConstraintViolationError,
)
from ocpp.messages import Call, CallError, MessageType, unpack

from smartcharge.core.errors import ValidationError

logger = logging.getLogger(__name__)

#: Callback for a refused frame: (kind, detail).
FaultCallback = Callable[[str, str], Awaitable[None]]
#: Callback for every OCPP frame on a link: (station id, "received" or "sent", raw frame). Called
#: synchronously in the receive loop or after a send, so it must only enqueue, never block or await.
FrameTap = Callable[[str, str, str], None]


def use_inline_validation() -> None:
    """Validate schemas inline rather than in a thread pool: measured 0.3-0.6 ms faster per round
    trip here (PROTOCOL-NOTES). A process-wide library switch, set by the server and station runners."""
    messages.ASYNC_VALIDATION = False


def _unique_id_of(raw: str | bytes) -> str:
    try:
        frame = json.loads(raw)
    except (ValueError, TypeError):
        return "-1"
    if isinstance(frame, list) and len(frame) > 1 and isinstance(frame[1], str):
        return frame[1]
    return "-1"


def as_ocpp_error(error: ValidationError) -> OCPPError:
    """Our validation error as the OCPP error that names the field and the rule."""
    return PropertyConstraintViolationError(description=str(error)[:255])


class FaultTolerantChargePoint(ChargePoint):  # type: ignore[misc]  # ocpp ships no types
    """``ocpp.ChargePoint`` that answers malformed frames and counts every refused frame."""

    _ocpp_version: str
    #: Sees every frame both ways (the operator API's message stream); None costs nothing.
    tap: FrameTap | None = None

    def __init__(
        self, station_id: str, connection: Any, on_fault: FaultCallback, response_timeout: float = 30
    ):
        super().__init__(station_id, connection, response_timeout=response_timeout, logger=logger)
        self._on_fault = on_fault
        self.faults = 0

    async def _send(self, message: str) -> None:
        await super()._send(message)
        if self.tap is not None:  # after the send: a frame the tap reports has left
            self.tap(self.id, "sent", message)

    async def _refuse(self, unique_id: str, error: OCPPError, kind: str) -> None:
        self.faults += 1
        await self._send(CallError(unique_id, error.code, error.description, error.details).to_json())
        await self._on_fault(kind, f"{error.code}: {error.description} {error.details}"[:500])

    async def call_prepared(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL whose camelCase payload we built ourselves from a validated domain object,
        and return the CALLRESULT payload (snake_case).

        ``ChargePoint.call`` would deep-copy the payload through ``dataclasses.asdict``, rename
        its keys and validate it against the schema: about 0.6 ms of CPU per message, most of a
        fan-out's cost, spent on data that cannot be wrong. The rest follows ``call``: one call in
        flight per connection (the library's lock), a response timeout, CALLERROR raised.
        """
        call = Call(unique_id=str(self._unique_id_generator()), action=action, payload=payload)
        async with self._call_lock:
            await self._send(call.to_json())
            response = await self._get_specific_response(call.unique_id, self._response_timeout)
        if response.message_type_id == MessageType.CallError:
            raise response.to_exception()
        return dict(camel_to_snake_case(response.payload))

    async def route_message(self, raw_msg: str | bytes) -> None:
        if self.tap is not None:
            self.tap(
                self.id,
                "received",
                raw_msg if isinstance(raw_msg, str) else raw_msg.decode("utf-8", "replace"),
            )
        try:
            msg = unpack(raw_msg)
        except OCPPError as error:
            if isinstance(error, FormatViolationError) and self._ocpp_version == "1.6":
                error = FormationViolationError(description=error.description, details=error.details)
            await self._refuse(_unique_id_of(raw_msg), error, "malformed_frame")
            return
        if msg.message_type_id != MessageType.Call:
            self._response_queue.put_nowait(msg)
            return
        assert isinstance(msg, Call)
        try:
            await self._handle_call(msg)
        except OCPPError as error:
            if isinstance(error, FormatViolationError) and self._ocpp_version == "1.6":
                error = FormationViolationError(description=error.description, details=error.details)
            await self._refuse(msg.unique_id, error, "schema_violation")


__all__ = ["FaultCallback", "FrameTap", "FaultTolerantChargePoint", "as_ocpp_error", "use_inline_validation"]
