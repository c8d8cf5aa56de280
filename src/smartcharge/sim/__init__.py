"""Fleet simulator: many EVs under the GB rules, on whole sessions and arrays.

Uses ``smartcharge.policy`` for every rule and never imports an adapter or a role.

Public entry points:

- :func:`household_series` — per-household base and EV load for one small group (feeder);
- :func:`run_scenario` — a YAML scenario of transformers and feeders, written to an output folder;
- :data:`STRATEGIES` — the strategy registry (key -> frozen Config + prepare);
- :func:`load_calibration` — the behaviour tables' check against held-back owners (KS distances).
"""

from smartcharge.sim.behaviour import load_calibration
from smartcharge.sim.household import HouseholdSeries, HouseholdSeriesRequest, household_series
from smartcharge.sim.runner import run_scenario
from smartcharge.sim.scenario import Scenario, load_scenario
from smartcharge.sim.strategies import REGISTRY as STRATEGIES

__all__ = [
    "STRATEGIES",
    "HouseholdSeries",
    "HouseholdSeriesRequest",
    "Scenario",
    "household_series",
    "load_calibration",
    "load_scenario",
    "run_scenario",
]
