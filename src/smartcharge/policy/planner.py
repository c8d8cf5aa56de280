"""Ready-by charging plans: cheapest, then lowest-carbon slots under shared, phase-aware limits.

One pure, vectorised kernel for the live CEM (one site, a few hundred sessions) and the fleet
simulator (the ``smart`` strategy, millions of sessions in batches); issue 12 item 1, ARB-3,
SCN-WRK. No clock and no randomness: times, prices and carbon are arguments.

API
===

``plan_charging(slots, sessions, circuits=None, *, max_rounds=16, spread=True, improve_rounds=1000)
-> Plan``

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
without the level places what the level held back.

The greedy fixes who takes a contested cheap slot before it knows who needed it most, and where
a one-phase car fills a binding phase a three-phase car loses its other two phases as well. An
exchange phase then removes what is left of that (up to ``improve_rounds`` rounds, the LP's
negative cycles): a session moves energy from its dearest slot, or the energy it is short of,
into a cheaper slot; where a limit binds there, another session on that limit moves the same
watts out to its own best other slot, which a third may free in turn (chains of up to
``_CHAIN_HOPS`` hand-overs, priced by a layered relaxation over the binding limits). Each round
applies the best chains on disjoint (site, slot) cells, so every limit still holds; a session
never ends with less energy than the greedy gave it. On the seeded random sites of
``tests/planner`` (20 cars, 24 half-hours, per-phase site and circuit limits that bind) every
plan whose targets the LP can meet meets them, at a cost within 2 % of the HiGHS optimum.

The target is a minimum: a session whose target cannot be met by its ready-by time is told by
how much at once (``shortfall_kwh``) and is given all it can get. Energy in a slot is drawn
evenly over the part of the slot the car is plugged in, so each limit holds at every instant.
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
_LEVEL_PASSES = 2  # steps of valley filling per tier before the unlevelled pass
_NO_SHARE = np.zeros((0, 3))  # stands for the phase shares where no phase limit is finite


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
    # Every slot of [k0, k1) overlaps the stay, so a pair has room exactly when the car has power.
    counts = np.where(sessions.max_power_w > 0, np.maximum(k1 - k0, 0), 0)
    n_pairs = int(counts.sum())
    offsets = np.zeros(counts.shape[0], dtype=np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    session = np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts)
    # One integer key per pair: the session, then the slot's place in (tier, carbon, slot) order;
    # the pairs are made in session order, so sorting the keys orders the slots within sessions.
    slot_rank = np.empty(k_all, dtype=np.int64)
    by_rank = np.lexsort((np.arange(k_all), slots.carbon_g_per_kwh, tier_of_slot))
    slot_rank[by_rank] = np.arange(k_all)
    slot = np.arange(n_pairs, dtype=np.int64) + np.repeat(k0 - offsets, counts)
    key = slot_rank[slot]
    key += session * k_all
    key.sort()
    key -= session * k_all
    slot = by_rank[key]
    slot_start = slots.grid_start_s + slot * slots.slot_s
    lo = np.maximum(slot_start, np.repeat(t0, counts))
    hi = np.minimum(slot_start + slots.slot_s, np.repeat(t1, counts))
    overlap_s = (hi - lo).astype(np.float64)
    room_kwh = np.repeat(sessions.max_power_w, counts) * overlap_s / J_PER_KWH
    return _Pairs(session, slot, tier_of_slot[slot], room_kwh, overlap_s, lo)


def _sum_by(group: IntArray, weights: FloatArray, minlength: int) -> FloatArray:
    """Sum of ``weights`` per group id (a float ``bincount``)."""
    return np.bincount(group, weights=weights, minlength=minlength).astype(np.float64)


def _min_into(out: FloatArray, group: IntArray, values: FloatArray) -> None:
    """``out[g] = min(out[g], values of group g)`` for ``group`` sorted (runs, not ``ufunc.at``)."""
    if group.size == 0:
        return
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    heads = group[starts]
    out[heads] = np.minimum(out[heads], np.minimum.reduceat(values, starts))


def _segment_exclusive_cumsum(values: FloatArray, group: IntArray) -> FloatArray:
    """Sum of the earlier values of the same group, for values (N,) or (N, C) (per column) sorted
    so groups are contiguous."""
    cum = np.cumsum(values, axis=0)
    before = cum - values
    if values.shape[0] == 0:
        return before
    first = np.empty(values.shape[0], dtype=np.bool_)
    first[0] = True
    np.not_equal(group[1:], group[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    # Each run's offset repeated over the run (cheaper than a running maximum of start indices).
    runs = np.diff(np.append(starts, values.shape[0]))
    out: FloatArray = before - np.repeat(before[starts], runs, axis=0)
    return out


class _Headroom:
    """Headroom per (node, slot) with a virtual unlimited node M; the pass may add a level cap."""

    def __init__(self, circuits: Circuits) -> None:
        m, k = circuits.total_headroom_w.shape
        self.n_slots = k
        self.phase = np.concatenate([circuits.phase_headroom_w, np.full((1, k, 3), np.inf)])
        self.total = np.concatenate([circuits.total_headroom_w, np.full((1, k), np.inf)])
        self.level = np.full((m + 1, k), np.inf)  # the valley level's cap, roots only
        # Whether any phase limit is finite (the simulator's groups have totals only): without,
        # the per-phase work is skipped.
        self.has_phase = bool(np.isfinite(circuits.phase_headroom_w).any())


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
    Only the asks at a (node, slot) whose demand exceeds a limit are queued (sorted): elsewhere
    every ask is granted in full, which the queue would give too.
    """
    grant = ask_w.copy()
    k = room.n_slots
    size = room.total.size
    n_rank = int(rank.max(initial=0)) + 1
    for d in range(path.shape[1] - 1, -1, -1):
        node = path[:, d]
        cell = node * k + slot
        cap_cell = np.minimum(room.total, room.level).ravel()
        demand = np.bincount(cell, weights=grant, minlength=size)
        binds = demand > cap_cell
        phase_cells = []
        for phase in range(3 if room.has_phase else 0):
            cap_phase = room.phase[:, :, phase].ravel()
            if not np.isfinite(cap_phase).any():
                continue
            binds |= np.bincount(cell, weights=grant * share[:, phase], minlength=size) > cap_phase
            phase_cells.append((phase, cap_phase))
        queued = np.flatnonzero(binds[cell])
        if queued.size == 0:
            continue  # no node at this depth binds: every ask keeps what it has
        key = cell[queued]
        if size * n_rank < 2**62:
            order = queued[np.argsort(key * n_rank + rank[queued])]
        else:
            order = queued[np.lexsort((rank[queued], key))]
        key_o = cell[order]
        g: FloatArray = grant[order]
        # The total and each finite phase as columns, so one (segmented) cumulative sum serves all.
        load, cap = g, cap_cell[key_o]
        if phase_cells:
            load = np.empty((order.size, 1 + len(phase_cells)))
            cap = np.empty_like(load)
            load[:, 0], cap[:, 0] = g, cap_cell[key_o]
            for j, (phase, cap_phase) in enumerate(phase_cells, start=1):
                load[:, j], cap[:, j] = g * share[order, phase], cap_phase[key_o]
        with np.errstate(divide="ignore", invalid="ignore"):
            before = _segment_exclusive_cumsum(load, key_o)
            frac = np.where(load > 0, np.clip((cap - before) / load, 0.0, 1.0), 1.0)
        if phase_cells:
            frac = frac.min(axis=1)
        grant[order] = g * frac
    cut = grant < ask_w * (1 - 1e-12) - _EPS_W
    return grant, cut


