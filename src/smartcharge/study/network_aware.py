"""``network_aware``: smart charging that knows the network (issue 14 item 5; SQ-7).

Every car's energy by its departure, while every customer voltage stays in the ESQCR band and every
cable section and the transformer, per phase, stay inside their ratings:

1. **Headroom.** The feeder's base load (households without the EVs) is solved per slot
   (half-hours by default, the resolution of the base load and of the tariffs), and the linear
   voltage and current sensitivities around it (:mod:`smartcharge.grid.headroom`) turn the
   limits into ``A x_k <= b_k`` for the charging power ``x_k`` of every customer in slot ``k``.
2. **Plan.** Stays are taken earliest departure first (the least room to move). Each stay's
   energy goes to the cheapest slots of its stay first (price tiers); within a tier it is
   *valley-filled*: the stay raises the lowest slots of its own phase's load (base plus the cars
   already planned) to a common level, at most at its charger's power and at most what the
   headroom left in each slot allows. With a flat price this is pure valley filling. The target
   is a minimum: a stay gets all of it unless its length, its charger or the network make that
   impossible, and then the shortfall is reported by cause.
3. **Check.** The plan's one-minute loads go through the full asymmetric power flow. Where a step
   still breaches a limit that charging can relieve (the linear model misses the curvature of
   heavy loading by a fraction of a volt), that slot's margins are tightened by the overshoot
   and the plan is made again, up to ``max_checks`` times. A breach the base load makes on its
   own (e.g. the IEEE feeder as published at 1.05 pu) cannot be planned away and is left in the
   results for the hosting analysis to see.

The slot-level plan is what the CEM's planner (``policy.planner``, issue 12) computes for one
site; when it is merged, :func:`_fill_stay` is the seam where it takes over (the per-slot caps are
its limits). Stays that plug in during the warm-up before the horizon are not in the plan (the
simulator gives only stays that plug in inside it), so the first hours carry fewer cars than
under the simulator's own strategies; that flatters this strategy slightly at the start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from smartcharge.core.errors import ValidationError, check_setting_types
from smartcharge.core.tariff import get_tariff
from smartcharge.core.units import FloatArray, IntArray
from smartcharge.grid.flowmemo import FlowMemo
from smartcharge.grid.headroom import Headroom, Sensitivity, headroom, sensitivities
from smartcharge.grid.limits import LIMIT_ORDER, GridLimits
from smartcharge.grid.network import LVNetwork
from smartcharge.grid.reduction import tree_order
from smartcharge.grid.timeseries import FeederSolver, customer_loads
from smartcharge.policy.planner import Circuits, PlanSessions, SlotPrices, plan_charging
from smartcharge.sim.behaviour import load_carbon
from smartcharge.sim.reference_year import reference_index
from smartcharge.study.loads import HouseholdLoads, reactive_var

log = logging.getLogger(__name__)

_J_PER_KWH = 3_600_000.0


@dataclass(frozen=True, slots=True)
class NetworkAwareConfig:
    """Settings of the ``network_aware`` strategy (study file ``config:``)."""

    slot_s: int = 1800
    voltage_margin_v: float = 0.5
    max_checks: int = 6
    #: "policy": the CEM's planner (policy.planner.plan_charging, issue 12) with the headroom as its
    #: circuit tree; "greedy": this module's own earliest-departure valley filling (a cross-check)
    planner: str = "policy"

    def __post_init__(self) -> None:
        if self.planner not in ("policy", "greedy"):
            raise ValidationError("strategy.planner", self.planner, "must be 'policy' or 'greedy'")
        if self.slot_s not in (300, 600, 900, 1800):
            raise ValidationError("strategy.slot_s", self.slot_s, "must be 300, 600, 900 or 1800 s")
        if not 0.0 <= self.voltage_margin_v <= 10.0:
            raise ValidationError("strategy.voltage_margin_v", self.voltage_margin_v, "must be 0..10 V")
        if not 1 <= self.max_checks <= 20:
            raise ValidationError("strategy.max_checks", self.max_checks, "must be 1..20")


def network_aware_config(settings: dict[str, object]) -> NetworkAwareConfig:
    """Build the config from a study file's mapping; unknown keys are refused by name."""
    known = {"slot_s", "voltage_margin_v", "max_checks", "planner"}
    for key in settings:
        if key not in known:
            raise ValidationError(
                f"strategy.{key}", settings[key], f"unknown setting; known: {sorted(known)}"
            )
    check_setting_types(NetworkAwareConfig, settings, "strategy")
    return NetworkAwareConfig(**settings)  # type: ignore[arg-type]


