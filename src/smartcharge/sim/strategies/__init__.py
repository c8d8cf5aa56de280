"""Charging strategies: a plain registry of short keys to (frozen Config, prepare) pairs.

========================  =============================================================
key                       what it does
========================  =============================================================
``uncontrolled``          full power on plug-in
``tariff_window``         charge inside the tariff's cheap window, no delay
``tariff_window_delay``   the window plus the reg 11 randomised delay (0 / 600 / 1800 s)
``default_hours``         reg 10 default hours plus the reg 11 delay
``smart``                 ready by departure at least cost then carbon, under group caps
``dsr_turndown``          response-DSR turn-down event, delayed rebound after it
========================  =============================================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from smartcharge.core.errors import ValidationError, check_setting_types
from smartcharge.sim.strategies import (
    default_hours,
    dsr_turndown,
    smart,
    tariff_window,
    tariff_window_delay,
    uncontrolled,
)
from smartcharge.sim.strategies.base import Planner, StrategyContext

#: Why a strategy leaves energy undelivered that full power over the stay would have given
#: (issue 14, item 1); a stay too short for the charger is counted apart (``stay_too_short``).
UNMET_CAUSES = ("stay_too_short", "window_too_short", "held_by_limit")


@dataclass(frozen=True, slots=True)
class StrategyEntry:
    config_type: type[Any]
    prepare: Callable[[Any, StrategyContext], Planner]
    holdback_cause: str = "window_too_short"  # one of UNMET_CAUSES


REGISTRY: dict[str, StrategyEntry] = {
    "uncontrolled": StrategyEntry(uncontrolled.Config, uncontrolled.prepare, "held_by_limit"),
    "tariff_window": StrategyEntry(tariff_window.Config, tariff_window.prepare),
    "tariff_window_delay": StrategyEntry(tariff_window_delay.Config, tariff_window_delay.prepare),
    "default_hours": StrategyEntry(default_hours.Config, default_hours.prepare),
    "smart": StrategyEntry(smart.Config, smart.prepare, "held_by_limit"),
    "dsr_turndown": StrategyEntry(dsr_turndown.Config, dsr_turndown.prepare, "held_by_limit"),
}


def build_config(key: str, settings: Mapping[str, Any] | None = None) -> Any:
    """The frozen Config of strategy ``key`` from plain settings; unknown keys or fields are refused."""
    if key not in REGISTRY:
        raise ValidationError("strategy", key, f"unknown strategy; known: {', '.join(REGISTRY)}")
    config_type = REGISTRY[key].config_type
    names = {f.name for f in dataclasses.fields(config_type)}
    for name in settings or {}:
        if name not in names:
            allowed = ", ".join(sorted(names)) or "none"
            raise ValidationError(
                f"strategy.{name}", (settings or {})[name], f"unknown setting for {key}; allowed: {allowed}"
            )
    check_setting_types(config_type, dict(settings or {}), "strategy")
    return config_type(**dict(settings or {}))


__all__ = ["REGISTRY", "UNMET_CAUSES", "Planner", "StrategyContext", "StrategyEntry", "build_config"]