def _take(grant_w: FloatArray, slot: IntArray, path: IntArray, share: FloatArray, room: _Headroom) -> None:
    """Subtract grants (W) from the headroom of every node on their paths.

    Per node depth, the grants are summed per (node, slot) cell they touch (a bincount over the
    touched cells only, in the order given, so each sum is the one a bincount over every cell
    gives, bit for bit) and only those cells are updated: the exchange phase takes a few dozen
    grants at a time, and a pass over every (node, slot) cell per depth made ``_take`` three
    quarters of a ``network_aware`` case on a 137-home feeder (paths 100+ nodes deep)."""
    k = room.n_slots
    for d in range(path.shape[1]):
        cells, at = np.unique(path[:, d] * k + slot, return_inverse=True)
        node, cell_slot = np.divmod(cells, k)
        used = np.bincount(at, weights=grant_w, minlength=cells.size)
        room.total[node, cell_slot] -= used
        room.level[node, cell_slot] -= used
        for phase in range(3 if room.has_phase else 0):
            load = np.bincount(at, weights=grant_w * share[:, phase], minlength=cells.size)
            room.phase[node, cell_slot, phase] -= load


def _is_full(
    slot: IntArray, session: IntArray, path_of_session: IntArray, phase_share: FloatArray, room: _Headroom
) -> BoolArray:
    """Whether a node on each pair's path is full in its slot, in total or on a phase it uses."""
    k = room.n_slots
    full_total = ((room.total <= _EPS_W) | (room.level <= _EPS_W)).ravel()
    full = np.zeros(slot.shape[0], dtype=np.bool_)
    if not room.has_phase:
        for d in range(path_of_session.shape[1]):
            full |= full_total[path_of_session[session, d] * k + slot]
        return full
    bits = np.array([1, 2, 4], dtype=np.int64)
    full_phase = ((room.phase <= _EPS_W) * bits).sum(axis=2).ravel()
    uses = ((phase_share[session] > 0) * bits).sum(axis=1)
    for d in range(path_of_session.shape[1]):
        cell = path_of_session[session, d] * k + slot
        full |= full_total[cell] | ((full_phase[cell] & uses) != 0)
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
    need: FloatArray | None,
    root_load_w: FloatArray,
    slot_s: int,
) -> None:
    """Rounds of asks over the pairs ``idx`` (in session order); updates granted and residual.

    Each session asks for its ``need`` (its residual when None) and no more. What is granted is
    added, as the slot's mean power, to ``root_load_w`` (the roots' load, (M + 1) * K, flat).
    The open pairs' session, slot and room left are kept compacted from round to round.
    """
    k = room.n_slots
    live = idx
    session = pairs.session[live]
    slot = pairs.slot[live]
    left = pairs.room_kwh[live] - granted[live]
    wanted = residual if need is None else np.minimum(need, residual)
    keep = (wanted[session] > _EPS_KWH) & (left > _EPS_KWH)
    live, session, slot, left = live[keep], session[keep], slot[keep], left[keep]
    for _ in range(max_rounds):
        before = _segment_exclusive_cumsum(left, session)
        ask = np.clip(wanted[session] - before, 0.0, left)
        asking = np.flatnonzero(ask > _EPS_KWH)
        if asking.size == 0:
            return
        a_idx = live[asking]
        a_session = session[asking]
        a_slot = slot[asking]
        overlap = pairs.overlap_s[a_idx]
        path = path_of_session[a_session]
        # The per-phase work (and the (A, 3) shares) only where a phase limit is finite.
        share = sessions.phase_share[a_session] if room.has_phase else _NO_SHARE
        grant_w, cut = _share(ask[asking] * J_PER_KWH / overlap, a_slot, path, share, rank[a_session], room)
        _take(grant_w, a_slot, path, share, room)
        got = grant_w * overlap / J_PER_KWH
        granted[a_idx] += got
        left[asking] -= got
        root_load_w += np.bincount(
            path[:, 0] * k + a_slot, weights=got * (J_PER_KWH / slot_s), minlength=root_load_w.size
        )
        got_per_session = _sum_by(a_session, weights=got, minlength=residual.shape[0])
        residual -= got_per_session
        np.maximum(residual, 0.0, out=residual)
        if need is not None:
            need -= got_per_session
            np.maximum(need, 0.0, out=need)
        if not cut.any():
            return
        # Close the pairs done, and those whose slot is now full on a node on their path.
        wanted = residual if need is None else np.minimum(need, residual)
        keep = (wanted[session] > _EPS_KWH) & (left > _EPS_KWH)
        keep &= ~_is_full(slot, session, path_of_session, sessions.phase_share, room)
        live, session, slot, left = live[keep], session[keep], slot[keep], left[keep]


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
    _min_into(next_price, pairs.session[later], price_p_per_kwh[pairs.slot[later]])
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
    share = sessions.phase_share[session] if room.has_phase else _NO_SHARE
    k, size = room.n_slots, room.total.size
    factor = np.ones(later.shape[0])
    for d in range(path.shape[1]):
        # Demand per (node, slot) on the dense grid (a bincount: no sort of the keys).
        key = path[:, d] * k + slot
        demand = np.bincount(key, weights=room_w, minlength=size)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(demand > 0, np.minimum(room.total.ravel() / demand, 1.0), 1.0)
            for phase in range(3 if room.has_phase else 0):
                load = np.bincount(key, weights=room_w * share[:, phase], minlength=size)
                cap = room.phase[:, :, phase].ravel()
                f = np.minimum(f, np.where(load > 0, np.minimum(cap / load, 1.0), 1.0))
        factor = np.minimum(factor, f[key])
    future = _sum_by(session, weights=pairs.room_kwh[later] * factor, minlength=residual.shape[0])
    must: FloatArray = np.maximum(residual - future, 0.0)
    return must


