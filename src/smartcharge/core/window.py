"""Daily and weekly time windows on the GB local clock.

A window belongs to the day it starts on and may run past midnight (``21:00-07:00``).
A :class:`WeeklySchedule` is a set of windows turned into a boolean mask over the 10,080 minutes
of a local week, so that asking "is minute m inside?" for a million charge points is one lookup.

Grammar accepted by :func:`parse_window` / :meth:`WeeklySchedule.parse`::

    schedule := part (";" part)*
    part     := [days " "] "HH:MM-HH:MM"
    days     := day | day "-" day          (Mon Tue Wed Thu Fri Sat Sun)

``24:00`` is allowed as an end time; a window of zero length is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import MINUTES_PER_DAY, MINUTES_PER_WEEK, BoolArray, IntArray

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ALL_DAYS = frozenset(range(7))
WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})

_TIME = r"([01]\d|2[0-4]):([0-5]\d)"
_PART = re.compile(rf"^(?:(\w{{3}})(?:-(\w{{3}}))?\s+)?{_TIME}-{_TIME}$")


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Local clock window ``start_minute``–``end_minute`` on each day in ``weekdays`` (Mon = 0).

    ``end_minute <= start_minute`` means the window runs past midnight into the next day.
    """

    start_minute: int
    end_minute: int
    weekdays: frozenset[int] = ALL_DAYS

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ValidationError("start_minute", self.start_minute, "must be in 0..1439")
        if not 0 <= self.end_minute <= MINUTES_PER_DAY:
            raise ValidationError("end_minute", self.end_minute, "must be in 0..1440")
        if self.start_minute == self.end_minute % MINUTES_PER_DAY and self.end_minute != MINUTES_PER_DAY:
            raise ValidationError("window", str(self), "start and end are equal: a window must have a length")
        if not self.weekdays or not self.weekdays <= ALL_DAYS:
            raise ValidationError("weekdays", sorted(self.weekdays), "must be a non-empty subset of 0..6")

    @property
    def duration_min(self) -> int:
        """Length of the window in minutes."""
        return (self.end_minute - self.start_minute - 1) % MINUTES_PER_DAY + 1

    def minute_mask(self) -> BoolArray:
        """Boolean mask over the minutes of a local week (Monday 00:00 = 0) inside this window."""
        mask = np.zeros(MINUTES_PER_WEEK, dtype=np.bool_)
        span = np.arange(self.duration_min)
        for day in self.weekdays:
            mask[(day * MINUTES_PER_DAY + self.start_minute + span) % MINUTES_PER_WEEK] = True
        return mask

    def __str__(self) -> str:
        days = _format_days(self.weekdays)
        times = f"{_hhmm(self.start_minute)}-{_hhmm(self.end_minute)}"
        return f"{days} {times}" if days else times


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """A union of :class:`TimeWindow` s over the local week."""

    windows: tuple[TimeWindow, ...]

    @classmethod
    def parse(cls, text: str, field: str = "schedule") -> WeeklySchedule:
        """Parse ``"Mon-Fri 21:00-07:00; Sat-Sun 00:00-24:00"``; an empty string is no window."""
        parts = [p.strip() for p in text.split(";") if p.strip()]
        return cls(tuple(parse_window(p, field) for p in parts))

    def minute_mask(self) -> BoolArray:
        """Boolean mask over the 10,080 minutes of the local week covered by any window."""
        mask = np.zeros(MINUTES_PER_WEEK, dtype=np.bool_)
        for window in self.windows:
            mask |= window.minute_mask()
        return mask

    def contains(self, minute_of_week: IntArray) -> BoolArray:
        """For each local minute of the week, whether it lies in the schedule."""
        return self.minute_mask()[np.asarray(minute_of_week, dtype=np.int64) % MINUTES_PER_WEEK]

    def overlaps(self, other: WeeklySchedule) -> bool:
        """Whether the two schedules share any minute."""
        return bool(np.any(self.minute_mask() & other.minute_mask()))

    def __str__(self) -> str:
        return "; ".join(str(w) for w in self.windows)


def parse_window(text: str, field: str = "window") -> TimeWindow:
    """Parse one window, ``"00:30-05:30"`` or ``"Mon-Fri 16:00-22:00"``; refuse anything else."""
    match = _PART.match(text.strip())
    if match is None:
        raise ValidationError(field, text, "expected '[Day[-Day] ]HH:MM-HH:MM' on the local clock")
    first, last, h0, m0, h1, m1 = match.groups()
    start, end = int(h0) * 60 + int(m0), int(h1) * 60 + int(m1)
    if start >= MINUTES_PER_DAY or end > MINUTES_PER_DAY:
        raise ValidationError(field, text, "hours run 00:00 to 24:00 and a window cannot start at 24:00")
    days = ALL_DAYS if first is None else _day_range(first, last or first, field, text)
    return TimeWindow(start, end, days)


def _day_range(first: str, last: str, field: str, text: str) -> frozenset[int]:
    try:
        a, b = DAY_NAMES.index(first.title()), DAY_NAMES.index(last.title())
    except ValueError:
        raise ValidationError(field, text, f"days must be among {', '.join(DAY_NAMES)}") from None
    if b < a:
        raise ValidationError(field, text, "a day range must run forward within one week (Mon..Sun)")
    return frozenset(range(a, b + 1))


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _format_days(days: frozenset[int]) -> str:
    if days == ALL_DAYS:
        return ""
    ordered = sorted(days)
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        first, last = DAY_NAMES[ordered[0]], DAY_NAMES[ordered[-1]]
        return first if first == last else f"{first}-{last}"
    return ",".join(DAY_NAMES[d] for d in ordered)


__all__ = [
    "ALL_DAYS",
    "DAY_NAMES",
    "WEEKDAYS",
    "WEEKEND",
    "TimeWindow",
    "WeeklySchedule",
    "parse_window",
]
