"""When a car must be ready: recurring weekday plans and one-off plans (issue 12 item 1).

A recurring plan ("Mon-Fri ready by 07:30 with 80 %") names weekdays and a local (GB) clock time;
a one-off plan names one UTC instant. A one-off plan does not overwrite the recurring ones: it
stands in for the recurring departure of the same local day (if any) and the recurring plans
resume after it. Pure: the current time is an argument.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.localtime import local_fields
from smartcharge.core.units import SECONDS_PER_DAY, SECONDS_PER_MINUTE

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SEARCH_DAYS = 8  # any weekday recurs within a week; one more day covers a departure earlier today


@dataclass(frozen=True, slots=True)
class Departure:
    """A resolved ready-by instant and the plan it comes from."""

    ready_by_s: int
    plan_id: str
    one_off: bool


def check_weekdays(weekdays: tuple[int, ...]) -> tuple[int, ...]:
    if not weekdays or any(not 0 <= d <= 6 for d in weekdays) or len(set(weekdays)) != len(weekdays):
        raise ValidationError(
            "weekdays", list(weekdays), "distinct days 0 (Monday) .. 6 (Sunday), at least one"
        )
    return tuple(sorted(weekdays))


def check_local_minute(minute_of_day: int) -> int:
    if not 0 <= minute_of_day < 1440:
        raise ValidationError("ready_by_local", minute_of_day, "a local time 00:00 .. 23:59")
    return minute_of_day


def _local_midnights_s(now_s: int) -> list[int]:
    """UTC epoch s of the next local midnights from today's, found from local fields (BST-safe)."""
    out = []
    for day in range(-1, _SEARCH_DAYS):
        t = now_s + day * SECONDS_PER_DAY
        fields = local_fields(np.array([t]))
        minute = int(fields.minute_of_week[0]) % 1440
        # local midnight of t's local day: step back the local minutes (and seconds) since it
        out.append(t - minute * SECONDS_PER_MINUTE - t % SECONDS_PER_MINUTE)
    return out


def next_recurring_s(weekdays: tuple[int, ...], minute_of_day: int, now_s: int) -> int:
    """The next instant after ``now_s`` that is ``minute_of_day`` local time on one of ``weekdays``."""
    days = set(check_weekdays(weekdays))
    check_local_minute(minute_of_day)
    best: int | None = None
    for midnight in _local_midnights_s(now_s):
        weekday = int(local_fields(np.array([midnight + 3600])).minute_of_week[0]) // 1440
        if weekday not in days:
            continue
        candidate = midnight + minute_of_day * SECONDS_PER_MINUTE
        # On a clock-change day the local time may fall an hour off: correct by the local reading.
        local_min = int(local_fields(np.array([candidate])).minute_of_week[0]) % 1440
        candidate += (minute_of_day - local_min) * SECONDS_PER_MINUTE
        if candidate > now_s and (best is None or candidate < best):
            best = candidate
    if best is None:  # cannot happen for a valid weekday set
        raise ValidationError("weekdays", list(weekdays), "no departure found in the next week")
    return best


def _local_day(epoch_s: int) -> int:
    """A day number on the local clock (for "the same local day")."""
    fields = local_fields(np.array([epoch_s]))
    minute = int(fields.minute_of_week[0]) % 1440
    return (epoch_s - minute * SECONDS_PER_MINUTE) // SECONDS_PER_DAY


def next_departure(
    recurring: list[tuple[str, tuple[int, ...], int]], one_off: list[tuple[str, int]], now_s: int
) -> Departure | None:
    """The next departure of one charge point: the earliest of its one-off plans still ahead and
    its recurring plans' next occurrences, where a one-off stands in for a recurring departure on
    the same local day. ``recurring``: (plan id, weekdays, local minute of day); ``one_off``:
    (plan id, ready-by epoch s)."""
    ahead = [(t, pid) for pid, t in one_off if t > now_s]
    off_days = {_local_day(t) for t, _ in ahead}
    candidates = [Departure(t, pid, True) for t, pid in ahead]
    for pid, weekdays, minute in recurring:
        t = next_recurring_s(weekdays, minute, now_s)
        if _local_day(t) in off_days:
            # replaced for that day by the one-off; the plan's following occurrence still counts
            t = next_recurring_s(weekdays, minute, t)
        candidates.append(Departure(t, pid, False))
    return min(candidates, key=lambda d: (d.ready_by_s, not d.one_off), default=None)


__all__ = [
    "WEEKDAYS",
    "Departure",
    "check_local_minute",
    "check_weekdays",
    "next_departure",
    "next_recurring_s",
]
