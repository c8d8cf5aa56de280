"""The emulated charge point without a network: fail-safe, profiles, EV model, back-off, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.domain import ChargingProfile, ProfilePurpose
from smartcharge.policy import profile_stack
from smartcharge.policy.modes import Mode
from smartcharge.station.device import MAX_DELAY, EmulatedChargePoint, StationConfig
from smartcharge.station.ev import EV
from smartcharge.station.runner import LinkConfig, backoff_s

SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC).timestamp()


def _run(device: EmulatedChargePoint, start_s: float, seconds: int) -> None:
    for t in range(seconds):
        device.tick(start_s + t)


def test_fail_safe_keeps_charging_without_network() -> None:
    """With no link at all the station still charges in its default hours after the random delay
    (SCP Regs 2021 reg 7; SCP-FS-1, SCP-FS-2), in fail-safe mode M4."""
    device = EmulatedChargePoint("FS1", np.random.default_rng(3), StationConfig(max_delay_s=600))
    device.plug_in(EV(soc=0.2))
    _run(device, SATURDAY_10, 602)
    assert device.power_w == pytest.approx(7400.0)
    assert device.mode is Mode.FAIL_SAFE
    assert all(m.offline for m in device.outbox if hasattr(m, "offline"))


def test_tx_profile_for_another_transaction_is_refused() -> None:
    """A TxProfile only applies to its own transaction (OCPP 2.0.1 K01.FR.03)."""
    device = EmulatedChargePoint("TX1", np.random.default_rng(3))
    device.plug_in(EV())
    other = ChargingProfile(9, 0, ProfilePurpose.TX, 1000.0, transaction_id="not-this-one")
    assert device.set_charging_profile(other) is False
    mine = ChargingProfile(9, 0, ProfilePurpose.TX, 1000.0, transaction_id=device.transaction_id)
    assert device.set_charging_profile(mine) is True


def test_expired_profile_no_longer_limits() -> None:
    """A DSR limit whose validTo has passed is not resumed (SCP-FS-4)."""
    device = EmulatedChargePoint("EX1", np.random.default_rng(3), StationConfig(max_delay_s=0))
    device.plug_in(EV(soc=0.2))
    end = datetime.fromtimestamp(SATURDAY_10 + 5, UTC)
    device.set_charging_profile(
        ChargingProfile(1, 0, ProfilePurpose.EXTERNAL_CONSTRAINTS, 1000.0, valid_to=end)
    )
    _run(device, SATURDAY_10, 3)
    assert device.power_w == pytest.approx(1000.0)
    _run(device, SATURDAY_10 + 6, 2)
    assert device.power_w == pytest.approx(7400.0)


def test_highest_stack_level_leads_and_tx_profile_replaces_default() -> None:
    """Within a purpose the highest stack level leads (ARB-2); TxProfile replaces TxDefault (ARB-3)."""
    codes = np.array([profile_stack.TX_DEFAULT, profile_stack.TX_DEFAULT, profile_stack.TX])
    leading = profile_stack.leading_limits_w(
        codes, np.array([0, 3, 0]), np.array([1000.0, 4000.0, 6000.0]), np.array([-1, -1, -1]), 0
    )
    assert leading[profile_stack.TX_DEFAULT] == 4000.0
    assert profile_stack.transaction_limit_w(leading) == 6000.0
    with pytest.raises(ValidationError, match="purpose"):
        profile_stack.leading_limits_w(np.array([7]), np.array([0]), np.array([1.0]), np.array([-1]), 0)


def test_ev_tapers_near_full() -> None:
    """The vehicle takes full power up to 80 % and tapers to zero at full (CC-CV)."""
    assert EV(soc=0.5).acceptance_w() == 7400.0
    assert EV(soc=0.9).acceptance_w() == pytest.approx(3700.0)
    assert EV(soc=1.0).acceptance_w() == 0.0
    with pytest.raises(ValidationError, match="soc"):
        EV(soc=1.2)


def test_reconnect_backoff_grows_and_is_randomised() -> None:
    """Retries wait minimum * 2^n plus a random part, capped after RetryBackOffRepeatTimes (SCP-FS-5)."""
    link = LinkConfig("ws://x", retry_min_s=3.0, retry_random_range_s=10.0, retry_repeat=3)
    rng = np.random.default_rng(5)
    waits = [backoff_s(n, link, rng) for n in range(6)]
    assert 3.0 <= waits[0] <= 13.0 and 24.0 <= waits[3] <= 34.0 and 24.0 <= waits[5] <= 34.0
    assert len({round(w, 6) for w in waits[3:]}) == 3  # same base, different random parts


def test_bad_settings_are_refused_with_the_field_named() -> None:
    """No silent clamping: a maximum delay over 1800 s or a bad rating is an error (SCP-RD-3)."""
    with pytest.raises(ValidationError, match="max_delay_s"):
        StationConfig(max_delay_s=1801)
    with pytest.raises(ValidationError, match="rated_power_w"):
        StationConfig(rated_power_w=0)
    device = EmulatedChargePoint("BAD", np.random.default_rng(1))
    assert device.set_variable(MAX_DELAY, "-5").status == "Rejected"
    assert device.get_variable(MAX_DELAY).value == "600"
    with pytest.raises(ValidationError, match="stack_level"):
        ChargingProfile(1, 2000, ProfilePurpose.TX_DEFAULT, 10.0)
    with pytest.raises(ValidationError, match="limit_w"):
        ChargingProfile(1, 0, ProfilePurpose.TX_DEFAULT, -1.0)


def test_delay_default_is_600_s_and_owner_choice_changes_hours() -> None:
    """Shipped: 600 s maximum (SCP-RD-2), defaults pending until the owner answers (SCP-OP-2);
    removing the defaults lets a weekday-peak session charge (SCP-OP-3)."""
    device = EmulatedChargePoint("OWN", np.random.default_rng(2), StationConfig(max_delay_s=0))
    assert device.get_variable(MAX_DELAY).value == "0"
    from smartcharge.station.device import DEFAULT_HOURS, DEFAULT_HOURS_CHOICE

    assert device.get_variable(DEFAULT_HOURS_CHOICE).value == "Pending"
    peak = datetime(2026, 11, 24, 18, 0, tzinfo=UTC).timestamp()
    device.plug_in(EV(soc=0.2))
    _run(device, peak, 3)
    assert device.power_w == 0.0
    assert device.set_variable(DEFAULT_HOURS_CHOICE, "Removed").status == "Accepted"
    _run(device, peak + 3, 2)
    assert device.power_w == pytest.approx(7400.0)
    assert device.set_variable(DEFAULT_HOURS, "Mon-Fri 25:00-26:00").status == "Rejected"
    assert device.set_variable(DEFAULT_HOURS, "Mon-Sun 00:00-06:00").status == "Accepted"
    assert device.get_variable(DEFAULT_HOURS_CHOICE).value == "Changed"
    _run(device, peak + timedelta(minutes=1).total_seconds(), 2)
    assert device.power_w == 0.0


def test_plug_in_before_the_clock_is_set_is_stamped_at_the_first_tick() -> None:
    """Issue 15: ``station run --plug-in-soc`` plugged in before the clock was set and the Started
    event said 1970-01-01. The start is now reported at the first tick, with its time."""
    device = EmulatedChargePoint("C1", np.random.default_rng(1))
    device.plug_in(EV(soc=0.5))
    assert not device.outbox  # nothing is stamped before the device knows the time
    device.tick(SATURDAY_10)
    started = [m for m in device.outbox if getattr(m, "event_type", None) == "Started"]
    assert len(started) == 1 and started[0].occurred_at.timestamp() == SATURDAY_10
    assert all(r.measured_at.timestamp() == SATURDAY_10 for r in started[0].readings)


def test_offline_queue_is_bounded_and_keeps_session_messages() -> None:
    """Issue 15, bounded memory: a station offline for long holds at most ``max_items`` messages;
    the oldest periodic samples go first (OCPP 2.0.1 E04); the start, the rate changes and the
    end are kept."""
    from smartcharge.station.device import Outbox

    device = EmulatedChargePoint(
        "Q1", np.random.default_rng(2), StationConfig(max_delay_s=0, meter_interval_s=1)
    )
    device.outbox = Outbox(max_items=50)
    _run(device, SATURDAY_10, 1)
    device.plug_in(EV(soc=0.1, capacity_kwh=500.0))
    _run(device, SATURDAY_10 + 1, 300)  # one periodic sample a second, never sent
    device.apply_local_limit(3000.0)
    _run(device, SATURDAY_10 + 301, 300)
    device.unplug()
    queued = list(device.outbox)
    assert len(queued) <= 51 and device.outbox.dropped_periodic > 500
    events = [m for m in queued if hasattr(m, "event_type")]
    assert events[0].event_type == "Started" and events[-1].event_type == "Ended"
    assert any(m.trigger_reason == "ChargingRateChanged" for m in events)
