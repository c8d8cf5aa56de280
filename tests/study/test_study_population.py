"""A population of GB feeders swept on Dask: the share of feeders that need intervention (issue 14 item 8).

Real fleet simulator, real power flow, a local Dask cluster of two workers; seeds are a study
dimension and the share carries its range over the seeds (item 7).
"""

from __future__ import annotations

import pytest

from smartcharge.grid.limits import GridLimits
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
    # Without EVs the strategy cannot matter: both see the same base-load breaches. (Since the
    # base load keeps its common cold-day peak and marks electrically heated homes, a drawn
    # feeder can breach on base load alone: one of three in one of two seeds here. That is a
    # finding about the drawn population's sizing, reported in docs/study.md, not hidden here.)
    base_dumb, base_aware = shares[("uncontrolled", 0.0)], shares[("network_aware", 0.0)]
    assert base_dumb.share == base_aware.share and base_dumb.share < 0.5
    dumb, aware = shares[("uncontrolled", 1.0)], shares[("network_aware", 1.0)]
    assert dumb.n_feeders == 3 and dumb.n_seeds == 2
    assert dumb.low <= dumb.share <= dumb.high
    assert dumb.share > 0  # every car charging on arrival breaches some drawn feeder
    assert aware.share < dumb.share
