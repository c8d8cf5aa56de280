"""Household loads for the study: the fleet simulator behind a small seam.

The study asks for (T, H) household loads through a :data:`LoadProvider`. The real one,
:func:`fleet_loads`, calls the fleet simulator (``smartcharge.sim.household_series``, issue 4).
Unit tests of the sweep machinery may pass another provider with the same shape; the end-to-end
study always uses the fleet simulator.

Reactive power: the simulator gives active power only. Household base load is taken at a lagging
power factor of 0.95 and EV charging at unity (on-board chargers correct their power factor);
both are parameters of :func:`reactive_var`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import BoolArray, FloatArray, IntArray

log = logging.getLogger(__name__)


class HouseholdLoads(Protocol):
    """What the study reads from the fleet simulator (the shape of ``sim.HouseholdSeries``)."""

    @property
    def time_s(self) -> IntArray: ...  # (T,)
    @property
    def base_w(self) -> FloatArray: ...  # (T, H)
    @property
    def ev_w(self) -> FloatArray: ...  # (T, H)
    @property
    def has_ev(self) -> BoolArray: ...  # (H,)
    @property
    def energy_wanted_kwh(self) -> FloatArray: ...  # (H,)
    @property
    def energy_delivered_kwh(self) -> FloatArray: ...  # (H,)
    @property
    def cost_p(self) -> FloatArray: ...  # (H,) EV charging cost
    @property
    def carbon_g(self) -> FloatArray: ...  # (H,) EV charging carbon


@dataclass(frozen=True)
class Fleet:
    """A group's cars and homes (issue 14 item 3), the fleet fields of ``sim.HouseholdSeriesRequest``:
    charger mix in watts (single phase <= 7.4 kW, three phase 11 or 22 kW), battery sizes, the
    phase shares of single-phase chargers where the network gives no home phase, energy scale,
    max fill, behaviour table and which source homes the base load follows."""

    behaviour: str = "home_norway"
    homes: str = "all"
    charger_power_mix_w: tuple[tuple[float, ...], tuple[float, ...]] = ((3700.0, 7400.0), (0.3, 0.7))
    battery_kwh_mix: tuple[tuple[float, ...], tuple[float, ...]] = ((40.0, 60.0, 80.0), (0.3, 0.5, 0.2))
    phase_shares: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)
    energy_scale: float = 1.0
    max_fill: float = 0.9


@dataclass(frozen=True)
class LoadRequest:
    """One fleet run: the arguments of ``sim.HouseholdSeriesRequest``. ``household_phase`` (H,)
    is each home's phase from the network: its single-phase charger sits on it."""

    n_households: int
    ev_penetration: float
    strategy: str
    tariff_id: str
    start: datetime
    days: int
    step_s: int
    seed: int
    strategy_config: Mapping[str, Any] = field(default_factory=dict)
    group_cap_w: float | None = None
    fleet: Fleet = field(default_factory=Fleet)
    household_phase: tuple[int, ...] | None = None


@dataclass(frozen=True)
class StackedLoads:
    """Households of several fleet runs side by side (staggered tariff windows)."""

    time_s: IntArray
    base_w: FloatArray
    ev_w: FloatArray
    has_ev: BoolArray
    energy_wanted_kwh: FloatArray
    energy_delivered_kwh: FloatArray
    cost_p: FloatArray
    carbon_g: FloatArray
    #: (H, 3) share of each household's EV power on L1..L3; None: on the home's phase
    ev_phase_share: FloatArray | None = None


LoadProvider = Callable[[LoadRequest], HouseholdLoads]


def fleet_loads(req: LoadRequest) -> HouseholdLoads:
    """Household loads from the fleet simulator (issue 4)."""
    try:
        from smartcharge.sim import HouseholdSeriesRequest, household_series
    except ImportError as exc:  # the simulator is a sibling package built in parallel
        raise ValidationError(
            "load_provider", "fleet", f"the fleet simulator is not available: {exc}"
        ) from exc
    sim_req = HouseholdSeriesRequest(
        n_households=req.n_households,
        ev_penetration=req.ev_penetration,
        strategy=req.strategy,
        strategy_config=dict(req.strategy_config),
        tariff_id=req.tariff_id,
        start=req.start,
        days=req.days,
        step_s=req.step_s,
        seed=req.seed,
        group_cap_w=req.group_cap_w,
        behaviour=req.fleet.behaviour,
        homes=req.fleet.homes,
        charger_power_mix=req.fleet.charger_power_mix_w,
        battery_kwh_mix=req.fleet.battery_kwh_mix,
        phase_shares=req.fleet.phase_shares,
        energy_scale=req.fleet.energy_scale,
        max_fill=req.fleet.max_fill,
        household_phase=req.household_phase,
    )
    series: HouseholdLoads = household_series(sim_req)
    return series


def ev_phase_share(loads: HouseholdLoads) -> FloatArray | None:
    """(H, 3) share of each household's EV power on L1..L3 (the simulator's ``phase_share()``),
    or None when the provider gives no phases (then each EV is on its home's phase)."""
    method = getattr(loads, "phase_share", None)
    if callable(method):
        return np.asarray(method(), dtype=np.float64)
    given = getattr(loads, "ev_phase_share", None)
    return None if given is None else np.asarray(given, dtype=np.float64)


def stack_loads(parts: list[HouseholdLoads]) -> StackedLoads:
    """Put households of runs over the same time axis side by side."""
    for part in parts[1:]:
        if not np.array_equal(part.time_s, parts[0].time_s):
            raise ValidationError("time_s", "mismatch", "stacked fleet runs must share one time axis")
    shares = [ev_phase_share(p) for p in parts]
    return StackedLoads(
        time_s=parts[0].time_s,
        base_w=np.concatenate([p.base_w for p in parts], axis=1),
        ev_w=np.concatenate([p.ev_w for p in parts], axis=1),
        has_ev=np.concatenate([p.has_ev for p in parts]),
        energy_wanted_kwh=np.concatenate([p.energy_wanted_kwh for p in parts]),
        energy_delivered_kwh=np.concatenate([p.energy_delivered_kwh for p in parts]),
        cost_p=np.concatenate([p.cost_p for p in parts]),
        carbon_g=np.concatenate([p.carbon_g for p in parts]),
        ev_phase_share=None
        if any(share is None for share in shares)
        else np.concatenate([share for share in shares if share is not None]),
    )


def reactive_var(
    base_w: FloatArray, ev_w: FloatArray, base_pf: float = 0.95, ev_pf: float = 1.0
) -> FloatArray:
    """Reactive power of (T, H) loads at lagging power factors ``base_pf`` and ``ev_pf``."""
    for name, pf in (("base_pf", base_pf), ("ev_pf", ev_pf)):
        if not 0 < pf <= 1:
            raise ValidationError(name, pf, "a power factor must be in (0, 1]")
    tan_base = np.sqrt(1 - base_pf**2) / base_pf
    tan_ev = np.sqrt(1 - ev_pf**2) / ev_pf
    return np.asarray(np.asarray(base_w) * tan_base + np.asarray(ev_w) * tan_ev, dtype=np.float64)


__all__ = [
    "Fleet",
    "HouseholdLoads",
    "LoadProvider",
    "LoadRequest",
    "StackedLoads",
    "ev_phase_share",
    "fleet_loads",
    "reactive_var",
    "stack_loads",
]
