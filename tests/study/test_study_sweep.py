"""Sweep machinery: hosting capacity, limits, determinism across Dask workers, bad input (issue 5).

These use a seeded stand-in for the fleet simulator (``synthetic.py``) so they test the study
layer alone; ``test_study_quick.py`` runs the real fleet simulator end to end.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import synthetic
from pydantic import ValidationError as PydanticValidationError

from smartcharge.core.errors import DataFileError, UnknownTariffError, ValidationError
from smartcharge.grid.feeders import UnknownFeederError
from smartcharge.grid.limits import GridLimits
from smartcharge.study.config import StudyConfig, load_study
from smartcharge.study.hosting import hosting_capacity, seed_hosting
from smartcharge.study.runner import prepare
from smartcharge.study.sweep import local_cluster, run_cases


def _hosting_results(study: dict[str, object]) -> tuple[list, StudyConfig]:
    config = StudyConfig.model_validate(study)
    prepared = prepare(config)
    cases = [c for c in prepared.cases if c.part == "hosting"]
    return run_cases(cases, workers=0, provider=synthetic.synthetic_loads), config


def test_hosting_capacity_never_rises_when_a_limit_tightens(tiny_study: dict[str, object]) -> None:
    """Issue 5 / SQ-7: tightening the voltage band or the thermal margin never raises the capacity."""
    results, _ = _hosting_results(tiny_study)
    loose = GridLimits(v_min_v=200.0, v_max_v=260.0, thermal_fraction=1.0)
    ladder = [
        loose,
        GridLimits(v_min_v=216.2, v_max_v=253.0, thermal_fraction=1.0),
        GridLimits(v_min_v=220.0, v_max_v=253.0, thermal_fraction=0.8),
        GridLimits(v_min_v=225.0, v_max_v=250.0, thermal_fraction=0.5),
    ]
    capacities = []
    for limits in ladder:
        by_key = {(s.feeder, s.strategy, s.seed): s.hosting_evs for s in seed_hosting(results, limits)}
        capacities.append(by_key)
    for tighter, looser in zip(capacities[1:], capacities, strict=False):
        assert all(tighter[k] <= looser[k] for k in looser)
    assert sum(capacities[0].values()) > sum(capacities[-1].values())  # the ladder does bite somewhere


def test_hosting_capacity_records_first_breach_and_limit(tiny_study: dict[str, object]) -> None:
    """Issue 5: the first breaching penetration and its limit are recorded; capacity is the EVs below it."""
    results, config = _hosting_results(tiny_study)
    limits = GridLimits(v_min_v=238.0)
    seeds = seed_hosting(results, limits)
    assert len(seeds) == 2 * 2  # strategies x seeds
    for s in seeds:
        assert s.first_breach_penetration is not None and s.first_limit is not None
        assert s.hosting_penetration < s.first_breach_penetration
        breached = next(
            r
            for r in results
            if (r.case.strategy_label, r.case.seed, r.case.penetration)
            == (s.strategy, s.seed, s.first_breach_penetration)
        )
        assert breached.summary.breaches(limits).any()
    summary = hosting_capacity(results, limits)
    assert {h.strategy for h in summary} == {"uncontrolled", "window_delay"}
    assert all(h.min_evs <= h.median_evs for h in summary)
    assert config.penetrations[-1] == 1.0


def test_sweep_same_numbers_on_one_and_two_dask_workers(tiny_study: dict[str, object]) -> None:
    """Issue 5 item 6: the same seeded sweep gives identical numbers on 1 and 2 Dask workers.

    One worker through the default local cluster; two through ``--scheduler ADDRESS`` of a
    cluster started outside the sweep, as a real cluster would be.
    """
    config = StudyConfig.model_validate(tiny_study)
    cases = [c for c in prepare(config).cases if c.part == "hosting" and c.seed == 1][:4]
    one = run_cases(cases, workers=1, provider=synthetic.synthetic_loads)
    with local_cluster(2) as cluster:
        two = run_cases(cases, scheduler=cluster.scheduler_address, provider=synthetic.synthetic_loads)
    assert [r.case for r in one] == [r.case for r in two] == cases
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a.total_w, b.total_w)
        np.testing.assert_array_equal(a.summary.u_min_v, b.summary.u_min_v)
        np.testing.assert_array_equal(a.summary.line_loading_pu, b.summary.line_loading_pu)
        assert a.n_ev == b.n_ev and a.cost_p_per_ev == b.cost_p_per_ev
    assert len({float(r.summary.u_min_v.min()) for r in one}) > 1  # cases differ from one another


def test_study_unknown_feeder_refused_before_sweep(tiny_study: dict[str, object]) -> None:
    """Issue 5 bad input: an unknown feeder stops the study in prepare(), before any case runs."""
    tiny_study["feeders"] = [{"name": "ieee_lv"}]
    tiny_study["second_peak"] = None
    tiny_study["cost"] = None
    with pytest.raises(UnknownFeederError, match="unknown feeder; known:"):
        prepare(StudyConfig.model_validate(tiny_study))


def test_study_unknown_tariff_refused(tiny_study: dict[str, object]) -> None:
    """Bad input: a tariff id not in the packaged table is refused before the sweep."""
    tiny_study["strategies"] = [{"label": "x", "key": "tariff_window", "tariffs": ["cheap_power_co"]}]
    with pytest.raises(UnknownTariffError, match="cheap_power_co"):
        prepare(StudyConfig.model_validate(tiny_study))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"penetrations": [0.5, 0.2]}, "penetrations"),
        ({"penetrations": [0.0, 1.5]}, "penetrations"),
        ({"start": "2025-01-14T12:00:00"}, "start"),
        ({"limits": {"thermal_fraction": 0.0}}, "thermal_fraction"),
        ({"workers": -1}, "workers"),
        ({"strategies": [{"label": "x", "key": "dumb", "tariffs": ["octopus_go"]}]}, "key"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_study_file_bad_field_refused(
    tiny_study: dict[str, object], change: dict[str, object], field: str
) -> None:
    """Bad input: each broken study field is refused and named."""
    tiny_study.update(change)
    with pytest.raises(PydanticValidationError, match=field):
        StudyConfig.model_validate(tiny_study)


def test_study_file_not_yaml_mapping_refused(tmp_path: Path) -> None:
    """Bad input: a study file that is not a mapping, or is missing, is refused with the path."""
    path = tmp_path / "s.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ValidationError, match="a study file is a YAML mapping"):
        load_study(path)
    with pytest.raises(DataFileError, match="missing.yaml: file not found"):
        load_study(tmp_path / "missing.yaml")


@pytest.mark.parametrize("name", ["quick.yaml", "winter_week.yaml", "full.yaml"])
def test_shipped_studies_are_valid(name: str) -> None:
    """The shipped studies validate and name only known feeders, tariffs and strategy settings."""
    config = load_study(Path(__file__).parents[2] / "studies" / name)
    prepared = prepare(config)
    assert {c.part for c in prepared.cases} == {"hosting", "second_peak", "cost"}


def test_study_bad_strategy_setting_refused_before_sweep(tiny_study: dict[str, object]) -> None:
    """Bad input: a strategy setting the simulator does not know (or a delay over 1800 s) is refused early."""
    tiny_study["strategies"] = [
        {"label": "x", "key": "tariff_window_delay", "tariffs": ["octopus_go"], "config": {"max_delay": 600}}
    ]
    with pytest.raises(ValidationError, match=r"strategy.max_delay.*allowed: max_delay_s"):
        prepare(StudyConfig.model_validate(tiny_study))
    tiny_study["strategies"] = [
        {
            "label": "x",
            "key": "tariff_window_delay",
            "tariffs": ["octopus_go"],
            "config": {"max_delay_s": 3600},
        }
    ]
    with pytest.raises(ValidationError, match="max_delay_s"):
        prepare(StudyConfig.model_validate(tiny_study))


@pytest.mark.parametrize("workers", [0, 1])
def test_a_failing_group_stops_no_other_and_is_named_at_the_end(
    tiny_study: dict[str, object], tmp_path: Path, workers: int
) -> None:
    """Issue 14 (study stop 21 finding): one group that raised ended the whole sweep, so the groups
    queued behind it never ran. Now the others run and are kept, and the end names the failure."""
    from smartcharge.study import sweep
    from smartcharge.study.checkpoint import Checkpoint

    cases = [c for c in prepare(StudyConfig.model_validate(tiny_study)).cases if c.part == "hosting"]
    groups = len(sweep.case_groups(cases))
    first = Checkpoint(tmp_path)
    with pytest.raises(RuntimeError) as caught:  # the broken case's own error, on the old code
        run_cases(cases, workers=workers, provider=synthetic.failing_loads, checkpoint=first)
    assert first.saved == groups - 1 == 9  # every other group ran and was kept
    error = caught.value
    assert isinstance(error, sweep.GroupsFailed) and len(error.failures) == 1
    assert "1 of 10 task group(s) failed" in str(error) and "seed 2, penetration 0.5" in str(error)
    assert "RuntimeError: a broken case" in str(error)

    again = Checkpoint(tmp_path)
    results = run_cases(cases, workers=0, provider=synthetic.synthetic_loads, checkpoint=again)
    assert (again.loaded, again.saved) == (groups - 1, 1)  # only the failed group runs again
    assert [r.case for r in results] == cases


def test_a_failed_group_is_named_by_its_feeder_key(tiny_study: dict[str, object]) -> None:
    """Every drawn GB feeder has the name ``gb_lv``; only its key (``gb_lv_1_0029``) finds it again."""
    from dataclasses import replace

    from smartcharge.study.sweep import describe_group

    case = prepare(StudyConfig.model_validate(tiny_study)).cases[0]
    drawn = replace(case, feeder_key="gb_lv_1_0029", feeder_name="gb_lv", seed=3, penetration=0.1)
    assert describe_group([drawn]) == "feeder gb_lv_1_0029, seed 3, penetration 0.1"