def _set_level(
    room: _Headroom,
    pairs: _Pairs,
    idx: IntArray,
    residual: FloatArray,
    root_of_session: IntArray,
    roots: IntArray,
    load_w: FloatArray,
    m: int,
    slot_s: int,
) -> None:
    """Cap each root at the flat level that holds what its sessions still want from the slots
    they can reach in this tier (one step of valley filling)."""
    n, k = residual.shape[0], room.n_slots
    session = pairs.session[idx]
    eligible = np.minimum(residual, _sum_by(session, weights=pairs.room_kwh[idx], minlength=n))
    want = _sum_by(root_of_session, weights=eligible, minlength=m)[roots]
    reach = np.zeros((m, k), dtype=np.bool_)
    reach[root_of_session[session], pairs.slot[idx]] = True
    cap = np.minimum(room.total[roots], room.phase[roots].sum(axis=2))
    level = _valley_level(want, load_w[roots], cap, reach[roots], slot_s)
    room.level[:] = np.inf
    room.level[roots] = np.where(reach[roots], np.maximum(level[:, None] - load_w[roots], 0.0), np.inf)


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
    _min_into(alternative, pairs.session[spare], price_p_per_kwh[pairs.slot[spare]])
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
    level_steps: int = _LEVEL_PASSES,
    improve_rounds: int = 1000,
) -> Plan:
    """Plan every session's charging by its ready-by time (issue 12 item 1; see the module doc)."""
    if not 1 <= max_rounds <= 200:
        raise ValidationError("max_rounds", max_rounds, "must be 1..200")
    if not 1 <= max_passes <= 20:
        raise ValidationError("max_passes", max_passes, "must be 1..20")
    if not 1 <= level_steps <= 10:
        raise ValidationError("level_steps", level_steps, "must be 1..10")
    if not 0 <= improve_rounds <= 10_000:
        raise ValidationError("improve_rounds", improve_rounds, "must be 0..10000")
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
    # Where a phase binds, a three-phase car gets three times the energy per watt of that phase
    # that a one-phase car gets: cars on more phases go first (after the owner's priority).
    phases = (sessions.phase_share > 0).sum(axis=1)
    boost = np.zeros(n, dtype=np.int64)
    best: tuple[float, FloatArray, _Headroom, FloatArray] | None = None
    for _ in range(max_passes):
        rank_order = np.lexsort((np.arange(n), slack, -alternative, -boost, -phases, -sessions.priority))
        rank = np.empty(n, dtype=np.int64)
        rank[rank_order] = np.arange(n)
        room = _Headroom(tree)
        lead = -((sessions.priority * 4 + phases) * 64 + boost)
        granted, residual = _fill_tiers(
            slots,
            sessions,
            tree,
            pairs,
            tier_of_slot,
            path_of_session,
            rank,
            lead,
            room,
            max_rounds,
            spread,
            level_steps,
        )
        # A session short of what it alone could reach lost a slot it needed to one with more
        # choice: plan again with it served first (after the owner's priority) where limits bind.
        starved = residual > np.maximum(sessions.target_kwh - reachable, 0.0) + 1e-6
        short_kwh = float(residual.sum())
        if best is None or short_kwh < best[0] - 1e-6:
            best = (short_kwh, granted, room, residual)
        if not np.any(starved & (boost == 0)):
            break
        boost = np.where(starved, np.minimum(boost + 1, 63), boost)
    assert best is not None
    _, granted, room, residual = best
    _improve(
        pairs,
        granted,
        residual,
        path_of_session,
        sessions,
        slots.price_p_per_kwh,
        room,
        improve_rounds,
    )
    return _result(slots, sessions, pairs, granted, reachable, room)


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
    level_steps: int,
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
    root_load = load_w.reshape(-1)  # a view: _fill adds what it grants
    for tier in range(int(tier_of_slot.max(initial=-1)) + 1):
        idx = np.flatnonzero((pairs.tier == tier) & (residual[pairs.session] > _EPS_KWH))
        if idx.size == 0:
            continue
        in_tier = tier_of_slot == tier
        rank = _tier_rank(pairs, idx, residual, tier, slots.price_p_per_kwh, base_rank, lead)
        must = _must_take(pairs, residual, tier, path_of_session, sessions, room)
        levelled = spread and in_tier.sum() > 1
        steps = level_steps + 1 if levelled else 1
        for step in range(steps):
            if idx.size == 0:
                break
            if step == steps - 1:
                room.level[:] = np.inf  # the last pass places what the levels held back
            else:
                _set_level(
                    room, pairs, idx, residual, root_of_session, roots, load_w, tree.size, slots.slot_s
                )
            # What each session must have from this tier first, then the rest.
            for quota in (must, None):
                if quota is not None and not np.any(quota > _EPS_KWH):
                    continue
                # Only the pairs of sessions that ask (the must-have pass: those with a quota).
                sub = idx if quota is None else idx[quota[pairs.session[idx]] > _EPS_KWH]
                _fill(
                    pairs,
                    sub,
                    granted,
                    residual,
                    path_of_session,
                    sessions,
                    rank,
                    room,
                    max_rounds,
                    quota,
                    root_load,
                    slots.slot_s,
                )
                idx = idx[residual[pairs.session[idx]] > _EPS_KWH]
    return granted, residual


