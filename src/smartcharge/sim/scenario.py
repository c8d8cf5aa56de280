"""Scenario files (YAML), validated at the edge with pydantic before any work starts.

A scenario names the horizon, the tariff, the strategy and its settings, the EV mix and the
network groups: transformers, each with feeders of households. Unknown fields are refused, as are
impossible values (negative power, penetration above 100 %, a delay above 1800 s); every error
names the field. Strategy settings are checked by the strategy's own frozen Config.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from smartcharge.core.config_file import load_yaml
from smartcharge.core.errors import DataFileError, ValidationError, schema_error
from smartcharge.core.tariff import get_tariff
from smartcharge.policy.random_delay import MAX_DELAY_CAPABILITY_S
from smartcharge.sim.behaviour import BEHAVIOURS
from smartcharge.sim.fleet import CarMix
from smartcharge.sim.strategies import build_config

#: Single-phase home or street charge point limit: 32 A at 230 V (SCP Regs scope, BS 7671 722).
MAX_SINGLE_PHASE_KW = 7.4
#: Three-phase charger ratings: 16 A and 32 A per phase at 400 V.
THREE_PHASE_KW = (11.0, 22.0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Phase = Literal["L1", "L2", "L3"]


def _equal_phases() -> dict[Phase, float]:
    return {"L1": 1 / 3, "L2": 1 / 3, "L3": 1 / 3}


class EVMix(_Strict):
    """A group's cars: chargers (single and three phase), batteries, phases and energy rules."""

    charger_power_mix_kw: dict[float, float] = Field(default_factory=lambda: {3.7: 0.3, 7.4: 0.7})
    phase_mix: dict[Phase, float] = Field(
        default_factory=_equal_phases,
        description="phase of each single-phase charger (the home's phase when the network gives it)",
    )
    battery_kwh_mix: dict[float, float] = Field(default_factory=lambda: {40.0: 0.3, 60.0: 0.5, 80.0: 0.2})
    energy_scale: float = Field(default=1.0, gt=0, le=5, description="GB rescaling of energy per stay")
    max_fill: float = Field(
        default=0.9, gt=0, le=1, description="largest share of the battery one stay refills"
    )

    @field_validator("charger_power_mix_kw")
    @classmethod
    def _powers(cls, mix: dict[float, float]) -> dict[float, float]:
        for power in mix:
            if not (0 < power <= MAX_SINGLE_PHASE_KW or power in THREE_PHASE_KW):
                raise ValueError(
                    f"charger power {power} kW must be single phase > 0 and <= {MAX_SINGLE_PHASE_KW} kW"
                    " (2.3, 3.7, 7.4) or three phase 11 or 22 kW"
                )
        return _shares(mix)

    @field_validator("phase_mix")
    @classmethod
    def _phases(cls, mix: dict[Phase, float]) -> dict[Phase, float]:
        return _shares(mix)

    @field_validator("battery_kwh_mix")
    @classmethod
    def _batteries(cls, mix: dict[float, float]) -> dict[float, float]:
        for size in mix:
            if not 0 < size <= 250:
                raise ValueError(f"battery {size} kWh must be > 0 and <= 250 kWh")
        return _shares(mix)

    def car_mix(self) -> CarMix:
        """The simulator's plain form (watts, shares)."""
        phases = tuple(self.phase_mix.get(p, 0.0) for p in ("L1", "L2", "L3"))
        return CarMix(
            power_w=(
                tuple(k * 1000.0 for k in self.charger_power_mix_kw),
                tuple(self.charger_power_mix_kw.values()),
            ),
            battery_kwh=(tuple(self.battery_kwh_mix), tuple(self.battery_kwh_mix.values())),
            phase_shares=(phases[0], phases[1], phases[2]),
            energy_scale=self.energy_scale,
            max_fill=self.max_fill,
        )


class Feeder(_Strict):
    id: str = Field(min_length=1, max_length=64)
    households: int = Field(ge=1, le=100_000_000, description="homes, or parking spaces at a site")
    ev_penetration: float = Field(ge=0.0, le=1.0, description="share of households with an EV, 0..1")
    cap_kw: float | None = Field(default=None, gt=0, description="feeder limit for the smart strategy")
    behaviour: str = Field(
        default="home_norway", description=f"one of {', '.join(BEHAVIOURS)} or a .json file"
    )
    ev: EVMix | None = Field(default=None, description="this group's cars; the scenario's ev: when absent")
    homes: Literal["all", "electric_heating", "no_electric_heating"] = Field(
        default="all", description="which source homes the households follow (electric heating marks)"
    )
    base_load: Literal["homes", "none", "office"] = Field(
        default="homes", description="homes' demand, no base load, or a parametric office load"
    )
    site_peak_kw: float | None = Field(default=None, gt=0, description="peak of an office site's own load")

    @model_validator(mode="after")
    def _site(self) -> Feeder:
        if self.base_load == "office" and self.site_peak_kw is None:
            raise ValueError("base_load: office needs site_peak_kw (the site's own peak load)")
        if self.base_load != "office" and self.site_peak_kw is not None:
            raise ValueError("site_peak_kw is only for base_load: office")
        return self


