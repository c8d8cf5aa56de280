"""Plug-in sessions (stays) as arrays, and the GB local clock to UTC.

The stays themselves are drawn per car by :mod:`smartcharge.sim.stays` (a chain per car, issue 14).
Behaviour times are local wall-clock times, converted to UTC across clock changes with
:func:`smartcharge.core.localtime.utc_offset_s`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.localtime import utc_offset_s
from smartcharge.core.units import FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class Sessions:
    """One row per plug-in, sorted by (vehicle, plug-in); shapes (S,)."""

    vehicle: IntArray
    plugin_s: IntArray  # UTC epoch s
    plugout_s: IntArray
    energy_kwh: FloatArray  # energy the driver wants this session

    @property
    def size(self) -> int:
        return int(self.vehicle.shape[0])

    def take(self, index: IntArray) -> Sessions:
        return Sessions(
            self.vehicle[index], self.plugin_s[index], self.plugout_s[index], self.energy_kwh[index]
        )


def utc_from_local_s(local_s: IntArray) -> IntArray:
    """UTC epoch s for GB local wall-clock seconds (the skipped spring hour maps forward)."""
    local = np.asarray(local_s, dtype=np.int64)
    first = local - utc_offset_s(local)
    return local - utc_offset_s(first)


__all__ = ["Sessions", "utc_from_local_s"]
