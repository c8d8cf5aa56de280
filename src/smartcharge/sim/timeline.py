"""Level timelines: what fraction of its rated power a charge point may draw, over UTC time.

A timeline is a step function: ``level[j]`` (0..1) holds from ``edge_s[j]`` until the next edge;
the first level also holds before the first edge and the last one after the last edge.
``delayable[j]`` says whether the change at edge ``j`` is a relevant time that takes the reg 11
randomised delay (SCP-RD-5: starts, rises and falls) or acts at once (response DSR, SCP-RD-4).

Timelines are built from the policy layer's own rules: tariff windows from
:class:`smartcharge.core.tariff.Tariff`, reg 10 hours from
:func:`smartcharge.policy.default_hours.is_charging_allowed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from smartcharge.core.localtime import local_fields
from smartcharge.core.tariff import Tariff
from smartcharge.core.units import SECONDS_PER_MINUTE, BoolArray, FloatArray, IntArray
from smartcharge.policy.default_hours import DefaultHoursState, ScheduleTable, is_charging_allowed


@dataclass(frozen=True, slots=True)
class LevelTimeline:
    """Step function of allowed power fraction over UTC seconds; shapes (J,)."""

    edge_s: IntArray
    level: FloatArray
    delayable: BoolArray

    @classmethod
    def always(cls, level: float = 1.0) -> LevelTimeline:
        return cls(np.zeros(1, dtype=np.int64), np.array([level]), np.zeros(1, dtype=np.bool_))


def _minute_grid(start_s: int, end_s: int) -> IntArray:
    first = start_s - start_s % SECONDS_PER_MINUTE
    return np.arange(first, end_s + SECONDS_PER_MINUTE, SECONDS_PER_MINUTE, dtype=np.int64)


def timeline_from_mask(minute_s: IntArray, allowed: BoolArray, delayable: bool) -> LevelTimeline:
    """Compress a per-minute allowed mask into its change points."""
    mask = np.asarray(allowed, dtype=np.bool_)
    change = np.ones(mask.shape[0], dtype=np.bool_)
    change[1:] = mask[1:] != mask[:-1]
    idx = np.flatnonzero(change)
    return LevelTimeline(
        edge_s=minute_s[idx],
        level=mask[idx].astype(np.float64),
        delayable=np.full(idx.shape[0], delayable, dtype=np.bool_),
    )


def tariff_window_timeline(
    tariff: Tariff, start_s: int, end_s: int, with_default_hours: bool = False
) -> LevelTimeline:
    """Full power inside the tariff's cheap window, none outside (routine DSR: delayable); with
    ``with_default_hours`` the reg 10 shipped default hours must allow charging too."""
    minutes = _minute_grid(start_s, end_s)
    allowed = tariff.is_offpeak(minutes)
    if with_default_hours:
        allowed &= _default_hours_allowed(minutes, None)
    return timeline_from_mask(minutes, allowed, delayable=True)


@cache
def _gb_default_table() -> ScheduleTable:
    """The shipped default hours' table, built once per process (its wait table takes ~0.1 s to
    build, once per default-hours case otherwise; issue 14 "Speed"); read-only, as it is shared."""
    table = ScheduleTable.gb_default()
    table.allowed.setflags(write=False)
    table.wait_min.setflags(write=False)
    return table


def _default_hours_allowed(minutes: IntArray, table: ScheduleTable | None) -> BoolArray:
    schedule = table if table is not None else _gb_default_table()
    state = DefaultHoursState.shipped(minutes.shape[0])
    return is_charging_allowed(state, schedule, local_fields(minutes).minute_of_week, minutes)


def default_hours_timeline(start_s: int, end_s: int, table: ScheduleTable | None = None) -> LevelTimeline:
    """Reg 10 shipped default hours (SCP-OP-1, SCP-OP-5) via the policy kernel; device default: delayable."""
    minutes = _minute_grid(start_s, end_s)
    return timeline_from_mask(minutes, _default_hours_allowed(minutes, table), delayable=True)


def overlay_events(
    base: LevelTimeline, event_start_s: IntArray, event_end_s: IntArray, level_during: float
) -> LevelTimeline:
    """Cap ``base`` at ``level_during`` inside events; the cut acts at once (response DSR, SCP-RD-4),
    the return to ``base`` at the event end is a relevant time and keeps the delay (rebound)."""
    starts = np.asarray(event_start_s, dtype=np.int64)
    ends = np.asarray(event_end_s, dtype=np.int64)
    edges = np.unique(np.concatenate([base.edge_s, starts, ends]))
    base_idx = np.clip(np.searchsorted(base.edge_s, edges, side="right") - 1, 0, None)
    level = base.level[base_idx]
    pos = np.searchsorted(starts, edges, side="right") - 1
    inside = (pos >= 0) & (edges < ends[np.clip(pos, 0, None)]) if starts.size else np.zeros(edges.size, bool)
    level = np.where(inside, np.minimum(level, level_during), level)
    is_event_start = np.isin(edges, starts)
    delayable = np.where(is_event_start, False, base.delayable[base_idx] | np.isin(edges, ends))
    return LevelTimeline(edges, level, delayable.astype(np.bool_))


__all__ = [
    "LevelTimeline",
    "default_hours_timeline",
    "overlay_events",
    "tariff_window_timeline",
    "timeline_from_mask",
]
