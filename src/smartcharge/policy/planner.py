"""Ready-by charging plans: cheapest, then lowest-carbon slots under shared, phase-aware limits.

One pure, vectorised kernel for the live CEM (one site, a few hundred sessions) and the fleet
simulator (the ``smart`` strategy, millions of sessions in batches); issue 12 item 1, ARB-3,
SCN-WRK. No clock and no randomness: times, prices and carbon are arguments.

API
===

``plan_charging(slots, sessions, circuits=None, *, max_rounds=16, spread=True) -> Plan``

- :class:`SlotPrices` — the slot grid: ``grid_start_s`` (UTC epoch s), ``slot_s`` and, per slot
  ``(K,)``, ``price_p_per_kwh`` and ``carbon_g_per_kwh``.
- :class:`PlanSessions` — one row per session ``(N,)``: ``node`` (the circuit it hangs from),
  ``from_s`` (plugged in, or now), ``ready_by_s``, ``target_kwh`` (a minimum by ``ready_by_s``,
  not a cap), ``max_power_w`` (the car and charge point together), ``phase_share`` ``(N, 3)`` (the
  share of its power on L1, L2, L3: ``[0, 1, 0]`` for a single-phase car on L2, a third each for
  a three-phase car) and ``priority`` (higher is served first when a limit binds, e.g. fleet vans).
- :class:`Circuits` — the shared-limit tree (site connection -> circuits -> ...), parents before
  children (``parent[j] < j``, -1 for a root), with what the cars may draw per slot:
  ``phase_headroom_w`` ``(M, K, 3)`` per phase and ``total_headroom_w`` ``(M, K)`` in total (``inf``
  where a node has no such limit; the caller subtracts other load), and ``base_w`` ``(M, K)``, the
  other load on each node (only the roots' is used, to fill valleys). A current limit per phase
  is ``current_a * 230 V`` (:data:`smartcharge.core.units.NOMINAL_VOLTAGE_V`). ``None``: no shared
  limit (one root, unlimited).
- :class:`Plan` — the answer as (session, slot) pairs ``(P,)``: ``session``, ``slot``,
  ``energy_kwh``, ``power_w`` and the stretch ``start_s``/``end_s`` it is drawn over; per session
  ``delivered_kwh``, ``reachable_kwh`` (what the car alone could take by its ready-by time),
  ``shortfall_kwh`` (``target - delivered``, 0 when met), ``meets_target``, ``cost_p``,
  ``carbon_g``; and the headroom left on each node (``phase_headroom_w``, ``total_headroom_w``) so a
  caller can plan later sessions against what earlier ones took.

How it plans
============

Slots are taken price tier by price tier, cheapest first (a tier is the set of slots at one
price). In a tier each session asks for its remaining energy in its lowest-carbon slots first,
at up to its power. Where a node's limit binds, the asks at that node and slot are granted in
order of ``priority``, then of least slack (``reachable - target``: the car with the fewest
alternatives first, which keeps plans close to the optimum), then of index; a binding node-slot
closes for the sessions it cut, and they ask again in their next slots (up to ``max_rounds``).

Cars sharing a site are not bunched at a tariff edge: with ``spread`` a first pass in each tier
holds each root (site, transformer) at a water level — the flat level over the tier's slots,
above the root's ``base_w``, that holds the energy the tier's sessions want — so the tier is
filled evenly (valley filling; where price is flat the whole horizon is one tier). A second pass
without the level places what the level held back. The target is a minimum: a session whose
target cannot be met by its ready-by time is told by how much at once (``shortfall_kwh``) and is
given all it can get. Energy in a slot is drawn evenly over the part of the slot the car is
plugged in, so each limit holds at every instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import BoolArray, FloatArray, IntArray

J_PER_KWH = 3_600_000.0
_EPS_KWH = 1e-9
_EPS_W = 1e-6
_LEVEL_ITERATIONS = 40


@dataclass(frozen=True, slots=True)
class SlotPrices:
    """The slot grid and its price (p/kWh) and carbon intensity (gCO2/kWh) per slot, (K,)."""

    grid_start_s: int
    slot_s: int
    price_p_per_kwh: FloatArray
    carbon_g_per_kwh: FloatArray

    def __post_init__(self) -> None:
        if self.slot_s <= 0:
            raise ValidationError("slot_s", self.slot_s, "a slot lasts > 0 s")
        price = np.asarray(self.price_p_per_kwh, dtype=np.float64)
        carbon = np.asarray(self.carbon_g_per_kwh, dtype=np.float64)
        if price.ndim != 1 or carbon.shape != price.shape:
            raise ValidationError("carbon_g_per_kwh", carbon.shape, f"one value per slot, {price.shape}")
        if not np.all(np.isfinite(price)) or not np.all(np.isfinite(carbon)) or np.any(carbon < 0):
            raise ValidationError("price_p_per_kwh", "nan/inf", "finite prices and carbon >= 0 per slot")
        object.__setattr__(self, "price_p_per_kwh", price)
        object.__setattr__(self, "carbon_g_per_kwh", carbon)

    @property
    def n_slots(self) -> int:
        return int(self.price_p_per_kwh.shape[0])

    def slot_start_s(self) -> IntArray:
        return self.grid_start_s + self.slot_s * np.arange(self.n_slots + 1, dtype=np.int64)


#: Phase shares of common connections.
SINGLE_PHASE = (np.eye(3, dtype=np.float64)[0], np.eye(3)[1], np.eye(3)[2])
THREE_PHASE = np.full(3, 1.0 / 3.0)


@dataclass(frozen=True, slots=True)
class PlanSessions:
    """Sessions to plan, (N,) each; ``phase_share`` (N, 3)."""

    node: IntArray
    from_s: IntArray
    ready_by_s: IntArray
    target_kwh: FloatArray
    max_power_w: FloatArray
    phase_share: FloatArray
    priority: IntArray | None = None

    def __post_init__(self) -> None:
        n = np.asarray(self.node).shape[0]
        for name in ("node", "from_s", "ready_by_s", "target_kwh", "max_power_w"):
            if np.asarray(getattr(self, name)).shape != (n,):
                raise ValidationError(name, np.asarray(getattr(self, name)).shape, f"one per session, ({n},)")
        share = np.asarray(self.phase_share, dtype=np.float64)
        if share.shape != (n, 3) or np.any(share < 0) or not np.allclose(share.sum(axis=1), 1.0):
            raise ValidationError("phase_share", share.shape, "(N, 3) shares >= 0 summing to 1 per session")
        target = np.asarray(self.target_kwh, dtype=np.float64)
        power = np.asarray(self.max_power_w, dtype=np.float64)
        if np.any(~(target >= 0)) or np.any(~np.isfinite(target)):
            raise ValidationError("target_kwh", "nan or negative", "a target is a finite energy >= 0 kWh")
        if np.any(~(power >= 0)) or np.any(~np.isfinite(power)):
            raise ValidationError("max_power_w", "nan or negative", "a power limit is finite and >= 0 W")
        if np.any(np.asarray(self.ready_by_s) < np.asarray(self.from_s)):
            raise ValidationError("ready_by_s", "before from_s", "a session must be ready after it starts")
        object.__setattr__(self, "phase_share", share)
        object.__setattr__(self, "target_kwh", target)
        object.__setattr__(self, "max_power_w", power)
        prio = np.zeros(n, np.int64) if self.priority is None else np.asarray(self.priority, np.int64)
        if prio.shape != (n,):
            raise ValidationError("priority", prio.shape, f"one per session, ({n},)")
        object.__setattr__(self, "priority", prio)

    @property
    def size(self) -> int:
        return int(np.asarray(self.node).shape[0])


@dataclass(frozen=True, slots=True)
class Circuits:
    """The shared-limit tree with the headroom the cars may use per slot (see the module doc)."""

    parent: IntArray  # (M,)
    phase_headroom_w: FloatArray  # (M, K, 3)
    total_headroom_w: FloatArray  # (M, K)
    base_w: FloatArray | None = None  # (M, K)

    def __post_init__(self) -> None:
        parent = np.asarray(self.parent, dtype=np.int64)
        m = parent.shape[0]
        if m == 0 or np.any(parent >= np.arange(m)):
            raise ValidationError(
                "parent", parent.tolist()[:10], "at least one node; parents before children"
            )
        phase = np.asarray(self.phase_headroom_w, dtype=np.float64)
        total = np.asarray(self.total_headroom_w, dtype=np.float64)
        if phase.ndim != 3 or phase.shape[0] != m or phase.shape[2] != 3 or total.shape != phase.shape[:2]:
            raise ValidationError("phase_headroom_w", phase.shape, "(M, K, 3) with total_headroom_w (M, K)")
        if np.any(~(phase >= 0)) or np.any(~(total >= 0)):
            raise ValidationError("headroom_w", "nan or negative", "headroom is >= 0 W; inf for no limit")
        base = np.zeros(total.shape) if self.base_w is None else np.asarray(self.base_w, dtype=np.float64)
        if base.shape != total.shape or not np.all(np.isfinite(base)):
            raise ValidationError("base_w", base.shape, f"finite, one per node and slot, {total.shape}")
        object.__setattr__(self, "parent", parent)
        object.__setattr__(self, "phase_headroom_w", phase)
        object.__setattr__(self, "total_headroom_w", total)
        object.__setattr__(self, "base_w", base)

    @classmethod
    def unlimited(cls, n_slots: int) -> Circuits:
        return cls(np.array([-1]), np.full((1, n_slots, 3), np.inf), np.full((1, n_slots), np.inf))

    @property
    def size(self) -> int:
        return int(self.parent.shape[0])

    def ancestors(self) -> IntArray:
        """(M, D+1): each node's ancestor at each depth (root first), ``M`` (a virtual node) below."""
        m = self.size
        depth = np.zeros(m, dtype=np.int64)
        for j in range(m):
            depth[j] = 0 if self.parent[j] < 0 else depth[self.parent[j]] + 1
        table = np.full((m, int(depth.max()) + 1), m, dtype=np.int64)
        for j in range(m):
            node = j
            while node >= 0:
                table[j, depth[node]] = node
                node = int(self.parent[node])
        return table


