"""``tariff_window_delay``: the tariff window with the reg 11 randomised delay at every edge.

Each start, and each fall at the window's end, waits a delay uniform over 0..``max_delay_s``
whole seconds (SCP-RD-2, SCP-RD-5), decided by the live station's reg 11 kernel
:func:`~smartcharge.policy.random_delay.step_random_delay` (see :mod:`smartcharge.sim.charging`).
``max_delay_s`` is 0..1800 (SCP-RD-1, SCP-RD-3); the studied values are 0, 600 (the default) and 1800.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartcharge.policy.random_delay import DEFAULT_MAX_DELAY_S, validate_max_delay_s
from smartcharge.sim.strategies.base import Planner, StrategyContext
from smartcharge.sim.strategies.tariff_window import window_planner


@dataclass(frozen=True, slots=True)
class Config:
    max_delay_s: int = DEFAULT_MAX_DELAY_S
    override_when_blocked: bool = True
    with_default_hours: bool = False

    def __post_init__(self) -> None:
        validate_max_delay_s(self.max_delay_s, "strategy.max_delay_s")


def prepare(config: Config, context: StrategyContext) -> Planner:
    return window_planner(
        context, config.max_delay_s, config.override_when_blocked, config.with_default_hours
    )
