"""Seeded random planning problems: a site root (per-phase limit) with circuits (total limits)."""

from __future__ import annotations

import numpy as np

from smartcharge.policy.planner import THREE_PHASE, Circuits, PlanSessions, SlotPrices

GRID_START_S = 1_736_726_400  # 2025-01-13T00:00Z, a Monday
SLOT_S = 1800


def random_instance(
    seed: int,
    n: int = 20,
    k: int = 24,
    circuits: int = 2,
    phase_headroom_w: tuple[float, float] = (25_000.0, 60_000.0),
    circuit_headroom_w: tuple[float, float] = (30_000.0, 70_000.0),
) -> tuple[SlotPrices, PlanSessions, Circuits]:
    """One problem: tariff-like prices (a few levels) or continuous ones, cars of 3.7/7.4 kW on one
    phase or 11 kW on three, arrivals off the slot grid, targets 20-90 % of what each car could take."""
    rng = np.random.default_rng(seed)
    if seed % 2:
        price = rng.choice([7.0, 15.0, 24.5, 30.0], size=k)
    else:
        price = rng.uniform(5, 35, size=k).round(1)
    slots = SlotPrices(GRID_START_S, SLOT_S, price, rng.uniform(50, 300, size=k))
    from_s = (
        GRID_START_S
        + rng.integers(0, k // 2, n) * SLOT_S
        + rng.integers(0, 2, n) * rng.integers(0, SLOT_S, n)
    )
    ready_by_s = np.minimum(from_s + rng.integers(4, k, n) * SLOT_S, GRID_START_S + k * SLOT_S)
    power_w = rng.choice([3680.0, 7360.0, 11000.0], n)
    share = np.where(power_w[:, None] == 11000.0, THREE_PHASE[None, :], np.eye(3)[rng.integers(0, 3, n)])
    target = power_w * (ready_by_s - from_s) / 3.6e6 * rng.uniform(0.2, 0.9, n)
    m = circuits + 1
    phase = np.full((m, k, 3), np.inf)
    phase[0] = rng.uniform(*phase_headroom_w, (k, 1))
    total = np.full((m, k), np.inf)
    total[1:] = rng.uniform(*circuit_headroom_w, (m - 1, 1))
    tree = Circuits(np.array([-1] + [0] * circuits), phase, total)
    node = rng.integers(1, m, n)
    return slots, PlanSessions(node, from_s, ready_by_s, target, power_w, share), tree