@dataclass(frozen=True, slots=True)
class Plan:
    """A plan as (session, slot) pairs (P,) and per-session results (N,); see the module doc."""

    session: IntArray
    slot: IntArray
    energy_kwh: FloatArray
    power_w: FloatArray
    start_s: IntArray
    end_s: IntArray
    delivered_kwh: FloatArray
    reachable_kwh: FloatArray
    shortfall_kwh: FloatArray
    meets_target: BoolArray
    cost_p: FloatArray
    carbon_g: FloatArray
    phase_headroom_w: FloatArray = field(repr=False)
    total_headroom_w: FloatArray = field(repr=False)

    def power_by_slot_w(self, n_sessions: int, n_slots: int) -> FloatArray:
        """Dense (N, K) mean power per slot (for small problems: a site, a test)."""
        dense = np.zeros((n_sessions, n_slots))
        np.add.at(dense, (self.session, self.slot), self.power_w)
        return dense


@dataclass(slots=True)
class _Pairs:
    """Working (session, slot) pairs sorted by (session, tier, carbon, slot)."""

    session: IntArray
    slot: IntArray
    tier: IntArray
    room_kwh: FloatArray
    overlap_s: FloatArray
    start_s: IntArray


def _pairs(slots: SlotPrices, sessions: PlanSessions, tier_of_slot: IntArray) -> _Pairs:
    k_all = slots.n_slots
    t0 = np.maximum(np.asarray(sessions.from_s, np.int64), slots.grid_start_s)
    t1 = np.minimum(np.asarray(sessions.ready_by_s, np.int64), slots.grid_start_s + k_all * slots.slot_s)
    k0 = (t0 - slots.grid_start_s) // slots.slot_s
    k1 = np.where(t1 > t0, (t1 - 1 - slots.grid_start_s) // slots.slot_s + 1, k0)
    counts = np.maximum(k1 - k0, 0)
    offsets = np.zeros(counts.shape[0], dtype=np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    session = np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts)
    slot = k0[session] + np.arange(session.shape[0], dtype=np.int64) - offsets[session]
    slot_start = slots.grid_start_s + slot * slots.slot_s
    lo = np.maximum(slot_start, t0[session])
    hi = np.minimum(slot_start + slots.slot_s, t1[session])
    overlap_s = (hi - lo).astype(np.float64)
    room_kwh = sessions.max_power_w[session] * overlap_s / J_PER_KWH
    keep = room_kwh > 0
    session, slot, lo, overlap_s, room_kwh = (
        session[keep],
        slot[keep],
        lo[keep],
        overlap_s[keep],
        room_kwh[keep],
    )
    tier = tier_of_slot[slot]
    order = np.lexsort((slot, slots.carbon_g_per_kwh[slot], tier, session))
    return _Pairs(session[order], slot[order], tier[order], room_kwh[order], overlap_s[order], lo[order])


def _sum_by(group: IntArray, weights: FloatArray, minlength: int) -> FloatArray:
    """Sum of ``weights`` per group id (a float ``bincount``)."""
    return np.bincount(group, weights=weights, minlength=minlength).astype(np.float64)


def _segment_exclusive_cumsum(values: FloatArray, group: IntArray) -> FloatArray:
    """Sum of the earlier values of the same group, for values sorted so groups are contiguous."""
    cum = np.cumsum(values)
    before = cum - values
    if values.shape[0] == 0:
        return before
    first = np.ones(values.shape[0], dtype=np.bool_)
    first[1:] = group[1:] != group[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(values.shape[0]), 0))
    out: FloatArray = before - before[start]
    return out


