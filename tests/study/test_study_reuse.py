"""Steps shared by cases are solved once per worker, and no number moves (issue 14 "Speed").

Every strategy, ``network_aware`` included, on a feeder with single- and three-phase chargers,
through the real fleet simulator: the sweep with the flow memo gives bit for bit what solving
every step of every case gives, in case order, with cases of one feeder, seed and penetration
grouped into one task.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from smartcharge.study.cases import clear_flow_memos, run_case
from smartcharge.study.config import StudyConfig
from smartcharge.study.runner import prepare
from smartcharge.study.sweep import case_groups, run_cases

STRATEGIES: list[dict[str, Any]] = [
    {"label": "uncontrolled", "key": "uncontrolled", "tariffs": ["octopus_go"]},
    {
        "label": "default_hours",
        "key": "default_hours",
        "tariffs": ["octopus_go"],
        "config": {"max_delay_s": 600},
    },
    {"label": "go_window", "key": "tariff_window", "tariffs": ["octopus_go"]},
    {
        "label": "delay",
        "key": "tariff_window_delay",
        "tariffs": ["octopus_go"],
        "config": {"max_delay_s": 600},
    },
    {"label": "smart", "key": "smart", "tariffs": ["octopus_go"], "group_cap_w": 30000},
    {"label": "network_aware", "key": "network_aware", "tariffs": ["octopus_go"]},
]


def _config() -> StudyConfig:
    radial = {"name": "radial", "params": {"n_households": 24, "n_branches": 2, "span_m": 60}}
    return StudyConfig.model_validate(
        {
            "name": "reuse",
            "start": "2025-01-14T12:00:00+00:00",
            "days": 1,
            "step_s": 300,
            "seeds": [1, 2],
            "penetrations": [0.0, 0.5, 1.0],
            "workers": 0,
            "crosscheck_steps": 0,
            "feeders": [
                {**radial, "label": "mixed", "ev": {"charger_power_mix_kw": {7.4: 0.5, 11: 0.5}}},
            ],
            "strategies": STRATEGIES,
        }
    )


def test_sweep_with_reused_steps_gives_the_numbers_of_solving_every_step() -> None:
    cases = prepare(_config()).cases
    clear_flow_memos()
    plain = [run_case(c, reuse=False) for c in cases]
    clear_flow_memos()
    reused = run_cases(cases, workers=0)
    assert [r.case for r in reused] == cases
    for a, b in zip(plain, reused, strict=True):
        for x, y in zip(a.numbers(), b.numbers(), strict=True):
            assert np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y, a.case.strategy_label
    # the cases do differ (the test would pass vacuously on identical cases otherwise)
    assert len({float(r.summary.u_min_v.min()) for r in plain}) > len(cases) // 3


def test_cases_are_grouped_by_feeder_seed_and_penetration() -> None:
    cases = prepare(_config()).cases
    groups = case_groups(cases)
    assert len(groups) == 2 * 3  # seeds x penetrations
    assert sorted(c.index for g in groups for c in g) == [c.index for c in cases]
    for g in groups:
        assert [c.strategy_label for c in g] == [s["label"] for s in STRATEGIES]
        assert len({(c.seed, c.penetration) for c in g}) == 1


def test_slim_results_keep_what_hosting_reads_and_drop_the_series() -> None:
    """Issue 14 "Speed": the cases whose series no chart draws come back slim from the workers (the
    full study's 40,440 week-long results would need about 23 GB); every hosting number is the same."""
    from smartcharge.grid.limits import GridLimits, first_breach
    from smartcharge.study.hosting import seed_hosting

    cases = prepare(_config()).cases
    keep = frozenset(c.index for c in cases[:3])
    full = run_cases(cases, workers=0)
    slim = run_cases(cases, workers=0, keep_series=keep)
    tight = GridLimits(v_min_v=228.0, v_max_v=246.0, thermal_fraction=0.3)
    for a, b in zip(full, slim, strict=True):
        assert b.series_kept == (a.case.index in keep)
        if not b.series_kept:
            assert b.total_w.size == 0 and b.summary.u_min_v.size < a.summary.u_min_v.size
        for limits in (GridLimits(), tight):
            assert first_breach(b.summary, limits) == first_breach(a.summary, limits)
        assert b.energy_served_share == a.energy_served_share
        assert b.deliverable_served_share == a.deliverable_served_share
    for limits in (GridLimits(), tight):
        assert seed_hosting(slim, limits) == seed_hosting(full, limits)
    # the tight limits are breached somewhere, so the comparison is not between two empty answers
    assert any(first_breach(r.summary, tight) is not None for r in full)
    bytes_full = sum(r.total_w.nbytes + r.summary.u_min_v.nbytes * 4 for r in full[3:])
    bytes_slim = sum(r.total_w.nbytes + r.summary.u_min_v.nbytes * 4 for r in slim[3:])
    assert bytes_slim < bytes_full / 5
