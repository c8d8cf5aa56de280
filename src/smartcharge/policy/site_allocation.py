"""Site load management: share a circuit tree's capacity among charge points, live (issue 12 item 3).

The tree is the site connection -> circuits -> charge points (SCN-WRK, ENA G100; ARB-3). Each
node may limit the current per phase (A) and the power in total (W). Each charge point asks for a
current per phase it uses (a single-phase car on one phase, a three-phase car on all three) and
has a priority (e.g. fleet vans first) and a minimum current below which it cannot charge
(6 A for IEC 61851-1 mode 3).

Sharing, in order:

1. **Minimum first, by priority.** Charge points are taken by priority (then index) and each is
   given its minimum if every node on its path still has room for it, so no car is starved while
   the site can carry its minimum; one that cannot get its minimum gets 0 (it pauses rather than
   draw below what the car accepts) and is reported as ``starved``.
2. **The rest fairly, class by class.** The capacity left is shared by progressive filling
   (max-min fairness): within a priority class every charge point's current rises at the same
   rate until it reaches its request or a node on its path is full on a phase it uses; higher
   classes are filled before lower ones.
3. **Check.** The result goes through :func:`~smartcharge.policy.arbitration.allocate_tree` per
   phase and in total (the one tree arbitration; it only scales down, and after steps 1-2 it must
   find every node within its limit), which also names the binding source.

Pure and vectorised over charge points; the loops run over nodes and priority classes, not cars.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.limit import LimitSource
from smartcharge.core.units import NOMINAL_VOLTAGE_V, BoolArray, FloatArray, IntArray
from smartcharge.policy.arbitration import allocate_tree

#: Lowest current a mode 3 charge point may offer (IEC 61851-1).
IEC_MIN_CURRENT_A = 6.0
_EPS_A = 1e-9
#: Binding reason per charge point.
OWN_REQUEST = -1  # it got all it asked for
STARVED = -2  # the site cannot carry even its minimum


@dataclass(frozen=True, slots=True)
class SiteTree:
    """Nodes (M,), parents before children (-1 for the root): current per phase and power limits."""

    parent: IntArray
    phase_limit_a: FloatArray  # (M, 3), inf where none
    power_limit_w: FloatArray  # (M,), inf where none
    voltage_v: float = NOMINAL_VOLTAGE_V

    def __post_init__(self) -> None:
        parent = np.asarray(self.parent, dtype=np.int64)
        m = parent.shape[0]
        if m == 0 or np.any(parent >= np.arange(m)) or np.any(parent < -1):
            raise ValidationError(
                "parent", parent.tolist()[:10], "at least one node; parents before children"
            )
        phase = np.asarray(self.phase_limit_a, dtype=np.float64)
        power = np.asarray(self.power_limit_w, dtype=np.float64)
        if phase.shape != (m, 3) or power.shape != (m,):
            raise ValidationError("phase_limit_a", phase.shape, f"(M, 3) with power_limit_w (M,), M={m}")
        if np.any(~(phase >= 0)) or np.any(~(power >= 0)):
            raise ValidationError("limit", "nan or negative", "limits are >= 0 (A or W); inf for none")
        object.__setattr__(self, "parent", parent)
        object.__setattr__(self, "phase_limit_a", phase)
        object.__setattr__(self, "power_limit_w", power)

    @property
    def size(self) -> int:
        return int(self.parent.shape[0])

    def below(self, leaf_node: IntArray) -> BoolArray:
        """(M, N): whether charge point n hangs below (or from) node j."""
        m = self.size
        leaf = np.asarray(leaf_node, dtype=np.int64)
        under = np.zeros((m, leaf.shape[0]), dtype=np.bool_)
        node = leaf.copy()
        while True:
            live = node >= 0
            if not live.any():
                return under
            under[node[live], np.flatnonzero(live)] = True
            node = np.where(live, self.parent[np.maximum(node, 0)], -1)


@dataclass(frozen=True, slots=True)
class SiteAllocation:
    """Per charge point (N,): current per used phase (A), power (W), and why it stops there."""

    current_a: FloatArray
    power_w: FloatArray
    binding_node: IntArray  # the node that stopped it, OWN_REQUEST or STARVED
    starved: BoolArray


def _check(
    tree: SiteTree, leaf: IntArray, request_a: FloatArray, min_a: FloatArray, phases: BoolArray
) -> None:
    n = leaf.shape[0]
    if np.any((leaf < 0) | (leaf >= tree.size)):
        raise ValidationError(
            "leaf_node", "out of range", f"each charge point hangs from a node 0..{tree.size - 1}"
        )
    if request_a.shape != (n,) or min_a.shape != (n,) or phases.shape != (n, 3):
        raise ValidationError(
            "request_a", request_a.shape, f"(N,) requests and minimums, (N, 3) phases, N={n}"
        )
    if np.any(~(request_a >= 0)) or np.any(~np.isfinite(request_a)) or np.any(~(min_a >= 0)):
        raise ValidationError("request_a", "nan, inf or negative", "currents are finite and >= 0 A")
    if np.any(~phases.any(axis=1)):
        raise ValidationError("phases", "no phase", "each charge point uses at least one phase")


def _room(
    tree: SiteTree, under: BoolArray, used: FloatArray, current: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Headroom per node: per phase (M, 3) A and in power (M,) W, given currents per charge point."""
    load = used * current[:, None]  # (N, 3) A per phase
    phase_room = tree.phase_limit_a - under.astype(np.float64) @ load
    power_room = tree.power_limit_w - under.astype(np.float64) @ (load.sum(axis=1) * tree.voltage_v)
    return phase_room, power_room


