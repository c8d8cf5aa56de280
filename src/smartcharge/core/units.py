"""Units and array types.

Every physical quantity carries its unit in its name (``limit_w``, ``energy_kwh``, ``delay_s``).
Times inside the core are integer seconds since the Unix epoch, UTC (``*_s``), so that a million of
them fit a numpy array; ``*_at`` names always hold timezone-aware UTC datetimes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86_400
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

#: Nominal GB low-voltage phase voltage (ESQCR 2002: 230 V +10 % / -6 %).
NOMINAL_VOLTAGE_V = 230.0


def w_from_a(current_a: float, voltage_v: float = NOMINAL_VOLTAGE_V, phases: int = 1) -> float:
    """Power in watts drawn by ``phases`` phases at ``current_a`` each."""
    return current_a * voltage_v * phases


def a_from_w(power_w: float, voltage_v: float = NOMINAL_VOLTAGE_V, phases: int = 1) -> float:
    """Per-phase current in amperes for ``power_w`` spread over ``phases`` phases."""
    return power_w / (voltage_v * phases)


def kwh_from_w_s(power_w: float, duration_s: float) -> float:
    """Energy in kWh delivered by ``power_w`` held for ``duration_s``."""
    return power_w * duration_s / 3_600_000.0


__all__ = [
    "MINUTES_PER_DAY",
    "MINUTES_PER_WEEK",
    "NOMINAL_VOLTAGE_V",
    "SECONDS_PER_DAY",
    "SECONDS_PER_HOUR",
    "SECONDS_PER_MINUTE",
    "BoolArray",
    "FloatArray",
    "IntArray",
    "a_from_w",
    "kwh_from_w_s",
    "w_from_a",
]
