"""Per-household series for small groups: the entry point the LV network study builds on.

    >>> req = HouseholdSeriesRequest(n_households=55, ev_penetration=0.6, strategy="tariff_window_delay",
    ...     strategy_config={"max_delay_s": 600}, tariff_id="octopus_go", start=start, days=7)
    >>> s = household_series(req)   # s.base_w, s.ev_w: (T, H) watts; s.time_s: (T,) UTC epoch s
    >>> s.ev_w_per_phase()          # (T, H, 3): each EV's load on L1, L2, L3

One group (one feeder or site) of ``n_households`` homes (or parking spaces); ``round(ev_penetration
* n)`` of them own an EV. Sizes here are for feeders (up to a few thousand homes): the (T, H) arrays
are dense. Common random numbers (issue 14, item 7): for one seed, the EVs at a lower penetration
are a subset of those at a higher one with the same cars and stays, and every strategy sees the
same cars and stays.
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
from smartcharge.sim.behaviour import BEHAVIOURS, load_base_demand, load_carbon, load_session_behaviour
from smartcharge.sim.engine import TAIL_S, Setup, simulate
from smartcharge.sim.fleet import CarMix, build_fleet
from smartcharge.sim.load import accumulate_boxes
from smartcharge.sim.population import (
    HOME_SETS,
    SITE_BASES,
    group_base_w,
    household_base_w,
    office_shape,
    place_households,
    profile_counts,
)
from smartcharge.sim.strategies import REGISTRY, StrategyContext, build_config

MAX_HOUSEHOLDS = 5000
DEFAULT_POWER_MIX = ((3700.0, 7400.0), (0.3, 0.7))
DEFAULT_BATTERY_MIX = ((40.0, 60.0, 80.0), (0.3, 0.5, 0.2))
NO_EV = -2  # ``ev_phase`` of a household without an EV (-1 is a balanced three-phase charger)


@dataclass(frozen=True)
class HouseholdSeriesRequest:
    """One feeder's households; every field is checked and a bad one is refused by name.

    Fleet fields (issue 14, item 3): ``charger_power_mix`` in watts (single phase > 0 and <= 7400,
    three phase 11000 or 22000), ``phase_shares`` of single-phase chargers over L1..L3 unless
    ``household_phase`` (H,) gives each home's phase (0, 1, 2: its charger sits on it),
    ``battery_kwh_mix``, ``energy_scale``, ``max_fill``, ``behaviour`` (a packaged table),
    ``homes`` (all / electric_heating / no_electric_heating), ``base_load`` (homes / none /
    office with ``site_peak_w``).
    """

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
    phase_shares: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)
    household_phase: tuple[int, ...] | None = None
    max_fill: float = 0.9
    homes: str = "all"
    base_load: str = "homes"
    site_peak_w: float | None = None

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
        if not 0 <= self.warm_up_days <= 7:
            raise ValidationError("warm_up_days", self.warm_up_days, "must be 0..7")
        if self.behaviour not in BEHAVIOURS:
            raise ValidationError("behaviour", self.behaviour, f"one of {', '.join(BEHAVIOURS)}")
        if self.homes not in HOME_SETS:
            raise ValidationError("homes", self.homes, f"one of {', '.join(HOME_SETS)}")
        if self.base_load not in SITE_BASES:
            raise ValidationError("base_load", self.base_load, f"one of {', '.join(SITE_BASES)}")
        if (self.base_load == "office") != (self.site_peak_w is not None):
            raise ValidationError("site_peak_w", self.site_peak_w, "set exactly when base_load is office")
        if self.site_peak_w is not None and not self.site_peak_w > 0:
            raise ValidationError("site_peak_w", self.site_peak_w, "an office peak is a power > 0 W")
        if self.household_phase is not None:
            phases = np.asarray(self.household_phase)
            if phases.shape != (self.n_households,) or np.any((phases < 0) | (phases > 2)):
                raise ValidationError(
                    "household_phase", "...", f"{self.n_households} phases, each 0, 1 or 2 (L1..L3)"
                )
        self.car_mix()  # refuses a bad charger, battery or phase mix, energy_scale or max_fill by name
        epoch_s_from_datetime(self.start)

    def car_mix(self) -> CarMix:
        return CarMix(
            power_w=self.charger_power_mix,
            battery_kwh=self.battery_kwh_mix,
            phase_shares=self.phase_shares,
            energy_scale=self.energy_scale,
            max_fill=self.max_fill,
        )


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
    energy_wanted_kwh: FloatArray  # (H,) over stays plugged in within the horizon
    energy_delivered_kwh: FloatArray  # (H,)
    cost_p: FloatArray  # (H,) EV charging cost under the tariff
    carbon_g: FloatArray  # (H,) EV charging carbon
    charger_power_w: FloatArray  # (H,) 0 without an EV
    n_sessions: IntArray  # (H,)
    ev_phase: IntArray  # (H,) 0, 1, 2 = L1..L3; -1 three phase (balanced); -2 no EV
    unmet_stay_too_short_kwh: FloatArray  # (H,) beyond full power over the whole stay
    unmet_held_kwh: FloatArray  # (H,) the rest of the undelivered energy: held back by the strategy
    holdback_cause: str  # what ``unmet_held_kwh`` is: window_too_short or held_by_limit
    stays: HouseholdStays | None = None

    def phase_share(self) -> FloatArray:
        """(H, 3): the share of each household's EV power on L1, L2, L3 (zeros without an EV)."""
        share = np.zeros((self.ev_phase.shape[0], 3))
        single = self.ev_phase >= 0
        share[np.flatnonzero(single), self.ev_phase[single]] = 1.0
        share[self.ev_phase == -1] = 1.0 / 3.0
        return share

    def ev_w_per_phase(self) -> FloatArray:
        """(T, H, 3): each household's EV load on L1, L2, L3, watts (exact: one charger each)."""
        out: FloatArray = self.ev_w[:, :, None] * self.phase_share()[None, :, :]
        return out


