"""The station's offline queue stays within its cap for every kind of message (issue 15; OCPP 2.0.1
E04): the Started and Ended events and the energy register survive, intermediate meter values
are thinned with a count of what went, and the log says so.

On main the queue went past its cap as soon as it held only session messages (it logged "kept,
not dropped" and grew), and ``extend`` (the monitoring alerts) bypassed the cap altogether."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import numpy as np
import pytest

from smartcharge.ocpp.domain import SecurityNotice, StationMessage, TransactionMessage
from smartcharge.station.device import EmulatedChargePoint, StationConfig
from smartcharge.station.ev import EV
from smartcharge.station.outbox import INTERMEDIATE, PERIODIC, SESSION_ENDS, Outbox

SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC).timestamp()
ENERGY = "Energy.Active.Import.Register"


def _device(cap: int) -> EmulatedChargePoint:
    device = EmulatedChargePoint(
        "Q1", np.random.default_rng(2), StationConfig(max_delay_s=0, meter_interval_s=1)
    )
    device.outbox = Outbox(max_items=cap)
    return device


def _energy(message: TransactionMessage) -> float:
    return next(r.value for r in message.readings if r.measurand == ENERGY)


def test_a_long_session_offline_stays_within_the_cap_and_keeps_start_end_and_energy(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """12,600 session messages (a sample a second, a rate change every 20 s) into a queue of
    1,000: never more than 1,000 queued; the start, the end and the energy register at both ends
    kept; what was thinned counted and logged."""
    cap = 1000
    device = _device(cap)
    caplog.set_level(logging.WARNING, logger="smartcharge.station.outbox")
    device.tick(SATURDAY_10)
    device.plug_in(EV(soc=0.05, capacity_kwh=2000.0))
    largest = 0
    for t in range(1, 10_501):
        device.tick(SATURDAY_10 + t)
        if t % 20 == 0:
            device.apply_local_limit(3000.0 + (t // 20) % 2 * 1000.0)  # a rate change
        largest = max(largest, len(device.outbox))
    energy_at_end = device.energy_wh
    device.unplug()
    queued = list(device.outbox)
    events = [m for m in queued if isinstance(m, TransactionMessage)]
    produced = device._seq_no  # one sequence number per transaction event
    assert largest <= cap and len(queued) <= cap
    assert produced > 10 * cap
    assert events[0].event_type == "Started" and events[-1].event_type == "Ended"
    assert [m.event_type for m in events].count("Started") == 1
    assert _energy(events[0]) == 0.0 and _energy(events[-1]) == pytest.approx(energy_at_end, abs=0.1)
    # Thinned, not cut off: the queue still spans the session, at a coarser interval.
    updated = [m.occurred_at.timestamp() for m in events if m.event_type == "Updated"]
    assert updated[0] - SATURDAY_10 < 0.1 * 10_500 and SATURDAY_10 + 10_500 - updated[-1] < 0.1 * 10_500
    dropped = device.outbox.dropped
    assert dropped[PERIODIC] > 0 and dropped[SESSION_ENDS] == 0
    assert dropped[PERIODIC] + dropped[INTERMEDIATE] == produced - len(events)  # each counted once
    assert any(m.trigger_reason == "ChargingRateChanged" for m in events)
    assert any("offline queue full" in r.getMessage() and PERIODIC in r.getMessage() for r in caplog.records)


def test_only_rate_changes_offline_stays_within_the_cap() -> None:
    """No periodic samples at all (the case main let grow): intermediate events are thinned."""
    cap = 200
    device = EmulatedChargePoint(
        "Q2", np.random.default_rng(3), StationConfig(max_delay_s=0, meter_interval_s=100_000)
    )
    device.outbox = Outbox(max_items=cap)
    device.tick(SATURDAY_10)
    device.plug_in(EV(soc=0.05, capacity_kwh=2000.0))
    for t in range(1, 3 * cap):
        device.tick(SATURDAY_10 + t)
        device.apply_local_limit(3000.0 + t % 2 * 1000.0)
        assert len(device.outbox) <= cap
    device.unplug()
    events = [m for m in device.outbox if isinstance(m, TransactionMessage)]
    assert events[0].event_type == "Started" and events[-1].event_type == "Ended"
    assert device.outbox.dropped[INTERMEDIATE] > 0 and device.outbox.dropped[SESSION_ENDS] == 0


@pytest.mark.parametrize("kind", ["security", "notice", "status", "extend"])
def test_every_kind_of_message_is_bounded(kind: str) -> None:
    cap = 100
    outbox = Outbox(max_items=cap)
    at = datetime.fromtimestamp(SATURDAY_10, UTC)
    items = {
        "security": [SecurityNotice("SettingSystemTime", at, str(i)) for i in range(3 * cap)],
        "notice": [StationMessage("NotifyEvent", {"seqNo": i}) for i in range(3 * cap)],
        "status": ["Available" if i % 2 else "Occupied" for i in range(3 * cap)],
        "extend": [SecurityNotice("SettingSystemTime", at, str(i)) for i in range(3 * cap)],
    }[kind]
    if kind == "extend":
        outbox.extend(items)  # the monitoring alerts arrive this way
    else:
        for item in items:
            outbox.append(item)
            assert len(outbox) <= cap
    assert len(outbox) <= cap
    assert outbox[-1] == items[-1]  # the newest is kept
    assert sum(outbox.dropped.values()) == len(items) - len(outbox)


def test_a_queue_of_only_starts_and_ends_drops_the_oldest_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The last resort (``cap / 2`` sessions off line): still bounded, the loss logged as an error."""
    cap = 50
    outbox = Outbox(max_items=cap)
    at = datetime.fromtimestamp(SATURDAY_10, UTC)
    caplog.set_level(logging.ERROR, logger="smartcharge.station.outbox")
    for i in range(2 * cap):
        outbox.append(
            TransactionMessage(f"T{i // 2}", i % 2, "Started" if i % 2 == 0 else "Ended", "X", at, ())
        )
    assert len(outbox) <= cap and outbox.dropped[SESSION_ENDS] == 2 * cap - len(outbox)
    assert any("transaction starts and ends" in r.getMessage() for r in caplog.records)