@dataclass(frozen=True)
class NetworkPlan:
    """The strategy's result for one case, in the shapes the study reads."""

    ev_w: FloatArray  # (T, H)
    energy_wanted_kwh: FloatArray  # (H,)
    energy_delivered_kwh: FloatArray  # (H,)
    cost_p: FloatArray  # (H,)
    carbon_g: FloatArray  # (H,)
    checks: int  # full power-flow checks run
    residual_breach_steps: int  # steps outside a limit after the last check (base-load breaches too)
    unmet_kwh_by_cause: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Stays:
    customer: IntArray
    household: IntArray
    plugin_s: IntArray
    plugout_s: IntArray
    energy_kwh: FloatArray
    power_w: FloatArray


def plan_network_aware(
    solver: FeederSolver,
    loads: HouseholdLoads,
    limits: GridLimits,
    tariff_id: str,
    config: NetworkAwareConfig,
    step_s: int,
    memo: FlowMemo | None = None,
) -> NetworkPlan:
    """Plan every stay of ``loads`` against the feeder's headroom, checked by the power flow.

    ``memo``: solved steps to reuse (:mod:`~smartcharge.grid.flowmemo`); the base-load flow and
    every check's steps where no car draws come from it once the feeder's base load is known.
    """
    stays_in = getattr(loads, "stays", None)
    if stays_in is None:
        raise ValidationError(
            "strategy", "network_aware", "needs the stays of every car (the fleet simulator's stays)"
        )
    net = solver.network
    time_s = np.asarray(loads.time_s, dtype=np.int64)
    base_hh = np.asarray(loads.base_w, dtype=np.float64)
    n_steps, n_hh = base_hh.shape
    base_p = customer_loads(base_hh, net.n_load)
    base_q = customer_loads(reactive_var(base_hh, np.zeros_like(base_hh)), net.n_load)
    slot_s = config.slot_s
    t0 = int(time_s[0]) - int(time_s[0]) % slot_s
    step_slot = (time_s - t0) // slot_s
    n_slots = int(step_slot[-1]) + 1
    starts = np.searchsorted(step_slot, np.arange(n_slots))
    slot_p = np.maximum.reduceat(base_p, starts, axis=0)  # the heaviest step of each slot
    slot_q = np.maximum.reduceat(base_q, starts, axis=0)
    sens = sensitivities(solver._pgm, base_p.mean(axis=0), base_q.mean(axis=0), limits)
    room = headroom(solver._pgm, sens, slot_p, slot_q, limits, config.voltage_margin_v)
    stays = _stays(stays_in, net.n_load, time_s[0])
    tariff = get_tariff(tariff_id)
    horizon_end = int(time_s[-1]) + step_s
    n_plan_slots = (int(stays.plugout_s.max(initial=horizon_end)) - t0) // slot_s + 1
    slot_start = t0 + slot_s * np.arange(n_plan_slots, dtype=np.int64)
    minutes = slot_start[:, None] + 60 * np.arange(slot_s // 60, dtype=np.int64)[None, :]
    price = tariff.price_p_per_kwh(minutes.ravel()).reshape(minutes.shape).mean(axis=1)
    carbon = load_carbon()
    intensity = carbon.intensity_g_per_kwh[reference_index(slot_start, carbon.start_s)]
    phase_base = np.zeros((n_plan_slots, 3))
    for ph in range(3):
        on = net.load_phase == ph
        phase_base[:, ph] = slot_p[np.arange(n_plan_slots) % n_slots][:, on].sum(axis=1)
    base_flags = solver.solve(base_p, base_q, memo=memo).breaches(limits)  # what no plan can remove
    checks, breach_steps = 0, 0
    pieces = _Pieces.empty()
    for checks in range(1, config.max_checks + 1):
        if config.planner == "policy":
            pieces = _plan_policy(
                stays, room, n_slots, slot_start, slot_s, price, intensity, phase_base, sens, net
            )
        else:
            pieces = _plan(stays, room, n_slots, slot_start, slot_s, price, phase_base, net.load_phase)
        ev_hh = pieces.series(time_s, step_s, n_hh)
        p = base_p + customer_loads(ev_hh, net.n_load)
        summary = solver.solve(p, base_q, memo=memo)
        flags = summary.breaches(limits)
        caused = flags & ~base_flags  # breaches the charging made
        breach_steps = int(flags.any(axis=1).sum())
        if not caused.any():
            break
        if checks == config.max_checks:
            log.warning("network_aware: %d steps still breach after %d checks", breach_steps, checks)
            break
        room = _tighten(room, summary, caused, step_slot, limits, net)
    delivered = _sum_by(pieces.stay, pieces.energy_kwh, stays.energy_kwh.size)
    possible = stays.power_w * (stays.plugout_s - stays.plugin_s) / _J_PER_KWH
    too_short = np.clip(stays.energy_kwh - possible, 0.0, None)
    held_back = np.clip(stays.energy_kwh - delivered - too_short, 0.0, None)
    return NetworkPlan(
        ev_w=ev_hh,
        energy_wanted_kwh=_sum_by(stays.household, stays.energy_kwh, n_hh),
        energy_delivered_kwh=_sum_by(stays.household, delivered, n_hh),
        cost_p=_sum_by(pieces.household, pieces.energy_kwh * price[pieces.slot], n_hh),
        carbon_g=_sum_by(pieces.household, pieces.energy_kwh * intensity[pieces.slot], n_hh),
        checks=checks,
        residual_breach_steps=breach_steps,
        unmet_kwh_by_cause={
            "stay_too_short_for_charger": float(too_short.sum()),
            "held_back_by_network_limit": float(held_back.sum()),
        },
    )


def _sum_by(index: IntArray, weights: FloatArray, n: int) -> FloatArray:
    return np.asarray(np.bincount(index, weights=weights, minlength=n), dtype=np.float64)


def _stays(stays_in: object, n_load: int, first_s: int) -> _Stays:
    household = np.asarray(stays_in.household, dtype=np.int64)  # type: ignore[attr-defined]
    plugin = np.asarray(stays_in.plugin_s, dtype=np.int64)  # type: ignore[attr-defined]
    keep = plugin >= first_s
    order = np.argsort(np.asarray(stays_in.plugout_s)[keep], kind="stable")  # type: ignore[attr-defined]
    pick = np.flatnonzero(keep)[order]
    return _Stays(
        customer=household[pick] % n_load,
        household=household[pick],
        plugin_s=plugin[pick],
        plugout_s=np.asarray(stays_in.plugout_s, dtype=np.int64)[pick],  # type: ignore[attr-defined]
        energy_kwh=np.asarray(stays_in.energy_kwh, dtype=np.float64)[pick],  # type: ignore[attr-defined]
        power_w=np.asarray(stays_in.power_w, dtype=np.float64)[pick],  # type: ignore[attr-defined]
    )


@dataclass(frozen=True)
class _Pieces:
    """Constant-power pieces of the plan: stay, slot, start and end (s), power (W)."""

    stay: IntArray
    slot: IntArray
    start_s: IntArray
    end_s: IntArray
    power_w: FloatArray
    household: IntArray

    @classmethod
    def empty(cls) -> _Pieces:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z, np.zeros(0), z)

    @property
    def energy_kwh(self) -> FloatArray:
        return np.asarray(self.power_w * (self.end_s - self.start_s) / _J_PER_KWH, dtype=np.float64)

    def series(self, time_s: IntArray, step_s: int, n_hh: int) -> FloatArray:
        """(T, H) step-mean power; pieces past the horizon are left out (as the simulator does)."""
        out = np.zeros((time_s.size, n_hh))
        t0 = int(time_s[0])
        first = (self.start_s - t0) // step_s
        last = (self.end_s - 1 - t0) // step_s
        count = np.maximum(last - first + 1, 0)
        rep = np.repeat(np.arange(self.stay.size), count)
        offsets = np.cumsum(count) - count
        step = first[rep] + np.arange(rep.size) - offsets[rep]
        lo = np.maximum(self.start_s[rep], t0 + step * step_s)
        hi = np.minimum(self.end_s[rep], t0 + (step + 1) * step_s)
        inside = (step >= 0) & (step < time_s.size)
        np.add.at(
            out,
            (step[inside], self.household[rep][inside]),
            self.power_w[rep][inside] * (hi - lo)[inside] / step_s,
        )
        return out


