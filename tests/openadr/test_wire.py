"""Wire <-> domain conversion through openleadr's real XML templates and parser (OpenADR 2.0b EiEvent)."""

from __future__ import annotations

import datetime as dt

import pytest
from openleadr import utils
from openleadr.messaging import create_message, parse_message

from smartcharge.core.errors import ValidationError
from smartcharge.openadr.model import DsrEvent, EventInterval, Programme, Signal
from smartcharge.openadr.wire import event_from_wire, event_to_wire

T0 = 1_795_600_000


def _through_xml(event: DsrEvent) -> dict:
    wire = event_to_wire(event, "VEN-1")
    tolerance = wire.active_period.tolerance
    wire.active_period = utils.get_active_period_from_intervals(wire.event_signals[0].intervals)
    if tolerance:
        wire.active_period["tolerance"] = tolerance
    message = create_message(
        "oadrDistributeEvent",
        events=[wire],
        vtn_id="DSRSP-A",
        request_id="r",
        response={"response_code": 200, "response_description": "OK", "request_id": "r"},
    )
    _, payload = parse_message(message)
    return payload["events"][0]


def test_event_round_trip_keeps_programme_signal_intervals_and_startafter() -> None:
    """SCP-SF-5, RD-R3: programme, signal, intervals and the startafter window survive the wire."""
    event = DsrEvent(
        "E-1",
        Programme.ROUTINE,
        Signal.ELECTRICITY_PRICE,
        (EventInterval(T0, 1800, 35.5), EventInterval(T0 + 1800, 1800, 12.0)),
        start_after_s=600,
    )
    assert event_from_wire(_through_xml(event)) == event


def test_response_event_round_trip_setpoint_w() -> None:
    """SCP-SF-5: a response LOAD_DISPATCH setpoint arrives as the same watts."""
    event = DsrEvent(
        "E-2", Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, (EventInterval(T0, 900, 1400.0),)
    )
    assert event_from_wire(_through_xml(event)) == event


def _raw(
    signal_name: str = "SIMPLE", signal_type: str = "level", value: object = 1.0, context: str | None = None
):
    return {
        "event_descriptor": {
            "event_id": "E-X",
            "modification_number": 0,
            "market_context": context or Programme.RESPONSE.market_context,
        },
        "active_period": {
            "dtstart": dt.datetime.fromtimestamp(T0, dt.UTC),
            "duration": dt.timedelta(seconds=60),
        },
        "event_signals": [
            {
                "signal_name": signal_name,
                "signal_type": signal_type,
                "intervals": [
                    {
                        "dtstart": dt.datetime.fromtimestamp(T0, dt.UTC),
                        "duration": dt.timedelta(seconds=60),
                        "signal_payload": value,
                    }
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (_raw("BID_PRICE", "price"), "event_signal"),
        (_raw(value=7.0), "interval.value"),
        (_raw(value="high"), "intervals[0].signal_payload"),
        (_raw(context="http://elsewhere.invalid/x"), "market_context"),
        (_raw("LOAD_DISPATCH", "setpoint", value=-5.0), "interval.value"),
        ({"event_descriptor": {}}, "event"),
    ],
)
def test_invalid_event_payload_refused_naming_field(raw: dict, field: str) -> None:
    """SEC-D-6: an event we cannot obey exactly is refused, and the error names the field."""
    with pytest.raises(ValidationError) as err:
        event_from_wire(raw)
    assert err.value.field == field


def test_event_intervals_must_follow_one_another() -> None:
    """SEC-D-6: gaps between intervals are refused rather than guessed."""
    with pytest.raises(ValidationError, match="follow one another"):
        DsrEvent(
            "E",
            Programme.ROUTINE,
            Signal.SIMPLE_LEVEL,
            (EventInterval(T0, 60, 1), EventInterval(T0 + 120, 60, 1)),
        )
