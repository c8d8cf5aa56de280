"""``tariff_window``: charge only inside the tariff's cheap window, starting at its edge, no delay.

This is the synchronised case of report 7.10-7.11: every charge point switches at the same
minute. A session whose plug-in span misses the window entirely is charged on plug-in (the
owner's override); with ``override_when_blocked=False`` it is left unmet instead.

By default the owner has replaced the reg 10 default hours with the tariff's window (SCP-OP-2,
SCP-OP-3), so a window reaching into the weekday peak (EDF GoElectric 98 from 21:00) is used as
it is. With ``with_default_hours=True`` the shipped defaults stay in force as well and charging
needs both (as a live charge point with defaults accepted and the tariff as routine DSR).
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
    with_default_hours: bool = False


def window_planner(
    context: StrategyContext, max_delay_s: int, override_when_blocked: bool, with_default_hours: bool = False
) -> Planner:
    """Planner on the tariff's cheap window with reg 11 delays up to ``max_delay_s`` at each edge."""
    if context.tariff.kind is TariffKind.FLAT:
        raise ValidationError(
            "tariff_id",
            context.tariff.tariff_id,
            "a tariff-window strategy needs a tariff with a cheap window",
        )
    timeline = tariff_window_timeline(context.tariff, context.start_s, context.end_s, with_default_hours)

    def plan(sessions: Sessions, power_w: FloatArray, group: IntArray, rng: np.random.Generator) -> Boxes:
        return charge_on_timeline(sessions, power_w, timeline, max_delay_s, rng, override_when_blocked)

    return plan


def prepare(config: Config, context: StrategyContext) -> Planner:
    return window_planner(context, 0, config.override_when_blocked, config.with_default_hours)
