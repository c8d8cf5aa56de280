"""The simulated vehicles: one row per EV, drawn once per run from its group's mix.

Chargers (issue 14, item 3): single-phase AC up to 7.4 kW (2.3 kW = 10 A, 3.7 kW = 16 A, 7.4 kW =
32 A at 230 V), each on one phase (L1, L2 or L3: the phase of its home when the network gives it,
else drawn from the group's phase shares); three-phase AC at 11 kW (16 A) or 22 kW (32 A per
phase at 400 V), balanced over the three phases. Each car takes one fitted owner's arrival rate and
energy factor from its behaviour table (heavy and light users drawn together, as in the data).

Every draw is keyed by the household (:mod:`smartcharge.sim.draws`), so a household's car is the
same at every penetration and under every strategy (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import FloatArray, IntArray
from smartcharge.sim.behaviour import SessionBehaviour
from smartcharge.sim.draws import Stream, keyed_uniform
from smartcharge.sim.stays import draw_owner_profiles

#: Single-phase limit: 32 A at 230 V (BS 7671 722 home and street charge points).
MAX_SINGLE_PHASE_W = 7400.0
#: Three-phase charger ratings: 16 A and 32 A per phase at 400 V line to line.
THREE_PHASE_W = (11_000.0, 22_000.0)
THREE_PHASE = -1  # the ``phase`` of a balanced three-phase charger


@dataclass(frozen=True, slots=True)
class CarMix:
    """One group's cars: charger and battery mixes (values, shares), phase shares, energy rules."""

    power_w: tuple[tuple[float, ...], tuple[float, ...]] = ((3700.0, 7400.0), (0.3, 0.7))
    battery_kwh: tuple[tuple[float, ...], tuple[float, ...]] = ((40.0, 60.0, 80.0), (0.3, 0.5, 0.2))
    phase_shares: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)
    energy_scale: float = 1.0
    max_fill: float = 0.9

    def __post_init__(self) -> None:
        for power in self.power_w[0]:
            if not (0 < power <= MAX_SINGLE_PHASE_W or power in THREE_PHASE_W):
                raise ValidationError(
                    "charger_power_mix",
                    power,
                    "a charger is single phase > 0 and <= 7400 W, or three phase 11000 or 22000 W",
                )
        _check_shares("charger_power_mix", self.power_w)
        _check_shares("battery_kwh_mix", self.battery_kwh)
        _check_shares("phase_shares", ((0.0, 1.0, 2.0), self.phase_shares))
        if not 0 < self.energy_scale <= 5:
            raise ValidationError("energy_scale", self.energy_scale, "must be > 0 and <= 5")
        if not 0 < self.max_fill <= 1:
            raise ValidationError("max_fill", self.max_fill, "must be > 0 and <= 1")


def _check_shares(field: str, mix: tuple[tuple[float, ...], tuple[float, ...]]) -> None:
    values, shares = mix
    if len(values) != len(shares) or not values:
        raise ValidationError(field, mix, "values and shares must pair up and not be empty")
    probs = np.asarray(shares, dtype=np.float64)
    if np.any(probs < 0) or not np.isclose(probs.sum(), 1.0):
        raise ValidationError(f"{field}.shares", shares, "shares must be >= 0 and sum to 1")


@dataclass(frozen=True, slots=True)
class Fleet:
    """Per-vehicle arrays, shape (V,)."""

    group: IntArray  # feeder index of the vehicle's household
    household: IntArray  # global household index (the key of the vehicle's draws)
    power_w: FloatArray  # charger (and on-board charger) rating, all phases together
    battery_kwh: FloatArray
    arrivals_per_away_week: FloatArray
    energy_factor: FloatArray
    phase: IntArray  # 0, 1, 2 for L1..L3 (single phase); -1 balanced three phase
    energy_scale: FloatArray
    max_fill: FloatArray

    @property
    def size(self) -> int:
        return int(self.group.shape[0])

    def phase_share(self) -> FloatArray:
        """(V, 3): the share of each vehicle's power on L1, L2, L3."""
        share = np.zeros((self.size, 3))
        single = self.phase >= 0
        share[np.flatnonzero(single), self.phase[single]] = 1.0
        share[~single] = 1.0 / 3.0
        return share


def pick(values: tuple[float, ...], shares: tuple[float, ...], uniform: FloatArray) -> FloatArray:
    """Inverse-CDF pick from a discrete mix for each uniform."""
    cdf = np.cumsum(np.asarray(shares, dtype=np.float64))
    index = np.minimum(np.searchsorted(cdf / cdf[-1], uniform, side="right"), len(values) - 1)
    picked: FloatArray = np.asarray(values, dtype=np.float64)[index]
    return picked


def build_fleet(
    group: IntArray,
    household: IntArray,
    vehicle_behaviour: IntArray,
    behaviours: tuple[SessionBehaviour, ...],
    mixes: tuple[CarMix, ...],
    seed: int,
    household_phase: IntArray | None = None,
) -> Fleet:
    """Draw each vehicle's charger, phase, battery and owner profile from its group's mix.

    ``mixes`` has one entry per group; ``household_phase`` (indexed by household) puts each
    single-phase charger on its home's phase when the network model knows it.
    """
    group = np.asarray(group, dtype=np.int64)
    household = np.asarray(household, dtype=np.int64)
    n = group.shape[0]
    power, battery = np.zeros(n), np.zeros(n)
    phase = np.zeros(n, dtype=np.int64)
    scale, fill = np.zeros(n), np.zeros(n)
    u_power = keyed_uniform(seed, Stream.CHARGER, household)
    u_battery = keyed_uniform(seed, Stream.BATTERY, household)
    u_phase = keyed_uniform(seed, Stream.PHASE, household)
    # Groups share few distinct mixes: loop over those, not over the groups.
    distinct = list(dict.fromkeys(mixes))
    mix_of_group = np.array([distinct.index(m) for m in mixes], dtype=np.int64)
    mix_of_vehicle = mix_of_group[group] if n else np.zeros(0, dtype=np.int64)
    for m, mix in enumerate(distinct):
        sel = mix_of_vehicle == m
        power[sel] = pick(*mix.power_w, u_power[sel])
        battery[sel] = pick(*mix.battery_kwh, u_battery[sel])
        phase[sel] = pick((0.0, 1.0, 2.0), mix.phase_shares, u_phase[sel]).astype(np.int64)
        scale[sel], fill[sel] = mix.energy_scale, mix.max_fill
    if household_phase is not None:
        phase = np.asarray(household_phase, dtype=np.int64)[household]
    phase = np.where(power > MAX_SINGLE_PHASE_W, THREE_PHASE, phase)
    rate, factor = np.zeros(n), np.zeros(n)
    u_owner = keyed_uniform(seed, Stream.ARRIVAL_RATE, household)
    for b, behaviour in enumerate(behaviours):
        sel = np.asarray(vehicle_behaviour) == b
        rate[sel], factor[sel] = draw_owner_profiles(behaviour, u_owner[sel])
    return Fleet(group, household, power, battery, rate, factor, phase, scale, fill)


__all__ = ["THREE_PHASE", "THREE_PHASE_W", "CarMix", "Fleet", "build_fleet", "pick"]