_BIG_P = 1e6  # the "price" of energy a session is short of: moving it in beats any tariff
_CHAIN_HOPS = 3  # sessions a chain of moves may pass through after the first
_CHAINS_PER_ROUND = 64  # chains traced per round (the one-session moves are not limited)
_BIND_W = 1.0  # a limit with less headroom than this binds (smaller moves are not worth a round)
_MIN_MOVE_KWH = 1e-4


@dataclass(frozen=True, slots=True)
class _Loads:
    """Every finite (pair, limit) a pair loads, sorted by pair: a limit's id is ``(node * K +
    slot) * 4 + c`` with c = 0 the node's total and 1..3 its phases; ``w`` the pair's W per kWh on
    it. A limit with no finite headroom never binds (headroom only falls by finite amounts), so
    it is left out."""

    pair: IntArray
    limit: IntArray
    w: FloatArray
    inv_w: FloatArray  # 1 / w: a product per round instead of a division
    cell: IntArray  # each entry's place in a dense (4 D, P) table: row (d, c), its pair's column
    rows: int  # 4 D

    @classmethod
    def build(
        cls, pairs: _Pairs, coef: FloatArray, path: IntArray, share: FloatArray, room: _Headroom
    ) -> _Loads:
        n_pairs, depth, k = pairs.session.shape[0], path.shape[1], room.n_slots
        # (P, D, 4) laid out pair-major, so the kept entries are sorted by pair as made.
        w = np.empty((n_pairs, depth, 4))
        w[:, :, 0] = coef[:, None]
        w[:, :, 1:] = (coef[:, None] * share)[:, None, :]
        limit = ((path * k + pairs.slot[:, None]) * 4)[:, :, None] + np.arange(4)
        finite = np.isfinite(np.concatenate([room.total[:, :, None], room.phase], axis=2).ravel())
        keep = (w > 0) & finite[limit]
        at = np.flatnonzero(keep)
        pair, column = np.divmod(at, 4 * depth)
        w_kept = w.ravel()[at]
        return cls(pair, limit.ravel()[at], w_kept, 1.0 / w_kept, column * n_pairs + pair, 4 * depth)

    def limits(self, room: _Headroom, n_pairs: int) -> tuple[FloatArray, IntArray, IntArray, FloatArray]:
        """Per pair: kWh it could add under the limits that do not bind (inf: none), how many
        limits on its path bind (in its slot, on the phases it uses), the id of one binding limit
        (-1: none) and the pair's W per kWh on that limit."""
        head = np.concatenate([room.total[:, :, None], room.phase], axis=2).ravel()[self.limit]
        binding = head <= _BIND_W
        at = np.flatnonzero(binding)  # few entries bind: gathers by index beat boolean masks
        on = self.pair[at]
        n_bind = np.bincount(on, minlength=n_pairs)
        bind_id = np.full(n_pairs, -1, dtype=np.int64)
        bind_id[on] = self.limit[at]
        bind_w = np.zeros(n_pairs)
        bind_w[on] = self.w[at]
        ratio = head * self.inv_w
        ratio[at] = np.inf
        # Row-major (4 D, P): the minimum over the rows is a few vector passes (a minimum along
        # a short last axis is far slower).
        table = np.full(self.rows * n_pairs, np.inf)
        table[self.cell] = ratio
        free: FloatArray = table.reshape(self.rows, n_pairs).min(axis=0)
        return free, n_bind, bind_id, bind_w


