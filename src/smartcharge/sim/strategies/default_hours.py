"""``default_hours``: the reg 10 shipped default charging hours with the reg 11 delay.

Charging is allowed outside the weekday peak 08:00-11:00 and 16:00-22:00 (SCP-OP-1, SCP-OP-5),
as decided by :func:`smartcharge.policy.default_hours.is_charging_allowed`; each start, stop and
restart is a relevant time with a randomised delay (SCP-RD-5). A session that plugs in and out
inside the peak is charged on plug-in: the owner overrides (SCP-OP-3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.units import FloatArray, IntArray
from smartcharge.policy.random_delay import DEFAULT_MAX_DELAY_S, validate_max_delay_s
from smartcharge.sim.charging import Boxes, charge_on_timeline
from smartcharge.sim.sessions import Sessions
from smartcharge.sim.strategies.base import Planner, StrategyContext
from smartcharge.sim.timeline import default_hours_timeline


@dataclass(frozen=True, slots=True)
class Config:
    max_delay_s: int = DEFAULT_MAX_DELAY_S
    override_when_blocked: bool = True

    def __post_init__(self) -> None:
        validate_max_delay_s(self.max_delay_s, "strategy.max_delay_s")


def prepare(config: Config, context: StrategyContext) -> Planner:
    timeline = default_hours_timeline(context.start_s, context.end_s)

    def plan(sessions: Sessions, power_w: FloatArray, group: IntArray, rng: np.random.Generator) -> Boxes:
        return charge_on_timeline(
            sessions, power_w, timeline, config.max_delay_s, rng, config.override_when_blocked
        )

    return plan
