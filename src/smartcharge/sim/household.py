"""Per-household series for small groups: the entry point the LV network study builds on.

    >>> req = HouseholdSeriesRequest(n_households=55, ev_penetration=0.6, strategy="tariff_window_delay",
    ...     strategy_config={"max_delay_s": 600}, tariff_id="octopus_go", start=start, days=7)
    >>> s = household_series(req)   # s.base_w, s.ev_w: (T, H) watts; s.time_s: (T,) UTC epoch s

One group (one feeder) of ``n_households`` homes; ``round(ev_penetration * n)`` of them own an
EV. Sizes here are for feeders (up to a few thousand homes): the (T, H) arrays are dense.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.localtime import epoch_s_from_datetime
from smartcharge.core.tariff import get_tariff
from smartcharge.core.units import BoolArray, FloatArray, IntArray
from smartcharge.sim.behaviour import load_base_demand, load_carbon, load_session_behaviour
from smartcharge.sim.engine import TAIL_S, Setup, chunk_rng, simulate
from smartcharge.sim.fleet import build_fleet
from smartcharge.sim.load import accumulate_boxes
from smartcharge.sim.population import group_base_w, household_base_w, place_households, profile_counts
from smartcharge.sim.strategies import REGISTRY, StrategyContext, build_config

MAX_HOUSEHOLDS = 5000
DEFAULT_POWER_MIX = ((3700.0, 7400.0), (0.3, 0.7))
DEFAULT_BATTERY_MIX = ((40.0, 60.0, 80.0), (0.3, 0.5, 0.2))


@dataclass(frozen=True)
class HouseholdSeriesRequest:
    """One feeder's households; every field is checked and a bad one is refused by name."""

    n_households: int
    ev_penetration: float
    strategy: str
    tariff_id: str
    start: datetime
    days: int
    strategy_config: Mapping[str, Any] = field(default_factory=dict)
    step_s: int = 60
    seed: int = 1
    group_cap_w: float | None = None
    behaviour: str = "home_norway"
    charger_power_mix: tuple[tuple[float, ...], tuple[float, ...]] = DEFAULT_POWER_MIX
    battery_kwh_mix: tuple[tuple[float, ...], tuple[float, ...]] = DEFAULT_BATTERY_MIX
    energy_scale: float = 1.0
    warm_up_days: int = 2

    def __post_init__(self) -> None:
        if not isinstance(self.n_households, int) or not 1 <= self.n_households <= MAX_HOUSEHOLDS:
            raise ValidationError(
                "n_households", self.n_households, f"must be a whole number 1..{MAX_HOUSEHOLDS}"
            )
        if not 0.0 <= self.ev_penetration <= 1.0:
            raise ValidationError(
                "ev_penetration", self.ev_penetration, "a share of households, 0..1 (0-100 %)"
            )
        if not isinstance(self.days, int) or not 1 <= self.days <= 366:
            raise ValidationError("days", self.days, "must be a whole number of days 1..366")
        if self.step_s not in (60, 300, 600, 900, 1800):
            raise ValidationError("step_s", self.step_s, "must be one of 60, 300, 600, 900, 1800 s")
        if self.group_cap_w is not None and not self.group_cap_w > 0:
            raise ValidationError("group_cap_w", self.group_cap_w, "a cap is a power > 0 W, or None")
        if not 0.0 < self.energy_scale <= 5.0:
            raise ValidationError("energy_scale", self.energy_scale, "must be > 0 and <= 5")
        if not 0 <= self.warm_up_days <= 7:
            raise ValidationError("warm_up_days", self.warm_up_days, "must be 0..7")
        for power in self.charger_power_mix[0]:
            if not 0.0 < power <= 7400.0:
                raise ValidationError(
                    "charger_power_mix", power, "single-phase home charger power is > 0 and <= 7400 W"
                )
        epoch_s_from_datetime(self.start)


@dataclass(frozen=True)
class HouseholdStays:
    """Every stay plugged in inside the horizon, for planners outside the simulator (the study's
    network-aware strategy); shapes (S,)."""

    household: IntArray
    plugin_s: IntArray  # UTC epoch s
    plugout_s: IntArray
    energy_kwh: FloatArray  # energy the driver wants
    power_w: FloatArray  # the charger's rated power


