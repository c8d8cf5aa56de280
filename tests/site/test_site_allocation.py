"""Site load management kernel (issue 12 item 3; ARB-3, SCN-WRK after ENA G100)."""

from __future__ import annotations

import numpy as np
import pytest

from smartcharge.core.errors import ValidationError
from smartcharge.policy.site_allocation import OWN_REQUEST, STARVED, SiteTree, allocate_site

INF = np.inf
L1 = np.array([[True, False, False]])
ALL = np.array([[True, True, True]])


def _root(phase_a: float, power_w: float = INF) -> SiteTree:
    return SiteTree(np.array([-1]), np.array([[phase_a] * 3]), np.array([power_w]))


def test_minimum_first_so_no_car_is_starved_while_the_site_can_carry_it() -> None:
    """Ten single-phase cars on L1 under 32 A: five get their 6 A minimum and share the rest
    (6.4 A each); the other five pause (0 A), reported starved, never below 6 A."""
    n = 10
    alloc = allocate_site(
        _root(32.0), np.zeros(n, np.int64), np.full(n, 32.0), np.repeat(L1, n, 0), np.zeros(n)
    )
    np.testing.assert_allclose(alloc.current_a[:5], 6.4)
    np.testing.assert_allclose(alloc.current_a[5:], 0.0)
    assert alloc.starved.tolist() == [False] * 5 + [True] * 5
    assert (alloc.binding_node[5:] == STARVED).all()
    assert alloc.current_a.sum() == pytest.approx(32.0)


def test_fleet_vans_first() -> None:
    """Priority 1 (vans) is filled before priority 0 (staff cars)."""
    prio = np.array([0, 1, 0, 1])
    alloc = allocate_site(_root(40.0), np.zeros(4, np.int64), np.full(4, 16.0), np.repeat(L1, 4, 0), prio)
    np.testing.assert_allclose(alloc.current_a, [6.0, 14.0, 6.0, 14.0])


def test_the_rest_is_shared_max_min_fair() -> None:
    """Requests 10, 20 and 32 A under 40 A: 10, 15, 15 (nobody gets more while another, asking
    more, gets less)."""
    alloc = allocate_site(
        _root(40.0), np.zeros(3, np.int64), np.array([10.0, 20.0, 32.0]), np.repeat(L1, 3, 0), np.zeros(3)
    )
    np.testing.assert_allclose(alloc.current_a, [10.0, 15.0, 15.0])
    assert alloc.binding_node.tolist() == [OWN_REQUEST, 0, 0]


def test_phases_are_respected_for_one_and_three_phase_cars() -> None:
    """A three-phase car loads every phase: with two single-phase cars on L1 under 32 A per phase,
    L1 binds at 32/3 A each while L2 and L3 carry only the three-phase car."""
    phases = np.array([[True, True, True], [True, False, False], [True, False, False]])
    alloc = allocate_site(
        _root(32.0), np.zeros(3, np.int64), np.array([16.0, 32.0, 32.0]), phases, np.zeros(3)
    )
    np.testing.assert_allclose(alloc.current_a, [32 / 3] * 3)
    np.testing.assert_allclose(alloc.power_w, [32 / 3 * 230 * 3, 32 / 3 * 230, 32 / 3 * 230])


def test_circuit_power_limits_hold_under_the_site_limit() -> None:
    """Site 100 A per phase; circuit A limited to 11 kW in total, circuit B to 16 A per phase."""
    tree = SiteTree(
        np.array([-1, 0, 0]),
        np.array([[100.0] * 3, [INF] * 3, [16.0] * 3]),
        np.array([INF, 11_000.0, INF]),
    )
    leaf = np.array([1, 1, 2, 2])
    alloc = allocate_site(tree, leaf, np.full(4, 32.0), np.repeat(ALL, 4, 0), np.zeros(4))
    assert alloc.power_w[:2].sum() == pytest.approx(11_000.0)
    np.testing.assert_allclose(alloc.current_a[2:], 8.0)
    assert alloc.binding_node.tolist() == [1, 1, 2, 2]


@pytest.mark.parametrize("seed", range(20))
def test_no_limit_is_ever_exceeded_and_nobody_below_minimum(seed: int) -> None:
    """Random trees and cars: every node within its per-phase and power limit; every car either
    paused (0 A) or at least at its minimum and at most its request; a car below its request is
    stopped by a full node on its path."""
    rng = np.random.default_rng(seed)
    m = 4
    tree = SiteTree(
        np.array([-1, 0, 0, 1]),
        np.where(rng.random((m, 3)) < 0.5, rng.uniform(10, 120, (m, 3)), INF),
        np.where(rng.random(m) < 0.5, rng.uniform(5_000, 60_000, m), INF),
    )
    n = 30
    three = rng.random(n) < 0.3
    phases = np.where(three[:, None], True, np.eye(3, dtype=bool)[rng.integers(0, 3, n)])
    request = rng.choice([0.0, 10.0, 16.0, 32.0], n)
    leaf = rng.integers(0, m, n)
    alloc = allocate_site(tree, leaf, request, phases, rng.integers(0, 3, n))
    under = tree.below(leaf).astype(float)
    load_a = under @ (phases * alloc.current_a[:, None])
    assert np.all(load_a <= tree.phase_limit_a + 1e-6)
    assert np.all(under @ alloc.power_w <= tree.power_limit_w + 1e-3)
    on = alloc.current_a > 0
    assert np.all(alloc.current_a[on] >= 6.0 - 1e-9)
    assert np.all(alloc.current_a <= request + 1e-9)
    short = (alloc.current_a < request - 1e-6) & ~alloc.starved & (request >= 6)
    assert np.all(alloc.binding_node[short] >= 0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"leaf_node": np.array([3])}, "leaf_node"),
        ({"request_a": np.array([-1.0])}, "request_a"),
        ({"phases": np.array([[False, False, False]])}, "phases"),
    ],
)
def test_bad_input_is_refused_naming_the_field(kwargs: dict[str, np.ndarray], field: str) -> None:
    args = {"leaf_node": np.array([0]), "request_a": np.array([16.0]), "phases": L1, "priority": np.zeros(1)}
    args.update(kwargs)
    with pytest.raises(ValidationError) as info:
        allocate_site(_root(32.0), **args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_tree_with_a_child_before_its_parent_is_refused() -> None:
    with pytest.raises(ValidationError, match="parent"):
        SiteTree(np.array([1, -1]), np.full((2, 3), INF), np.full(2, INF))