class _Headroom:
    """Headroom per (node, slot) with a virtual unlimited node M; the pass may add a level cap."""

    def __init__(self, circuits: Circuits) -> None:
        m, k = circuits.total_headroom_w.shape
        self.n_slots = k
        self.phase = np.concatenate([circuits.phase_headroom_w, np.full((1, k, 3), np.inf)])
        self.total = np.concatenate([circuits.total_headroom_w, np.full((1, k), np.inf)])
        self.level = np.full((m + 1, k), np.inf)  # the valley level's cap, roots only


def _share(
    ask_w: FloatArray,
    slot: IntArray,
    path: IntArray,
    share: FloatArray,
    rank: IntArray,
    room: _Headroom,
) -> tuple[FloatArray, BoolArray]:
    """Grant asks (W) under every node on their path, in rank order where a node binds (ARB-3).

    ``path`` (A, D) holds each ask's nodes, root first; ``share`` (A, 3) its phase shares; ``rank``
    (A,) its place in the queue (lower first). Returns grants (W) and whether each ask was cut.
    """
    grant = ask_w.copy()
    k = room.n_slots
    for d in range(path.shape[1] - 1, -1, -1):
        node = path[:, d]
        key = node * k + slot
        order = np.lexsort((rank, key))
        key_o, node_o, slot_o = key[order], node[order], slot[order]
        frac = np.ones(order.shape[0])
        g = grant[order]
        caps = np.minimum(room.total[node_o, slot_o], room.level[node_o, slot_o])
        before = _segment_exclusive_cumsum(g, key_o)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.minimum(frac, np.where(g > 0, np.clip((caps - before) / g, 0.0, 1.0), 1.0))
            for phase in range(3):
                load = g * share[order, phase]
                before = _segment_exclusive_cumsum(load, key_o)
                cap = room.phase[node_o, slot_o, phase]
                frac = np.minimum(frac, np.where(load > 0, np.clip((cap - before) / load, 0.0, 1.0), 1.0))
        grant[order] = g * frac
    cut = grant < ask_w * (1 - 1e-12) - _EPS_W
    return grant, cut