def _plan(
    stays: _Stays,
    room: Headroom,
    n_slots: int,
    slot_start: IntArray,
    slot_s: int,
    price: FloatArray,
    phase_base: FloatArray,
    load_phase: IntArray,
) -> _Pieces:
    """Earliest departure first, each stay valley-filled within price tiers under the headroom."""
    n_plan = slot_start.size
    resid = room.b[np.arange(n_plan) % n_slots].copy()  # past the horizon the base repeats
    level = phase_base.copy()
    out: list[tuple[int, IntArray, IntArray, IntArray, FloatArray]] = []
    t0 = int(slot_start[0])
    for i in range(stays.energy_kwh.size):
        k0 = (int(stays.plugin_s[i]) - t0) // slot_s
        k1 = (int(stays.plugout_s[i]) - 1 - t0) // slot_s + 1
        ks = np.arange(k0, k1)
        lo = np.maximum(slot_start[ks], stays.plugin_s[i])
        hi = np.minimum(slot_start[ks] + slot_s, stays.plugout_s[i])
        overlap = (hi - lo).astype(np.float64)
        col = room.a[:, stays.customer[i]]
        rows = np.flatnonzero(col > 1e-15)
        with np.errstate(divide="ignore"):
            net_cap = (np.clip(resid[np.ix_(ks, rows)], 0.0, None) / col[rows]).min(axis=1)
        cap = np.minimum(net_cap, stays.power_w[i])
        ph = int(load_phase[stays.customer[i]])
        x = _fill_stay(stays.energy_kwh[i] * _J_PER_KWH, cap, overlap, level[ks, ph], price[ks])
        if not x.any():
            continue
        resid[ks] -= x[:, None] * col[None, :]
        level[ks, ph] += x
        used = x > 0
        out.append((i, ks[used], lo[used], hi[used], x[used]))
    if not out:
        return _Pieces.empty()
    stay = np.concatenate([np.full(o[1].size, o[0], dtype=np.int64) for o in out])
    return _Pieces(
        stay=stay,
        slot=np.concatenate([o[1] for o in out]),
        start_s=np.concatenate([o[2] for o in out]),
        end_s=np.concatenate([o[3] for o in out]),
        power_w=np.concatenate([o[4] for o in out]),
        household=stays.household[stay],
    )