def _improve(
    pairs: _Pairs,
    granted: FloatArray,
    residual: FloatArray,
    path_of_session: IntArray,
    sessions: PlanSessions,
    price_p_per_kwh: FloatArray,
    room: _Headroom,
    max_rounds: int,
) -> None:
    """Chains of moves that lower the cost or the shortfall, in place (the LP's negative cycles).

    A session B moves energy from its dearest slot (or the energy it is short of) into a cheaper
    slot s it can still use. Where a limit X binds in s, a session A on X moves the watts B needs
    out of s into its own best other slot, which may in turn be freed by a third session, and so
    on (up to ``_CHAIN_HOPS``). The price of freeing a watt on each binding limit is found by
    relaxation (Bellman-Ford over the binding limits). A three-phase car gains from a one-phase
    car leaving a binding phase three times the energy the latter moves (phase balancing). Each
    round applies the best chains that touch disjoint (site, slot) cells, so every limit holds.
    """
    if pairs.session.shape[0] == 0 or max_rounds == 0:
        return
    room.level[:] = np.inf
    n, k = residual.shape[0], room.n_slots
    session, slot = pairs.session, pairs.slot
    coef = J_PER_KWH / pairs.overlap_s  # W per kWh in the pair's slot
    path = path_of_session[session]
    share = sessions.phase_share[session]
    price = price_p_per_kwh[slot]
    cell = path[:, 0] * k + slot  # (root, slot): moves in disjoint cells are independent
    by_session = _BySession(session, n)  # pairs are by session
    loads = _Loads.build(pairs, coef, path, share, room)
    n_limits = room.total.size * 4
    for _ in range(max_rounds):
        free, n_bind, bind_id, bind_w = loads.limits(room, session.size)
        spare = np.maximum(np.minimum(free, pairs.room_kwh - granted), 0.0)
        used = granted > _EPS_KWH
        # Each session's source: the energy it is short of, else its dearest energy.
        src_price = by_session.max(np.where(used, price, -np.inf))
        at_src = np.flatnonzero(used & (price == src_price[session]))
        src_pair = np.full(n, -1, dtype=np.int64)
        src_pair[session[at_src]] = at_src
        src_amt = np.where(src_pair >= 0, granted[np.maximum(src_pair, 0)], 0.0)
        short = residual > 1e-7
        src_price = np.where(short, _BIG_P, src_price)
        src_pair = np.where(short, -1, src_pair)
        src_amt = np.where(short, residual, src_amt)
        # Cost (p/kWh) of entering each pair: 0 where open, the price of freeing its one binding
        # limit where one binds, inf where more bind.
        is_open = (spare > _MIN_MOVE_KWH) & (n_bind == 0)
        enter = np.where(is_open, 0.0, np.inf)
        single = np.flatnonzero((n_bind == 1) & (pairs.room_kwh - granted > _EPS_KWH))
        # The binding limits entered, numbered in id order through a dense table over limit ids.
        x_of_id = np.zeros(n_limits, dtype=np.int64)
        x_of_id[bind_id[single]] = 1
        x_ids = np.flatnonzero(x_of_id)
        x_of_id[:] = -1
        x_of_id[x_ids] = np.arange(x_ids.size)
        x_of_single = x_of_id[bind_id[single]]
        on_used = np.flatnonzero(used[loads.pair])
        pos = x_of_id[loads.limit[on_used]]
        on_x = on_used[pos >= 0]
        d_pair, d_x, d_w = loads.pair[on_x], pos[pos >= 0], loads.w[on_x]
        d_sess = session[d_pair]
        # Layered relaxation: entering a pair at level h frees its binding limit through a donor
        # whose way out is entered at level h - 1; level 0 is an open pair.
        levels_enter = [enter]
        levels_donor: list[IntArray] = []
        levels_out: list[IntArray] = []
        for _hop in range(_CHAIN_HOPS if x_ids.size else 0):
            total = price + levels_enter[-1]
            # Each session's best and second-best way in (a donor's way out is not its own pair).
            alt1 = by_session.argmin(total)
            masked = total.copy()
            masked[alt1[alt1 >= 0]] = np.inf
            alt2 = by_session.argmin(masked)
            out_to = np.where(alt1[d_sess] == d_pair, alt2[d_sess], alt1[d_sess])
            reach = out_to >= 0
            value = np.full(d_pair.size, np.inf)
            value[reach] = (total[out_to[reach]] - price[d_pair[reach]]) / d_w[reach]
            # Per limit the best donor, and the best of another session (the first may be the
            # session that wants in).
            ok_rows = np.flatnonzero(np.isfinite(value))
            by_x = ok_rows[_by_limit_then_value(d_x[ok_rows], value[ok_rows], x_ids.size)]
            lead = np.ones(by_x.size, dtype=np.bool_)
            lead[1:] = d_x[by_x][1:] != d_x[by_x][:-1]
            donor = np.full((2, x_ids.size), -1, dtype=np.int64)
            donor[0, d_x[by_x[lead]]] = by_x[lead]
            other = by_x[d_sess[by_x] != d_sess[np.maximum(donor[0, d_x[by_x]], 0)]]
            lead2 = np.ones(other.size, dtype=np.bool_)
            lead2[1:] = d_x[other][1:] != d_x[other][:-1]
            donor[1, d_x[other[lead2]]] = other[lead2]
            pi = np.full(x_ids.size, np.inf)
            pi[d_x[by_x[lead]]] = value[by_x[lead]]
            nxt = np.where(is_open, 0.0, np.inf)
            nxt[single] = pi[x_of_single] * bind_w[single]
            levels_enter.append(nxt)
            levels_donor.append(donor)
            levels_out.append(out_to)
        # The best entry of each pair over the levels, and of each session if it beats its source.
        stack = np.vstack(levels_enter)
        total = price + stack.min(axis=0)
        gain = src_price[session] - total
        cand = np.flatnonzero(
            (gain > 1e-9)
            & (src_amt[session] > _EPS_KWH)
            & (pairs.room_kwh - granted > _EPS_KWH)
            & np.isfinite(total)
        )
        if cand.size == 0:
            return
        best = cand[np.argsort(-gain[cand], kind="stable")]
        x_index = np.full(pairs.session.shape[0], -1, dtype=np.int64)
        x_index[single] = x_of_single
        walk = _Walk(
            session, cell, spare, granted, is_open, bind_w, x_index, levels_donor, levels_out, d_pair, d_w
        )
        changes = _chains(
            best, price + stack, src_price, is_open, spare, granted, src_pair, src_amt, session, cell, walk
        )
        if not changes[0]:
            return
        dp = np.concatenate(changes[0])
        dk = np.concatenate(changes[1])
        short_s = np.array(changes[2], dtype=np.int64)
        short_k = np.array(changes[3], dtype=np.float64)
        np.add.at(residual, short_s, -short_k)
        np.maximum(residual, 0.0, out=residual)
        np.add.at(granted, dp, dk)
        np.maximum(granted, 0.0, out=granted)
        _take(dk * coef[dp], slot[dp], path[dp], share[dp], room)


