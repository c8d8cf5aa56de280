"""Building routine and response DSR events; bad input is refused naming the field (SCP-SF-5)."""

from __future__ import annotations

import math

import pytest

from smartcharge.core.errors import ValidationError
from smartcharge.dsrsp.delivery import verify_delivery
from smartcharge.dsrsp.programmes import EventRequest, build_event
from smartcharge.openadr.model import DsrEvent, EventInterval, Programme, Signal

T0 = 1_795_600_000


def test_routine_price_event_with_start_window() -> None:
    """OP-R1, RD-R3: a routine price event carries the randomised start window."""
    event = build_event(EventRequest(Programme.ROUTINE, Signal.ELECTRICITY_PRICE, (30.0, 8.5), 1800, T0, 900))
    assert event.start_after_s == 900
    assert [i.start_s for i in event.intervals] == [T0, T0 + 1800]
    assert event.end_s == T0 + 3600


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (
            EventRequest(Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, (1000.0,), 60, T0, 30),
            "start_after_s",
        ),
        (EventRequest(Programme.RESPONSE, Signal.ELECTRICITY_PRICE, (20.0,), 60, T0), "signal"),
        (EventRequest(Programme.ROUTINE, Signal.ELECTRICITY_PRICE, (20.0,), 60, T0, 1801), "start_after_s"),
        (EventRequest(Programme.ROUTINE, Signal.ELECTRICITY_PRICE, (), 60, T0), "values"),
        (EventRequest(Programme.ROUTINE, Signal.ELECTRICITY_PRICE, (1.0,) * 97, 60, T0), "values"),
        (EventRequest(Programme.ROUTINE, Signal.ELECTRICITY_PRICE, (math.nan,), 60, T0), "values"),
        (EventRequest(Programme.ROUTINE, Signal.ELECTRICITY_PRICE, (1.0,), 0, T0), "interval_s"),
        (EventRequest(Programme.ROUTINE, Signal.ELECTRICITY_PRICE, (1.0, 1.0), 50_000, T0), "values"),
        (EventRequest(Programme.RESPONSE, Signal.SIMPLE_LEVEL, (4.0,), 60, T0), "interval.value"),
        (EventRequest(Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, (-1.0,), 60, T0), "interval.value"),
    ],
)
def test_bad_event_request_refused_naming_field(request_: EventRequest, field: str) -> None:
    """SEC-D-6: response DSR is never randomised, windows stay within reg 11's 1800 s, values are sane."""
    with pytest.raises(ValidationError) as err:
        build_event(request_)
    assert err.value.field == field


def _setpoint_event(value_w: float) -> DsrEvent:
    return DsrEvent("E", Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, (EventInterval(T0, 60, value_w),))


def test_delivery_verified_when_power_stays_under_setpoint() -> None:
    """DSR-4: samples at or under the setpoint (+10 % meter tolerance) after settling count as delivered."""
    samples = [(T0 + 2, 6000.0), (T0 + 15, 2150.0), (T0 + 40, 1900.0)]
    verdict = verify_delivery(_setpoint_event(2000.0), samples)
    assert verdict.delivered and verdict.samples == 2


def test_delivery_refused_when_power_exceeds_setpoint() -> None:
    """DSR-4: a sample above the setpoint plus tolerance fails the event, with the excess."""
    verdict = verify_delivery(_setpoint_event(2000.0), [(T0 + 20, 2500.0), (T0 + 30, 1000.0)])
    assert not verdict.delivered
    assert verdict.samples_over == 1 and verdict.worst_excess_w == pytest.approx(300.0)


def test_delivery_without_samples_is_not_delivered() -> None:
    """DSR-4: no power report, no proof of delivery."""
    assert not verify_delivery(_setpoint_event(2000.0), []).delivered
