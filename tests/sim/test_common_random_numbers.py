"""Common random numbers (issue 14, item 7): nested penetrations, the same cars for every strategy."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from smartcharge.sim import HouseholdSeriesRequest, household_series

START = datetime(2025, 1, 6, tzinfo=UTC)


def _run(penetration: float, strategy: str = "uncontrolled", seed: int = 3):  # type: ignore[no-untyped-def]
    config = {"max_delay_s": 600} if strategy == "tariff_window_delay" else {}
    return household_series(
        HouseholdSeriesRequest(
            n_households=60,
            ev_penetration=penetration,
            strategy=strategy,
            strategy_config=config,
            tariff_id="octopus_go",
            start=START,
            days=3,
            step_s=300,
            seed=seed,
            charger_power_mix=((3700.0, 7400.0, 11000.0), (0.3, 0.5, 0.2)),
        )
    )


def test_evs_at_40_percent_are_a_subset_of_those_at_60_with_the_same_cars_and_stays() -> None:
    """Every household with an EV at 40 % has one at 60 %, with the same charger, phase, number of
    stays and energy asked (its chain does not depend on who else owns a car); under uncontrolled
    charging its load is the same too."""
    low, high = _run(0.4), _run(0.6)
    assert low.has_ev.sum() == 24 and high.has_ev.sum() == 36
    assert np.all(high.has_ev[low.has_ev])
    both = low.has_ev
    assert np.array_equal(low.charger_power_w[both], high.charger_power_w[both])
    assert np.array_equal(low.ev_phase[both], high.ev_phase[both])
    assert np.array_equal(low.n_sessions[both], high.n_sessions[both])
    assert np.allclose(low.energy_wanted_kwh[both], high.energy_wanted_kwh[both])
    assert np.allclose(low.ev_w[:, both], high.ev_w[:, both])
    assert np.array_equal(low.base_w, high.base_w)


def test_every_strategy_sees_the_same_cars_and_stays() -> None:
    """Uncontrolled and the delayed tariff window: same households with EVs, same chargers, same
    stays and the same energy asked; only the delivered energy and the load differ."""
    a, b = _run(0.5, "uncontrolled"), _run(0.5, "tariff_window_delay")
    assert np.array_equal(a.has_ev, b.has_ev)
    assert np.array_equal(a.charger_power_w, b.charger_power_w)
    assert np.array_equal(a.n_sessions, b.n_sessions)
    assert np.allclose(a.energy_wanted_kwh, b.energy_wanted_kwh)
    assert not np.allclose(a.ev_w, b.ev_w)


def test_another_seed_draws_other_cars() -> None:
    """The common numbers are per seed: a different seed gives different owners or stays."""
    a, b = _run(0.5, seed=3), _run(0.5, seed=4)
    assert not (np.array_equal(a.has_ev, b.has_ev) and np.allclose(a.energy_wanted_kwh, b.energy_wanted_kwh))
