"""Reused power-flow steps give exactly the numbers of solving every step (issue 14 "Speed")."""

from __future__ import annotations

import numpy as np
import pytest

from smartcharge.core.errors import ValidationError
from smartcharge.grid.feeders import get_feeder
from smartcharge.grid.flowmemo import FlowMemo
from smartcharge.grid.limits import StepSummary
from smartcharge.grid.timeseries import FeederSolver

FIELDS = ("u_min_v", "u_max_v", "line_loading_pu", "trafo_loading_pu")


def _same(a: StepSummary, b: StepSummary) -> None:
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def _solver() -> FeederSolver:
    return FeederSolver(get_feeder("radial", n_households=30, n_branches=3, span_m=40))


def _base(n_load: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    p = rng.uniform(100.0, 2500.0, (steps, n_load))
    return p, 0.33 * p


def test_one_step_of_a_batch_is_solved_alone() -> None:
    """The premise of the memo: a step's power flow does not depend on the other steps of its batch."""
    solver = _solver()
    p, q = _base(solver.network.n_load, 40)
    p[::3] *= 2.5  # heavier steps in between
    whole = solver.solve_batch(p, q)
    picked = np.array([31, 2, 17, 0])
    part = solver.solve_batch(p[picked], q[picked])
    np.testing.assert_array_equal(whole.u_bus_v[picked], part.u_bus_v)
    np.testing.assert_array_equal(whole.i_line_a[picked], part.i_line_a)
    np.testing.assert_array_equal(whole.i_trafo_lv_a[picked], part.i_trafo_lv_a)


def test_memo_gives_the_numbers_of_a_full_solve_and_reuses_steps() -> None:
    """Cases sharing a base load: steps where no car draws, and steps another case already solved,
    come from the memo; every case's extremes stay bit for bit those of solving every step, with
    per-phase loads (three-phase chargers make other phases count) and chunk edges inside."""
    solver = _solver()
    net = solver.network
    steps = 90
    base_p, base_q = _base(net.n_load, steps)
    memo = FlowMemo(net, base_p, base_q)
    rng = np.random.default_rng(9)
    home = np.zeros((net.n_load, 3))
    home[np.arange(net.n_load), net.load_phase] = 1.0

    def case(charging: np.ndarray, three_phase: bool) -> tuple[np.ndarray, np.ndarray]:
        ev = np.where(charging[:, None], rng.choice([0.0, 7400.0], size=(steps, net.n_load)), 0.0)
        share = np.full((net.n_load, 3), 1 / 3) if three_phase else home
        p = base_p[:, :, None] * home + ev[:, :, None] * share
        return p, base_q[:, :, None] * home

    quiet = np.zeros(steps, dtype=bool)
    evening = np.arange(steps) % 30 > 20
    cases = [case(quiet, False), case(evening, False), case(evening, True)]
    cases.append(cases[1])  # a strategy that charges exactly like another one
    for p, q in cases:
        _same(solver.solve(p, q, chunk_steps=40, memo=memo), solver.solve(p, q, chunk_steps=40))
    # the quiet case fills the base steps; two cases then find theirs, the repeat finds them all
    assert memo.hits == 2 * (~evening).sum() + steps
    _same(solver.solve(base_p, base_q, memo=memo), solver.solve(base_p, base_q))  # (T, L) form too
    assert memo.hits == 2 * (~evening).sum() + 2 * steps


def test_memo_refuses_other_feeder_or_other_length() -> None:
    """Bad input: a memo is for one feeder and one time axis."""
    solver = _solver()
    p, q = _base(solver.network.n_load, 10)
    memo = FlowMemo(solver.network, p, q)
    with pytest.raises(ValidationError, match="must cover the memo's 10 steps"):
        solver.solve(p[:5], q[:5], memo=memo)
    other = _solver()
    with pytest.raises(ValidationError, match="memo"):
        other.solve(p, q, memo=memo)
    with pytest.raises(ValidationError, match="p_load_w"):
        FlowMemo(solver.network, p[:, :3], q[:, :3])
