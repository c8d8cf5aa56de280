"""``dsr_turndown``: a response-DSR turn-down event with the rebound after it.

Inside each event (a weekly schedule on the local clock, e.g. ``Mon-Fri 17:00-19:00``) every
charge point is cut to ``level_during`` x rated power at once: response DSR is exempt from the
randomised delay (SCP-RD-4). At the event's end the return to full power is a relevant time and
waits a delay up to ``max_delay_s`` (SCP-RD-5), so the energy held back comes back as a rebound.
Outside events the charge points charge on plug-in (``base="uncontrolled"``) or in the tariff
window (``base="tariff_window"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.localtime import local_fields
from smartcharge.core.units import SECONDS_PER_MINUTE, FloatArray, IntArray
from smartcharge.core.window import WeeklySchedule
from smartcharge.policy.random_delay import DEFAULT_MAX_DELAY_S, validate_max_delay_s
from smartcharge.sim.charging import Boxes, charge_on_timeline
from smartcharge.sim.sessions import Sessions
from smartcharge.sim.strategies.base import Planner, StrategyContext
from smartcharge.sim.timeline import LevelTimeline, overlay_events, tariff_window_timeline

_BASES = ("uncontrolled", "tariff_window")


@dataclass(frozen=True, slots=True)
class Config:
    event_schedule: str = "Mon-Fri 17:00-19:00"
    level_during: float = 0.0
    max_delay_s: int = DEFAULT_MAX_DELAY_S
    base: str = "uncontrolled"

    def __post_init__(self) -> None:
        WeeklySchedule.parse(self.event_schedule, "strategy.event_schedule")
        if not 0.0 <= self.level_during < 1.0:
            raise ValidationError(
                "strategy.level_during", self.level_during, "a turn-down level is 0 <= level < 1"
            )
        validate_max_delay_s(self.max_delay_s, "strategy.max_delay_s")
        if self.base not in _BASES:
            raise ValidationError("strategy.base", self.base, f"must be one of {', '.join(_BASES)}")


def event_edges_s(schedule: WeeklySchedule, start_s: int, end_s: int) -> tuple[IntArray, IntArray]:
    """UTC start and end of each event minute run between ``start_s`` and ``end_s``."""
    minutes = np.arange(start_s - start_s % 60, end_s + 60, SECONDS_PER_MINUTE, dtype=np.int64)
    inside = schedule.contains(local_fields(minutes).minute_of_week)
    change = np.diff(inside.astype(np.int8), prepend=0, append=0)
    starts = minutes[np.flatnonzero(change[:-1] == 1)]
    ends_idx = np.flatnonzero(change == -1)
    ends = np.where(
        ends_idx < minutes.size, minutes[np.minimum(ends_idx, minutes.size - 1)], minutes[-1] + 60
    )
    return starts, ends


def prepare(config: Config, context: StrategyContext) -> Planner:
    schedule = WeeklySchedule.parse(config.event_schedule, "strategy.event_schedule")
    if config.base == "tariff_window":
        base = tariff_window_timeline(context.tariff, context.start_s, context.end_s)
    else:
        base = LevelTimeline.always()
    starts, ends = event_edges_s(schedule, context.start_s, context.end_s)
    timeline = overlay_events(base, starts, ends, config.level_during)

    def plan(sessions: Sessions, power_w: FloatArray, group: IntArray, rng: np.random.Generator) -> Boxes:
        return charge_on_timeline(
            sessions, power_w, timeline, config.max_delay_s, rng, override_when_blocked=True
        )

    return plan
