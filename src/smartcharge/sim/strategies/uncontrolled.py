"""``uncontrolled``: full rated power from plug-in until the energy is met or the car leaves."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.units import FloatArray, IntArray
from smartcharge.sim.charging import Boxes, charge_at_once
from smartcharge.sim.sessions import Sessions
from smartcharge.sim.strategies.base import Planner, StrategyContext


@dataclass(frozen=True, slots=True)
class Config:
    """No settings: the baseline every other strategy is compared with."""


def prepare(config: Config, context: StrategyContext) -> Planner:
    def plan(sessions: Sessions, power_w: FloatArray, group: IntArray, rng: np.random.Generator) -> Boxes:
        return charge_at_once(sessions, power_w)

    return plan
