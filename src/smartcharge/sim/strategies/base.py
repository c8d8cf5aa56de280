"""What every strategy gets and returns.

A strategy module holds a frozen ``Config`` and ``prepare(config, context) -> Planner``. The
planner turns one chunk of sessions into charging boxes; the runner owns time, chunks and
results (strategies decide; runners advance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from smartcharge.core.tariff import Tariff
from smartcharge.core.units import FloatArray, IntArray
from smartcharge.sim.behaviour import CarbonSeries
from smartcharge.sim.charging import Boxes
from smartcharge.sim.sessions import Sessions


@dataclass(frozen=True, slots=True)
class StrategyContext:
    """The run's fixed inputs: tariff, time span covered by sessions, carbon, group caps and base load."""

    tariff: Tariff
    start_s: int  # earliest plug-in (including warm-up)
    end_s: int  # latest plug-out the run can see
    carbon: CarbonSeries
    n_groups: int
    group_cap_w: FloatArray  # (G,) inf where no cap
    group_base_w: Callable[[IntArray], FloatArray]  # slot start times (K,) -> mean base load (K, G)


class Planner(Protocol):
    def __call__(
        self, sessions: Sessions, power_w: FloatArray, group: IntArray, rng: np.random.Generator
    ) -> Boxes: ...


__all__ = ["Planner", "StrategyContext"]