@dataclass(frozen=True)
class HouseholdSeries:
    """Per-household results; (T, H) arrays hold each step's mean power."""

    time_s: IntArray  # (T,) UTC epoch s, step starts
    base_w: FloatArray  # (T, H)
    ev_w: FloatArray  # (T, H)
    has_ev: BoolArray  # (H,)
    energy_wanted_kwh: FloatArray  # (H,) over sessions plugged in within the horizon
    energy_delivered_kwh: FloatArray  # (H,)
    cost_p: FloatArray  # (H,) EV charging cost under the tariff
    carbon_g: FloatArray  # (H,) EV charging carbon
    charger_power_w: FloatArray  # (H,) 0 without an EV
    n_sessions: IntArray  # (H,)
    stays: HouseholdStays | None = None


def household_series(req: HouseholdSeriesRequest) -> HouseholdSeries:
    """Simulate one feeder and return per-household base and EV load series."""
    tariff = get_tariff(req.tariff_id)
    behaviour = load_session_behaviour(req.behaviour)
    base, carbon = load_base_demand(), load_carbon()
    start_s = epoch_s_from_datetime(req.start)
    start_s -= start_s % req.step_s
    n_steps = req.days * 86_400 // req.step_s
    config = build_config(req.strategy, req.strategy_config)  # refuses unknown keys and settings
    strategy = REGISTRY[req.strategy]
    setup_rng = chunk_rng(req.seed, -1)
    households, owner = place_households(
        np.array([req.n_households]), np.array([req.ev_penetration]), base.base_w.shape[0], setup_rng
    )
    fleet = build_fleet(
        households.group[owner], owner, req.charger_power_mix, req.battery_kwh_mix, behaviour, setup_rng
    )
    counts = profile_counts(base, households, 1)
    cap = np.array([np.inf if req.group_cap_w is None else float(req.group_cap_w)])
    context = StrategyContext(
        tariff=tariff,
        start_s=start_s - (req.warm_up_days + 1) * 86_400,
        end_s=start_s + n_steps * req.step_s + TAIL_S,
        carbon=carbon,
        n_groups=1,
        group_cap_w=cap,
        group_base_w=lambda t: group_base_w(base, counts, t),
    )
    setup = Setup(
        start_s=start_s,
        n_steps=n_steps,
        step_s=req.step_s,
        fleet=fleet,
        vehicle_behaviour=np.zeros(fleet.size, dtype=np.int64),
        behaviours=(behaviour,),
        planner=strategy.prepare(config, context),
        tariff=tariff,
        carbon=carbon,
        seed=req.seed,
        warm_up_days=req.warm_up_days,
        energy_scale=req.energy_scale,
    )
    h = households.size
    time_s = start_s + req.step_s * np.arange(n_steps, dtype=np.int64)
    ev_w = np.zeros((n_steps, h))
    per_vehicle = np.zeros((4, fleet.size))
    n_sessions = np.zeros(fleet.size, dtype=np.int64)
    stays: list[tuple[np.ndarray, ...]] = []
    for chunk in simulate(setup):
        if chunk.n_steps:
            grid0 = start_s + chunk.first_step * req.step_s
            part = accumulate_boxes(
                chunk.start_s,
                chunk.end_s,
                chunk.power_w,
                owner[chunk.vehicle],
                h,
                grid0,
                chunk.n_steps,
                req.step_s,
            )
            ev_w[chunk.first_step : chunk.first_step + chunk.n_steps] = part
        v = chunk.sessions.vehicle
        for row, values in enumerate(
            (chunk.sessions.energy_kwh, chunk.delivered_kwh, chunk.cost_p, chunk.carbon_g)
        ):
            per_vehicle[row] += np.bincount(v, weights=values, minlength=fleet.size)
        n_sessions += np.bincount(v, minlength=fleet.size)
        s = chunk.sessions
        stays.append((owner[v], s.plugin_s, s.plugout_s, s.energy_kwh, fleet.power_w[v]))

    def by_household(values: np.ndarray) -> np.ndarray:
        out = np.zeros(h, dtype=values.dtype)
        out[owner] = values
        return out

    return HouseholdSeries(
        time_s=time_s,
        base_w=household_base_w(base, households, time_s),
        ev_w=ev_w,
        has_ev=households.vehicle >= 0,
        energy_wanted_kwh=by_household(per_vehicle[0]),
        energy_delivered_kwh=by_household(per_vehicle[1]),
        cost_p=by_household(per_vehicle[2]),
        carbon_g=by_household(per_vehicle[3]),
        charger_power_w=by_household(fleet.power_w),
        n_sessions=by_household(n_sessions),
        stays=HouseholdStays(*(np.concatenate(parts) for parts in zip(*stays, strict=True)))
        if stays
        else None,
    )


__all__ = ["HouseholdSeries", "HouseholdStays", "HouseholdSeriesRequest", "household_series"]
