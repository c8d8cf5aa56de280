"""LV network models and time-series power flow (power-grid-model, cross-checked with pandapower).

- :mod:`~smartcharge.grid.network`: our own radial feeder description, validated on construction;
- :mod:`~smartcharge.grid.feeders`: the shipped feeders by name (IEEE European LV, SimBench, radial);
- :mod:`~smartcharge.grid.reduction`: the exact reduction of series sections and dead-end spurs;
- :mod:`~smartcharge.grid.pgm` and :mod:`~smartcharge.grid.timeseries`: batched asymmetric power flow;
- :mod:`~smartcharge.grid.crosscheck`: the same network in pandapower's three-phase power flow;
- :mod:`~smartcharge.grid.limits`: ESQCR voltage band and thermal limits, per-step extremes;
- :mod:`~smartcharge.grid.screening`: rigorous bounds that let provably safe steps skip the solve.
"""

from smartcharge.grid.crosscheck import CrossCheck, cross_check, to_pandapower
from smartcharge.grid.feeders import FEEDERS, UnknownFeederError, get_feeder
from smartcharge.grid.limits import GridLimits, LimitKind, StepSummary, first_breach
from smartcharge.grid.network import DisconnectedBusError, LVNetwork, Source, Transformer
from smartcharge.grid.pgm import FlowBatch, PGMFeeder
from smartcharge.grid.reduction import ReducedNetwork, reduce_network
from smartcharge.grid.screening import Screen
from smartcharge.grid.timeseries import FeederSolver, customer_loads

__all__ = [
    "FEEDERS",
    "CrossCheck",
    "DisconnectedBusError",
    "FeederSolver",
    "FlowBatch",
    "GridLimits",
    "LVNetwork",
    "LimitKind",
    "PGMFeeder",
    "ReducedNetwork",
    "Screen",
    "Source",
    "StepSummary",
    "Transformer",
    "UnknownFeederError",
    "cross_check",
    "customer_loads",
    "first_breach",
    "get_feeder",
    "reduce_network",
    "to_pandapower",
]
