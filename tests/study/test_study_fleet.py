"""The fleet a study file describes reaches the fleet simulator and the power flow (issue 14 item 3).

A study file sets the charger mix (single phase on the home's phase from the network, 11/22 kW
three phase), battery sizes, energy scale and behaviour for the study or per feeder; every case
carries them to ``sim.household_series`` and the asymmetric power flow is given each phase's
load. These run the real fleet simulator; the recorder only keeps what it returned.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from smartcharge.cli.main import app
from smartcharge.grid.timeseries import customer_loads
from smartcharge.study.cases import Case, _solver, phase_loads_of, run_case
from smartcharge.study.config import StudyConfig
from smartcharge.study.loads import HouseholdLoads, LoadRequest, fleet_loads, reactive_var
from smartcharge.study.runner import prepare

RADIAL = {"name": "radial", "params": {"n_households": 24, "n_branches": 2, "span_m": 30}}


def study(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "fleet",
        "start": "2025-01-14T12:00:00+00:00",
        "days": 1,
        "step_s": 300,
        "seeds": [3],
        "penetrations": [0.0, 1.0],
        "workers": 0,
        "crosscheck_steps": 0,
        "feeders": [
            {**RADIAL, "label": "single_7kw", "ev": {"charger_power_mix_kw": {7.4: 1.0}}},
            {
                **RADIAL,
                "label": "three_22kw",
                "ev": {
                    "charger_power_mix_kw": {22: 1.0},
                    "battery_kwh_mix": {100: 1.0},
                    "energy_scale": 1.5,
                    "max_fill": 1.0,
                },
                "behaviour": "public_ac_scotland",
            },
        ],
        "ev": {"charger_power_mix_kw": {2.3: 0.5, 3.7: 0.5}, "battery_kwh_mix": {50: 1.0}},
        "strategies": [{"label": "uncontrolled", "key": "uncontrolled", "tariffs": ["octopus_go"]}],
    }
    base.update(extra)
    return base


class Recorder:
    """Calls the real fleet simulator and keeps each request and what it returned."""

    def __init__(self) -> None:
        self.calls: list[tuple[LoadRequest, HouseholdLoads]] = []

    def __call__(self, req: LoadRequest) -> HouseholdLoads:
        loads = fleet_loads(req)
        self.calls.append((req, loads))
        return loads


def case_of(config: dict[str, Any], feeder: str, penetration: float = 1.0) -> Case:
    cases = prepare(StudyConfig.model_validate(config)).cases
    return next(c for c in cases if c.feeder_key == feeder and c.penetration == penetration)


def test_study_file_fleet_reaches_every_case() -> None:
    """The study's ``ev:`` applies where a feeder has none; a feeder's own ``ev:`` and
    ``behaviour:`` replace it, in watts as the simulator takes them."""
    config = study(feeders=[*study()["feeders"], {**RADIAL, "label": "plain"}])
    plain = case_of(config, "plain").fleet
    assert plain.charger_power_mix_w == ((2300.0, 3700.0), (0.5, 0.5))
    assert plain.battery_kwh_mix == ((50.0,), (1.0,))
    assert plain.behaviour == "home_norway"
    three = case_of(config, "three_22kw").fleet
    assert three.charger_power_mix_w == ((22000.0,), (1.0,))
    assert three.battery_kwh_mix == ((100.0,), (1.0,))
    assert (three.energy_scale, three.max_fill, three.behaviour) == (1.5, 1.0, "public_ac_scotland")


def test_single_phase_chargers_sit_on_their_homes_phase_in_the_power_flow() -> None:
    """7.4 kW single-phase chargers: each home's charger is on the phase the network gives the
    home, so the EV energy per phase follows the homes' phases and differs between phases."""
    recorder = Recorder()
    case = case_of(study(), "single_7kw")
    result = run_case(case, recorder)
    net = _solver(case.feeder_name, case.feeder_params).network
    ((req, loads),) = recorder.calls
    assert req.household_phase == tuple(int(p) for p in net.load_phase)
    assert req.fleet.charger_power_mix_w == ((7400.0,), (1.0,))
    series: Any = loads
    owners = series.has_ev
    assert owners.all() and np.array_equal(series.ev_phase[owners], net.load_phase[owners])
    assert np.all(series.charger_power_w[owners] == 7400.0)
    ev_kwh = series.ev_w.sum(axis=0) * case.step_s / 3.6e6
    expected = [float(ev_kwh[net.load_phase == k].sum()) for k in range(3)]
    assert result.extras["ev_kwh_by_phase"] == pytest.approx(expected, rel=1e-9)
    assert max(expected) - min(expected) > 1.0  # the phases carry different EV energy


def test_three_phase_chargers_spread_over_the_phases_and_the_power_flow_sees_it() -> None:
    """22 kW three-phase chargers draw a third on each phase at the home's bus: the EV energy is
    equal on L1..L3, and the case's power flow is the per-phase one, not the old flow with every
    EV on its home's phase (which puts a full 22 kW on one phase)."""
    recorder = Recorder()
    case = case_of(study(), "three_22kw")
    result = run_case(case, recorder)
    solver = _solver(case.feeder_name, case.feeder_params)
    net = solver.network
    ((req, loads),) = recorder.calls
    series: Any = loads
    assert np.all(series.ev_phase[series.has_ev] == -1)  # three phase, balanced
    assert np.all(series.charger_power_w[series.has_ev] == 22000.0)
    by_phase = result.extras["ev_kwh_by_phase"]
    assert sum(by_phase) > 10.0
    assert by_phase == pytest.approx([sum(by_phase) / 3] * 3, rel=1e-9)
    p, q = phase_loads_of(loads, net)
    per_phase = solver.solve(p, q)
    assert np.array_equal(result.summary.u_min_v, per_phase.u_min_v)
    assert np.array_equal(result.summary.trafo_loading_pu, per_phase.trafo_loading_pu)
    on_home_phase = solver.solve(
        customer_loads(series.base_w + series.ev_w, net.n_load),
        customer_loads(reactive_var(series.base_w, series.ev_w), net.n_load),
    )
    busy = series.ev_w.sum(axis=1) > 0
    # Spread over three phases, the same charging loads the transformer's worst phase less and
    # drops the voltage less than 22 kW on one phase would.
    assert per_phase.trafo_loading_pu[busy].max() < on_home_phase.trafo_loading_pu[busy].max()
    assert per_phase.u_min_v[busy].min() > on_home_phase.u_min_v[busy].min()


def test_bad_charger_in_a_study_file_is_refused_by_field(tmp_path: Path) -> None:
    """A 9 kW charger (neither single phase <= 7.4 kW nor 11/22 kW three phase) stops ``study
    check`` with one line naming the feeder's field; no traceback."""
    config = study()
    config["feeders"][0]["ev"] = {"charger_power_mix_kw": {9.0: 1.0}}
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML, with no anchors
    result = CliRunner().invoke(app, ["study", "check", str(path)])
    assert result.exit_code == 2
    assert "feeders.0.ev.charger_power_mix_kw" in result.output and "9.0 kW" in result.output
    assert "Traceback" not in result.output
    config = study(behaviour="home_mars")
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML, with no anchors
    result = CliRunner().invoke(app, ["study", "check", str(path)])
    assert result.exit_code == 2 and "behaviour" in result.output and "home_norway" in result.output