class Transformer(_Strict):
    id: str = Field(min_length=1, max_length=64)
    cap_kw: float | None = Field(default=None, gt=0, description="transformer or site connection limit")
    feeders: list[Feeder] = Field(min_length=1)


def _shares(mix: dict[Any, float]) -> dict[Any, float]:
    if not mix:
        raise ValueError("a mix needs at least one entry")
    if any(share < 0 for share in mix.values()) or abs(sum(mix.values()) - 1.0) > 1e-6:
        raise ValueError("shares must be >= 0 and sum to 1")
    return mix


class Outputs(_Strict):
    feeder_series: bool = Field(default=True, description="write every feeder's load series")
    phase_series: bool = Field(
        default=False, description="EV load per phase (ev_l1_w..ev_l3_w) in the series"
    )
    per_ev: bool = True
    sessions: bool = Field(default=True, description="write sessions.parquet, one row per stay")
    csv: Literal["auto", "always", "never"] = "auto"
    diversity_sample_evs: int = Field(default=2000, ge=0, le=100_000)


class Scenario(_Strict):
    name: str = Field(min_length=1, max_length=100)
    start: datetime
    days: int = Field(ge=1, le=366)
    step_s: Literal[60, 300, 600, 900, 1800] = 60
    seed: int = Field(default=1, ge=0)
    warm_up_days: int = Field(default=2, ge=0, le=7)
    chunk_days: int = Field(default=7, ge=1, le=31)
    tariff_id: str
    strategy: str
    strategy_config: dict[str, Any] = Field(default_factory=dict)
    ev: EVMix = Field(default_factory=EVMix)
    transformers: list[Transformer] = Field(min_length=1)
    outputs: Outputs = Field(default_factory=Outputs)

    @field_validator("start")
    @classmethod
    def _aware(cls, start: datetime) -> datetime:
        if start.tzinfo is None:
            raise ValueError("start must carry a time zone, e.g. 2025-01-06T00:00:00Z")
        return start

    @model_validator(mode="after")
    def _unique_ids(self) -> Scenario:
        ids = [f.id for t in self.transformers for f in t.feeders] + [t.id for t in self.transformers]
        if len(set(ids)) != len(ids):
            raise ValueError("transformer and feeder ids must be unique")
        delay = self.strategy_config.get("max_delay_s")
        if isinstance(delay, int | float) and not 0 <= delay <= MAX_DELAY_CAPABILITY_S:
            raise ValueError(
                f"strategy_config.max_delay_s={delay} must be 0..{MAX_DELAY_CAPABILITY_S} s (reg 11)"
            )
        return self

    @property
    def feeders(self) -> list[Feeder]:
        return [f for t in self.transformers for f in t.feeders]

    def car_mixes(self) -> tuple[CarMix, ...]:
        """Each feeder's car mix: its own ``ev:`` or the scenario's."""
        return tuple((f.ev or self.ev).car_mix() for f in self.feeders)


def parse_scenario(data: object, base_dir: Path | None = None) -> Scenario:
    """Validate a scenario mapping; then check the tariff, strategy settings and data files exist."""
    try:
        scenario = Scenario.model_validate(data)
    except PydanticValidationError as exc:
        raise schema_error(exc.errors(), "scenario") from None
    get_tariff(scenario.tariff_id)
    try:
        build_config(scenario.strategy, scenario.strategy_config)
    except ValidationError as exc:
        field = (
            exc.field.replace("strategy.", "strategy_config.", 1) if exc.field != "strategy" else "strategy"
        )
        raise ValidationError(field, exc.value, exc.rule) from None
    for feeder in scenario.feeders:
        if feeder.behaviour not in BEHAVIOURS:
            path = behaviour_path(feeder.behaviour, base_dir)
            if not path.is_file():
                raise DataFileError(str(path), f"behaviour file of feeder {feeder.id!r} not found")
    return scenario


def behaviour_path(name: str, base_dir: Path | None) -> Path:
    path = Path(name)
    return path if path.is_absolute() or base_dir is None else base_dir / path


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario YAML file; a missing or malformed file is named."""
    return parse_scenario(load_yaml(path), path.parent)


__all__ = [
    "THREE_PHASE_KW",
    "EVMix",
    "Feeder",
    "Outputs",
    "Scenario",
    "Transformer",
    "behaviour_path",
    "load_scenario",
    "parse_scenario",
]
