"""A study case kept slim (issue 14 "Speed": 40,440 week-long cases must fit in memory) keeps only
the record steps of its power-flow summary; the first breach in time, which limit it is, and the
extremes are the same as on every step, for any limits (SQ-7 hosting capacity)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcharge.grid.limits import GridLimits, StepSummary, first_breach


def _summary(seed: int, steps: int) -> StepSummary:
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0, 1.5, steps))  # a random walk: extremes are reached late and often
    return StepSummary(
        u_min_v=225.0 - walk * 0.8 + rng.normal(0, 2, steps),
        u_max_v=245.0 + walk * 0.3 + rng.normal(0, 2, steps),
        line_loading_pu=np.abs(0.6 + walk * 0.01 + rng.normal(0, 0.1, steps)),
        trafo_loading_pu=np.round(np.abs(0.5 + walk * 0.01 + rng.normal(0, 0.1, steps)), 2),  # ties
        screened=rng.random(steps) < 0.2,
    )


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    steps=st.integers(1, 3000),
    v_min=st.floats(180.0, 240.0),
    v_span=st.floats(1.0, 80.0),
    thermal=st.floats(0.05, 1.0),
)
def test_the_first_breach_is_the_same_on_the_record_steps(
    seed: int, steps: int, v_min: float, v_span: float, thermal: float
) -> None:
    full = _summary(seed, steps)
    kept = full.records()
    limits = GridLimits(v_min_v=v_min, v_max_v=v_min + v_span, thermal_fraction=thermal)
    assert first_breach(kept, limits) == first_breach(full, limits)
    assert kept.u_min_v.min() == full.u_min_v.min() and kept.u_max_v.max() == full.u_max_v.max()
    assert kept.line_loading_pu.max() == full.line_loading_pu.max()
    assert kept.trafo_loading_pu.max() == full.trafo_loading_pu.max()
    assert kept.screened is not None and kept.screened.size == kept.u_min_v.size


def test_a_week_of_steps_keeps_few_records() -> None:
    full = _summary(7, 10_080)  # a week at one minute
    kept = full.records()
    assert 0 < kept.u_min_v.size < 0.05 * 10_080
    assert StepSummary(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)).records().u_min_v.size == 0