def _by_limit_then_value(limit: IntArray, value: FloatArray, n_limits: int) -> IntArray:
    """The order of ``np.lexsort((value, limit))``: by value (stable), then a stable radix sort
    on the limit as a 16-bit key where the limits are that few (about twice as fast)."""
    if n_limits >= 2**15:
        return np.lexsort((value, limit))
    by_value = np.argsort(value, kind="stable")
    order: IntArray = by_value[np.argsort(limit[by_value].astype(np.int16), kind="stable")]
    return order


class _BySession:
    """Per-session argmin over the pairs (in contiguous runs per session): one ``argmin`` along
    the rows of a dense (N, longest run) table where that table is small, else segment reduces."""

    def __init__(self, session: IntArray, n: int) -> None:
        self.n = n
        self.starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]]) if session.size else session
        runs = np.diff(np.r_[self.starts, session.size])
        self.seg = np.repeat(np.arange(self.starts.size), runs)
        self.seg_session = session[self.starts]
        width = int(runs.max(initial=0))
        self.dense = session.size > 0 and n * width <= 4 * session.size + 1024
        if self.dense:
            self.width = width
            self.cell = session * width + (np.arange(session.size) - self.starts[self.seg])
            self.pair_at = np.full(n * width, -1, dtype=np.int64)
            self.pair_at[self.cell] = np.arange(session.size)
            self.table = np.full(n * width, np.inf)

    def max(self, values: FloatArray) -> FloatArray:
        """Per session (N,) its largest value, -inf for a session without pairs."""
        out = np.full(self.n, -np.inf)
        if values.size:
            out[self.seg_session] = np.maximum.reduceat(values, self.starts)
        return out

    def argmin(self, values: FloatArray) -> IntArray:
        """Per session (N,) the index of its smallest finite value (first of ties), -1 if none."""
        if self.dense:
            self.table[self.cell] = values
            table = self.table.reshape(self.n, self.width)
            col = table.argmin(axis=1)
            rows = np.arange(self.n)
            flat = rows * self.width + col
            out: IntArray = np.where(np.isfinite(table[rows, col]), self.pair_at[flat], -1)
            return out
        if values.size == 0:
            return np.full(self.n, -1, dtype=np.int64)
        low = np.minimum.reduceat(values, self.starts)
        hit = np.flatnonzero((values == low[self.seg]) & np.isfinite(values))
        first = np.r_[True, self.seg[hit][1:] != self.seg[hit][:-1]] if hit.size else np.zeros(0, np.bool_)
        out = np.full(self.n, -1, dtype=np.int64)
        out[self.seg_session[self.seg[hit[first]]]] = hit[first]
        return out


