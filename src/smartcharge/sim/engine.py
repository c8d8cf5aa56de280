"""The chunked fleet engine: stays per chunk of local days, boxes per stay, no per-EV loop.

The runner feeds a :class:`Setup`; :func:`simulate` yields one :class:`Chunk` per chunk of local
days. Each car's chain of stays (:mod:`smartcharge.sim.stays`) is advanced to the chunk's end.
Boxes of stays that run past a chunk's end are carried into the next chunk, so every chunk's
output window is complete when it is yielded and memory stays flat over a year. A warm-up before
the horizon lets the horizon start with cars already plugged in.
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
from smartcharge.sim.sessions import Sessions, utc_from_local_s
from smartcharge.sim.stays import CHAIN_LEAD_DAYS, ArrivalClock, Cars, Stays, draw_stays, start_chains
from smartcharge.sim.strategies.base import Planner

#: Latest plug-out after a plug-in (the behaviour tables keep stays of up to 72 h) plus delays.
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
    sessions: Sessions  # stays plugged in inside the horizon during this chunk
    stay_number: IntArray  # per stay: its number in the car's chain
    delivered_kwh: FloatArray  # per stay
    cost_p: FloatArray
    carbon_g: FloatArray
    unmet_short_kwh: FloatArray  # per stay: asked beyond what full power over the stay could give
    unmet_strategy_kwh: FloatArray  # per stay: the rest of what was not delivered (the strategy's)
    first_charge_s: FloatArray  # per stay: first box start (nan if none)
    last_charge_s: FloatArray  # per stay: last box end (nan if none)
    power_changes: IntArray  # per stay: charging boxes (constant-power stretches)


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


class _Chains:
    """The chains of stays of every behaviour's cars (sim.stays), advanced chunk by chunk."""

    def __init__(self, setup: Setup, first_day: int) -> None:
        fleet = setup.fleet
        self.parts = []
        for b, behaviour in enumerate(setup.behaviours):
            v = np.flatnonzero(setup.vehicle_behaviour == b)
            cars = Cars(
                vehicle=v,
                household=fleet.household[v],
                arrivals_per_away_week=fleet.arrivals_per_away_week[v],
                energy_factor=fleet.energy_factor[v],
                battery_kwh=fleet.battery_kwh[v],
                energy_scale=fleet.energy_scale[v],
                max_fill=fleet.max_fill[v],
            )
            clock = ArrivalClock(behaviour.away_arrival_shape)
            lead = (first_day - CHAIN_LEAD_DAYS) * SECONDS_PER_DAY
            state = start_chains(cars, clock, lead, setup.seed)
            # Run the chains through the lead, so the warm-up starts from a settled state.
            draw_stays(state, cars, behaviour, clock, first_day * SECONDS_PER_DAY, setup.seed)
            self.parts.append((cars, behaviour, clock, state))
        self.seed = setup.seed

    def until(self, local_day: int) -> Stays:
        drawn = [
            draw_stays(state, cars, behaviour, clock, local_day * SECONDS_PER_DAY, self.seed)
            for cars, behaviour, clock, state in self.parts
        ]
        if len(drawn) == 1:
            return drawn[0]
        if not drawn:
            empty = np.zeros(0, dtype=np.int64)
            return Stays(Sessions(empty, empty.copy(), empty.copy(), np.zeros(0)), empty.copy(), np.zeros(0))
        s = [d.sessions for d in drawn]
        vehicle = np.concatenate([x.vehicle for x in s])
        number = np.concatenate([d.stay_number for d in drawn])
        order = np.lexsort((number, vehicle))
        merged = Sessions(
            vehicle[order],
            np.concatenate([x.plugin_s for x in s])[order],
            np.concatenate([x.plugout_s for x in s])[order],
            np.concatenate([x.energy_kwh for x in s])[order],
        )
        return Stays(merged, number[order], np.concatenate([d.away_h for d in drawn])[order])


