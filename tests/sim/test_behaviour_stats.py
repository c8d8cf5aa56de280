"""The synthetic chains reproduce their source data's own statistics (issue 4; issue 14 item 2).

Each behaviour table carries the statistics of the owners it was fitted on (computed by
``scripts/derive_behaviour.py``). Chains drawn by the simulator for a fleet over eight weeks must
match them within the tolerances stated here; the held-back owners' check is in
``calibration.json`` (see test_calibration.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from smartcharge.core.localtime import local_fields
from smartcharge.sim.behaviour import BEHAVIOURS, SessionBehaviour, load_session_behaviour
from smartcharge.sim.stays import Stays, chain_stays_per_week, sample_chains, stays_per_week_in_use

N_VEHICLES = 3000
WEEKS = 8
FIRST_DAY = 20_097  # 2025-01-09, a Thursday; the span crosses no clock change


def chains(name: str, seed: int = 2024) -> tuple[SessionBehaviour, Stays]:
    behaviour = load_session_behaviour(name)
    return behaviour, sample_chains(behaviour, N_VEHICLES, FIRST_DAY, WEEKS, seed)


#: Median-energy tolerance: the workplace source is small (59 fitted owners, about 2,500 stays),
#: and its sparse duration and energy cells fall back to pooled tables.
ENERGY_TOLERANCE = {"home_norway": 0.10, "public_ac_scotland": 0.10, "workplace_us": 0.20}


@pytest.mark.parametrize("name", BEHAVIOURS)
def test_synthetic_stays_match_source_statistics(name: str) -> None:
    """Median plug-in time within 20 min, median kWh within 10 % (workplace 20 %), weekday share
    within 3 points of the fitted owners."""
    behaviour, stays = chains(name)
    stats = behaviour.source_stats
    s = stays.sessions
    fields = local_fields(s.plugin_s)
    assert abs(np.median(fields.minute_of_day) - stats["median_plugin_minute_of_day"]) <= 20
    assert abs(np.median(s.energy_kwh) / stats["median_energy_kwh"] - 1) <= ENERGY_TOLERANCE[name]
    assert abs(np.mean(fields.weekday < 5) - stats["weekday_share"]) <= 0.03


#: Energy per week in use is not tuned (only the arrival rates are), so it is an independent
#: check; the workplace table's energy per stay is low (see ENERGY_TOLERANCE).
ENERGY_PER_WEEK_TOLERANCE = {"home_norway": 0.05, "public_ac_scotland": 0.08, "workplace_us": 0.15}


@pytest.mark.parametrize("name", BEHAVIOURS)
def test_stays_and_energy_per_week_in_use_match_the_fitted_owners(name: str) -> None:
    """Median stays per week in use within 4 % of the fitted owners, measured on the chains by the
    same function as on the data (absences over a week left out; the chains have no holidays);
    median energy per week in use within 5 % (public 8 %, workplace 15 %).

    The tables were once tuned to calendar weeks of the chains against the data's weeks in use:
    the home chains then made 3.98 stays (58.5 kWh) per week in use against the owners' 3.63
    (50.7 kWh), and the calibration showed them 15 % low against the held-back owners."""
    behaviour, stays = chains(name)
    stats = behaviour.source_stats
    per_week = chain_stays_per_week(stays)
    kwh_per_week = chain_stays_per_week(stays, energy=True)
    assert per_week.size >= 0.8 * N_VEHICLES  # cars with at least four weeks in use
    assert abs(np.median(per_week) / stats["median_stays_per_week_in_use"] - 1) <= 0.04
    assert (
        abs(np.median(kwh_per_week) / stats["median_energy_kwh_per_week_in_use"] - 1)
        <= ENERGY_PER_WEEK_TOLERANCE[name]
    )


def test_stays_per_week_in_use_leaves_out_absences_and_the_unseen_first_gap() -> None:
    """One owner: stays of 12 h after 36 h away, one 10-day holiday (left out) and a first stay
    whose time away is unknown: 29 stays over 27 x 36 h away + 29 x 12 h plugged in."""
    away = np.r_[np.nan, np.full(13, 36.0), 240.0, np.full(14, 36.0)]
    duration = np.full(29, 12.0)
    (rate,) = stays_per_week_in_use(np.zeros(29, dtype=np.int64), away, duration)
    assert rate == pytest.approx(29 / ((27 * 36 + 29 * 12) / 168))
    (kwh,) = stays_per_week_in_use(np.zeros(29, dtype=np.int64), away, duration, amount=np.full(29, 2.0))
    assert kwh == pytest.approx(2 * rate)
    assert stays_per_week_in_use(np.zeros(3, dtype=np.int64), away[:3], duration[:3]).size == 0  # < 4 weeks


def test_norway_source_statistics_are_those_in_its_provenance() -> None:
    """The fitted owners' statistics are close to the whole source's figures in PROVENANCE.md
    (17:02 median plug-in, 9.0 kWh median, 74 % on weekdays): the split by owner is fair."""
    stats = load_session_behaviour("home_norway").source_stats
    assert stats["median_plugin_minute_of_day"] == pytest.approx(17 * 60 + 2, abs=20)
    assert stats["median_energy_kwh"] == pytest.approx(9.0, abs=0.6)
    assert stats["weekday_share"] == pytest.approx(0.74, abs=0.02)