def _take(grant_w: FloatArray, slot: IntArray, path: IntArray, share: FloatArray, room: _Headroom) -> None:
    for d in range(path.shape[1]):
        node = path[:, d]
        np.subtract.at(room.total, (node, slot), grant_w)
        np.subtract.at(room.level, (node, slot), grant_w)
        for phase in range(3):
            np.subtract.at(room.phase[:, :, phase], (node, slot), grant_w * share[:, phase])


def _is_full(slot: IntArray, path: IntArray, share: FloatArray, room: _Headroom) -> BoolArray:
    full = np.zeros(slot.shape[0], dtype=np.bool_)
    for d in range(path.shape[1]):
        node = path[:, d]
        full |= room.total[node, slot] <= _EPS_W
        full |= room.level[node, slot] <= _EPS_W
        full |= np.any((room.phase[node, slot, :] <= _EPS_W) & (share > 0), axis=1)
    return full


def _fill(
    pairs: _Pairs,
    idx: IntArray,
    granted: FloatArray,
    residual: FloatArray,
    path_of_session: IntArray,
    sessions: PlanSessions,
    rank: IntArray,
    room: _Headroom,
    max_rounds: int,
    need: FloatArray | None = None,
) -> None:
    """Rounds of asks over the pairs ``idx`` (in session order); updates granted and residual.

    Each session asks for its ``need`` (its residual when None) and no more.
    """
    open_pair = np.ones(idx.shape[0], dtype=np.bool_)
    session = pairs.session[idx]
    for _ in range(max_rounds):
        eligible = np.where(open_pair, pairs.room_kwh[idx] - granted[idx], 0.0)
        before = _segment_exclusive_cumsum(eligible, session)
        wanted = residual if need is None else np.minimum(need, residual)
        ask = np.clip(wanted[session] - before, 0.0, eligible)
        asking = np.flatnonzero(ask > _EPS_KWH)
        if asking.size == 0:
            return
        a_idx = idx[asking]
        a_session = session[asking]
        a_slot = pairs.slot[a_idx]
        overlap = pairs.overlap_s[a_idx]
        path = path_of_session[a_session]
        share = sessions.phase_share[a_session]
        grant_w, cut = _share(ask[asking] * J_PER_KWH / overlap, a_slot, path, share, rank[a_session], room)
        _take(grant_w, a_slot, path, share, room)
        got = grant_w * overlap / J_PER_KWH
        granted[a_idx] += got
        got_per_session = _sum_by(a_session, weights=got, minlength=residual.shape[0])
        residual -= got_per_session
        np.maximum(residual, 0.0, out=residual)
        if need is not None:
            need -= got_per_session
            np.maximum(need, 0.0, out=need)
        if not cut.any():
            return
        # Close the pairs whose slot is now full on a node on their path.
        still = np.flatnonzero(open_pair & (residual[session] > _EPS_KWH))
        full = _is_full(
            pairs.slot[idx[still]],
            path_of_session[session[still]],
            sessions.phase_share[session[still]],
            room,
        )
        open_pair[still[full]] = False