def _chains(
    best: IntArray,
    level_total: FloatArray,
    src_price: FloatArray,
    is_open: BoolArray,
    spare: FloatArray,
    granted: FloatArray,
    src_pair: IntArray,
    src_amt: FloatArray,
    session: IntArray,
    cell: IntArray,
    walk: _Walk,
) -> tuple[list[IntArray], list[FloatArray], list[int], list[float]]:
    """Trace and size the chains starting at the pairs ``best`` (best first), on disjoint cells
    and sessions: (pairs, kWh changes) and (sessions, kWh less short)."""
    busy_session: set[int] = set()
    busy_cell: set[int] = set()
    pairs_out: list[IntArray] = []
    kwh_out: list[FloatArray] = []
    short_s: list[int] = []
    short_k: list[float] = []
    # One-session moves (into an open pair) in bulk: one per session, then one per cell.
    direct = best[is_open[best]]
    _, first = np.unique(session[direct], return_index=True)
    direct = direct[np.sort(first)]
    _, first = np.unique(cell[direct], return_index=True)
    direct = direct[np.sort(first)]
    if direct.size:
        movers = session[direct]
        amt = np.minimum(spare[direct], src_amt[movers])
        src = src_pair[movers]
        pairs_out += [direct, src[src >= 0]]
        kwh_out += [amt, -amt[src >= 0]]
        short_s += movers[src < 0].tolist()
        short_k += amt[src < 0].tolist()
        busy_session.update(movers.tolist())
        busy_cell.update(cell[direct].tolist())
    traced = 0
    # Candidates not already blocked by the one-session moves, each one's levels ordered by
    # gain in bulk, a block at a time (the chain budget is mostly spent in the first block).
    free_cand = best
    if direct.size:
        free_cand = best[~np.isin(session[best], movers) & ~np.isin(cell[best], cell[direct])]
    for lo in range(0, free_cand.size, 4 * _CHAINS_PER_ROUND):
        if traced >= _CHAINS_PER_ROUND:
            break
        block = free_cand[lo : lo + 4 * _CHAINS_PER_ROUND]
        gains_all = src_price[session[block]][None, :] - level_total[:, block]
        order_all = np.argsort(-gains_all, axis=0, kind="stable").T.tolist()
        gains_l = gains_all.T.tolist()
        bound_l = np.minimum(spare[block], src_amt[session[block]]).tolist()
        for j, p in enumerate(block.tolist()):
            if traced >= _CHAINS_PER_ROUND:
                break
            b = int(session[p])
            if b in busy_session or int(cell[p]) in busy_cell:
                continue
            traced += 1
            # A walk that meets a session or a cell twice is dropped for the next-best level.
            gains = gains_l[j]
            found = None
            for start in order_all[j]:
                if not gains[start] > 1e-9:
                    break
                found = walk.trace(p, start, bound_l[j])
                if found is not None:
                    break
            if found is None:
                continue
            steps, bound, seen_s, seen_c = found
            if bound <= _MIN_MOVE_KWH or seen_s & busy_session or seen_c & busy_cell:
                continue
            busy_session |= seen_s
            busy_cell |= seen_c
            pairs_out.append(np.array([q for q, _ in steps], dtype=np.int64))
            kwh_out.append(np.array([r * bound for _, r in steps]))
            if src_pair[b] >= 0:
                pairs_out.append(np.array([src_pair[b]], dtype=np.int64))
                kwh_out.append(np.array([-bound]))
            else:
                short_s.append(b)
                short_k.append(bound)
    return pairs_out, kwh_out, short_s, short_k


