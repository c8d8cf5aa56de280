"""Time windows on the local clock (foundation: core windows; bad input refused)."""

from __future__ import annotations

import numpy as np
import pytest

from smartcharge.core.errors import ValidationError
from smartcharge.core.window import TimeWindow, WeeklySchedule, parse_window


def test_window_past_midnight_belongs_to_its_start_day() -> None:
    window = parse_window("Fri 21:00-07:00")
    mask = window.minute_mask()
    friday_2100 = 4 * 1440 + 21 * 60
    saturday_0659 = 5 * 1440 + 6 * 60 + 59
    assert mask[friday_2100] and mask[saturday_0659]
    assert not mask[5 * 1440 + 7 * 60]
    assert not mask[3 * 1440 + 23 * 60]  # Thursday night is not in a Friday window
    assert window.duration_min == 600


def test_sunday_night_window_wraps_into_monday() -> None:
    mask = parse_window("Sun 23:00-01:00").minute_mask()
    assert mask[6 * 1440 + 23 * 60] and mask[0] and mask[59] and not mask[60]


def test_schedule_round_trips_through_text() -> None:
    text = "Mon-Fri 08:00-11:00; Mon-Fri 16:00-22:00"
    schedule = WeeklySchedule.parse(text)
    assert str(schedule) == text
    assert int(schedule.minute_mask().sum()) == 5 * 9 * 60


def test_full_day_window() -> None:
    assert parse_window("Sat-Sun 00:00-24:00").duration_min == 1440


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("8-11", "expected"),
        ("25:00-26:00", "expected"),
        ("08:00-08:00", "length"),
        ("Fri-Mon 08:00-09:00", "forward"),
        ("Xyz 08:00-09:00", "days must be"),
        ("24:00-01:00", "cannot start at 24:00"),
    ],
)
def test_malformed_window_refused_with_rule(text: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule) as info:
        parse_window(text, "offpeak")
    assert info.value.field in {"offpeak", "window"}


def test_contains_is_vectorised() -> None:
    schedule = WeeklySchedule.parse("00:30-05:30")
    minutes = np.array([0, 30, 329, 330, 1440 + 31])
    assert schedule.contains(minutes).tolist() == [False, True, True, False, True]


def test_time_window_refuses_bad_fields() -> None:
    with pytest.raises(ValidationError, match="start_minute"):
        TimeWindow(1440, 10)
    with pytest.raises(ValidationError, match="weekdays"):
        TimeWindow(0, 10, frozenset())
