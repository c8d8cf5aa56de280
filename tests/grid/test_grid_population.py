"""The parametric GB LV feeder population (issue 14 item 8): deterministic, valid, inside its ranges."""

from __future__ import annotations

import numpy as np
import pytest

from smartcharge.core.errors import ValidationError
from smartcharge.grid.feeders import get_feeder
from smartcharge.grid.population import CABLES, draw_feeder, gb_lv, population_summary
from smartcharge.grid.timeseries import FeederSolver


def test_a_feeder_is_the_same_for_the_same_seed_and_index() -> None:
    a, b = gb_lv(7, population_seed=3), gb_lv(7, population_seed=3)
    assert a.name == b.name
    np.testing.assert_array_equal(a.r1_ohm, b.r1_ohm)
    assert draw_feeder(7, 3) == draw_feeder(7, 3)
    assert draw_feeder(7, 3) != draw_feeder(8, 3)
    assert get_feeder("gb_lv", index=7, population_seed=3).n_load == a.n_load


def test_population_statistics_follow_the_published_figures() -> None:
    """About 5 feeders per substation and a median near 55 customers (ENWL's 128 feeders / 25 networks)."""
    summary = population_summary(200)
    assert 40 <= summary["customers_median"] <= 70
    assert 8 <= summary["customers_min"] and summary["customers_max"] <= 250
    assert 4.0 <= summary["feeders_per_substation_mean"] <= 6.0
    assert 150 <= summary["route_m_median"] <= 350
    for i in range(50):
        d = draw_feeder(i)
        assert d.transformer_kva in (315, 500, 800, 1000)
        assert d.main_mm2 in CABLES and d.lateral_mm2 in CABLES and d.lateral_mm2 <= d.main_mm2


def test_every_drawn_feeder_solves_at_base_load_inside_the_band() -> None:
    """No-load busbar 250 V or a tap lower; a light load of 300 W per customer stays in the band."""
    for i in range(8):
        net = gb_lv(i)
        solver = FeederSolver(net)
        p = np.full((1, net.n_load), 300.0)
        summary = solver.solve(p, p * 0.33)
        assert 216.2 <= summary.u_min_v[0] and summary.u_max_v[0] <= 253.0
        assert net.transformer.sn_va < draw_feeder(i).transformer_kva * 1e3  # the feeder's share


def test_a_bad_index_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="gb_lv.index"):
        gb_lv(-1)
