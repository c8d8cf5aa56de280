"""The synthetic population reproduces its source data's own statistics (issue 4, tests).

Each behaviour table carries the source's statistics (computed from the raw sessions by
``scripts/derive_behaviour.py``). Sessions drawn by the simulator for a fleet over eight weeks
must match them within the tolerances stated here. Sessions per week comes out a little below
the source because a car still plugged in cannot plug in again (the overlap rule drops those
plug-ins); the tolerance covers that.
"""

from __future__ import annotations

import numpy as np
import pytest

from smartcharge.core.localtime import local_fields
from smartcharge.sim.behaviour import BEHAVIOURS, load_session_behaviour
from smartcharge.sim.fleet import Fleet
from smartcharge.sim.quantile import sample_quantiles
from smartcharge.sim.sessions import generate_sessions, resolve_overlaps

N_VEHICLES = 3000
WEEKS = 8
FIRST_DAY = 20_097  # 2025-01-09, a Thursday; the span crosses no clock change


def _population(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    behaviour = load_session_behaviour(name)
    rng = np.random.default_rng(2024)
    fleet = Fleet(
        group=np.zeros(N_VEHICLES, np.int64),
        household=np.arange(N_VEHICLES),
        power_w=np.full(N_VEHICLES, 7400.0),
        battery_kwh=np.full(N_VEHICLES, 1000.0),  # no battery cap: compare the raw energy draw
        sessions_per_week=sample_quantiles(behaviour.sessions_per_week_q, rng.random(N_VEHICLES)),
    )
    sessions = generate_sessions(
        fleet, np.arange(N_VEHICLES), behaviour, FIRST_DAY, WEEKS * 7, rng, max_fill=1.0
    )
    sessions, _ = resolve_overlaps(sessions, np.full(N_VEHICLES, np.iinfo(np.int64).min))
    fields = local_fields(sessions.plugin_s)
    per_week = np.bincount(sessions.vehicle, minlength=N_VEHICLES) / WEEKS
    return fields.minute_of_day, sessions.energy_kwh, per_week, fields.weekday


@pytest.mark.parametrize("name", BEHAVIOURS)
def test_synthetic_sessions_match_source_statistics(name: str) -> None:
    """Median plug-in time within 15 min, median kWh within 5 %, sessions/week within 10 %,
    weekday share within 2 points of the source data."""
    stats = load_session_behaviour(name).source_stats
    minute, energy, per_week, weekday = _population(name)
    assert abs(np.median(minute) - stats["median_plugin_minute_of_day"]) <= 15
    assert abs(np.median(energy) / stats["median_energy_kwh"] - 1) <= 0.05
    assert abs(np.median(per_week) / stats["median_sessions_per_week"] - 1) <= 0.10
    assert abs(np.mean(weekday < 5) - stats["weekday_share"]) <= 0.02


def test_norway_source_statistics_are_those_in_its_provenance() -> None:
    """The derived table's own statistics match the figures in the source's PROVENANCE.md."""
    stats = load_session_behaviour("home_norway").source_stats
    assert stats["median_plugin_minute_of_day"] == pytest.approx(17 * 60 + 2, abs=3)  # 17:02
    assert stats["median_energy_kwh"] == pytest.approx(9.0, abs=0.1)
    assert stats["weekday_share"] == pytest.approx(0.74, abs=0.01)
