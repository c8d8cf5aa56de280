"""The same planning problem as a linear programme, solved by SciPy's HiGHS (tests only)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from smartcharge.policy.planner import J_PER_KWH, Circuits, PlanSessions, SlotPrices


def pair_rooms(
    slots: SlotPrices, sessions: PlanSessions
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (session, slot) pair with room: session, slot, room kWh, overlap s (written out plainly)."""
    rows = []
    for i in range(sessions.size):
        for k in range(slots.n_slots):
            a = slots.grid_start_s + k * slots.slot_s
            lo, hi = max(a, int(sessions.from_s[i])), min(a + slots.slot_s, int(sessions.ready_by_s[i]))
            if hi > lo and sessions.max_power_w[i] > 0:
                rows.append((i, k, sessions.max_power_w[i] * (hi - lo) / J_PER_KWH, hi - lo))
    arr = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return arr[:, 0].astype(int), arr[:, 1].astype(int), arr[:, 2], arr[:, 3]


def _below(circuits: Circuits, node: int) -> np.ndarray:
    """Whether each node is ``node`` or hangs below it (walking the parents, written out plainly)."""
    out = np.zeros(circuits.size, dtype=bool)
    for j in range(circuits.size):
        walk = j
        while walk >= 0:
            if walk == node:
                out[j] = True
                break
            walk = int(circuits.parent[walk])
    return out


def _limit_rows(
    slots: SlotPrices,
    sessions: PlanSessions,
    circuits: Circuits,
    sess: np.ndarray,
    slot: np.ndarray,
    overlap: np.ndarray,
    rows: list,
    cols: list,
    vals: list,
    rhs: list,
    r: int,
) -> int:
    """Node limits per slot: total and per phase, power = e * J / overlap."""
    for node in range(circuits.size):
        under = np.flatnonzero(_below(circuits, node)[sessions.node])
        for kk in range(slots.n_slots):
            idx = np.flatnonzero(np.isin(sess, under) & (slot == kk))
            if idx.size == 0:
                continue
            coef = J_PER_KWH / overlap[idx]
            if np.isfinite(circuits.total_headroom_w[node, kk]):
                rows += [r] * idx.size
                cols += idx.tolist()
                vals += coef.tolist()
                rhs.append(circuits.total_headroom_w[node, kk])
                r += 1
            for ph in range(3):
                if np.isfinite(circuits.phase_headroom_w[node, kk, ph]):
                    c = coef * sessions.phase_share[sess[idx], ph]
                    rows += [r] * idx.size
                    cols += idx.tolist()
                    vals += c.tolist()
                    rhs.append(circuits.phase_headroom_w[node, kk, ph])
                    r += 1
    return r


def solve_lp(
    slots: SlotPrices, sessions: PlanSessions, circuits: Circuits, demand_kwh: np.ndarray
) -> tuple[float, np.ndarray]:
    """Least cost (p) of giving each session ``demand_kwh`` under every limit; (cost, energy per pair)."""
    sess, slot, room, overlap = pair_rooms(slots, sessions)
    p = sess.shape[0]
    n = sessions.size
    rows: list = []
    cols: list = []
    vals: list = []
    rhs: list = []
    r = 0
    # Demand: -sum_k e_ik <= -demand_i
    for i in range(n):
        idx = np.flatnonzero(sess == i)
        rows += [r] * idx.size
        cols += idx.tolist()
        vals += [-1.0] * idx.size
        rhs.append(-demand_kwh[i])
        r += 1
    r = _limit_rows(slots, sessions, circuits, sess, slot, overlap, rows, cols, vals, rhs, r)
    a_ub = coo_matrix((vals, (rows, cols)), shape=(r, p)).tocsr()
    cost = slots.price_p_per_kwh[slot]
    res = linprog(cost, A_ub=a_ub, b_ub=np.array(rhs), bounds=np.c_[np.zeros(p), room], method="highs")
    if res.status != 0:
        raise RuntimeError(f"LP not solved: {res.message}")
    return float(res.fun), res.x


def max_delivery_lp(
    slots: SlotPrices, sessions: PlanSessions, circuits: Circuits, at_least_kwh: np.ndarray | None = None
) -> float:
    """The most energy (kWh) the limits let the sessions take, none above its target and each at
    least ``at_least_kwh`` (none: 0)."""
    sess, slot, room, overlap = pair_rooms(slots, sessions)
    p = sess.shape[0]
    rows: list = []
    cols: list = []
    vals: list = []
    rhs: list = []
    r = 0
    for i in range(sessions.size):
        idx = np.flatnonzero(sess == i)
        rows += [r] * idx.size
        cols += idx.tolist()
        vals += [1.0] * idx.size
        rhs.append(sessions.target_kwh[i])
        r += 1
        if at_least_kwh is not None:
            rows += [r] * idx.size
            cols += idx.tolist()
            vals += [-1.0] * idx.size
            rhs.append(-at_least_kwh[i])
            r += 1
    r = _limit_rows(slots, sessions, circuits, sess, slot, overlap, rows, cols, vals, rhs, r)
    a_ub = coo_matrix((vals, (rows, cols)), shape=(r, p)).tocsr()
    res = linprog(-np.ones(p), A_ub=a_ub, b_ub=np.array(rhs), bounds=np.c_[np.zeros(p), room], method="highs")
    if res.status != 0:
        raise RuntimeError(f"LP not solved: {res.message}")
    return float(-res.fun)
