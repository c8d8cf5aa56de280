"""The DSRSP's two programmes and how their events are built (SCP-SF-5, PAS 1879, DSR-3).

* **Routine DSR**: price and tariff signals (``ELECTRICITY_PRICE``), or a routine SIMPLE level or
  power setpoint, with a randomised start window (OpenADR ``tolerance/startafter``, up to the
  reg 11 capability of 1800 s) so that CEMs do not all move at the same second (OP-R1, RD-R3).
* **Response DSR**: turn-down or power limit for a DNO constraint or a system need
  (``LOAD_DISPATCH`` setpoint in W, or ``SIMPLE`` levels 1-3); never randomised.

Events are checked here before anything is queued; bad input names the field and the rule.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from smartcharge.core.errors import ValidationError
from smartcharge.openadr.model import DsrEvent, EventInterval, Programme, Signal
from smartcharge.policy.random_delay import MAX_DELAY_CAPABILITY_S

#: Longest event the DSRSP accepts (one day); longer needs are a tariff, not an event.
MAX_EVENT_S = 86_400
#: Most intervals in one event.
MAX_INTERVALS = 96


@dataclass(frozen=True, slots=True)
class EventRequest:
    """What an operator (or a dispatch system) asks for; validated by :func:`build_event`."""

    programme: Programme
    signal: Signal
    values: tuple[float, ...]
    interval_s: int
    start_s: int
    start_after_s: int = 0
    event_id: str | None = None


def build_event(request: EventRequest) -> DsrEvent:
    """A validated event for ``request``; refuse what a CEM could not obey exactly."""
    if not request.values or len(request.values) > MAX_INTERVALS:
        raise ValidationError("values", len(request.values), f"an event has 1..{MAX_INTERVALS} intervals")
    if not 1 <= request.interval_s <= MAX_EVENT_S:
        raise ValidationError("interval_s", request.interval_s, f"an interval lasts 1..{MAX_EVENT_S} s")
    if request.interval_s * len(request.values) > MAX_EVENT_S:
        raise ValidationError("values", len(request.values), f"an event lasts at most {MAX_EVENT_S} s")
    for value in request.values:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValidationError("values", value, "each interval value must be a finite number")
    if request.programme is Programme.RESPONSE:
        if request.signal is Signal.ELECTRICITY_PRICE:
            raise ValidationError(
                "signal", "ELECTRICITY_PRICE", "response DSR limits power: LOAD_DISPATCH or SIMPLE"
            )
        if request.start_after_s:
            raise ValidationError(
                "start_after_s", request.start_after_s, "response DSR acts at once, never randomised"
            )
    if not 0 <= request.start_after_s <= MAX_DELAY_CAPABILITY_S:
        raise ValidationError(
            "start_after_s",
            request.start_after_s,
            f"a start window is 0..{MAX_DELAY_CAPABILITY_S} s (reg 11)",
        )
    intervals = tuple(
        EventInterval(request.start_s + k * request.interval_s, request.interval_s, float(v))
        for k, v in enumerate(request.values)
    )
    event_id = request.event_id or f"{request.programme.value[:4].upper()}-{uuid.uuid4().hex[:12]}"
    return DsrEvent(
        event_id, request.programme, request.signal, intervals, start_after_s=request.start_after_s
    )


__all__ = ["MAX_EVENT_S", "MAX_INTERVALS", "EventRequest", "build_event"]