def _plan_policy(
    stays: _Stays,
    room: Headroom,
    n_slots: int,
    slot_start: IntArray,
    slot_s: int,
    price: FloatArray,
    intensity: FloatArray,
    phase_base: FloatArray,
    sens: Sensitivity,
    net: LVNetwork,
) -> _Pieces:
    """The CEM's planner with the feeder's headroom as its circuit tree (issue 12 item 1, ARB-3).

    The tree: the transformer (root) -> every cable section (parents before children) -> one node
    per customer. Thermal margins become per-phase headroom in watts (``margin_a * v_min``, the
    same bound the current rows use). The voltage rows are not a tree: each customer's node gets a
    total headroom per slot that holds every voltage row even if every customer with a car plugged
    in that slot took its own cap at once (``cap_i = min_b m_b / sum_i' D_bi'`` over the rows its
    charging pushes towards a limit), so any plan inside the tree is inside the linearised band.
    """
    n_plan = slot_start.size
    b = room.b[np.arange(n_plan) % n_slots]  # (K, R)
    kind = room.row_kind()
    n_load, n_line = room.n_load, room.n_line
    k0 = (stays.plugin_s - int(slot_start[0])) // slot_s
    k1 = (stays.plugout_s - 1 - int(slot_start[0])) // slot_s + 1
    active = np.zeros((n_plan, n_load), dtype=bool)
    for c, lo, hi in zip(stays.customer.tolist(), k0.tolist(), k1.tolist(), strict=True):
        active[lo:hi, c] = True
    volt = kind <= 1
    d = np.clip(room.a[volt], 0.0, None)  # (Rv, L) pushes towards the limit
    pressure = active.astype(float) @ d.T  # (K, Rv)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_row = np.where(pressure > 0, np.clip(b[:, volt], 0.0, None) / pressure, np.inf)  # (K, Rv)
    cap = np.full((n_plan, n_load), np.inf)
    for c in range(n_load):
        rows = d[:, c] > 1e-15
        if rows.any():
            cap[:, c] = per_row[:, rows].min(axis=1)
    # Tree: node 0 transformer, nodes 1..J sections parents first, then one node per customer.
    parent, rank = _tree_parents(net)
    m = parent.size
    phase_room = np.full((m, n_plan, 3), np.inf)
    line_b = b[:, kind == 2].reshape(n_plan, 3, n_line)  # (K, 3, J) amperes
    trafo_b = b[:, kind == 3]  # (K, 3)
    phase_room[0] = np.clip(trafo_b, 0.0, None) * sens.v_min_v
    phase_room[1 + rank] = np.clip(np.transpose(line_b, (2, 0, 1)), 0.0, None) * sens.v_min_v
    total_room = np.full((m, n_plan), np.inf)
    total_room[1 + n_line :] = cap.T
    base = np.zeros((m, n_plan))
    base[0] = phase_base.sum(axis=1)
    share = np.zeros((stays.customer.size, 3))
    share[np.arange(stays.customer.size), sens.phase[stays.customer]] = 1.0
    plan = plan_charging(
        SlotPrices(int(slot_start[0]), slot_s, price, intensity),
        PlanSessions(
            node=1 + n_line + stays.customer,
            from_s=stays.plugin_s,
            ready_by_s=stays.plugout_s,
            target_kwh=stays.energy_kwh,
            max_power_w=stays.power_w,
            phase_share=share,
        ),
        Circuits(parent, phase_room, total_room, base),
    )
    keep = plan.power_w > 0
    return _Pieces(
        stay=plan.session[keep],
        slot=plan.slot[keep],
        start_s=np.asarray(plan.start_s, dtype=np.int64)[keep],
        end_s=np.asarray(plan.end_s, dtype=np.int64)[keep],
        power_w=plan.power_w[keep],
        household=stays.household[plan.session[keep]],
    )


