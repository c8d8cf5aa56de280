"""A population of GB feeders swept on Dask: the share of feeders that need intervention (issue 14 item 8).

Real fleet simulator, real power flow, a local Dask cluster of two workers; seeds are a study
dimension and the share carries its range over the seeds (item 7).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from smartcharge.grid.limits import GridLimits, first_breach
from smartcharge.sim.behaviour import load_base_demand
from smartcharge.study.cases import Case, run_case
from smartcharge.study.config import StudyConfig
from smartcharge.study.hosting import intervention_shares
from smartcharge.study.runner import prepare
from smartcharge.study.sweep import run_cases

STUDY = {
    "name": "population",
    "start": "2025-01-14T12:00:00+00:00",
    "days": 1,
    "seeds": [1, 2],
    "penetrations": [0.0, 1.0],
    "population": {"count": 3, "seed": 1},
    "service_basis": "deliverable",
    "strategies": [
        {"label": "uncontrolled", "key": "uncontrolled", "tariffs": ["octopus_go"]},
        {"label": "network_aware", "key": "network_aware", "tariffs": ["octopus_go"]},
    ],
}


@pytest.mark.slow
def test_population_sweep_on_dask_gives_intervention_shares_with_intervals() -> None:
    config = StudyConfig.model_validate(STUDY)
    prepared = prepare(config)
    assert len(prepared.networks) == 3
    assert len(prepared.cases) == 3 * 2 * 2 * 2
    results = run_cases(prepared.cases, workers=2)
    shares = {
        (s.strategy, s.penetration): s
        for s in intervention_shares(results, GridLimits(), 0.99, basis="deliverable")
    }
    # Without EVs no drawn feeder needs intervention, whatever the strategy.
    base_dumb, base_aware = shares[("uncontrolled", 0.0)], shares[("network_aware", 0.0)]
    assert base_dumb.share == base_aware.share == 0.0
    dumb, aware = shares[("uncontrolled", 1.0)], shares[("network_aware", 1.0)]
    assert dumb.n_feeders == 3 and dumb.n_seeds == 2
    assert dumb.low <= dumb.share <= dumb.high
    assert dumb.share > 0  # every car charging on arrival breaches some drawn feeder
    assert aware.share < dumb.share


def test_no_drawn_feeder_breaches_on_base_load_alone() -> None:
    """The first four feeders of the population, two seeds of homes, the cold winter Tuesday (noon
    to noon): no limit is breached without EVs. The feeder's transformer share once went by its
    customer count alone (the whole substation's diversity), and feeder 1 (28 homes of 515 on an
    800 kVA unit) overloaded its share to 1.16 pu on base load alone in seed 2."""
    start = datetime(2025, 1, 14, 12, tzinfo=UTC)
    for index in range(4):
        for seed in (1, 2):
            params = (("index", index), ("population_seed", 1))
            case = Case(
                0, "hosting", f"gb_lv_{index}", "gb_lv", params, "none", "uncontrolled",
                ("octopus_go",), (), None, 0.0, seed, start, 1, 60,
            )  # fmt: skip
            result = run_case(case)
            assert first_breach(result.summary, GridLimits()) is None, (index, seed)
            assert result.summary.trafo_loading_pu.max() < 1.0


def test_the_diversity_curve_is_that_of_the_packaged_homes() -> None:
    """D(m), which sizes a drawn feeder's transformer share, is the after-diversity maximum
    demand per home of random groups of m of the base-load homes the simulator uses (within
    0.1 kW; mean over 200 groups), and falls with the group's size."""
    from smartcharge.grid.population import admd_kw

    base_w = load_base_demand().base_w.astype(np.float64)
    rng = np.random.default_rng(7)
    for m in (3, 10, 30, 60):
        peaks = [
            base_w[rng.choice(base_w.shape[0], m, replace=False)].sum(axis=0).max() / m for _ in range(200)
        ]
        assert admd_kw(m) == pytest.approx(np.mean(peaks) / 1e3, abs=0.1), m
    assert admd_kw(3) > admd_kw(10) > admd_kw(100) > 0.561
