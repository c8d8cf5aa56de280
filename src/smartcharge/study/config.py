"""The study file (YAML), validated at the edge with pydantic before anything runs.

Every field is checked here or in :func:`smartcharge.study.runner.prepare` (feeder names, tariff
ids, network data) before the first power flow: an unknown feeder, a bus with no path to the
source or a rating of zero stops the study with a message naming the field (issue 5, "Bad input").
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from smartcharge.core.config_file import load_yaml
from smartcharge.core.errors import ValidationError, schema_error
from smartcharge.sim.behaviour import BEHAVIOURS
from smartcharge.sim.scenario import EVMix

StrategyKey = Literal[
    "uncontrolled",
    "tariff_window",
    "tariff_window_delay",
    "default_hours",
    "smart",
    "dsr_turndown",
    "network_aware",  # the study's own: planned against the feeder's headroom (study/network_aware.py)
]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Homes = Literal["all", "electric_heating", "no_electric_heating"]


def _packaged_behaviour(value: str | None) -> str | None:
    if value is not None and value not in BEHAVIOURS:
        raise ValueError(f"behaviour must be one of {', '.join(BEHAVIOURS)}")
    return value


class FeederSpec(_Frozen):
    """A named feeder; ``ev``, ``behaviour`` and ``homes`` override the study's for this group."""

    name: str
    label: str | None = None
    params: dict[str, float | int] = Field(default_factory=dict)
    ev: EVMix | None = None
    behaviour: str | None = None
    homes: Homes | None = None

    @field_validator("behaviour")
    @classmethod
    def _behaviour(cls, value: str | None) -> str | None:
        return _packaged_behaviour(value)

    @property
    def key(self) -> str:
        return self.label or self.name


class PopulationSpec(_Frozen):
    """``count`` feeders of the parametric GB population (grid/population.py), indices 0..count-1."""

    count: int = Field(ge=1, le=10_000)
    seed: int = Field(default=1, ge=0)
    first: int = Field(default=0, ge=0)

    def feeders(self) -> list[FeederSpec]:
        return [
            FeederSpec(
                name="gb_lv",
                label=f"gb_lv_{self.seed}_{i:04d}",
                params={"index": i, "population_seed": self.seed},
            )
            for i in range(self.first, self.first + self.count)
        ]


class StrategySpec(_Frozen):
    """One charging strategy of the fleet simulator; ``tariffs`` > 1 staggers households over them."""

    label: str
    key: StrategyKey
    tariffs: list[str] = Field(min_length=1)
    config: dict[str, float | int | str | bool] = Field(default_factory=dict)
    group_cap_w: float | None = Field(default=None, gt=0)


class LimitsSpec(_Frozen):
    """ESQCR 2002 customer voltage band and the thermal margin (fraction of each rating)."""

    v_min_v: float = Field(default=216.2, gt=0)
    v_max_v: float = Field(default=253.0, gt=0)
    thermal_fraction: float = Field(default=1.0, gt=0, le=1)


class SecondPeakSpec(_Frozen):
    feeder: str
    penetration: float = Field(ge=0, le=1)
    strategies: list[StrategySpec] = Field(min_length=1)


class CostSpec(_Frozen):
    feeder: str
    penetration: float = Field(gt=0, le=1)
    strategies: list[StrategySpec] = Field(min_length=1)


class StudyConfig(_Frozen):
    name: str
    start: datetime
    days: int = Field(ge=1, le=366)
    step_s: int = Field(default=60, ge=60, le=3600)
    seeds: list[int] = Field(min_length=1)
    penetrations: list[float] = Field(min_length=2)
    feeders: list[FeederSpec] = Field(default_factory=list)
    population: PopulationSpec | None = None
    strategies: list[StrategySpec] = Field(min_length=1)
    limits: LimitsSpec = Field(default_factory=LimitsSpec)
    second_peak: SecondPeakSpec | None = None
    cost: CostSpec | None = None
    #: A penetration is hosted only if the cars also get at least this share of the energy they
    #: ask for by departure (issue 14 item 6).
    min_energy_served: float = Field(default=0.99, ge=0, le=1)
    #: "asked": against the energy asked by departure (the issue's test); "deliverable": against
    #: what each stay could take at its charger's full power (what a strategy held back).
    service_basis: Literal["asked", "deliverable"] = "asked"
    workers: int = Field(default=2, ge=0, le=64)
    crosscheck_steps: int = Field(default=2, ge=0, le=50)
    #: The fleet (issue 14 item 3), as in a scenario file: charger mix (2.3/3.7/7.4 kW single
    #: phase on the home's phase from the network; 11/22 kW three phase), battery sizes, energy
    #: scale, max fill; a feeder's own ``ev:`` / ``behaviour:`` / ``homes:`` replace these.
    ev: EVMix = Field(default_factory=EVMix)
    behaviour: str = "home_norway"
    homes: Homes = "all"

    @field_validator("behaviour")
    @classmethod
    def _behaviour(cls, value: str) -> str:
        return _packaged_behaviour(value) or value

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("start must carry a time zone, e.g. 2025-01-13T00:00:00+00:00")
        return value

    @field_validator("penetrations")
    @classmethod
    def _penetrations(cls, value: list[float]) -> list[float]:
        if any(not 0 <= p <= 1 for p in value) or value != sorted(set(value)):
            raise ValueError("penetrations must be distinct, increasing and within 0..1")
        return value

    def all_feeders(self) -> list[FeederSpec]:
        """The named feeders, then the population's."""
        return list(self.feeders) + (self.population.feeders() if self.population else [])

    @model_validator(mode="after")
    def _references(self) -> StudyConfig:
        if not self.all_feeders():
            raise ValueError("feeders: a study needs at least one feeder or a population")
        keys = [f.key for f in self.all_feeders()]
        if len(set(keys)) != len(keys):
            raise ValueError(f"feeder labels must be unique: {keys}")
        labels = [s.label for s in self.strategies]
        if len(set(labels)) != len(labels):
            raise ValueError(f"strategy labels must be unique: {labels}")
        for part in (self.second_peak, self.cost):
            if part is not None and part.feeder not in keys:
                raise ValueError(f"feeder {part.feeder!r} is not among the study's feeders {keys}")
        return self


def load_study(path: Path) -> StudyConfig:
    """Read and validate a study file; errors name the field (pydantic) or the file."""
    data: Any = load_yaml(path)
    if not isinstance(data, dict):
        raise ValidationError("study", str(path), "a study file is a YAML mapping")
    try:
        return StudyConfig.model_validate(data)
    except PydanticValidationError as exc:
        raise schema_error(exc.errors(), "study") from None


__all__ = [
    "CostSpec",
    "EVMix",
    "FeederSpec",
    "LimitsSpec",
    "PopulationSpec",
    "SecondPeakSpec",
    "StrategySpec",
    "StudyConfig",
    "load_study",
]