def _tree_parents(net: LVNetwork) -> tuple[IntArray, IntArray]:
    """Parents of the planner's tree: 0 transformer, 1 + j section j, then the customers.

    The planner needs parents numbered before children; sections are numbered by their
    position in the network, so the tree is renumbered by visit order from the busbar.
    """
    bus_parent, parent_line, order = tree_order(net)
    visit = [int(parent_line[bus]) for bus in order[1:].tolist()]  # sections, parents first
    rank = np.empty(net.n_line, dtype=np.int64)
    rank[np.array(visit, dtype=np.int64)] = np.arange(net.n_line)
    parent = np.full(1 + net.n_line + net.n_load, -1, dtype=np.int64)
    for bus in order[1:].tolist():
        j = int(parent_line[bus])
        up_bus = int(bus_parent[bus])
        up = -1 if up_bus == net.lv_bus else int(parent_line[up_bus])
        parent[1 + rank[j]] = 0 if up < 0 else 1 + rank[up]
    for c, bus in enumerate(net.load_bus.tolist()):
        parent[1 + net.n_line + c] = 1 + rank[int(parent_line[bus])]
    return parent, rank


def _fill_stay(
    energy_j: float, cap_w: FloatArray, overlap_s: FloatArray, level_w: FloatArray, price: FloatArray
) -> FloatArray:
    """Powers (W) per slot: cheapest tier first, valley-filled to a common level within a tier."""
    x = np.zeros(cap_w.size)
    left = float(energy_j)
    for tier in np.unique(np.round(price, 6)):
        if left <= 1e-6:
            break
        idx = np.flatnonzero(np.round(price, 6) == tier)
        full = float((cap_w[idx] * overlap_s[idx]).sum())
        if full <= left:
            x[idx] = cap_w[idx]
            left -= full
            continue
        lo_l, hi_l = float(level_w[idx].min()), float((level_w[idx] + cap_w[idx]).max())
        for _ in range(60):  # bisection on the water level
            mid = 0.5 * (lo_l + hi_l)
            got = float((np.clip(mid - level_w[idx], 0.0, cap_w[idx]) * overlap_s[idx]).sum())
            lo_l, hi_l = (mid, hi_l) if got < left else (lo_l, mid)
        x[idx] = np.clip(hi_l - level_w[idx], 0.0, cap_w[idx])
        left = 0.0
    return x


def _tighten(
    room: Headroom,
    summary: object,
    caused: np.ndarray,
    step_slot: IntArray,
    limits: GridLimits,
    net: object,
) -> Headroom:
    """Reduce the margins of each breached slot's breached kind by its overshoot (plus 20 %)."""
    s = summary
    over_v = {
        0: limits.v_min_v - s.u_min_v,  # type: ignore[attr-defined]
        1: s.u_max_v - limits.v_max_v,  # type: ignore[attr-defined]
        2: (s.line_loading_pu - limits.thermal_fraction) * float(net.i_max_a.min()),  # type: ignore[attr-defined]
        3: (s.trafo_loading_pu - limits.thermal_fraction)  # type: ignore[attr-defined]
        * net.transformer.rated_current_lv_a,  # type: ignore[attr-defined]
    }
    slots, kinds, amounts = [], [], []
    for kind_index, _kind in enumerate(LIMIT_ORDER):
        hit = caused[:, kind_index]
        if not hit.any():
            continue
        worst: dict[int, float] = {}
        for step in np.flatnonzero(hit).tolist():
            k = int(step_slot[step])
            worst[k] = max(worst.get(k, 0.0), float(over_v[kind_index][step]))
        for k, amount in worst.items():
            slots.append(k)
            kinds.append(kind_index)
            amounts.append(1.2 * amount + 0.05)
    return room.tightened(np.array(slots), np.array(kinds), np.array(amounts))


__all__ = ["NetworkAwareConfig", "NetworkPlan", "network_aware_config", "plan_network_aware"]
