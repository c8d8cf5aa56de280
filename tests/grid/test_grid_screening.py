"""Screening skips only steps that provably breach nothing, and changes no answer (issue 5 speed)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from smartcharge.core.errors import ValidationError
from smartcharge.grid.feeders import get_feeder
from smartcharge.grid.limits import GridLimits
from smartcharge.grid.network import LVNetwork
from smartcharge.grid.screening import Screen
from smartcharge.grid.timeseries import FeederSolver


def _loads(n_load: int, steps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Light and heavy steps mixed, lagging power factors down to ~0.95."""
    rng = np.random.default_rng(seed)
    scale = rng.choice([300.0, 1000.0, 3000.0, 7000.0], size=(steps, 1))
    p = rng.uniform(0, 1, (steps, n_load)) * scale
    return p, p * rng.uniform(0, 0.33, (steps, n_load))


@pytest.mark.parametrize(
    ("feeder", "params"),
    [
        ("radial", {"n_households": 60, "n_branches": 3, "span_m": 40}),
        ("ieee_european_lv", {"u_ref_pu": 1.0}),
    ],
)
def test_screening_bounds_contain_the_power_flow(feeder: str, params: dict[str, float]) -> None:
    """On every step the screen calls safe, the solved extremes lie inside its bounds and the limits."""
    solver = FeederSolver(get_feeder(feeder, **params))
    limits = GridLimits()
    p, q = _loads(solver.network.n_load, 1500, seed=11)
    bounds, safe = solver.screen(limits).bounds(p, q)
    exact = solver.solve(p, q)
    assert 0.2 < safe.mean() < 0.95  # the screen does work, and does not wave everything through
    assert (bounds.u_min_v[safe] <= exact.u_min_v[safe]).all()
    assert (bounds.u_max_v[safe] >= exact.u_max_v[safe]).all()
    assert (bounds.line_loading_pu[safe] >= exact.line_loading_pu[safe]).all()
    assert (bounds.trafo_loading_pu[safe] >= exact.trafo_loading_pu[safe]).all()
    assert not exact.breaches(limits)[safe].any()
    assert exact.breaches(limits).any()  # the heavy steps do breach


def test_screening_keeps_every_answer() -> None:
    """Screened solve: same breaches on every step, identical values on every solved step."""
    solver = FeederSolver(get_feeder("ieee_european_lv", u_ref_pu=1.0))
    limits = GridLimits(v_min_v=220.0)
    p, q = _loads(solver.network.n_load, 1200, seed=12)
    plain = solver.solve(p, q, chunk_steps=500)
    fast = solver.solve(p, q, chunk_steps=500, screen=solver.screen(limits))
    assert fast.screened is not None and 0 < fast.screened.sum() < fast.screened.size
    np.testing.assert_array_equal(fast.breaches(limits), plain.breaches(limits))
    solved = ~fast.screened
    np.testing.assert_allclose(fast.u_min_v[solved], plain.u_min_v[solved], atol=1e-9)
    np.testing.assert_allclose(fast.line_loading_pu[solved], plain.line_loading_pu[solved], atol=1e-12)


def test_screening_refuses_generation_and_shunts() -> None:
    """Steps with export are never screened; a feeder with cable capacitance cannot be screened."""
    solver = FeederSolver(get_feeder("radial", n_households=9))
    screen = solver.screen(GridLimits())
    p = np.full((2, 9), 100.0)
    p[1, 4] = -100.0  # one home exporting
    _, safe = screen.bounds(p, 0.1 * p)
    assert safe.tolist() == [True, False]
    net: LVNetwork = solver.network
    with pytest.raises(ValidationError, match="shunt capacitance"):
        Screen.build(dataclasses.replace(net, c1_f=np.full(net.n_line, 1e-9)), GridLimits())
