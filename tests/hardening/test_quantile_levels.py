"""Quantile tables with uneven levels are sampled at their own levels, and bad tables are refused.

Found by reading the code (issue: "sim/quantile.py assumes evenly spaced quantile levels"): with
levels [0, .5, .9, 1] the sampled median was 1.50 against a true 1.00.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from smartcharge.core.errors import DataFileError
from smartcharge.sim.behaviour import load_session_behaviour, parse_session_behaviour
from smartcharge.sim.quantile import check_quantile_table, sample_quantiles


def test_uneven_levels_give_the_true_median() -> None:
    levels = np.array([0.0, 0.5, 0.9, 1.0])
    table = np.array([0.0, 1.0, 2.0, 3.0])
    draws = sample_quantiles(table, np.random.default_rng(1).random(200_000), levels=levels)
    assert np.median(draws) == pytest.approx(1.0, abs=0.01)
    assert float(sample_quantiles(table, np.array([0.9]), levels=levels)[0]) == pytest.approx(2.0)
    assert float(sample_quantiles(table, np.array([0.95]), levels=levels)[0]) == pytest.approx(2.5)


def test_even_levels_agree_with_the_default_spacing() -> None:
    levels = np.linspace(0.0, 1.0, 41)
    table = np.sort(np.random.default_rng(2).random((24, 41)) * 10, axis=1)
    u = np.random.default_rng(3).random(5_000)
    rows = np.random.default_rng(4).integers(0, 24, 5_000)
    np.testing.assert_allclose(
        sample_quantiles(table, u, rows, levels=levels), sample_quantiles(table, u, rows), atol=1e-9
    )


@pytest.mark.parametrize(
    ("levels", "row", "rule"),
    [
        ([0.0, 0.6, 0.5, 1.0], [0, 1, 2, 3], "rise strictly"),
        ([0.1, 0.5, 0.9, 1.0], [0, 1, 2, 3], "rise strictly from 0 to 1"),
        ([0.0, 0.5, 0.9, 1.0], [0, 2, 1, 3], "must not fall"),
        ([0.0, 0.5, 0.9, 1.0], [0, 1, float("nan"), 3], "finite"),
        ([0.0, 1.0], [0, 1, 2], "values per row"),
    ],
)
def test_bad_tables_are_refused_with_the_rule(levels: list[float], row: list[float], rule: str) -> None:
    problem = check_quantile_table(np.array(levels), np.array(row), "energy")
    assert problem is not None and rule in problem and problem.startswith("energy")


def test_the_loader_refuses_a_falling_table() -> None:
    name = "home_norway"
    good = json.loads(json.dumps(_table_json(name)))
    rates = good["sessions_per_week_quantiles"]
    rates[20], rates[21] = rates[21] + 0.5, rates[20]  # a fall in the middle, every value still >= 0
    with pytest.raises(DataFileError, match="sessions_per_week_quantiles: quantiles must not fall"):
        parse_session_behaviour(json.dumps(good), name, "edited.json")


def _table_json(name: str) -> dict[str, object]:
    from importlib import resources

    text = resources.files("smartcharge.data").joinpath(f"behaviour/{name}.json").read_text()
    load_session_behaviour(name)  # the shipped table itself passes the checks
    return dict(json.loads(text))
