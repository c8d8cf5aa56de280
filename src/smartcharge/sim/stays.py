"""Each car's chain of stays: arrive, stay, leave, drive, arrive again (issue 14, item 1).

A car is one chain, so it is never in two places and a stay keeps the length it was drawn with:

- **Arrival.** While the car is away it arrives at the charge point as a Poisson process whose
  rate is the car's own ``arrivals per week away`` times the source's arrival shape over the
  local hour of the week (both measured from the data while the owners were away, see
  ``scripts/derive_behaviour.py``). The next arrival after a departure is found by inverting the
  cumulative intensity (piecewise linear over the week), so no time stepping is needed.
  While the car is parked the process is paused: no plug-in can fall inside a stay.
- **Stay.** The plug-in duration is drawn from the source's quantiles for the local arrival hour
  and kept as drawn.
- **Energy.** What the car asks for follows from the driving since it last left a charge point:
  the energy quantiles for the band of time away before the stay and the band of the stay's
  length (brief stays take less, as in the data), times the car's own factor
  (heavy and light drivers), times ``energy_scale``, bounded by what the battery can take
  (``max_fill`` of its capacity). Whether the strategy delivers it is the strategy's result.

Times are on the GB local wall clock (behaviour follows the clock) and converted to UTC for the
rest of the simulator. Every draw is keyed by (seed, household, stay number) through
:mod:`smartcharge.sim.draws`, so a car's chain does not depend on which other cars exist or on
the strategy (common random numbers, item 7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR, FloatArray, IntArray
from smartcharge.sim.behaviour import SessionBehaviour
from smartcharge.sim.draws import Stream, keyed_uniform
from smartcharge.sim.quantile import sample_quantiles
from smartcharge.sim.sessions import Sessions, utc_from_local_s

#: Shortest time away between two stays of one car (unplug, drive off, come back).
MIN_AWAY_S = 60
#: Local epoch seconds of Monday 1970-01-05 00:00, the origin of the hour-of-week clock.
_MONDAY0_S = 4 * SECONDS_PER_DAY
_WEEK_H = 168.0
#: The chains start this long before the first simulated day, so that the warm-up starts from a
#: settled state (a car's cycle of stay and time away is a few days long).
CHAIN_LEAD_DAYS = 7
#: A time away longer than a week is a holiday or a car out of use, not driving: the fitted rates
#: leave it out, and so does "stays per week in use" (scripts/derive_behaviour.py).
MAX_AWAY_H = 168.0


@dataclass(frozen=True, slots=True)
class Cars:
    """The cars of one behaviour: per car (V_b,) arrays."""

    vehicle: IntArray  # index into the fleet
    household: IntArray  # the key of every draw (common random numbers)
    arrivals_per_away_week: FloatArray
    energy_factor: FloatArray
    battery_kwh: FloatArray
    energy_scale: FloatArray  # the group's GB rescaling of energy (docs/sim.md)
    max_fill: FloatArray  # the largest share of the battery one stay refills


@dataclass(slots=True)
class ChainState:
    """Where each car's chain stands: its next (already drawn) arrival and its last departure."""

    next_arrival_local_s: IntArray
    last_departure_local_s: IntArray
    stays_drawn: IntArray


class ArrivalClock:
    """Cumulative arrival intensity over the local week and its inverse.

    The intensity is constant within each hour of the week, so the cumulative is piecewise linear:
    forward by direct index; the inverse from a uniform grid of 40,320 points in the cumulative
    (computed exactly once), linear between them (off by at most a grid cell at an hour edge).
    """

    _GRID = 40_320

    def __init__(self, shape: FloatArray) -> None:
        # A floor keeps the cumulative strictly increasing, so the inverse is a function.
        s = np.maximum(np.asarray(shape, dtype=np.float64), 1e-6)
        self.rate = s * _WEEK_H / s.sum()
        self.cum = np.concatenate([[0.0], np.cumsum(self.rate)])
        self.cum[-1] = _WEEK_H
        grid_h = np.linspace(0.0, _WEEK_H, self._GRID + 1)
        self.grid_x = np.interp(grid_h, self.cum, np.arange(169, dtype=np.float64))

    def forward(self, local_s: IntArray) -> FloatArray:
        x = (np.asarray(local_s, dtype=np.float64) - _MONDAY0_S) / SECONDS_PER_HOUR
        week = np.floor(x / _WEEK_H)
        r = x - week * _WEEK_H
        i = np.minimum(r.astype(np.int64), 167)
        within: FloatArray = week * _WEEK_H + self.cum[i] + (r - i) * self.rate[i]
        return within

    def inverse(self, h: FloatArray) -> IntArray:
        week = np.floor(h / _WEEK_H)
        pos = (h - week * _WEEK_H) * (self._GRID / _WEEK_H)
        j = np.minimum(pos.astype(np.int64), self._GRID - 1)
        x = week * _WEEK_H + self.grid_x[j] + (pos - j) * (self.grid_x[j + 1] - self.grid_x[j])
        out: IntArray = np.ceil(x * SECONDS_PER_HOUR + _MONDAY0_S).astype(np.int64)
        return out

    def next_arrival(
        self, after_local_s: IntArray, rate_per_week: FloatArray, uniform: FloatArray
    ) -> IntArray:
        """The first arrival after ``after_local_s`` of a process of ``rate_per_week`` times the shape."""
        exp_draw = -np.log1p(-uniform)
        return np.maximum(
            self.inverse(self.forward(after_local_s) + exp_draw * _WEEK_H / rate_per_week),
            np.asarray(after_local_s, dtype=np.int64),
        )


