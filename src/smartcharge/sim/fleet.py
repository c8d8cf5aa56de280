"""The simulated vehicles: one row per EV, drawn once per run from the scenario's mixes.

Charger powers are single-phase AC (3.7 kW = 16 A, 7.4 kW = 32 A at 230 V); the per-vehicle
weekly session rate is drawn from the source's per-user rate distribution, so heavy and light
users coexist as they do in the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import FloatArray, IntArray
from smartcharge.sim.behaviour import SessionBehaviour
from smartcharge.sim.quantile import sample_quantiles


@dataclass(frozen=True, slots=True)
class Fleet:
    """Per-vehicle arrays, shape (V,)."""

    group: IntArray  # feeder index of the vehicle's household
    household: IntArray  # global household index
    power_w: FloatArray  # charger (and on-board charger) rating
    battery_kwh: FloatArray
    sessions_per_week: FloatArray

    @property
    def size(self) -> int:
        return int(self.group.shape[0])


def draw_mix(
    values: tuple[float, ...], shares: tuple[float, ...], n: int, rng: np.random.Generator
) -> FloatArray:
    """``n`` draws from a discrete mix; shares must be >= 0 and sum to 1 (checked at the edge)."""
    if len(values) != len(shares) or not values:
        raise ValidationError("mix", (values, shares), "values and shares must pair up and not be empty")
    probs = np.asarray(shares, dtype=np.float64)
    if np.any(probs < 0) or not np.isclose(probs.sum(), 1.0):
        raise ValidationError("mix.shares", shares, "shares must be >= 0 and sum to 1")
    picks = rng.choice(len(values), size=n, p=probs / probs.sum())
    return np.asarray(values, dtype=np.float64)[picks]


def build_fleet(
    group: IntArray,
    household: IntArray,
    power_mix: tuple[tuple[float, ...], tuple[float, ...]],
    battery_mix: tuple[tuple[float, ...], tuple[float, ...]],
    behaviour: SessionBehaviour,
    rng: np.random.Generator,
) -> Fleet:
    """Draw charger power, battery and weekly session rate for each vehicle."""
    n = int(np.asarray(group).shape[0])
    return Fleet(
        group=np.asarray(group, dtype=np.int64),
        household=np.asarray(household, dtype=np.int64),
        power_w=draw_mix(power_mix[0], power_mix[1], n, rng),
        battery_kwh=draw_mix(battery_mix[0], battery_mix[1], n, rng),
        sessions_per_week=sample_quantiles(
            behaviour.sessions_per_week_q, rng.random(n), levels=behaviour.quantile_levels
        ),
    )


__all__ = ["Fleet", "build_fleet", "draw_mix"]
