"""``smart``: ready by departure at least cost, then least carbon, under each group's cap.

Work is on half-hour slots (tariff windows and the carbon series both change on half-hours).
Each session ranks the slots of its plug-in span by (price, carbon intensity) and asks for its
energy in the best slots first, at up to its rated power. The asks on each feeder or
transformer slot are shared out by the policy's tree allocation
(:func:`smartcharge.policy.arbitration.allocate_tree`, ARB-3) within the headroom left by the
households' base load and by sessions planned earlier; a slot that binds is closed and the
sessions it cut short ask again in their next best slots. The energy target is a minimum: a
session gets all of it unless its span, its power and the cap together make that impossible.

Within a slot the granted energy is spread evenly (a modulated current), so the cap holds at
every minute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.limit import LimitSource
from smartcharge.core.units import FloatArray, IntArray
from smartcharge.policy.arbitration import allocate_tree
from smartcharge.sim.charging import Boxes
from smartcharge.sim.reference_year import reference_index
from smartcharge.sim.sessions import Sessions
from smartcharge.sim.strategies.base import Planner, StrategyContext

SLOT_S = 1800
_J_PER_KWH = 3_600_000.0
_PRICE_WEIGHT = 10_000.0  # pence outrank grams: carbon (< 1,000 g/kWh) only breaks price ties


@dataclass(frozen=True, slots=True)
class Config:
    max_rounds: int = 8

    def __post_init__(self) -> None:
        if not 1 <= self.max_rounds <= 50:
            raise ValidationError("strategy.max_rounds", self.max_rounds, "must be 1..50")


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
        self.score = price * _PRICE_WEIGHT + carbon
        self.n_slots = int(n_slots)
        base = context.group_base_w(slot_s)  # (K, G)
        self.headroom_w = np.maximum(context.group_cap_w[None, :] - base, 0.0).T.copy()  # (G, K)

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
        counts = k1 - k0
        offsets = np.zeros(n, dtype=np.int64)
        np.cumsum(counts[:-1], out=offsets[1:])
        pair_session = np.repeat(np.arange(n, dtype=np.int64), counts)
        slot = k0[pair_session] + np.arange(pair_session.size, dtype=np.int64) - offsets[pair_session]
        slot_start = self.grid_start_s + slot * SLOT_S
        lo = np.maximum(slot_start, sessions.plugin_s[pair_session])
        hi = np.minimum(slot_start + SLOT_S, sessions.plugout_s[pair_session])
        overlap_s = (hi - lo).astype(np.float64)
        order = np.lexsort((self.score[slot], pair_session))
        pair_session, slot, lo, overlap_s = pair_session[order], slot[order], lo[order], overlap_s[order]
        node = group[pair_session] * self.n_slots + slot
        room_kwh = power_w[pair_session] * overlap_s / _J_PER_KWH
        granted = np.zeros(pair_session.size)
        residual = sessions.energy_kwh.copy()
        open_pair = room_kwh > 0
        for _ in range(self.config.max_rounds):
            eligible = np.where(open_pair, room_kwh - granted, 0.0)
            cum = np.cumsum(eligible)
            before = cum - eligible - (cum - eligible)[offsets][pair_session]
            ask = np.clip(residual[pair_session] - before, 0.0, eligible)
            asking = np.flatnonzero(ask > 1e-12)
            if asking.size == 0:
                break
            got, closed = self._share(ask[asking], node[asking], overlap_s[asking])
            granted[asking] += got
            residual -= np.bincount(pair_session[asking], weights=got, minlength=n)
            open_pair &= ~np.isin(node, closed)
        keep = granted > 1e-12
        start = lo[keep].astype(np.float64)
        end = start + overlap_s[keep]
        return Boxes(pair_session[keep], start, end, granted[keep] * _J_PER_KWH / overlap_s[keep])

    def _share(
        self, ask_kwh: FloatArray, node: IntArray, overlap_s: FloatArray
    ) -> tuple[FloatArray, IntArray]:
        """Share each slot's headroom among its asks (ARB-3); return grants (kWh) and full nodes.

        Shared as power: an ask that covers part of a slot draws its energy over that part, so it
        counts at that power against the slot's headroom for the whole slot (never over the cap).
        """
        used, leaf_node = np.unique(node, return_inverse=True)
        g, k = np.divmod(used, self.n_slots)
        ask_w = ask_kwh * _J_PER_KWH / overlap_s
        limit_w = self.headroom_w[g, k]
        got_w, _ = allocate_tree(
            ask_w,
            leaf_node,
            np.full(used.size, -1, dtype=np.int64),
            limit_w,
            np.full(used.size, int(LimitSource.SITE), dtype=np.int64),
            np.full(ask_w.size, int(LimitSource.ROUTINE_DSR), dtype=np.int64),
        )
        demand_w = np.bincount(leaf_node, weights=ask_w, minlength=used.size)
        taken_w = np.bincount(leaf_node, weights=got_w, minlength=used.size)
        self.headroom_w[g, k] = np.maximum(limit_w - taken_w, 0.0)
        closed = used[demand_w > limit_w * (1 + 1e-9)]
        got_kwh: FloatArray = got_w * overlap_s / _J_PER_KWH
        return got_kwh, closed


def prepare(config: Config, context: StrategyContext) -> Planner:
    return SmartPlanner(config, context)
