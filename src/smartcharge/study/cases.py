"""One study case: a fleet run on one feeder, through the time-series power flow, to a small result.

A case is fully described by its fields (feeder, strategy, penetration, seed): it draws nothing
that is not seeded, so the same case gives the same numbers on any worker (issue 5, item 6).
Results carry only what the report needs: per-step extremes, the feeder total, the diversity
curve and per-consumer cost and carbon.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import FloatArray, IntArray
from smartcharge.grid.feeders import get_feeder
from smartcharge.grid.flowmemo import FlowMemo, digest
from smartcharge.grid.limits import GridLimits, StepSummary
from smartcharge.grid.network import LVNetwork
from smartcharge.grid.timeseries import FeederSolver, customer_loads, customer_phase_loads
from smartcharge.study.loads import (
    Fleet,
    HouseholdLoads,
    LoadProvider,
    LoadRequest,
    StackedLoads,
    ev_phase_share,
    fleet_loads,
    reactive_var,
    stack_loads,
)
from smartcharge.study.network_aware import network_aware_config, plan_network_aware

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Case:
    """Everything one task needs; hashable and picklable for Dask."""

    index: int
    part: str  # "hosting", "second_peak" or "cost"
    feeder_key: str
    feeder_name: str
    feeder_params: tuple[tuple[str, float | int], ...]
    strategy_label: str
    strategy_key: str
    tariffs: tuple[str, ...]
    strategy_config: tuple[tuple[str, float | int | str | bool], ...]
    group_cap_w: float | None
    penetration: float
    seed: int
    start: datetime
    days: int
    step_s: int
    #: (v_min_v, v_max_v, thermal_fraction): the limits the network-aware strategy plans against
    limits: tuple[float, float, float] = (216.2, 253.0, 1.0)
    #: the feeder's cars and homes (issue 14 item 3): the study's ``ev:`` or the feeder's own
    fleet: Fleet = field(default_factory=Fleet)


@dataclass(frozen=True)
class CaseResult:
    case: Case
    summary: StepSummary
    time_s: IntArray  # (T,)
    total_w: FloatArray  # (T,) feeder demand, households and EVs
    ev_total_w: FloatArray  # (T,)
    n_households: int
    n_ev: int
    diversity_kw: FloatArray  # (H,) after-diversity maximum demand per household of the first n
    cost_p_per_ev: float
    carbon_g_per_ev: float
    energy_delivered_kwh_per_ev: float
    unserved_kwh: float
    extras: dict[str, Any] = field(default_factory=dict)
    energy_wanted_kwh: float = float("nan")  # all EVs, stays plugged in inside the horizon
    energy_delivered_kwh: float = float("nan")
    #: what the stays could take at full charger power (no strategy can give more)
    energy_deliverable_kwh: float = float("nan")
    #: False after :meth:`slim`: ``time_s``, ``total_w`` and ``ev_total_w`` are empty
    series_kept: bool = True

    @property
    def energy_served_share(self) -> float:
        """Delivered / asked by departure over all EVs (1 with no EV): the service-quality test."""
        if not self.energy_wanted_kwh > 0:
            return 1.0
        return min(self.energy_delivered_kwh / self.energy_wanted_kwh, 1.0)

    @property
    def deliverable_served_share(self) -> float:
        """Delivered / what the stays could take at full power: what the strategy held back."""
        basis = self.energy_deliverable_kwh
        if not basis == basis:  # nan: the load provider gave no stays
            return self.energy_served_share
        if not basis > 0:
            return 1.0
        return min(self.energy_delivered_kwh / basis, 1.0)

    def served_share(self, basis: str) -> float:
        return self.deliverable_served_share if basis == "deliverable" else self.energy_served_share

    def numbers(self) -> list[Any]:
        """Every number of this result, for checking that two ways of running a case agree."""
        s = self.summary
        return [
            s.u_min_v,
            s.u_max_v,
            s.line_loading_pu,
            s.trafo_loading_pu,
            self.total_w,
            self.ev_total_w,
            self.diversity_kw,
            self.cost_p_per_ev,
            self.carbon_g_per_ev,
            self.energy_delivered_kwh,
            self.energy_wanted_kwh,
            self.unserved_kwh,
            repr(sorted(self.extras.items())),
        ]

    def slim(self) -> CaseResult:
        """This result without its time series: the step summary cut to its record steps (the
        first breach and the extremes stay exact, :meth:`StepSummary.records`), no demand series
        and no diversity curve (the report draws both for the charted cases only). For the
        hosting cases whose series the report never draws."""
        empty = np.zeros(0)
        return replace(
            self,
            summary=self.summary.records(),
            time_s=np.zeros(0, dtype=np.int64),
            total_w=empty,
            ev_total_w=empty,
            diversity_kw=empty,
            series_kept=False,
        )


@lru_cache(maxsize=8)
def _solver(name: str, params: tuple[tuple[str, float | int], ...]) -> FeederSolver:
    """One reduced feeder model per worker process and feeder (building the IEEE one takes seconds)."""
    return FeederSolver(get_feeder(name, **dict(params)))


#: flow memos kept per worker process: one per feeder and base load (feeder and seed), LRU
MEMO_SLOTS = 4
_memos: OrderedDict[tuple[int, bytes], FlowMemo] = OrderedDict()


def flow_memo(solver: FeederSolver, loads: HouseholdLoads) -> FlowMemo:
    """This worker's memo of solved steps for the feeder and the loads' base load (issue 14 "Speed").

    The base load alone, on each home's phase, is the memo's reference: the steps where no car
    draws are solved once per feeder and seed for every strategy and penetration (the base load is
    the same for them all; the memo checks that by the bits, so a different one gets its own).
    """
    net = solver.network
    base = np.asarray(loads.base_w, dtype=np.float64)
    ref_p = customer_loads(base, net.n_load)
    ref_q = customer_loads(reactive_var(base, np.zeros_like(base)), net.n_load)
    key = (id(solver), digest(ref_p))  # ref_q follows from ref_p
    memo = _memos.get(key)
    if memo is None or memo.network is not net:
        memo = FlowMemo(net, ref_p, ref_q)
        _memos[key] = memo
        while len(_memos) > MEMO_SLOTS:
            _memos.popitem(last=False)
    _memos.move_to_end(key)
    return memo


def clear_flow_memos() -> None:
    """Forget every memo of this process (benchmarks time the cases with and without)."""
    _memos.clear()


def network_of(case: Case) -> LVNetwork:
    return _solver(case.feeder_name, case.feeder_params).original


def household_loads(
    case: Case, n_households: int, provider: LoadProvider, load_phase: IntArray | None = None
) -> HouseholdLoads:
    """The case's households; with several tariffs, households are split across them in turn.

    Household h is the network's connection point h % n_load; with ``load_phase`` (the network's
    phase of each point) every home's single-phase charger sits on its home's phase.
    """
    shares = np.array_split(np.arange(n_households), len(case.tariffs))
    phases = None if load_phase is None else np.asarray(load_phase, dtype=np.int64)
    parts = []
    for k, (tariff, members) in enumerate(zip(case.tariffs, shares, strict=True)):
        req = LoadRequest(
            n_households=int(members.size),
            ev_penetration=case.penetration,
            strategy=case.strategy_key,
            tariff_id=tariff,
            start=case.start,
            days=case.days,
            step_s=case.step_s,
            seed=case.seed * 1000 + k,
            strategy_config=dict(case.strategy_config),
            group_cap_w=None if case.group_cap_w is None else case.group_cap_w * members.size / n_households,
            fleet=case.fleet,
            household_phase=None if phases is None else tuple(int(x) for x in phases[members % phases.size]),
        )
        parts.append(provider(req))
    return parts[0] if len(parts) == 1 else stack_loads(parts)


def network_aware_loads(
    case: Case, solver: FeederSolver, provider: LoadProvider, reuse: bool = True
) -> tuple[StackedLoads, Any, float]:
    """The same cars and stays as every other strategy (the fleet run uncontrolled), re-planned
    against the feeder's headroom (issue 14 item 5)."""
    if len(case.tariffs) != 1:
        raise ValidationError("strategy.tariffs", list(case.tariffs), "network_aware takes one tariff")
    config = network_aware_config(dict(case.strategy_config))
    plain = replace(case, strategy_key="uncontrolled", strategy_config=())
    loads = household_loads(plain, solver.network.n_load, provider, solver.network.load_phase)
    plan = plan_network_aware(
        solver,
        loads,
        GridLimits(*case.limits),
        case.tariffs[0],
        config,
        case.step_s,
        memo=flow_memo(solver, loads) if reuse else None,
    )
    charger = getattr(loads, "charger_power_w", None)
    rated = (
        float("nan") if charger is None else float(np.asarray(charger)[np.asarray(loads.has_ev)].sum() / 1e3)
    )
    out = StackedLoads(
        time_s=np.asarray(loads.time_s),
        base_w=np.asarray(loads.base_w),
        ev_w=plan.ev_w,
        has_ev=np.asarray(loads.has_ev),
        energy_wanted_kwh=plan.energy_wanted_kwh,
        energy_delivered_kwh=plan.energy_delivered_kwh,
        cost_p=plan.cost_p,
        carbon_g=plan.carbon_g,
        ev_phase_share=ev_phase_share(loads),
    )
    return out, plan, rated


