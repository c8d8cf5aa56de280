"""GB grid carbon intensity from the packaged half-hourly table, for planning (issue 12 item 1).

The table ``smartcharge/data/behaviour/carbon_2023_halfhourly.csv`` is the NESO Carbon Intensity
API national series for 2023 (see ``PROVENANCE.md`` beside it). A time in another year takes the
half-hour a whole number of 52-week cycles away, so the weekday is kept (the simulator maps its
reference year the same way). A live carbon source replaces this through the CEM's
``CarbonSource`` port.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import numpy as np

from smartcharge.core.errors import DataFileError
from smartcharge.core.units import SECONDS_PER_DAY, FloatArray, IntArray

_START_S = 1_672_531_200  # 2023-01-01T00:00Z
_HALF_HOUR_S = 1800
_CYCLE_DAYS = 364
_FILE = "behaviour/carbon_2023_halfhourly.csv"


@cache
def _table() -> FloatArray:
    path = resources.files("smartcharge.data").joinpath(_FILE)
    try:
        with path.open(encoding="utf-8") as handle:
            values = np.array([float(r["intensity_gco2_per_kwh"]) for r in csv.DictReader(handle)])
    except FileNotFoundError:
        raise DataFileError(_FILE, "missing from the installed package") from None
    except (KeyError, ValueError) as exc:
        raise DataFileError(_FILE, f"malformed: {exc}") from None
    if values.shape != (17520,):
        raise DataFileError(_FILE, f"expected 17520 half-hours, found {values.shape[0]}")
    return values


def carbon_g_per_kwh(epoch_s: IntArray) -> FloatArray:
    """Carbon intensity (gCO2/kWh) of the GB grid at each UTC epoch second."""
    t = np.asarray(epoch_s, dtype=np.int64)
    day = (t // SECONDS_PER_DAY - _START_S // SECONDS_PER_DAY) % _CYCLE_DAYS
    index = day * 48 + (t % SECONDS_PER_DAY) // _HALF_HOUR_S
    out: FloatArray = _table()[index]
    return out


__all__ = ["carbon_g_per_kwh"]
