"""Conversion between openleadr's wire dicts and the frozen domain objects (OpenADR 2.0b EiEvent).

Incoming events are checked field by field; anything we cannot obey exactly is refused with a
:class:`~smartcharge.core.errors.ValidationError` that names the field, which the VEN turns into
an OpenADR status code (454 invalid data, 460 signal not supported) and a security notice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from openleadr import objects

from smartcharge.core.errors import ValidationError
from smartcharge.openadr.model import DsrEvent, EventInterval, Programme, Signal

_CANCELLED = "cancelled"


def _aware(at: object, field: str) -> dt.datetime:
    if not isinstance(at, dt.datetime) or at.tzinfo is None:
        raise ValidationError(field, at, "must be a timezone-aware date-time")
    return at


def _seconds(value: object, field: str) -> int:
    if not isinstance(value, dt.timedelta):
        raise ValidationError(field, value, "must be an ISO 8601 duration")
    seconds = value.total_seconds()
    if seconds != int(seconds):
        raise ValidationError(field, seconds, "must be whole seconds")
    return int(seconds)


def _utc(epoch_s: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_s, tz=dt.UTC)


def event_to_wire(event: DsrEvent, ven_id: str) -> objects.Event:
    """The openleadr event object for ``event`` addressed to ``ven_id``."""
    intervals = [
        objects.Interval(
            dtstart=_utc(i.start_s),
            duration=dt.timedelta(seconds=i.duration_s),
            signal_payload=i.value,
            uid=n,
        )
        for n, i in enumerate(event.intervals)
    ]
    tolerance = {"startafter": dt.timedelta(seconds=event.start_after_s)} if event.start_after_s else None
    descriptor = objects.EventDescriptor(
        event_id=event.event_id,
        modification_number=event.modification_number,
        market_context=event.programme.market_context,
        event_status=_CANCELLED if event.cancelled else "far",
        priority=event.priority,
        test_event=event.test_event,
    )
    signal = objects.EventSignal(
        intervals=intervals,
        signal_name=event.signal.signal_name,
        signal_type=event.signal.signal_type,
        signal_id=f"{event.event_id}-0",
    )
    period = objects.ActivePeriod(
        dtstart=_utc(event.start_s),
        duration=dt.timedelta(seconds=event.end_s - event.start_s),
        tolerance=tolerance,
    )
    return objects.Event(
        event_descriptor=descriptor,
        active_period=period,
        event_signals=[signal],
        targets=[objects.Target(ven_id=ven_id)],
        response_required="always",
    )


def event_from_wire(raw: Mapping[str, Any]) -> DsrEvent:
    """A domain event from one openleadr event dict; refuse what we cannot obey exactly."""
    try:
        descriptor = raw["event_descriptor"]
        period = raw["active_period"]
        signals = raw["event_signals"]
    except (KeyError, TypeError):
        raise ValidationError(
            "event", "incomplete", "needs eventDescriptor, activePeriod, eventSignals"
        ) from None
    if not isinstance(signals, list) or len(signals) != 1:
        count = len(signals) if isinstance(signals, list) else signals
        raise ValidationError("event_signals", count, "smartcharge events carry exactly one signal")
    sig = signals[0]
    signal = Signal.from_wire(str(sig.get("signal_name")), str(sig.get("signal_type")))
    intervals: list[EventInterval] = []
    start = _aware(period.get("dtstart"), "active_period.dtstart")
    for n, raw_interval in enumerate(sig.get("intervals") or []):
        at = raw_interval.get("dtstart", start if n == 0 else None)
        if at is None:  # OpenADR lets later intervals follow on from the previous one
            at = _utc(intervals[-1].end_s)
        value = raw_interval.get("signal_payload")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"intervals[{n}].signal_payload", value, "must be a number")
        intervals.append(
            EventInterval(
                start_s=int(_aware(at, f"intervals[{n}].dtstart").timestamp()),
                duration_s=_seconds(raw_interval.get("duration"), f"intervals[{n}].duration"),
                value=float(value),
            )
        )
    tolerance = period.get("tolerance") or {}
    tolerate = tolerance.get("tolerate") if isinstance(tolerance, Mapping) else None
    start_after = tolerate.get("startafter") if isinstance(tolerate, Mapping) else None
    return DsrEvent(
        event_id=str(descriptor.get("event_id") or ""),
        programme=Programme.from_market_context(str(descriptor.get("market_context"))),
        signal=signal,
        intervals=tuple(intervals),
        start_after_s=0 if start_after is None else _seconds(start_after, "tolerance.startafter"),
        modification_number=int(descriptor.get("modification_number") or 0),
        cancelled=descriptor.get("event_status") == _CANCELLED,
        priority=int(descriptor.get("priority") or 0),
        test_event=bool(descriptor.get("test_event")),
    )


__all__ = ["event_from_wire", "event_to_wire"]
