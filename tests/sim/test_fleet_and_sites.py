"""The fleet a scenario can describe, sites and base load (issue 14, items 3, 4 and 9)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from smartcharge.core.errors import ValidationError
from smartcharge.sim import HouseholdSeriesRequest, household_series, run_scenario
from smartcharge.sim.behaviour import load_base_demand
from smartcharge.sim.population import (
    SHIFT_HALF_HOURS,
    eligible_homes,
    household_base_w,
    office_shape,
    place_households,
    profile_w,
)
from smartcharge.sim.reference_year import reference_index

SCENARIOS = Path(__file__).parents[2] / "scenarios"
START = datetime(2025, 1, 6, tzinfo=UTC)


def _request(**changes: object) -> HouseholdSeriesRequest:
    fields: dict[str, object] = {
        "n_households": 40,
        "ev_penetration": 1.0,
        "strategy": "uncontrolled",
        "tariff_id": "octopus_go",
        "start": START,
        "days": 2,
        "step_s": 300,
    }
    fields.update(changes)
    return HouseholdSeriesRequest(**fields)  # type: ignore[arg-type]


def test_three_phase_and_single_phase_chargers_load_their_phases() -> None:
    """A mix of 2.3, 7.4 kW single phase on given phases and 22 kW three phase: each household's
    per-phase load sums to its EV load; a single-phase charger loads only its home's phase, a
    three-phase one a third on each; the peak of a 22 kW car exceeds 7.4 kW."""
    phases = tuple(int(p) for p in np.arange(40) % 3)
    s = household_series(
        _request(charger_power_mix=((2300.0, 7400.0, 22000.0), (0.3, 0.3, 0.4)), household_phase=phases)
    )
    per_phase = s.ev_w_per_phase()
    assert per_phase.shape == (s.ev_w.shape[0], 40, 3)
    assert np.allclose(per_phase.sum(axis=2), s.ev_w)
    single = np.flatnonzero(s.ev_phase >= 0)
    three = np.flatnonzero(s.ev_phase == -1)
    assert single.size and three.size
    assert np.array_equal(s.ev_phase[single], np.asarray(phases)[single])
    for h in single:
        others = [p for p in range(3) if p != phases[h]]
        assert np.all(per_phase[:, h, others] == 0)
    assert np.allclose(per_phase[:, three, 0], s.ev_w[:, three] / 3)
    assert s.ev_w[:, three].max() > 7400.0
    assert set(np.unique(s.charger_power_w)) == {2300.0, 7400.0, 22000.0}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"charger_power_mix": ((9000.0,), (1.0,))}, "charger_power_mix"),
        ({"phase_shares": (0.5, 0.5, 0.5)}, "phase_shares.shares"),
        ({"household_phase": (0, 1)}, "household_phase"),
        ({"homes": "gas"}, "homes"),
        ({"base_load": "office"}, "site_peak_w"),
        ({"max_fill": 1.5}, "max_fill"),
        ({"behaviour": "moon"}, "behaviour"),
    ],
)
def test_bad_fleet_request_is_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    """Each bad fleet setting fails at once with a one-line error naming its field."""
    with pytest.raises(ValidationError) as info:
        _request(**changes)
    assert info.value.field == field
    assert "\n" not in str(info.value)


def test_homes_are_marked_for_electric_heating_and_the_midnight_homes_are_among_them() -> None:
    """The homes that switch on >= 1 kW at midnight in winter (storage heating / Economy 7; four
    of them were among the 'no electric heating' homes before) are marked night storage and
    electric heating, so a feeder of no_electric_heating homes has no midnight switch-on."""
    base = load_base_demand()
    assert base.electric_heating is not None and base.night_storage is not None
    assert base.night_storage.sum() >= 4
    assert np.all(base.electric_heating[base.night_storage])
    plain = eligible_homes(base, "no_electric_heating")
    days = base.base_w[plain].astype(float).reshape(plain.size, 365, 48)
    winter = np.r_[0:59, 334:364]
    step_kw = (
        np.median(days[:, winter + 1, 0:4].mean(axis=2) - days[:, winter, 44:48].mean(axis=2), axis=1) / 1000
    )
    assert step_kw.max() < 1.0
    s = household_series(_request(ev_penetration=0.0, homes="no_electric_heating", days=1))
    assert s.base_w.shape[1] == 40


def test_base_load_keeps_the_common_cold_day() -> None:
    """No week shifts (the old -3..+3 weeks spread one cold day's peak over seven weeks): every
    household follows its source home on the same date, moved by at most an hour, so its series
    is the home's own series at one of the shifts -1 h..+1 h."""
    base = load_base_demand()
    households, _ = place_households(np.array([300]), np.array([0.0]), base, seed=5)
    t = int(START.timestamp()) + 1800 * np.arange(48 * 7, dtype=np.int64)
    series = household_base_w(base, households, t)  # (T, H)
    home = households.profile // SHIFT_HALF_HOURS.size
    for h in range(households.size):
        candidates = [
            base.base_w[home[h], reference_index(t + k * 1800, base.start_s)].astype(float)
            for k in range(-2, 3)
        ]
        assert any(np.array_equal(series[:, h], c) for c in candidates)
    assert np.abs(SHIFT_HALF_HOURS).max() * 1800 <= 3600


def test_household_base_load_is_each_households_row_of_the_profile_table() -> None:
    """Issue 14 "Speed": the base load is read for the households' own profiles only, and is the
    same array (values and layout) as the rows of the full profile table."""
    base = load_base_demand()
    households, _ = place_households(np.array([40, 25]), np.array([0.5, 1.0]), base, seed=3)
    t = int(START.timestamp()) + 60 * np.arange(3 * 1440, dtype=np.int64)
    series = household_base_w(base, households, t)
    table = profile_w(base, t)[households.profile].T
    np.testing.assert_array_equal(series, table)
    assert series.dtype == table.dtype and series.strides == table.strides


def test_a_site_with_no_base_load_and_an_office_site() -> None:
    """base_load none: no base load at all; office: the parametric shape times the site's peak."""
    none = household_series(_request(base_load="none", ev_penetration=0.5))
    assert np.all(none.base_w == 0)
    office = household_series(_request(base_load="office", site_peak_w=60_000.0, ev_penetration=0.5))
    total = office.base_w.sum(axis=1)
    assert np.allclose(total, office_shape(office.time_s) * 60_000.0)
    assert total.max() == pytest.approx(60_000.0) and total.min() == pytest.approx(18_000.0)


def test_workplace_scenario_keeps_the_site_under_its_connection_limit(tmp_path: Path) -> None:
    """scenarios/workplace_site.yaml (3 days here): 40 workplace drivers on 7.4 and 22 kW posts
    behind a 120 kW site connection with a 60 kW office; the smart strategy keeps EVs plus office
    under 120 kW; the per-phase series add up to the EV load; every stay is in sessions.parquet."""
    data = yaml.safe_load((SCENARIOS / "workplace_site.yaml").read_text(encoding="utf-8"))
    data["days"] = 3
    summary = run_scenario(data, tmp_path)
    site = summary["transformers"]["SITE"]
    assert site["peak_kw"] <= 120.0 + 1e-6
    assert site["base_peak_kw"] == pytest.approx(60.0, rel=0.01)
    assert summary["evs"] == 40
    series = pd.read_parquet(tmp_path / "feeder_series.parquet")
    assert np.allclose(series[["ev_l1_w", "ev_l2_w", "ev_l3_w"]].sum(axis=1), series["ev_w"], atol=1.0)
    sessions = pd.read_parquet(tmp_path / "sessions.parquet")
    assert len(sessions) == int(pd.read_parquet(tmp_path / "per_ev.parquet")["sessions"].sum())
    arrive_hour = (sessions["arrive_s"] % 86_400) / 3600
    assert 9 <= np.median(arrive_hour) <= 16  # people arrive at work in the day


def test_phase_mix_puts_single_phase_chargers_on_the_chosen_phase(tmp_path: Path) -> None:
    """ev.phase_mix {L2: 1} with single-phase chargers: the per-phase series carry all EV load on
    L2 and none on L1 or L3 (the scenario's phase choice reaches the power flow's inputs)."""
    data = yaml.safe_load((SCENARIOS / "demo.yaml").read_text(encoding="utf-8"))
    data.update(days=2, strategy="uncontrolled", strategy_config={})
    data["ev"] = {"charger_power_mix_kw": {3.7: 0.5, 7.4: 0.5}, "phase_mix": {"L2": 1.0}}
    data["outputs"] = {"csv": "never", "phase_series": True}
    run_scenario(data, tmp_path)
    series = pd.read_parquet(tmp_path / "transformer_series.parquet")
    assert series["ev_w"].max() > 0
    assert np.allclose(series["ev_l2_w"], series["ev_w"], atol=1e-3)
    assert series["ev_l1_w"].abs().max() == 0 and series["ev_l3_w"].abs().max() == 0