def phase_loads_of(loads: HouseholdLoads, net: LVNetwork) -> tuple[FloatArray, FloatArray]:
    """(T, n_load, 3) active and reactive loads per phase: base load on each home's phase, each
    EV as its charger draws (a single-phase one on the home's phase, a three-phase one a third on
    each phase at the home's bus; issue 14 item 3)."""
    share = ev_phase_share(loads)
    base, ev = np.asarray(loads.base_w), np.asarray(loads.ev_w)
    p = customer_phase_loads(base, ev, share, net.load_phase)
    q = customer_phase_loads(
        reactive_var(base, np.zeros_like(ev)), reactive_var(np.zeros_like(base), ev), share, net.load_phase
    )
    return p, q


def ev_kwh_by_phase(loads: HouseholdLoads, net: LVNetwork, step_s: int) -> list[float]:
    """EV energy on L1, L2, L3 over the horizon (kWh): what the power flow was given per phase."""
    ev_kwh = np.asarray(loads.ev_w).sum(axis=0) * step_s / 3.6e6  # (H,)
    share = ev_phase_share(loads)
    point = np.arange(ev_kwh.size) % net.n_load
    home = np.zeros((ev_kwh.size, 3))
    home[np.arange(ev_kwh.size), net.load_phase[point]] = 1.0
    if share is not None:
        home = np.where(share.sum(axis=1, keepdims=True) > 0, share, home)
    return [float(x) for x in (ev_kwh[:, None] * home).sum(axis=0)]