def household_series(req: HouseholdSeriesRequest) -> HouseholdSeries:
    """Simulate one feeder and return per-household base and EV load series."""
    tariff = get_tariff(req.tariff_id)
    behaviour = load_session_behaviour(req.behaviour)
    base, carbon = load_base_demand(), load_carbon()
    start_s = epoch_s_from_datetime(req.start)
    start_s -= start_s % req.step_s
    n_steps = req.days * 86_400 // req.step_s
    config = build_config(req.strategy, req.strategy_config)  # refuses unknown keys and settings
    entry = REGISTRY[req.strategy]
    households, owner = place_households(
        np.array([req.n_households]), np.array([req.ev_penetration]), base, req.seed, (req.homes,)
    )
    phases = None if req.household_phase is None else np.asarray(req.household_phase, dtype=np.int64)
    fleet = build_fleet(
        households.group[owner],
        owner,
        np.zeros(owner.size, dtype=np.int64),
        (behaviour,),
        (req.car_mix(),),
        req.seed,
        phases,
    )
    counts = profile_counts(base, households, 1)
    if req.base_load != "homes":
        counts[:] = 0.0
    office_w = np.array([req.site_peak_w or 0.0])
    cap = np.array([np.inf if req.group_cap_w is None else float(req.group_cap_w)])
    context = StrategyContext(
        tariff=tariff,
        start_s=start_s - (req.warm_up_days + 1) * 86_400,
        end_s=start_s + n_steps * req.step_s + TAIL_S,
        carbon=carbon,
        n_groups=1,
        group_cap_w=cap,
        group_base_w=lambda t: group_base_w(base, counts, t, office_w),
    )
    setup = Setup(
        start_s=start_s,
        n_steps=n_steps,
        step_s=req.step_s,
        fleet=fleet,
        vehicle_behaviour=np.zeros(fleet.size, dtype=np.int64),
        behaviours=(behaviour,),
        planner=entry.prepare(config, context),
        tariff=tariff,
        carbon=carbon,
        seed=req.seed,
        warm_up_days=req.warm_up_days,
    )
    h = households.size
    time_s = start_s + req.step_s * np.arange(n_steps, dtype=np.int64)
    ev_w = np.zeros((n_steps, h))
    per_vehicle = np.zeros((6, fleet.size))
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
            (
                chunk.sessions.energy_kwh,
                chunk.delivered_kwh,
                chunk.cost_p,
                chunk.carbon_g,
                chunk.unmet_short_kwh,
                chunk.unmet_strategy_kwh,
            )
        ):
            per_vehicle[row] += np.bincount(v, weights=values, minlength=fleet.size)
        n_sessions += np.bincount(v, minlength=fleet.size)
        s = chunk.sessions
        stays.append((owner[v], s.plugin_s, s.plugout_s, s.energy_kwh, fleet.power_w[v]))

    def by_household(values: np.ndarray, fill: float = 0) -> np.ndarray:
        out = np.full(h, fill, dtype=values.dtype)
        out[owner] = values
        return out

    base_w = household_base_w(base, households, time_s)
    if req.base_load != "homes":
        base_w = np.zeros_like(base_w)
        if req.site_peak_w is not None:  # one site: its own load spread over its spaces
            base_w += office_shape(time_s)[:, None] * (req.site_peak_w / h)
    return HouseholdSeries(
        time_s=time_s,
        base_w=base_w,
        ev_w=ev_w,
        has_ev=households.vehicle >= 0,
        energy_wanted_kwh=by_household(per_vehicle[0]),
        energy_delivered_kwh=by_household(per_vehicle[1]),
        cost_p=by_household(per_vehicle[2]),
        carbon_g=by_household(per_vehicle[3]),
        charger_power_w=by_household(fleet.power_w),
        n_sessions=by_household(n_sessions),
        ev_phase=by_household(fleet.phase, NO_EV),
        unmet_stay_too_short_kwh=by_household(per_vehicle[4]),
        unmet_held_kwh=by_household(per_vehicle[5]),
        holdback_cause=entry.holdback_cause,
        stays=HouseholdStays(*(np.concatenate(parts) for parts in zip(*stays, strict=True)))
        if stays
        else None,
    )


__all__ = ["NO_EV", "HouseholdSeries", "HouseholdSeriesRequest", "HouseholdStays", "household_series"]
