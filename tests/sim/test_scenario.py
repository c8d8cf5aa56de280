"""Scenario files: validated before any work, with the field or file named (issue 4, Bad input)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from smartcharge.cli.main import app
from smartcharge.core.errors import DataFileError, ValidationError
from smartcharge.sim import run_scenario
from smartcharge.sim.scenario import load_scenario, parse_scenario

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "scenarios" / "demo.yaml"


def _demo() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    return data


def _with(path: str, value: object) -> dict[str, Any]:
    data = copy.deepcopy(_demo())
    node: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    node[keys[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("colour", "blue", "colour"),  # unknown field
        ("transformers.0.feeders.0.ev_penetration", 1.5, "transformers.0.feeders.0.ev_penetration"),
        ("ev.charger_power_mix_kw", {-3.7: 1.0}, "ev.charger_power_mix_kw"),
        ("ev.charger_power_mix_kw", {9.0: 1.0}, "ev.charger_power_mix_kw"),  # neither 1- nor 3-phase
        ("ev.phase_mix", {"L1": 0.5, "L2": 0.2}, "ev.phase_mix"),
        ("ev.phase_mix", {"L4": 1.0}, "ev.phase_mix.L4.[key]"),
        ("transformers.0.feeders.0.homes", "gas", "transformers.0.feeders.0.homes"),
        ("transformers.0.feeders.0.base_load", "office", "transformers.0.feeders.0"),
        (
            "transformers.0.feeders.0.ev",
            {"charger_power_mix_kw": {50.0: 1.0}},
            "transformers.0.feeders.0.ev.charger_power_mix_kw",
        ),
        ("strategy_config", {"max_delay_s": 3600}, "scenario"),
        ("days", 0, "days"),
        ("strategy", "dumb", "strategy"),
        ("strategy_config", {"max_dleay_s": 600}, "strategy_config.max_dleay_s"),
        ("transformers.0.feeders.0.households", -4, "transformers.0.feeders.0.households"),
        ("start", "2025-01-06T00:00:00", "start"),
    ],
)
def test_bad_scenario_is_refused_naming_the_field(path: str, value: object, field: str) -> None:
    """Unknown fields and impossible values fail with the field named; nothing is clamped."""
    with pytest.raises(ValidationError) as info:
        parse_scenario(_with(path, value))
    assert info.value.field == field
    if path == "strategy_config":
        assert "max_d" in str(info.value)


def test_delay_above_1800_s_names_reg_11() -> None:
    """A randomised delay above the 1800 s capability is refused (SCP-RD-1, SCP-RD-3)."""
    with pytest.raises(ValidationError, match=r"max_delay_s=3600 must be 0\.\.1800"):
        parse_scenario(_with("strategy_config", {"max_delay_s": 3600}))


def test_missing_behaviour_file_is_named_before_any_work(tmp_path: Path) -> None:
    """A feeder naming a data file that does not exist fails before the run, naming the file."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(_with("transformers.0.feeders.0.behaviour", "my_sessions.json")))
    out = tmp_path / "out"
    with pytest.raises(DataFileError, match="my_sessions.json"):
        run_scenario(scenario, out)
    assert not out.exists()


def test_missing_scenario_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="nope.yaml"):
        load_scenario(tmp_path / "nope.yaml")


def test_demo_scenario_runs_from_the_cli(tmp_path: Path) -> None:
    """`smartcharge sim run scenarios/demo.yaml --out DIR` writes Parquet, CSV and summary.json."""
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["sim", "run", str(DEMO), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("transformer_series", "feeder_series", "per_ev"):
        assert (out / f"{name}.parquet").is_file() and (out / f"{name}.csv").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["evs"] == 57 and summary["households"] == 135
    t1 = summary["transformers"]["T1"]
    assert t1["peak_kw"] >= t1["base_peak_kw"] and t1["ev_peak_kw"] > 0
    assert summary["energy_delivered_kwh"] <= summary["energy_wanted_kwh"]
    assert [row["n_evs"] for row in summary["diversity_curve"]][:3] == [1, 2, 5]


def test_cli_bad_scenario_exits_with_the_field_named(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(yaml.safe_dump(_with("transformers.0.feeders.0.ev_penetration", 2.0)))
    result = CliRunner().invoke(app, ["sim", "run", str(scenario), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "ev_penetration" in result.output


@pytest.mark.parametrize("path", sorted((REPO / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_example_scenarios_are_valid(path: Path) -> None:
    """Every example scenario in scenarios/ passes validation (run in full by the benchmarks/CLI)."""
    scenario = load_scenario(path)
    assert scenario.feeders and scenario.days >= 1


def test_public_names_are_exported() -> None:
    """The public API of smartcharge.sim is explicit (STYLE 13)."""
    import smartcharge.sim as sim

    assert set(sim.__all__) == {
        "STRATEGIES",
        "HouseholdSeries",
        "HouseholdSeriesRequest",
        "Scenario",
        "household_series",
        "load_calibration",
        "load_scenario",
        "run_scenario",
    }
    assert set(sim.STRATEGIES) == {
        "uncontrolled",
        "tariff_window",
        "tariff_window_delay",
        "default_hours",
        "smart",
        "dsr_turndown",
    }


def test_household_series_with_no_evs_is_base_demand_only() -> None:
    """A group at 0 % EV penetration (the study's baseline) has base demand and no charging."""
    from datetime import UTC, datetime

    from smartcharge.sim import HouseholdSeriesRequest, household_series

    series = household_series(
        HouseholdSeriesRequest(
            n_households=10,
            ev_penetration=0.0,
            strategy="uncontrolled",
            strategy_config={},
            tariff_id="octopus_go",
            start=datetime(2025, 1, 6, tzinfo=UTC),
            days=1,
            step_s=60,
            seed=1,
            group_cap_w=None,
        )
    )
    assert series.base_w.shape == (1440, 10)
    assert series.base_w.sum() > 0
    assert not series.has_ev.any()
    assert series.ev_w.sum() == 0.0