def draw_owner_profiles(behaviour: SessionBehaviour, uniform: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Each car takes one fitted owner's (arrivals per week away, energy factor), drawn together."""
    profiles = behaviour.owner_profiles
    pick = np.minimum((np.asarray(uniform) * profiles.shape[0]).astype(np.int64), profiles.shape[0] - 1)
    return profiles[pick, 0].copy(), profiles[pick, 1].copy()


def start_chains(cars: Cars, clock: ArrivalClock, start_local_s: int, seed: int) -> ChainState:
    """Every car leaves at ``start_local_s`` (the chain start, before any output) and drives off."""
    start = np.full(cars.vehicle.shape[0], start_local_s, dtype=np.int64)
    u = keyed_uniform(seed, Stream.FIRST_GAP, cars.household)
    first = clock.next_arrival(start, cars.arrivals_per_away_week, u)
    return ChainState(first, start.copy(), np.zeros(cars.vehicle.shape[0], dtype=np.int64))


def stay_energy_kwh(
    behaviour: SessionBehaviour,
    away_h: FloatArray,
    duration_h: FloatArray,
    factor: FloatArray,
    battery_kwh: FloatArray,
    uniform: FloatArray,
    energy_scale: FloatArray | float,
    max_fill: FloatArray | float,
) -> FloatArray:
    """Energy a stay of ``duration_h`` asks for after ``away_h`` hours away, bounded by the battery.

    Drawn from the data's energies for that band of time away and that band of stay length (a
    driver who plugs in briefly takes less: in the data the two go together).
    """
    table = behaviour.energy_kwh_q_by_gap_duration
    gap = np.clip(
        np.searchsorted(behaviour.gap_band_edges_h, away_h, side="right") - 1, 0, table.shape[0] - 1
    )
    band = np.clip(
        np.searchsorted(behaviour.band_edges_h, duration_h, side="right") - 1, 0, table.shape[1] - 1
    )
    flat = table.reshape(-1, table.shape[2])
    wanted = (
        factor
        * sample_quantiles(flat, uniform, gap * table.shape[1] + band, levels=behaviour.quantile_levels)
        * energy_scale
    )
    bounded: FloatArray = np.minimum(wanted, battery_kwh * max_fill)
    return bounded


@dataclass(frozen=True, slots=True)
class Stays:
    """Stays of one chunk, as sessions plus each stay's number in its car's chain and time away."""

    sessions: Sessions
    stay_number: IntArray
    away_h: FloatArray


def draw_stays(
    state: ChainState,
    cars: Cars,
    behaviour: SessionBehaviour,
    clock: ArrivalClock,
    until_local_s: int,
    seed: int,
) -> Stays:
    """All stays arriving before ``until_local_s``; ``state`` moves on to the first one after it.

    The loop runs over stay number within the chunk (a handful), each step over all cars at once.
    """
    vehicles, arrive, leave, energy, number, away = [], [], [], [], [], []
    active = np.flatnonzero(state.next_arrival_local_s < until_local_s)
    while active.size:
        arr = state.next_arrival_local_s[active]
        k = state.stays_drawn[active]
        key = cars.household[active]
        hour = ((arr // SECONDS_PER_HOUR) % 24).astype(np.int64)
        duration_h = sample_quantiles(
            behaviour.duration_h_q,
            keyed_uniform(seed, Stream.DURATION, key, k),
            hour,
            levels=behaviour.quantile_levels,
        )
        dep = arr + np.maximum(np.round(duration_h * SECONDS_PER_HOUR).astype(np.int64), 60)
        away_h = (arr - state.last_departure_local_s[active]) / SECONDS_PER_HOUR
        wanted = stay_energy_kwh(
            behaviour,
            away_h,
            duration_h,
            cars.energy_factor[active],
            cars.battery_kwh[active],
            keyed_uniform(seed, Stream.ENERGY, key, k),
            cars.energy_scale[active],
            cars.max_fill[active],
        )
        vehicles.append(cars.vehicle[active])
        arrive.append(arr)
        leave.append(dep)
        energy.append(wanted)
        number.append(k)
        away.append(away_h)
        nxt = clock.next_arrival(
            dep + MIN_AWAY_S, cars.arrivals_per_away_week[active], keyed_uniform(seed, Stream.GAP, key, k)
        )
        state.last_departure_local_s[active] = dep
        state.next_arrival_local_s[active] = nxt
        state.stays_drawn[active] = k + 1
        active = active[nxt < until_local_s]
    if not vehicles:
        empty = np.zeros(0, dtype=np.int64)
        return Stays(Sessions(empty, empty.copy(), empty.copy(), np.zeros(0)), empty.copy(), np.zeros(0))
    v = np.concatenate(vehicles)
    arr_all, dep_all = np.concatenate(arrive), np.concatenate(leave)
    plugin = utc_from_local_s(arr_all)
    plugout = plugin + (dep_all - arr_all)  # the stay keeps its drawn length across a clock change
    k_all = np.concatenate(number)
    order = np.lexsort((k_all, v))
    sessions = Sessions(v[order], plugin[order], plugout[order], np.concatenate(energy)[order])
    return Stays(sessions, k_all[order], np.concatenate(away)[order])


def stays_per_week_in_use(
    owner: IntArray | np.ndarray,
    away_h: FloatArray,
    duration_h: FloatArray,
    min_weeks: float = 4.0,
    amount: FloatArray | None = None,
) -> FloatArray:
    """Per owner with at least ``min_weeks`` in use: stays per week in use, one value each
    (with ``amount``, e.g. each stay's kWh: that amount per week in use instead).

    Rows are stays sorted by owner, then arrival; ``away_h`` is the time away before each stay
    (NaN where unknown). Time in use is the time plugged in plus the times away of at most
    :data:`MAX_AWAY_H` (longer absences are holidays, which the chains do not have); every stay
    counts, and an owner's first time away is unknown (the data cannot see it). The data's
    owners and the simulator's cars are measured by this one function (calibration, issue 14
    item 2): the check once divided the chains' stays by calendar weeks, a different quantity
    (it counted the chains' week-long gaps as time in use and rounded each car's value to a
    multiple of 1/8), which showed the home chains 15 % below the held-back owners.
    """
    owner = np.asarray(owner)
    away = np.asarray(away_h, dtype=np.float64)
    duration = np.asarray(duration_h, dtype=np.float64)
    if owner.size == 0:
        return np.zeros(0)
    first = np.r_[True, owner[1:] != owner[:-1]]
    counted = ~first & np.isfinite(away) & (away > 0) & (away <= MAX_AWAY_H)
    _, index = np.unique(owner, return_inverse=True)
    stays = np.bincount(index, weights=None if amount is None else np.asarray(amount, dtype=np.float64))
    hours = np.bincount(index, weights=np.where(counted, away, 0.0)) + np.bincount(index, weights=duration)
    weeks = hours / 168.0
    keep = weeks >= min_weeks
    out: FloatArray = stays.astype(np.float64)[keep] / weeks[keep]
    return out


def chain_stays_per_week(stays: Stays, min_weeks: float = 4.0, energy: bool = False) -> FloatArray:
    """:func:`stays_per_week_in_use` of simulated chains, one value per car (kWh with ``energy``)."""
    s = stays.sessions
    return stays_per_week_in_use(
        s.vehicle,
        stays.away_h,
        (s.plugout_s - s.plugin_s) / 3600.0,
        min_weeks,
        s.energy_kwh if energy else None,
    )


def sample_chains(
    behaviour: SessionBehaviour, n_cars: int, first_local_day: int, weeks: int, seed: int
) -> Stays:
    """The chains of ``n_cars`` cars over ``weeks`` from ``first_local_day`` (after a week's lead).

    Batteries are unbounded (1,000 kWh, a full refill allowed), so the energy is the behaviour's
    own: this is what the calibration and the behaviour tests check against the data.
    """
    household = np.arange(n_cars, dtype=np.int64)
    rate, factor = draw_owner_profiles(behaviour, keyed_uniform(seed, Stream.ARRIVAL_RATE, household))
    ones = np.ones(n_cars)
    cars = Cars(household, household, rate, factor, np.full(n_cars, 1000.0), ones, ones)
    clock = ArrivalClock(behaviour.away_arrival_shape)
    state = start_chains(cars, clock, (first_local_day - CHAIN_LEAD_DAYS) * SECONDS_PER_DAY, seed)
    draw_stays(state, cars, behaviour, clock, first_local_day * SECONDS_PER_DAY, seed)
    return draw_stays(state, cars, behaviour, clock, (first_local_day + 7 * weeks) * SECONDS_PER_DAY, seed)


__all__ = [
    "CHAIN_LEAD_DAYS",
    "MAX_AWAY_H",
    "MIN_AWAY_S",
    "ArrivalClock",
    "Cars",
    "ChainState",
    "Stays",
    "chain_stays_per_week",
    "draw_owner_profiles",
    "draw_stays",
    "sample_chains",
    "start_chains",
    "stay_energy_kwh",
    "stays_per_week_in_use",
]
