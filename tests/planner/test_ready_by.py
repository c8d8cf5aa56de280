"""Recurring weekday plans and one-off plans (issue 12 item 1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smartcharge.core.errors import ValidationError
from smartcharge.policy.ready_by import next_departure, next_recurring_s

WEEKDAYS = (0, 1, 2, 3, 4)


def _s(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def test_mon_fri_0730_skips_the_weekend_in_winter() -> None:
    """Friday 20:00 GMT -> Monday 07:30 GMT."""
    assert next_recurring_s(WEEKDAYS, 450, _s(2026, 11, 27, 20)) == _s(2026, 11, 30, 7, 30)


def test_local_time_follows_british_summer_time() -> None:
    """07:30 BST is 06:30 UTC (Wednesday 1 July 2026)."""
    assert next_recurring_s(WEEKDAYS, 450, _s(2026, 6, 30, 22)) == _s(2026, 7, 1, 6, 30)


def test_clock_change_day() -> None:
    """Sunday 29 March 2026 (clocks go forward at 01:00 UTC): 07:30 local is 06:30 UTC."""
    assert next_recurring_s((6,), 450, _s(2026, 3, 28, 12)) == _s(2026, 3, 29, 6, 30)


def test_a_one_off_stands_in_for_that_day_and_the_recurring_plan_resumes() -> None:
    """A one-off for Tuesday 09:00 replaces Tuesday's 07:30; after it, Wednesday's 07:30 counts."""
    now = _s(2026, 12, 1, 0)  # Tuesday 00:00 GMT
    recurring = [("weekdays", WEEKDAYS, 450)]
    one_off = [("tuesday", _s(2026, 12, 1, 9))]
    first = next_departure(recurring, one_off, now)
    assert first is not None and (first.plan_id, first.ready_by_s, first.one_off) == (
        "tuesday",
        _s(2026, 12, 1, 9),
        True,
    )
    later = next_departure(recurring, one_off, _s(2026, 12, 1, 9, 1))
    assert later is not None and (later.plan_id, later.ready_by_s) == ("weekdays", _s(2026, 12, 2, 7, 30))
    assert next_departure([], [], now) is None


@pytest.mark.parametrize(
    ("days", "minute", "field"),
    [((), 450, "weekdays"), ((7,), 450, "weekdays"), ((0,), 1440, "ready_by_local")],
)
def test_bad_recurring_plan_is_refused(days: tuple[int, ...], minute: int, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        next_recurring_s(days, minute, _s(2026, 12, 1))
    assert info.value.field == field
