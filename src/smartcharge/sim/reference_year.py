"""Map simulated UTC times onto a one-year half-hourly reference series (LCL 2013, carbon 2023).

A simulated day takes the reference day that lies a whole number of 52-week cycles away, so the
weekday is kept (weekday and weekend demand differ) and the date drifts by only 1.25 days per year
of distance between the simulated year and the reference year. The time of day is kept in UTC:
both references are UTC (LCL ``tstp`` is GMT all year; the carbon API is UTC).
"""

from __future__ import annotations

import numpy as np

from smartcharge.core.units import SECONDS_PER_DAY, IntArray

_HALF_HOUR_S = 1800
_CYCLE_DAYS = 364  # 52 weeks: keeps the weekday


def reference_index(epoch_s: IntArray, reference_start_s: int) -> IntArray:
    """Half-hour index into a 17,520-slot reference year for each UTC epoch second."""
    t = np.asarray(epoch_s, dtype=np.int64)
    day = (t // SECONDS_PER_DAY - reference_start_s // SECONDS_PER_DAY) % _CYCLE_DAYS
    return (day * 48 + (t % SECONDS_PER_DAY) // _HALF_HOUR_S).astype(np.int64)


__all__ = ["reference_index"]
