"""The per-household series entry point used by the LV network study (issue 4 / issue 5)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from smartcharge.core.errors import UnknownTariffError, ValidationError
from smartcharge.sim import STRATEGIES, HouseholdSeriesRequest, household_series

START = datetime(2025, 1, 6, tzinfo=UTC)


def _request(**changes: object) -> HouseholdSeriesRequest:
    base: dict[str, object] = dict(
        n_households=55,
        ev_penetration=0.6,
        strategy="tariff_window_delay",
        strategy_config={"max_delay_s": 600},
        tariff_id="octopus_go",
        start=START,
        days=7,
        step_s=60,
        seed=1,
        group_cap_w=None,
    )
    base.update(changes)
    return HouseholdSeriesRequest(**base)  # type: ignore[arg-type]


def test_household_series_shapes_and_units() -> None:
    """Shapes (T, H), UTC minute steps, EV households as asked (SQ-3 inputs)."""
    s = household_series(_request())
    assert s.time_s.shape == (7 * 1440,)
    assert s.time_s[0] == int(START.timestamp()) and np.all(np.diff(s.time_s) == 60)
    assert s.base_w.shape == s.ev_w.shape == (7 * 1440, 55)
    assert int(s.has_ev.sum()) == 33
    assert np.all(s.ev_w[:, ~s.has_ev] == 0)
    assert np.all(s.energy_wanted_kwh[~s.has_ev] == 0)
    assert np.all(s.ev_w >= 0) and np.all(s.base_w >= 0)
    assert 0.2 < s.base_w.mean() / 1000 < 1.5  # LCL homes average about 0.45 kW
    assert np.all(s.energy_delivered_kwh <= s.energy_wanted_kwh + 1e-9)
    assert s.cost_p[s.has_ev].sum() > 0 and s.carbon_g[s.has_ev].sum() > 0


def test_household_series_same_seed_same_result() -> None:
    """Seeded runs are reproducible; another seed gives other draws."""
    a, b = household_series(_request()), household_series(_request())
    c = household_series(_request(seed=2))
    assert np.array_equal(a.ev_w, b.ev_w) and np.array_equal(a.base_w, b.base_w)
    assert not np.array_equal(a.ev_w, c.ev_w)


@pytest.mark.parametrize("key", sorted(STRATEGIES))
def test_every_strategy_runs_and_never_delivers_more_than_wanted(key: str) -> None:
    """Every registered strategy runs through the same entry point; the target is never exceeded."""
    config = {"max_delay_s": 600} if key == "tariff_window_delay" else {}
    s = household_series(_request(strategy=key, strategy_config=config, days=3))
    assert s.energy_delivered_kwh.sum() > 0
    assert np.all(s.energy_delivered_kwh <= s.energy_wanted_kwh + 1e-9)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ev_penetration": 1.2}, "ev_penetration"),
        ({"n_households": 0}, "n_households"),
        ({"group_cap_w": -5.0}, "group_cap_w"),
        ({"strategy": "dumb"}, "strategy"),
        ({"strategy_config": {"max_delay_s": 3600}}, "strategy.max_delay_s"),
        ({"strategy_config": {"max_delay": 600}}, "strategy.max_delay"),
        ({"start": datetime(2025, 1, 6)}, "at"),
        ({"charger_power_mix": ((-3700.0,), (1.0,))}, "charger_power_mix"),
    ],
)
def test_household_request_bad_input_names_the_field(changes: dict[str, object], field: str) -> None:
    """Bad input is refused with the field named, nothing clamped (issue 4 'Bad input')."""
    with pytest.raises(ValidationError) as info:
        household_series(_request(**changes))
    assert info.value.field == field


def test_household_request_unknown_tariff_is_refused() -> None:
    with pytest.raises(UnknownTariffError, match="tariff_id"):
        household_series(_request(tariff_id="no_such_tariff"))
