"""PAS 1878 flexibility offers (DSR-1): forecast power profiles of one charging need.

From plug-in time, expected departure, energy needed and the maximum power, three profiles on a
common time grid:

* *least delayed* (LD): full power from plug-in until the energy is delivered;
* *most delayed* (MD): full power as late as possible so the energy is delivered at departure;
* *intended operation* (IO): what the device plans, full power from its intended start (e.g. the
  next allowed default-hours minute, or a tariff window) clipped to departure.

Where the energy cannot be delivered in the time available, all three charge from plug-in to
departure and ``shortfall_kwh`` says what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class FlexibilityOffers:
    """Profiles in W on the grid ``grid_start_s + k * step_s``; each (N, n_steps)."""

    grid_start_s: int
    step_s: int
    intended_w: FloatArray
    least_delayed_w: FloatArray
    most_delayed_w: FloatArray
    shortfall_kwh: FloatArray  # (N,)


def _block_profile(
    start_s: FloatArray, end_s: FloatArray, power_w: FloatArray, grid_start_s: int, step_s: int, n_steps: int
) -> FloatArray:
    edges = grid_start_s + step_s * np.arange(n_steps + 1, dtype=np.float64)
    lo = np.maximum(start_s[:, None], edges[None, :-1])
    hi = np.minimum(end_s[:, None], edges[None, 1:])
    profile: FloatArray = power_w[:, None] * np.clip(hi - lo, 0.0, None) / step_s
    return profile


def flexibility_offers(
    plug_in_s: IntArray,
    departure_s: IntArray,
    energy_kwh: FloatArray,
    max_power_w: FloatArray,
    intended_start_s: IntArray,
    grid_start_s: int,
    step_s: int,
    n_steps: int,
) -> FlexibilityOffers:
    """IO, LD and MD profiles for N charging needs (DSR-1, PAS 1878)."""
    plug = np.asarray(plug_in_s, dtype=np.float64)
    leave = np.asarray(departure_s, dtype=np.float64)
    energy = np.asarray(energy_kwh, dtype=np.float64)
    power = np.asarray(max_power_w, dtype=np.float64)
    for name, arr in (("energy_kwh", energy), ("max_power_w", power)):
        if np.any(~np.isfinite(arr)) or np.any(arr < 0):
            raise ValidationError(name, "negative or not finite", "must be a finite value >= 0")
    if np.any(leave < plug):
        raise ValidationError("departure_s", "before plug_in_s", "departure must not precede plug-in")
    if step_s <= 0 or n_steps <= 0:
        raise ValidationError("step_s", step_s, "the grid needs a positive step and at least one step")
    with np.errstate(divide="ignore", invalid="ignore"):
        need_s = np.where(power > 0, energy * 3.6e6 / power, np.where(energy > 0, np.inf, 0.0))
    window_s = leave - plug
    charge_s = np.minimum(need_s, window_s)
    shortfall = np.where(need_s > window_s, energy - power * window_s / 3.6e6, 0.0)
    intended = np.clip(np.asarray(intended_start_s, dtype=np.float64), plug, leave - charge_s)
    return FlexibilityOffers(
        grid_start_s=grid_start_s,
        step_s=step_s,
        intended_w=_block_profile(intended, intended + charge_s, power, grid_start_s, step_s, n_steps),
        least_delayed_w=_block_profile(plug, plug + charge_s, power, grid_start_s, step_s, n_steps),
        most_delayed_w=_block_profile(leave - charge_s, leave, power, grid_start_s, step_s, n_steps),
        shortfall_kwh=shortfall,
    )


__all__ = ["FlexibilityOffers", "flexibility_offers"]