def _minimums(
    tree: SiteTree, under: BoolArray, used: FloatArray, min_a: FloatArray, want: BoolArray, order: IntArray
) -> FloatArray:
    """Step 1: each charge point in ``order`` gets its minimum if every node above has room."""
    current = np.zeros(min_a.shape[0])
    phase_room = tree.phase_limit_a.copy()
    power_room = tree.power_limit_w.copy()
    for i in order:
        if not want[i]:
            continue
        path = under[:, i]
        need = used[i] * min_a[i]
        if np.all(phase_room[path] >= need - _EPS_A) and np.all(
            power_room[path] >= need.sum() * tree.voltage_v - 1e-6
        ):
            current[i] = min_a[i]
            phase_room[path] -= need
            power_room[path] -= need.sum() * tree.voltage_v
    return current


def _fill_class(
    tree: SiteTree,
    under: BoolArray,
    used: FloatArray,
    current: FloatArray,
    cap_a: FloatArray,
    members: BoolArray,
) -> FloatArray:
    """Step 2 for one priority class: progressive filling up to ``cap_a`` (max-min fair)."""
    current = current.copy()
    rising = members & (current < cap_a - _EPS_A)
    under_f = under.astype(np.float64)
    for _ in range(4 * tree.size + under.shape[1] + 4):
        if not rising.any():
            break
        phase_room, power_room = _room(tree, under, used, current)
        rate = used * rising[:, None]  # A per phase per unit of rise
        phase_rate = under_f @ rate  # (M, 3)
        power_rate = under_f @ (rate.sum(axis=1) * tree.voltage_v)  # (M,)
        with np.errstate(divide="ignore", invalid="ignore"):
            step_phase = np.where(phase_rate > 0, np.maximum(phase_room, 0.0) / phase_rate, np.inf)
            step_power = np.where(power_rate > 0, np.maximum(power_room, 0.0) / power_rate, np.inf)
        step = min(float(step_phase.min(initial=np.inf)), float(step_power.min(initial=np.inf)))
        step = min(step, float((cap_a - current)[rising].min()))
        current = np.where(rising, current + step, current)
        phase_room, power_room = _room(tree, under, used, current)
        full_node = np.any(phase_room <= _EPS_A * (1 + tree.size), axis=1)  # (M,) any phase full
        blocked = np.zeros(current.shape[0], dtype=np.bool_)
        for j in np.flatnonzero(full_node | (power_room <= 1e-6)):
            full_phase = phase_room[j] <= _EPS_A * (1 + tree.size)
            hit = under[j] & (np.any(used[:, full_phase] > 0, axis=1) | (power_room[j] <= 1e-6))
            blocked |= hit
        rising &= ~blocked & (current < cap_a - _EPS_A)
    return current