def _deliverable_kwh(loads: HouseholdLoads, extras: dict[str, Any]) -> float:
    """Energy the stays could take at full charger power: min(asked, power x stay) summed."""
    wanted = float(np.asarray(loads.energy_wanted_kwh).sum())
    if "stay_too_short_for_charger" in extras:
        return wanted - float(extras["stay_too_short_for_charger"])
    stays = getattr(loads, "stays", None)
    if stays is None:
        return float("nan")
    possible = np.asarray(stays.power_w) * (np.asarray(stays.plugout_s) - np.asarray(stays.plugin_s)) / 3.6e6
    return float(np.minimum(np.asarray(stays.energy_kwh), possible).sum())


def run_case(case: Case, provider: LoadProvider = fleet_loads, reuse: bool = True) -> CaseResult:
    """Fleet run -> customer loads -> asymmetric power flow for every step -> per-step extremes.

    ``reuse``: take the steps this worker has already solved for the same feeder and loads from
    its :func:`flow_memo` (the numbers are the same bit for bit; off, every step is solved).
    """
    solver = _solver(case.feeder_name, case.feeder_params)
    net = solver.network
    extras: dict[str, Any] = {}
    loads: HouseholdLoads
    if case.strategy_key == "network_aware":
        loads, plan, rated_kw = network_aware_loads(case, solver, provider, reuse)
        extras = {
            "rated_ev_kw": rated_kw,
            "checks": plan.checks,
            "residual_breach_steps": plan.residual_breach_steps,
            **plan.unmet_kwh_by_cause,
        }
    else:
        loads = household_loads(case, net.n_load, provider, net.load_phase)
        charger = getattr(loads, "charger_power_w", None)
        if charger is not None:
            extras["rated_ev_kw"] = float(
                np.asarray(charger)[np.asarray(loads.has_ev, dtype=bool)].sum() / 1e3
            )
    household_w = loads.base_w + loads.ev_w
    p, q = phase_loads_of(loads, net)
    extras["ev_kwh_by_phase"] = ev_kwh_by_phase(loads, net, case.step_s)
    summary = solver.solve(p, q, memo=flow_memo(solver, loads) if reuse else None)
    has_ev = np.asarray(loads.has_ev, dtype=bool)
    n_ev = int(has_ev.sum())
    per_ev = max(n_ev, 1)
    cumulative = np.cumsum(household_w, axis=1)
    diversity_kw = cumulative.max(axis=0) / np.arange(1, household_w.shape[1] + 1) / 1e3
    log.info(
        "case %d %s/%s p=%.2f seed=%d done",
        case.index,
        case.feeder_key,
        case.strategy_label,
        case.penetration,
        case.seed,
    )
    return CaseResult(
        case=case,
        summary=summary,
        time_s=np.asarray(loads.time_s),
        total_w=household_w.sum(axis=1),
        ev_total_w=loads.ev_w.sum(axis=1),
        n_households=int(household_w.shape[1]),
        n_ev=n_ev,
        diversity_kw=diversity_kw,
        cost_p_per_ev=float(np.asarray(loads.cost_p)[has_ev].sum() / per_ev),
        carbon_g_per_ev=float(np.asarray(loads.carbon_g)[has_ev].sum() / per_ev),
        energy_delivered_kwh_per_ev=float(np.asarray(loads.energy_delivered_kwh)[has_ev].sum() / per_ev),
        unserved_kwh=float(
            np.clip(
                np.asarray(loads.energy_wanted_kwh) - np.asarray(loads.energy_delivered_kwh), 0, None
            ).sum()
        ),
        extras=extras,
        energy_deliverable_kwh=_deliverable_kwh(loads, extras),
        energy_wanted_kwh=float(np.asarray(loads.energy_wanted_kwh)[has_ev].sum()),
        energy_delivered_kwh=float(np.asarray(loads.energy_delivered_kwh)[has_ev].sum()),
    )


__all__ = [
    "MEMO_SLOTS",
    "Case",
    "CaseResult",
    "clear_flow_memos",
    "flow_memo",
    "ev_kwh_by_phase",
    "household_loads",
    "network_aware_loads",
    "network_of",
    "phase_loads_of",
    "run_case",
]
