"""GB local time (Europe/London), vectorised and correct across clock changes.

GB clocks follow the rule in force since 1996 (Summer Time Order 2002): British Summer Time,
UTC+1, runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
October. The rule is expanded here into a table of transitions so that a million timestamps are
converted with one ``searchsorted``; a test checks the table against the IANA database.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import (
    MINUTES_PER_DAY,
    SECONDS_PER_DAY,
    SECONDS_PER_HOUR,
    SECONDS_PER_MINUTE,
    IntArray,
)

GB_TZ = ZoneInfo("Europe/London")
FIRST_YEAR = 1996
LAST_YEAR = 2099
_BST_OFFSET_S = SECONDS_PER_HOUR


def _last_sunday_0100_utc_s(year: int, month: int) -> int:
    last_day = calendar.monthrange(year, month)[1]
    weekday = calendar.weekday(year, month, last_day)  # Monday = 0
    day = last_day - (weekday - 6) % 7
    return calendar.timegm((year, month, day, 1, 0, 0))


def _transitions() -> tuple[IntArray, IntArray]:
    starts = [_last_sunday_0100_utc_s(y, 3) for y in range(FIRST_YEAR, LAST_YEAR + 1)]
    ends = [_last_sunday_0100_utc_s(y, 10) for y in range(FIRST_YEAR, LAST_YEAR + 1)]
    edges = np.array(sorted(starts + ends), dtype=np.int64)
    # Offset in force from each edge on: BST after a March edge, GMT after an October edge.
    offsets = np.tile(np.array([_BST_OFFSET_S, 0], dtype=np.int64), len(starts))
    return edges, offsets


_EDGES_S, _OFFSETS_S = _transitions()
_MIN_S = calendar.timegm((FIRST_YEAR, 1, 1, 0, 0, 0))
_MAX_S = calendar.timegm((LAST_YEAR, 12, 31, 23, 59, 59))


class LocalFields(NamedTuple):
    """Local GB clock fields for each timestamp; every array has the input's shape."""

    weekday: IntArray  # Monday = 0 … Sunday = 6
    minute_of_day: IntArray  # 0 … 1439
    minute_of_week: IntArray  # weekday * 1440 + minute_of_day
    local_day: IntArray  # days since 1970-01-01 on the local calendar


def utc_offset_s(epoch_s: IntArray) -> IntArray:
    """UTC offset of GB local time in seconds (0 in GMT, 3600 in BST) for each UTC timestamp."""
    t = np.asarray(epoch_s, dtype=np.int64)
    if t.size and (int(t.min()) < _MIN_S or int(t.max()) > _MAX_S):
        raise ValidationError(
            "epoch_s",
            (int(t.min()), int(t.max())),
            f"GB local time is defined here for {FIRST_YEAR}-{LAST_YEAR} only",
        )
    idx = np.searchsorted(_EDGES_S, t, side="right") - 1
    offsets = np.where(idx >= 0, _OFFSETS_S[np.clip(idx, 0, None)], 0)
    return offsets.astype(np.int64)


def local_fields(epoch_s: IntArray) -> LocalFields:
    """Split UTC epoch seconds into GB local weekday, minute of day and local day number."""
    t = np.asarray(epoch_s, dtype=np.int64)
    local_s = t + utc_offset_s(t)
    local_day = local_s // SECONDS_PER_DAY
    minute_of_day = (local_s % SECONDS_PER_DAY) // SECONDS_PER_MINUTE
    weekday = (local_day + 3) % 7  # 1970-01-01 was a Thursday (3)
    return LocalFields(
        weekday=weekday,
        minute_of_day=minute_of_day,
        minute_of_week=weekday * MINUTES_PER_DAY + minute_of_day,
        local_day=local_day,
    )


def epoch_s_from_datetime(at: datetime) -> int:
    """Whole UTC epoch seconds of an aware datetime; a naive one is refused (its zone is unknown)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError("at", at.isoformat(), "datetime must be timezone-aware")
    return int(at.timestamp())


def datetime_from_epoch_s(epoch_s: int) -> datetime:
    """The aware UTC datetime of an epoch second."""
    return datetime.fromtimestamp(epoch_s, tz=UTC)


__all__ = [
    "FIRST_YEAR",
    "GB_TZ",
    "LAST_YEAR",
    "LocalFields",
    "datetime_from_epoch_s",
    "epoch_s_from_datetime",
    "local_fields",
    "utc_offset_s",
]
