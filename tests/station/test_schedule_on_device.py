"""Charging schedules on the emulated charge point without a network: a period change in a
schedule is a change of rate like any other, so the randomised delay holds the old rate (SCP Regs
2021 reg 11; SCP-RD-2), and the pure composite module (K08) on its own."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from smartcharge.ocpp.domain import ChargingProfile, ChargingSchedule, ProfilePurpose, SchedulePeriod
from smartcharge.station import composite
from smartcharge.station.device import EmulatedChargePoint, StationConfig
from smartcharge.station.ev import EV

SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC).timestamp()


def _at(s: float) -> datetime:
    return datetime.fromtimestamp(s, UTC)


def _two_periods(start_s: float, first_w: float, then_w: float, after_s: int) -> ChargingProfile:
    schedule = ChargingSchedule(
        "W", (SchedulePeriod(0, first_w), SchedulePeriod(after_s, then_w)), start_at=_at(start_s)
    )
    return ChargingProfile(5, 1, ProfilePurpose.TX_DEFAULT, first_w, schedule=schedule)


def test_a_period_change_goes_through_the_randomised_delay() -> None:
    device = EmulatedChargePoint("RD1", np.random.default_rng(11), StationConfig(max_delay_s=600))
    assert device.set_charging_profile(_two_periods(SATURDAY_10, 2000.0, 5000.0, 1200))
    device.plug_in(EV(capacity_kwh=200.0, soc=0.1))
    t = SATURDAY_10
    while device.output_w != 2000.0:  # the session start is itself delayed (reg 11)
        device.tick(t)
        t += 1
        assert t < SATURDAY_10 + 700
    while t < SATURDAY_10 + 1200:
        device.tick(t)
        t += 1
    device.tick(t)  # the period changes at this tick
    held_s = 0
    while device.output_w == 2000.0:
        assert device.countdown_s > 0  # the old rate holds only while the delay counts down
        held_s += 1
        device.tick(t + held_s)
        assert held_s <= 601
    assert device.output_w == 5000.0 and held_s > 0


def test_without_a_delay_the_new_period_applies_at_its_start() -> None:
    device = EmulatedChargePoint("RD2", np.random.default_rng(11), StationConfig(max_delay_s=0))
    device.set_charging_profile(_two_periods(SATURDAY_10, 2000.0, 5000.0, 60))
    device.plug_in(EV(soc=0.1))
    for t in range(60):
        device.tick(SATURDAY_10 + t)
    assert device.output_w == 2000.0
    device.tick(SATURDAY_10 + 60)
    assert device.output_w == 5000.0


def test_composite_of_recurring_weekly_and_relative() -> None:
    week = ChargingSchedule(
        "A",
        (SchedulePeriod(0, 16.0), SchedulePeriod(3600, 32.0)),
        kind="Recurring",
        recurrency="Weekly",
        start_at=_at(SATURDAY_10),
        duration_s=7200,
    )
    weekly = ChargingProfile(1, 0, ProfilePurpose.STATION_MAX, 16 * 230.0, schedule=week)
    relative = ChargingProfile(
        2,
        0,
        ProfilePurpose.TX_DEFAULT,
        1000.0,
        schedule=ChargingSchedule("W", (SchedulePeriod(0, 1000.0),), kind="Relative", duration_s=1800),
    )
    one_week_on = SATURDAY_10 + 7 * 86_400
    periods = composite.composite_schedule_w(
        [weekly, relative], one_week_on - 600, 9000, one_week_on, 7400.0, station_phases=1
    )
    assert periods == [(0, 7400.0), (600, 1000.0), (2400, 3680.0), (4200, 7360.0), (7800, 7400.0)]
    # No transaction: a Relative schedule is not in force at all.
    assert composite.profile_limit_w(relative, one_week_on, None) is None
    assert composite.profile_limit_w(weekly, SATURDAY_10 - 1, None) is None  # before its start
    assert composite.profile_limit_w(weekly, one_week_on + 10, None, station_phases=3) == pytest.approx(
        16 * 230.0 * 3
    )