def _binding(
    tree: SiteTree, under: BoolArray, used: FloatArray, current: FloatArray, request: FloatArray
) -> IntArray:
    """The deepest full node on each charge point's path (the one that stopped it)."""
    phase_room, power_room = _room(tree, under, used, current)
    tol = 1e-6 * (1 + tree.size)
    binding = np.full(current.shape[0], OWN_REQUEST, dtype=np.int64)
    for j in range(tree.size):  # parents first: a deeper full node overwrites
        full_phase = phase_room[j] <= tol
        hit = under[j] & (np.any(used[:, full_phase] > 0, axis=1) | (power_room[j] <= tol))
        binding = np.where(hit & (current < request - _EPS_A), j, binding)
    return binding


def allocate_site(
    tree: SiteTree,
    leaf_node: IntArray,
    request_a: FloatArray,
    phases: BoolArray,
    priority: IntArray,
    min_a: FloatArray | None = None,
) -> SiteAllocation:
    """Share the tree's capacity among N charge points (see the module doc; ARB-3, SCN-WRK).

    ``request_a`` (N,) is what each charge point asks per phase it uses (0: not charging),
    ``phases`` (N, 3) which phases it uses, ``priority`` (N,) higher first, ``min_a`` (N,) its
    minimum current (default 6 A, IEC 61851-1).
    """
    leaf = np.asarray(leaf_node, dtype=np.int64)
    request = np.asarray(request_a, dtype=np.float64)
    used_b = np.asarray(phases, dtype=np.bool_)
    n = leaf.shape[0]
    minimum = np.full(n, IEC_MIN_CURRENT_A) if min_a is None else np.asarray(min_a, dtype=np.float64)
    _check(tree, leaf, request, minimum, used_b)
    prio = np.asarray(priority, dtype=np.int64)
    if prio.shape != (n,):
        raise ValidationError("priority", prio.shape, f"one per charge point, ({n},)")
    under = tree.below(leaf)
    used = used_b.astype(np.float64)
    want = request >= np.maximum(minimum, _EPS_A)  # a request below the minimum cannot be served
    order = np.lexsort((np.arange(n), -prio))
    current = _minimums(tree, under, used, minimum, want, order)
    starved = want & (current == 0)
    for level in np.unique(prio)[::-1]:
        members = (prio == level) & want & ~starved
        current = _fill_class(tree, under, used, current, np.where(want, request, 0.0), members)
    current = _checked(tree, leaf, used, current)
    binding = _binding(tree, under, used, current, np.where(want, request, 0.0))
    binding = np.where(starved, STARVED, binding)
    power = current * used.sum(axis=1) * tree.voltage_v
    return SiteAllocation(current, power, binding, starved)


def _checked(tree: SiteTree, leaf: IntArray, used: FloatArray, current: FloatArray) -> FloatArray:
    """Step 3: the tree arbitration per phase and in power; it may only scale down (ARB-3)."""
    source = np.full(tree.size, int(LimitSource.SITE), dtype=np.int64)
    none = np.zeros(leaf.shape[0], dtype=np.int64)
    factor = np.ones(leaf.shape[0])
    for phase in range(3):
        ask = current * used[:, phase]
        got, _ = allocate_tree(ask, leaf, tree.parent, tree.phase_limit_a[:, phase], source, none)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.minimum(factor, np.where(ask > 0, got / ask, 1.0))
    power = current * used.sum(axis=1) * tree.voltage_v
    got, _ = allocate_tree(power, leaf, tree.parent, tree.power_limit_w, source, none)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.minimum(factor, np.where(power > 0, got / power, 1.0))
    checked: FloatArray = current * factor
    return checked


__all__ = ["IEC_MIN_CURRENT_A", "OWN_REQUEST", "STARVED", "SiteAllocation", "SiteTree", "allocate_site"]