def _tier_rank(
    pairs: _Pairs,
    idx: IntArray,
    residual: FloatArray,
    tier: int,
    price_p_per_kwh: FloatArray,
    base_rank: IntArray,
    lead: IntArray,
) -> IntArray:
    """Queue order (N,) in ``tier`` where a limit binds: sessions that need every slot of the tier
    they can reach first, then those whose next option (the cheapest later tier they reach) is
    dearest (regret), then ``base_rank``; ``lead`` (the owner's priority, lower first) above all."""
    n = residual.shape[0]
    tier_room = _sum_by(pairs.session[idx], weights=pairs.room_kwh[idx], minlength=n)
    tight = tier_room <= residual + _EPS_KWH
    later = pairs.tier > tier
    next_price = np.full(n, np.inf)
    np.minimum.at(next_price, pairs.session[later], price_p_per_kwh[pairs.slot[later]])
    order = np.lexsort((base_rank, -next_price, ~tight, lead))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank


def _must_take(
    pairs: _Pairs,
    residual: FloatArray,
    tier: int,
    path_of_session: IntArray,
    sessions: PlanSessions,
    room: _Headroom,
) -> FloatArray:
    """Energy (N,) each session must get in ``tier`` to stay feasible (EDF-like reservation).

    The later (dearer) tiers' slots are untouched so far; each session's share of them is
    estimated as its room scaled down in proportion wherever the sessions still wanting energy
    would overload a node. What the share cannot hold must come from this tier.
    """
    later = np.flatnonzero((pairs.tier > tier) & (residual[pairs.session] > _EPS_KWH))
    session = pairs.session[later]
    slot = pairs.slot[later]
    room_w = pairs.room_kwh[later] * J_PER_KWH / pairs.overlap_s[later]
    path = path_of_session[session]
    share = sessions.phase_share[session]
    k = room.n_slots
    factor = np.ones(later.shape[0])
    for d in range(path.shape[1]):
        key = path[:, d] * k + slot
        used, inverse = np.unique(key, return_inverse=True)
        node_u, slot_u = np.divmod(used, k)
        demand = _sum_by(inverse, weights=room_w, minlength=used.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(demand > 0, np.minimum(room.total[node_u, slot_u] / demand, 1.0), 1.0)
            for phase in range(3):
                load = _sum_by(inverse, weights=room_w * share[:, phase], minlength=used.size)
                cap = room.phase[node_u, slot_u, phase]
                f = np.minimum(f, np.where(load > 0, np.minimum(cap / load, 1.0), 1.0))
        factor = np.minimum(factor, f[inverse])
    future = _sum_by(session, weights=pairs.room_kwh[later] * factor, minlength=residual.shape[0])
    must: FloatArray = np.maximum(residual - future, 0.0)
    return must


def _valley_level(
    want_kwh: FloatArray, base_w: FloatArray, cap_w: FloatArray, in_tier: BoolArray, slot_s: int
) -> FloatArray:
    """Per root (R,) the flat level L (W) with sum over tier slots of clip(L - base, 0, cap) * slot = want."""
    lo = np.where(in_tier, base_w, np.inf).min(axis=1, initial=np.inf)
    lo = np.where(np.isfinite(lo), lo, 0.0)
    hi = lo + want_kwh * J_PER_KWH / slot_s + 1.0  # all the energy in one slot bounds the level
    for _ in range(_LEVEL_ITERATIONS):
        mid = 0.5 * (lo + hi)
        held = np.where(in_tier, np.clip(mid[:, None] - base_w, 0.0, cap_w), 0.0).sum(axis=1) * slot_s
        enough = held >= want_kwh * J_PER_KWH
        hi = np.where(enough, mid, hi)
        lo = np.where(enough, lo, mid)
    level: FloatArray = hi
    return level


def _alternative_price(
    pairs: _Pairs, target_kwh: FloatArray, price_p_per_kwh: FloatArray, n: int
) -> FloatArray:
    """Per session, the price of the first slot it would not need alone (inf: it needs them all).

    A session that loses a cheap slot to another pays this price instead, so where a limit binds
    the sessions with the dearest alternative are served first (a regret rule).
    """
    before = _segment_exclusive_cumsum(pairs.room_kwh, pairs.session)
    spare = before >= target_kwh[pairs.session] - _EPS_KWH
    alternative = np.full(n, np.inf)
    np.minimum.at(alternative, pairs.session[spare], price_p_per_kwh[pairs.slot[spare]])
    return alternative


def price_tiers(price_p_per_kwh: FloatArray) -> IntArray:
    """Tier of each slot: 0 for the cheapest price, 1 for the next, ... (exact price ties share one)."""
    _, tier = np.unique(np.asarray(price_p_per_kwh, dtype=np.float64), return_inverse=True)
    return tier.astype(np.int64).reshape(-1)


def plan_charging(
    slots: SlotPrices,
    sessions: PlanSessions,
    circuits: Circuits | None = None,
    *,
    max_rounds: int = 16,
    max_passes: int = 4,
    spread: bool = True,
) -> Plan:
    """Plan every session's charging by its ready-by time (issue 12 item 1; see the module doc)."""
    if not 1 <= max_rounds <= 200:
        raise ValidationError("max_rounds", max_rounds, "must be 1..200")
    if not 1 <= max_passes <= 20:
        raise ValidationError("max_passes", max_passes, "must be 1..20")
    k = slots.n_slots
    tree = Circuits.unlimited(k) if circuits is None else circuits
    if tree.total_headroom_w.shape[1] != k:
        raise ValidationError("total_headroom_w", tree.total_headroom_w.shape, f"one column per slot, {k}")
    node = np.asarray(sessions.node, dtype=np.int64)
    if np.any((node < 0) | (node >= tree.size)):
        raise ValidationError("node", "out of range", f"each session hangs from a node 0..{tree.size - 1}")
    n = sessions.size
    tier_of_slot = price_tiers(slots.price_p_per_kwh)
    pairs = _pairs(slots, sessions, tier_of_slot)
    path_of_session = tree.ancestors()[node] if n else np.zeros((0, 1), np.int64)
    reachable = _sum_by(pairs.session, weights=pairs.room_kwh, minlength=n)
    slack = reachable - sessions.target_kwh
    assert sessions.priority is not None  # set in __post_init__
    alternative = _alternative_price(pairs, sessions.target_kwh, slots.price_p_per_kwh, n)
    boost = np.zeros(n, dtype=np.int64)
    best: tuple[float, FloatArray, _Headroom] | None = None
    for _ in range(max_passes):
        rank_order = np.lexsort((np.arange(n), slack, -alternative, -boost, -sessions.priority))
        rank = np.empty(n, dtype=np.int64)
        rank[rank_order] = np.arange(n)
        room = _Headroom(tree)
        lead = -(sessions.priority * 64 + boost)
        granted, residual = _fill_tiers(
            slots, sessions, tree, pairs, tier_of_slot, path_of_session, rank, lead, room, max_rounds, spread
        )
        # A session short of what it alone could reach lost a slot it needed to one with more
        # choice: plan again with it served first (after the owner's priority) where limits bind.
        starved = residual > np.maximum(sessions.target_kwh - reachable, 0.0) + 1e-6
        short_kwh = float(residual.sum())
        if best is None or short_kwh < best[0] - 1e-6:
            best = (short_kwh, granted, room)
        if not np.any(starved & (boost == 0)):
            break
        boost = np.where(starved, np.minimum(boost + 1, 63), boost)
    assert best is not None
    return _result(slots, sessions, pairs, best[1], reachable, best[2])


def _fill_tiers(
    slots: SlotPrices,
    sessions: PlanSessions,
    tree: Circuits,
    pairs: _Pairs,
    tier_of_slot: IntArray,
    path_of_session: IntArray,
    base_rank: IntArray,
    lead: IntArray,
    room: _Headroom,
    max_rounds: int,
    spread: bool,
) -> tuple[FloatArray, FloatArray]:
    """Fill the price tiers cheapest first (with the valley level when ``spread``)."""
    n, k = sessions.size, slots.n_slots
    roots = np.flatnonzero(tree.parent < 0)
    root_of_session = path_of_session[:, 0] if n else np.zeros(0, np.int64)
    granted = np.zeros(pairs.session.shape[0])
    residual = sessions.target_kwh.copy()
    assert tree.base_w is not None
    load_w = np.zeros((tree.size + 1, k))
    load_w[:-1] = tree.base_w
    for tier in range(int(tier_of_slot.max(initial=-1)) + 1):
        idx = np.flatnonzero((pairs.tier == tier) & (residual[pairs.session] > _EPS_KWH))
        if idx.size == 0:
            continue
        in_tier = tier_of_slot == tier
        rank = _tier_rank(pairs, idx, residual, tier, slots.price_p_per_kwh, base_rank, lead)
        must = _must_take(pairs, residual, tier, path_of_session, sessions, room)
        levelled = spread and in_tier.sum() > 1
        if levelled:
            eligible = np.minimum(
                residual, _sum_by(pairs.session[idx], weights=pairs.room_kwh[idx], minlength=n)
            )
            want = _sum_by(root_of_session, weights=eligible, minlength=tree.size)[roots]
            cap = np.minimum(room.total[roots], room.phase[roots].sum(axis=2))
            level = _valley_level(want, load_w[roots], cap, np.broadcast_to(in_tier, cap.shape), slots.slot_s)
            room.level[roots] = np.maximum(level[:, None] - load_w[roots], 0.0)
        # Under the level (if any): first what each session must have from this tier, then the
        # rest; then the same without the level for what it held back.
        for release in (False, True) if levelled else (True,):
            if release:
                room.level[:] = np.inf
            for quota in (must, None):
                if quota is not None and not np.any(quota > _EPS_KWH):
                    continue
                before = granted[idx].copy()
                _fill(pairs, idx, granted, residual, path_of_session, sessions, rank, room, max_rounds, quota)
                used = (granted[idx] - before) * J_PER_KWH / slots.slot_s
                np.add.at(load_w, (root_of_session[pairs.session[idx]], pairs.slot[idx]), used)
                idx = idx[residual[pairs.session[idx]] > _EPS_KWH]
    return granted, residual


def _result(
    slots: SlotPrices,
    sessions: PlanSessions,
    pairs: _Pairs,
    granted: FloatArray,
    reachable: FloatArray,
    room: _Headroom,
) -> Plan:
    n = sessions.size
    keep = granted > _EPS_KWH
    session, slot, energy = pairs.session[keep], pairs.slot[keep], granted[keep]
    overlap = pairs.overlap_s[keep]
    delivered = _sum_by(session, weights=energy, minlength=n)
    shortfall = np.maximum(sessions.target_kwh - delivered, 0.0)
    shortfall = np.where(shortfall > 1e-6, shortfall, 0.0)
    cost = _sum_by(session, weights=energy * slots.price_p_per_kwh[slot], minlength=n)
    carbon = _sum_by(session, weights=energy * slots.carbon_g_per_kwh[slot], minlength=n)
    start = pairs.start_s[keep]
    return Plan(
        session=session,
        slot=slot,
        energy_kwh=energy,
        power_w=energy * J_PER_KWH / overlap,
        start_s=start,
        end_s=start + overlap.astype(np.int64),
        delivered_kwh=delivered,
        reachable_kwh=reachable,
        shortfall_kwh=shortfall,
        meets_target=shortfall == 0,
        cost_p=cost,
        carbon_g=carbon,
        phase_headroom_w=np.maximum(room.phase[:-1], 0.0),
        total_headroom_w=np.maximum(room.total[:-1], 0.0),
    )


__all__ = [
    "J_PER_KWH",
    "SINGLE_PHASE",
    "THREE_PHASE",
    "Circuits",
    "Plan",
    "PlanSessions",
    "SlotPrices",
    "plan_charging",
    "price_tiers",
]
