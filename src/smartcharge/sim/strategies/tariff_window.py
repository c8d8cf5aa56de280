"""``tariff_window``: charge only inside the tariff's cheap window, starting at its edge, no delay.

This is the synchronised case of report 7.10-7.11: every charge point switches at the same
minute. A session whose plug-in span misses the window entirely is charged on plug-in (the
owner's override); with ``override_when_blocked=False`` it is left unmet instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.tariff import TariffKind
from smartcharge.core.units import FloatArray, IntArray
from smartcharge.sim.charging import Boxes, charge_on_timeline
from smartcharge.sim.sessions import Sessions
from smartcharge.sim.strategies.base import Planner, StrategyContext
from smartcharge.sim.timeline import tariff_window_timeline


@dataclass(frozen=True, slots=True)
class Config:
    override_when_blocked: bool = True


def window_planner(context: StrategyContext, max_delay_s: int, override_when_blocked: bool) -> Planner:
    """Planner on the tariff's cheap window with reg 11 delays up to ``max_delay_s`` at each edge."""
    if context.tariff.kind is TariffKind.FLAT:
        raise ValidationError(
            "tariff_id",
            context.tariff.tariff_id,
            "a tariff-window strategy needs a tariff with a cheap window",
        )
    timeline = tariff_window_timeline(context.tariff, context.start_s, context.end_s)

    def plan(sessions: Sessions, power_w: FloatArray, group: IntArray, rng: np.random.Generator) -> Boxes:
        return charge_on_timeline(sessions, power_w, timeline, max_delay_s, rng, override_when_blocked)

    return plan


def prepare(config: Config, context: StrategyContext) -> Planner:
    return window_planner(context, 0, config.override_when_blocked)