@dataclass(frozen=True, slots=True)
class _Walk:
    """What a chain needs to follow its donors level by level (see :func:`_improve`)."""

    session: IntArray
    cell: IntArray
    spare: FloatArray
    granted: FloatArray
    is_open: BoolArray
    bind_w: FloatArray  # (P,) W per kWh of each pair on its one binding limit
    x_index: IntArray  # (P,) that limit's index, -1: none or more than one
    donor: list[IntArray]  # per level (2, X): per limit the best donor row and one of another session
    out: list[IntArray]  # per level, per donor row: the pair the donor moves to
    d_pair: IntArray  # per donor row: the donor's pair on the limit
    d_w: FloatArray  # per donor row: its W per kWh on the limit

    def trace(
        self, p: int, start: int, bound: float
    ) -> tuple[list[tuple[int, float]], float, set[int], set[int]] | None:
        """Steps (pair, kWh per kWh of the first session), its kWh, the sessions and cells
        touched, for entering ``p`` at level ``start``; None if the walk meets itself."""
        # ``item``: Python scalars straight from the arrays (cheaper than indexing, then int()).
        session, cell, is_open = self.session.item, self.cell.item, self.is_open.item
        x_index, d_pair, d_w = self.x_index.item, self.d_pair.item, self.d_w.item
        steps: list[tuple[int, float]] = [(p, 1.0)]
        seen_s, seen_c = {session(p)}, {cell(p)}
        ratio, at = 1.0, p
        for level in range(start, -1, -1):
            if is_open(at):
                return steps, bound, seen_s, seen_c
            x = x_index(at)
            if level == 0 or x < 0:
                return None
            donor = self.donor[level - 1]
            row = donor.item(0, x)
            if row >= 0 and session(d_pair(row)) in seen_s:
                row = donor.item(1, x)
            if row < 0:
                return None
            out_p = d_pair(row)
            a = session(out_p)
            nxt = self.out[level - 1].item(row)
            if a in seen_s or nxt < 0 or cell(nxt) in seen_c:
                return None
            ratio = ratio * self.bind_w.item(at) / d_w(row)
            steps += [(out_p, -ratio), (nxt, ratio)]
            bound = min(bound, self.granted.item(out_p) / ratio, self.spare.item(nxt) / ratio)
            seen_s.add(a)
            seen_c.add(cell(nxt))
            at = nxt
        return None


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