def simulate(setup: Setup) -> Iterator[Chunk]:
    """Run the fleet through the horizon chunk by chunk."""
    first_day = int(
        local_fields(np.array([setup.start_s - setup.warm_up_days * SECONDS_PER_DAY])).local_day[0]
    )
    last_day = int(local_fields(np.array([setup.end_s - 1])).local_day[0])
    costs = PriceIntegral(
        setup.tariff, setup.carbon, first_day * SECONDS_PER_DAY - SECONDS_PER_DAY, setup.end_s + TAIL_S
    )
    chains = _Chains(setup, first_day)
    carried = Boxes.empty()  # boxes running past the last chunk's end, ``session`` = vehicle
    step_done = 0
    for index, day in enumerate(range(first_day, last_day + 1, setup.chunk_days)):
        n_days = min(setup.chunk_days, last_day + 1 - day)
        rng = chunk_rng(setup.seed, index)
        stays = chains.until(day + n_days)
        sessions = stays.sessions
        power = setup.fleet.power_w[sessions.vehicle]
        boxes = setup.planner(sessions, power, setup.fleet.group[sessions.vehicle], rng)
        keep = np.flatnonzero((sessions.plugin_s >= setup.start_s) & (sessions.plugin_s < setup.end_s))
        delivered = delivered_kwh(boxes, sessions.size)
        short, held = unmet_split(sessions, power, delivered)
        cost, grams = costs.of_boxes(boxes)
        first, final, changes = _box_span(boxes, sessions.size)
        # Per stay in the horizon: only these are kept (at a million EVs the per-box and
        # per-stay arrays of the whole chunk would otherwise be held beside the load series the
        # runner builds from it). The carried boxes are keyed by vehicle (their stays belong to
        # earlier chunks).
        cost_p = np.bincount(boxes.session, weights=cost, minlength=sessions.size).astype(np.float64)
        carbon_g = np.bincount(boxes.session, weights=grams, minlength=sessions.size).astype(np.float64)
        del cost, grams
        delivered, cost_p, carbon_g = delivered[keep], cost_p[keep], carbon_g[keep]
        short, held, first, final, changes = short[keep], held[keep], first[keep], final[keep], changes[keep]
        all_boxes = concat_boxes(
            [carried, Boxes(sessions.vehicle[boxes.session], boxes.start_s, boxes.end_s, boxes.power_w)]
        )
        del boxes, power
        cut_s = int(utc_from_local_s(np.array([(day + n_days) * SECONDS_PER_DAY]))[0])
        last = day + n_days > last_day
        step_cut = (
            setup.n_steps if last else int(np.clip((cut_s - setup.start_s) // setup.step_s, 0, setup.n_steps))
        )
        cut_time = setup.start_s + step_cut * setup.step_s
        chunk = Chunk(
            first_step=step_done,
            n_steps=step_cut - step_done,
            vehicle=all_boxes.session,
            start_s=all_boxes.start_s,
            end_s=all_boxes.end_s,
            power_w=all_boxes.power_w,
            sessions=sessions.take(keep),
            stay_number=stays.stay_number[keep],
            delivered_kwh=delivered,
            cost_p=cost_p,
            carbon_g=carbon_g,
            unmet_short_kwh=short,
            unmet_strategy_kwh=held,
            first_charge_s=first,
            last_charge_s=final,
            power_changes=changes,
        )
        del stays, sessions, keep, delivered, cost_p, carbon_g, short, held, first, final, changes
        yield chunk
        del chunk
        carried = all_boxes.take(all_boxes.end_s > cut_time)
        del all_boxes
        step_done = step_cut


def unmet_split(
    sessions: Sessions, power_w: FloatArray, delivered: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per stay, the energy not delivered split by cause (issue 14, item 1).

    ``short``: what even full rated power over the whole stay could not give (the stay is too
    short for the charger); ``held``: the rest, which the strategy held back (a tariff window or
    default hours too short, or a limit). Rounding dust below 1 Wh is not counted.
    """
    capacity = power_w * (sessions.plugout_s - sessions.plugin_s) / _J_PER_KWH
    short = np.maximum(sessions.energy_kwh - capacity, 0.0)
    held = np.maximum(sessions.energy_kwh - delivered - short, 0.0)
    held[held < 1e-3] = 0.0
    return short, held


def _box_span(boxes: Boxes, n: int) -> tuple[FloatArray, FloatArray, IntArray]:
    first = np.full(n, np.inf)
    final = np.full(n, -np.inf)
    np.minimum.at(first, boxes.session, boxes.start_s)
    np.maximum.at(final, boxes.session, boxes.end_s)
    first[np.isinf(first)] = np.nan
    final[np.isinf(final)] = np.nan
    return first, final, np.bincount(boxes.session, minlength=n).astype(np.int64)


__all__ = ["TAIL_S", "Chunk", "PriceIntegral", "Setup", "chunk_rng", "simulate", "unmet_split"]
