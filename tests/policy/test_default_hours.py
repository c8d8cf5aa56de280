"""Default charging hours, SCP Regs 2021 reg 10 (SCP-OP-1…5)."""

from __future__ import annotations

import numpy as np
import pytest

from smartcharge.core.errors import ValidationError
from smartcharge.core.window import WeeklySchedule
from smartcharge.policy.default_hours import (
    GB_DEFAULT_HOURS,
    GB_PEAK,
    DefaultHoursState,
    FirstUseChoice,
    ScheduleTable,
    is_charging_allowed,
    minutes_until_allowed,
    validate_preset_hours,
)

MON, FRI, SAT = 0, 4, 5


def _mow(day: int, hh: int, mm: int = 0) -> np.ndarray:
    return np.array([day * 1440 + hh * 60 + mm])


def test_peak_is_weekday_0800_1100_and_1600_2200() -> None:
    """SCP-OP-1: reg 10(4)(b) peak hours on weekdays; weekends have none."""
    mask = GB_PEAK.minute_mask()
    assert mask[_mow(MON, 8)[0]] and mask[_mow(FRI, 21, 59)[0]]
    assert not mask[_mow(MON, 11)[0]] and not mask[_mow(MON, 22)[0]] and not mask[_mow(MON, 7, 59)[0]]
    assert not mask[_mow(SAT, 17)[0]]
    assert int(mask.sum()) == 5 * 9 * 60


def test_shipped_defaults_are_exactly_outside_peak() -> None:
    """SCP-OP-1: pre-set defaults lie outside peak hours (and here cover every other minute)."""
    assert not GB_DEFAULT_HOURS.overlaps(GB_PEAK)
    assert np.all(GB_DEFAULT_HOURS.minute_mask() | GB_PEAK.minute_mask())
    validate_preset_hours(GB_DEFAULT_HOURS)


def test_preset_hours_touching_peak_refused() -> None:
    """SCP-OP-1: a maker's preset that charges at 17:00 on a weekday is refused with the rule."""
    with pytest.raises(ValidationError, match=r"reg 10.*first clash on day 0 at 16:00"):
        validate_preset_hours(WeeklySchedule.parse("15:00-18:00"))


def test_shipped_device_does_not_charge_in_peak() -> None:
    """SCP-OP-5: outside default hours the device normally does not charge."""
    state = DefaultHoursState.shipped(1)
    table = ScheduleTable.gb_default()
    assert is_charging_allowed(state, table, _mow(MON, 17), 0).tolist() == [False]
    assert is_charging_allowed(state, table, _mow(MON, 23), 0).tolist() == [True]
    assert is_charging_allowed(state, table, _mow(SAT, 17), 0).tolist() == [True]


def test_owner_first_use_choices() -> None:
    """SCP-OP-2: at first use the owner accepts, changes or removes the defaults."""
    table = ScheduleTable.build([GB_DEFAULT_HOURS, WeeklySchedule.parse("01:00-04:00")])
    state = DefaultHoursState.shipped(3)
    state = state.with_choice(np.array([0]), FirstUseChoice.ACCEPTED)
    state = state.with_choice(np.array([1]), FirstUseChoice.CHANGED, schedule_row=1)
    state = state.with_choice(np.array([2]), FirstUseChoice.REMOVED)
    at_0030 = np.repeat(_mow(SAT, 0, 30), 3)
    assert is_charging_allowed(state, table, at_0030, 0).tolist() == [True, False, True]
    at_peak = np.repeat(_mow(MON, 17), 3)
    assert is_charging_allowed(state, table, at_peak, 0).tolist() == [False, False, True]


def test_changing_hours_needs_the_new_hours() -> None:
    with pytest.raises(ValidationError, match="schedule_row"):
        DefaultHoursState.shipped(1).with_choice(np.array([0]), FirstUseChoice.CHANGED)


def test_override_once_until_end_of_session() -> None:
    """SCP-OP-3: the owner can override the defaults, e.g. for one session."""
    table = ScheduleTable.gb_default()
    state = DefaultHoursState.shipped(1).with_override(np.array([0]), until_s=5000)
    assert is_charging_allowed(state, table, _mow(MON, 17), 4999).tolist() == [True]
    assert is_charging_allowed(state, table, _mow(MON, 17), 5000).tolist() == [False]


def test_dsr_agreement_lifts_defaults() -> None:
    """SCP-OP-4: defaults are not required under a DSR agreement."""
    state = DefaultHoursState.shipped(1, dsr_agreement=True)
    assert is_charging_allowed(state, ScheduleTable.gb_default(), _mow(MON, 17), 0).tolist() == [True]


def test_minutes_until_allowed() -> None:
    state = DefaultHoursState.shipped(4)
    minutes = np.concatenate([_mow(MON, 16, 30), _mow(FRI, 21), _mow(SAT, 9), _mow(MON, 8)])
    waits = minutes_until_allowed(state, ScheduleTable.gb_default(), minutes)
    assert waits.tolist() == [330, 60, 0, 180]


def test_wait_wraps_from_sunday_into_monday() -> None:
    table = ScheduleTable.build([WeeklySchedule.parse("Mon 01:00-02:00")])
    waits = minutes_until_allowed(DefaultHoursState.shipped(1), table, _mow(6, 23))
    assert waits.tolist() == [120]
