"""``smart``: ready by departure at least cost, then least carbon, under each group's cap.

The simulator runs the CEM's own planner, :func:`smartcharge.policy.planner.plan_charging` (one
implementation for the product and the study, issue 12 item 1): half-hour slots (tariff windows
and the carbon series both change on half-hours), each group (feeder or transformer) a root of
the planner's limit tree with the headroom its cap leaves above the households' base load, and
that base load as the valley the planner fills where price is flat. Sessions ask for their
energy by plug-out (the target is a minimum); where a cap binds, sessions with the least choice
go first; cars sharing a group are spread evenly over a price tier instead of bunching at its
first half-hour.

Groups are planned in batches of whole groups (a group's sessions are never split), so memory
is bounded by the batch, not the fleet; headroom left by one chunk of sessions carries into the
next. Within a slot the granted energy is spread evenly over the part the car is plugged in
(a modulated current), so the cap holds at every minute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import FloatArray, IntArray
from smartcharge.policy.planner import THREE_PHASE, Circuits, PlanSessions, SlotPrices, plan_charging
from smartcharge.sim.charging import Boxes
from smartcharge.sim.reference_year import reference_index
from smartcharge.sim.sessions import Sessions
from smartcharge.sim.strategies.base import Planner, StrategyContext

SLOT_S = 1800


@dataclass(frozen=True, slots=True)
class Config:
    max_rounds: int = 8
    max_passes: int = 1  # more: another pass serving first the sessions a cap starved
    spread: bool = True  # valley level per price tier (no bunching at a tariff edge)
    level_steps: int = 1  # steps of valley filling per tier
    batch_pairs: int = 500_000  # (session, slot) pairs planned at once: bounds memory
    #: rounds of the planner's exchange phase (cost-lowering chains where a group cap binds); off by
    #: default in the fleet runs for speed per EV (the CEM runs it in full; benchmarks/README.md)
    improve_rounds: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.max_rounds <= 50:
            raise ValidationError("strategy.max_rounds", self.max_rounds, "must be 1..50")
        if not 1 <= self.max_passes <= 5:
            raise ValidationError("strategy.max_passes", self.max_passes, "must be 1..5")
        if not 1 <= self.level_steps <= 5:
            raise ValidationError("strategy.level_steps", self.level_steps, "must be 1..5")
        if not 0 <= self.improve_rounds <= 1000:
            raise ValidationError("strategy.improve_rounds", self.improve_rounds, "must be 0..1000")
        if not 10_000 <= self.batch_pairs <= 50_000_000:
            raise ValidationError("strategy.batch_pairs", self.batch_pairs, "must be 10,000..50,000,000")


class SmartPlanner:
    """Holds each (group, slot)'s remaining headroom across chunks, so later sessions see earlier ones."""

    def __init__(self, config: Config, context: StrategyContext) -> None:
        self.config = config
        self.grid_start_s = context.start_s - context.start_s % SLOT_S
        n_slots = (context.end_s - self.grid_start_s) // SLOT_S + 1
        slot_s = self.grid_start_s + SLOT_S * np.arange(n_slots, dtype=np.int64)
        minutes = slot_s[:, None] + 60 * np.arange(SLOT_S // 60, dtype=np.int64)[None, :]
        price = context.tariff.price_p_per_kwh(minutes.ravel()).reshape(minutes.shape).mean(axis=1)
        carbon = context.carbon.intensity_g_per_kwh[reference_index(slot_s, context.carbon.start_s)]
        self.slots = SlotPrices(self.grid_start_s, SLOT_S, price, carbon)
        self.n_slots = int(n_slots)
        base = context.group_base_w(slot_s)  # (K, G)
        self.base_w = np.ascontiguousarray(base.T)  # (G, K)
        self.headroom_w = np.maximum(context.group_cap_w[None, :] - base, 0.0).T.copy()  # (G, K)
        self.ev_w = np.zeros_like(self.base_w)  # what earlier chunks planned, for the valley

    def __call__(
        self, sessions: Sessions, power_w: FloatArray, group: IntArray, rng: np.random.Generator
    ) -> Boxes:
        n = sessions.size
        if n == 0:
            return Boxes.empty()
        k0 = (sessions.plugin_s - self.grid_start_s) // SLOT_S
        k1 = (sessions.plugout_s - 1 - self.grid_start_s) // SLOT_S + 1
        if np.any(k0 < 0) or np.any(k1 > self.n_slots):
            raise ValidationError(
                "sessions", "outside the run", "a session lies outside the planned time span"
            )
        pairs = np.maximum(k1 - k0, 0)
        order = np.argsort(group, kind="stable")
        groups, first = np.unique(group[order], return_index=True)
        per_group = np.add.reduceat(pairs[order], first) if n else np.zeros(0, np.int64)
        boxes: list[Boxes] = []
        start = 0
        while start < groups.size:
            stop = start + 1
            total = int(per_group[start])
            while stop < groups.size and total + int(per_group[stop]) <= self.config.batch_pairs:
                total += int(per_group[stop])
                stop += 1
            lo = first[start]
            hi = first[stop] if stop < groups.size else n
            boxes.append(self._plan_batch(sessions, power_w, group, order[lo:hi], groups[start:stop]))
            start = stop
        return Boxes(
            np.concatenate([b.session for b in boxes]),
            np.concatenate([b.start_s for b in boxes]),
            np.concatenate([b.end_s for b in boxes]),
            np.concatenate([b.power_w for b in boxes]),
        )

    def _plan_batch(
        self, sessions: Sessions, power_w: FloatArray, group: IntArray, index: IntArray, groups: IntArray
    ) -> Boxes:
        root = np.searchsorted(groups, group[index])
        m = groups.size
        tree = Circuits(
            np.full(m, -1, dtype=np.int64),
            np.full((m, self.n_slots, 3), np.inf),
            self.headroom_w[groups],
            base_w=self.base_w[groups] + self.ev_w[groups],
        )
        batch = PlanSessions(
            root,
            sessions.plugin_s[index],
            sessions.plugout_s[index],
            sessions.energy_kwh[index],
            power_w[index],
            np.broadcast_to(THREE_PHASE, (index.size, 3)),  # group caps are totals, not per phase
        )
        plan = plan_charging(
            self.slots,
            batch,
            tree,
            max_rounds=self.config.max_rounds,
            max_passes=self.config.max_passes,
            spread=self.config.spread,
            level_steps=self.config.level_steps,
            improve_rounds=self.config.improve_rounds,
        )
        self.headroom_w[groups] = plan.total_headroom_w
        flat = groups[root[plan.session]] * self.n_slots + plan.slot
        self.ev_w += np.bincount(
            flat, weights=plan.energy_kwh * 3.6e6 / SLOT_S, minlength=self.ev_w.size
        ).reshape(self.ev_w.shape)
        return _merged(index[plan.session], plan.slot, self.n_slots, plan.start_s, plan.end_s, plan.power_w)


def _merged(
    session: IntArray, slot: IntArray, n_slots: int, start_s: IntArray, end_s: IntArray, power_w: FloatArray
) -> Boxes:
    """Boxes with back-to-back stretches of one session at one power joined (fewer boxes to hold)."""
    if session.size == 0:  # a batch whose sessions got no charge: the tail index below needs one row
        return Boxes.empty()
    # Time order within a session is slot order, and (session, slot) is unique: one integer key.
    order = np.argsort(session * n_slots + slot)
    session, start_s, end_s, power_w = session[order], start_s[order], end_s[order], power_w[order]
    joins = (session[1:] == session[:-1]) & (start_s[1:] == end_s[:-1]) & (power_w[1:] == power_w[:-1])
    first = np.ones(session.shape[0], dtype=np.bool_)
    first[1:] = ~joins
    head = np.flatnonzero(first)
    last = np.append(head[1:], session.shape[0]) - 1
    return Boxes(
        session[head],
        start_s[head].astype(np.float64),
        end_s[last].astype(np.float64),
        power_w[head],
    )


def prepare(config: Config, context: StrategyContext) -> Planner:
    return SmartPlanner(config, context)
