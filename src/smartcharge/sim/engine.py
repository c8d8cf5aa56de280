"""The chunked fleet engine: sessions per chunk of local days, boxes per session, no per-EV loop.

The runner feeds a :class:`Setup`; :func:`simulate` yields one :class:`Chunk` per chunk of local
days. Boxes of sessions that run past a chunk's end are carried into the next chunk, so every
chunk's output window is complete when it is yielded and memory stays flat over a year. A
warm-up before the horizon lets the horizon start with cars already plugged in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from smartcharge.core.localtime import local_fields
from smartcharge.core.tariff import Tariff
from smartcharge.core.units import SECONDS_PER_DAY, FloatArray, IntArray
from smartcharge.sim.behaviour import CarbonSeries, SessionBehaviour
from smartcharge.sim.charging import Boxes, concat_boxes, delivered_kwh
from smartcharge.sim.fleet import Fleet
from smartcharge.sim.reference_year import reference_index
from smartcharge.sim.sessions import Sessions, generate_sessions, resolve_overlaps, utc_from_local_s
from smartcharge.sim.strategies.base import Planner

#: Latest plug-out after a plug-in (the behaviour tables keep sessions of up to 72 h) plus delays.
TAIL_S = 4 * SECONDS_PER_DAY
_J_PER_KWH = 3_600_000.0


@dataclass(frozen=True, slots=True)
class Setup:
    start_s: int
    n_steps: int
    step_s: int
    fleet: Fleet
    vehicle_behaviour: IntArray  # (V,) index into ``behaviours``
    behaviours: tuple[SessionBehaviour, ...]
    planner: Planner
    tariff: Tariff
    carbon: CarbonSeries
    seed: int
    warm_up_days: int = 2
    chunk_days: int = 7
    energy_scale: float = 1.0
    max_fill: float = 0.9

    @property
    def end_s(self) -> int:
        return self.start_s + self.n_steps * self.step_s


@dataclass(frozen=True, slots=True)
class Chunk:
    """One finished stretch of the horizon, steps ``first_step`` .. ``first_step + n_steps - 1``."""

    first_step: int
    n_steps: int
    vehicle: IntArray  # per box, (K,): boxes that touch this stretch
    start_s: FloatArray
    end_s: FloatArray
    power_w: FloatArray
    sessions: Sessions  # sessions plugged in inside the horizon during this chunk
    delivered_kwh: FloatArray  # per session
    cost_p: FloatArray
    carbon_g: FloatArray


class PriceIntegral:
    """Running integrals of price (p/kWh) and carbon (g/kWh) over time, for exact box costs."""

    def __init__(self, tariff: Tariff, carbon: CarbonSeries, start_s: int, end_s: int) -> None:
        first = start_s - start_s % 60
        self.minutes = np.arange(first, end_s + 120, 60, dtype=np.int64)
        price = tariff.price_p_per_kwh(self.minutes[:-1])
        grams = carbon.intensity_g_per_kwh[reference_index(self.minutes[:-1], carbon.start_s)]
        self.price_cum = np.concatenate([[0.0], np.cumsum(price * 60.0)])
        self.carbon_cum = np.concatenate([[0.0], np.cumsum(grams * 60.0)])

    def _at(self, cum: FloatArray, when_s: FloatArray) -> FloatArray:
        # The grid is uniform, so the linear interpolation needs no search.
        x = (when_s - self.minutes[0]) / 60.0
        i = np.clip(np.floor(x).astype(np.int64), 0, self.minutes.size - 2)
        value: FloatArray = cum[i] + (x - i) * (cum[i + 1] - cum[i])
        return value

    def of_boxes(self, boxes: Boxes) -> tuple[FloatArray, FloatArray]:
        """Cost in pence and carbon in grams of each box."""
        scale = boxes.power_w / _J_PER_KWH
        cost = (self._at(self.price_cum, boxes.end_s) - self._at(self.price_cum, boxes.start_s)) * scale
        grams = (self._at(self.carbon_cum, boxes.end_s) - self._at(self.carbon_cum, boxes.start_s)) * scale
        return cost, grams


def chunk_rng(seed: int, index: int) -> np.random.Generator:
    """Independent, reproducible draws for chunk ``index`` (index -1: the fleet itself)."""
    return np.random.default_rng([seed, index + 1])


def simulate(setup: Setup) -> Iterator[Chunk]:
    """Run the fleet through the horizon chunk by chunk."""
    first_day = int(
        local_fields(np.array([setup.start_s - setup.warm_up_days * SECONDS_PER_DAY])).local_day[0]
    )
    last_day = int(local_fields(np.array([setup.end_s - 1])).local_day[0])
    costs = PriceIntegral(
        setup.tariff, setup.carbon, first_day * SECONDS_PER_DAY - SECONDS_PER_DAY, setup.end_s + TAIL_S
    )
    busy = np.full(setup.fleet.size, np.iinfo(np.int64).min, dtype=np.int64)
    carried = Boxes.empty()
    carried_vehicle = np.zeros(0, dtype=np.int64)
    step_done = 0
    for index, day in enumerate(range(first_day, last_day + 1, setup.chunk_days)):
        n_days = min(setup.chunk_days, last_day + 1 - day)
        rng = chunk_rng(setup.seed, index)
        sessions = _draw_sessions(setup, day, n_days, rng)
        sessions, busy = resolve_overlaps(sessions, busy)
        boxes = setup.planner(
            sessions, setup.fleet.power_w[sessions.vehicle], setup.fleet.group[sessions.vehicle], rng
        )
        delivered = delivered_kwh(boxes, sessions.size)
        cost, grams = costs.of_boxes(boxes)
        in_horizon = (sessions.plugin_s >= setup.start_s) & (sessions.plugin_s < setup.end_s)
        keep = np.flatnonzero(in_horizon)
        all_boxes = concat_boxes([carried, boxes])
        all_vehicle = np.concatenate([carried_vehicle, sessions.vehicle[boxes.session]])
        cut_s = int(utc_from_local_s(np.array([(day + n_days) * SECONDS_PER_DAY]))[0])
        last = day + n_days > last_day
        step_cut = (
            setup.n_steps if last else int(np.clip((cut_s - setup.start_s) // setup.step_s, 0, setup.n_steps))
        )
        cut_time = setup.start_s + step_cut * setup.step_s
        yield Chunk(
            first_step=step_done,
            n_steps=step_cut - step_done,
            vehicle=all_vehicle,
            start_s=all_boxes.start_s,
            end_s=all_boxes.end_s,
            power_w=all_boxes.power_w,
            sessions=sessions.take(keep),
            delivered_kwh=delivered[keep],
            cost_p=np.bincount(boxes.session, weights=cost, minlength=sessions.size).astype(np.float64)[keep],
            carbon_g=np.bincount(boxes.session, weights=grams, minlength=sessions.size).astype(np.float64)[
                keep
            ],
        )
        later = all_boxes.end_s > cut_time
        carried = all_boxes.take(later)
        carried_vehicle = all_vehicle[later]
        step_done = step_cut


def _draw_sessions(setup: Setup, day: int, n_days: int, rng: np.random.Generator) -> Sessions:
    parts = []
    for b, behaviour in enumerate(setup.behaviours):
        vehicles = np.flatnonzero(setup.vehicle_behaviour == b)
        if vehicles.size:
            parts.append(
                generate_sessions(
                    setup.fleet, vehicles, behaviour, day, n_days, rng, setup.energy_scale, setup.max_fill
                )
            )
    if not parts:  # a group with no EVs (0 % penetration) charges nothing
        empty = np.empty(0, dtype=np.int64)
        return Sessions(empty, empty.copy(), empty.copy(), np.empty(0))
    if len(parts) == 1:
        return parts[0]
    merged = Sessions(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("vehicle", "plugin_s", "plugout_s", "energy_kwh")
        )
    )
    return merged.take(np.lexsort((merged.plugin_s, merged.vehicle)))


__all__ = ["TAIL_S", "Chunk", "PriceIntegral", "Setup", "chunk_rng", "simulate"]
