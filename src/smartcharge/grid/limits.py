"""Network limits and how a time series of power flows is judged against them.

- Customer voltage: 230 V +10 % / -6 % phase to neutral (ESQCR 2002 reg 27), checked at every
  customer's connection point on the customer's own phase.
- Thermal: each cable section's current against its rating from the network data, and the
  transformer's LV phase current against its rated current ``sn / (sqrt(3) * u2)``.
  ``thermal_fraction`` < 1 tightens both (a planning margin); it never loosens past 1 silently:
  values above 1 are refused.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import NOMINAL_VOLTAGE_V, BoolArray, FloatArray


class LimitKind(enum.Enum):
    UNDERVOLTAGE = "undervoltage"
    OVERVOLTAGE = "overvoltage"
    LINE_THERMAL = "line_thermal"
    TRANSFORMER_THERMAL = "transformer_thermal"


LIMIT_ORDER = (
    LimitKind.UNDERVOLTAGE,
    LimitKind.OVERVOLTAGE,
    LimitKind.LINE_THERMAL,
    LimitKind.TRANSFORMER_THERMAL,
)


@dataclass(frozen=True, slots=True)
class GridLimits:
    """Statutory voltage band and thermal margin (ESQCR 2002: 216.2 V to 253 V)."""

    v_min_v: float = NOMINAL_VOLTAGE_V * 0.94
    v_max_v: float = NOMINAL_VOLTAGE_V * 1.10
    thermal_fraction: float = 1.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.v_min_v) and self.v_min_v > 0):
            raise ValidationError("v_min_v", self.v_min_v, "must be > 0 V")
        if not (np.isfinite(self.v_max_v) and self.v_max_v > self.v_min_v):
            raise ValidationError("v_max_v", self.v_max_v, f"must be above v_min_v={self.v_min_v} V")
        if not 0 < self.thermal_fraction <= 1:
            raise ValidationError(
                "thermal_fraction", self.thermal_fraction, "must be in (0, 1] of the rating"
            )

    def tightened_by(self, other: GridLimits) -> bool:
        """Whether every limit of ``self`` is at least as strict as ``other``'s."""
        return (
            self.v_min_v >= other.v_min_v
            and self.v_max_v <= other.v_max_v
            and self.thermal_fraction <= other.thermal_fraction
        )


@dataclass(frozen=True, slots=True)
class StepSummary:
    """Per-step extremes of a power-flow time series (``T`` steps)."""

    u_min_v: FloatArray  # (T,) lowest customer voltage
    u_max_v: FloatArray  # (T,) highest customer voltage
    line_loading_pu: FloatArray  # (T,) highest section current / rating
    trafo_loading_pu: FloatArray  # (T,) highest LV phase current / rated current
    #: (T,) steps proven safe by :mod:`~smartcharge.grid.screening` and not solved: their values
    #: are bounds (inside every limit), not power-flow results. None: every step was solved.
    screened: BoolArray | None = None

    def breaches(self, limits: GridLimits) -> BoolArray:
        """(T, 4) boolean: which limit (in :data:`LIMIT_ORDER`) each step breaches."""
        return np.stack(
            [
                self.u_min_v < limits.v_min_v,
                self.u_max_v > limits.v_max_v,
                self.line_loading_pu > limits.thermal_fraction,
                self.trafo_loading_pu > limits.thermal_fraction,
            ],
            axis=1,
        )

    def records(self) -> StepSummary:
        """The steps at which any extreme so far is exceeded, in order, with their values (K <= T).

        Each limit is breached first at a step where its metric goes past every earlier value (a
        new lowest voltage, a new highest voltage or loading), so the first breach in time, and
        which limit it is, are the same on these steps as on all T, for *any* limits; so are the
        overall extremes. A study keeps this instead of the whole week for the cases whose series
        it never draws (40,440 cases x 10,080 steps x 7 arrays would not fit in memory)."""
        keep = (
            _new_extreme(self.u_min_v, np.minimum)
            | _new_extreme(self.u_max_v, np.maximum)
            | _new_extreme(self.line_loading_pu, np.maximum)
            | _new_extreme(self.trafo_loading_pu, np.maximum)
        )
        return StepSummary(
            u_min_v=self.u_min_v[keep],
            u_max_v=self.u_max_v[keep],
            line_loading_pu=self.line_loading_pu[keep],
            trafo_loading_pu=self.trafo_loading_pu[keep],
            screened=None if self.screened is None else self.screened[keep],
        )

    @staticmethod
    def concat(parts: list[StepSummary]) -> StepSummary:
        screened = None
        if any(p.screened is not None for p in parts):
            screened = np.concatenate(
                [
                    p.screened if p.screened is not None else np.zeros(p.u_min_v.size, dtype=bool)
                    for p in parts
                ]
            )
        return StepSummary(
            u_min_v=np.concatenate([p.u_min_v for p in parts]),
            u_max_v=np.concatenate([p.u_max_v for p in parts]),
            line_loading_pu=np.concatenate([p.line_loading_pu for p in parts]),
            trafo_loading_pu=np.concatenate([p.trafo_loading_pu for p in parts]),
            screened=screened,
        )


def _new_extreme(values: FloatArray, extreme: np.ufunc) -> BoolArray:
    """(T,) True where ``values`` goes strictly past every earlier value (the first step always)."""
    v = np.asarray(values)
    if v.size == 0:
        return np.zeros(0, dtype=bool)
    so_far = extreme.accumulate(v)
    out = np.empty(v.size, dtype=bool)
    out[0] = True
    out[1:] = so_far[1:] != so_far[:-1]
    return out


def first_breach(summary: StepSummary, limits: GridLimits) -> LimitKind | None:
    """The limit breached first in time (ties: in :data:`LIMIT_ORDER`), or None."""
    flags = summary.breaches(limits)
    any_step = flags.any(axis=1)
    if not any_step.any():
        return None
    step = int(np.argmax(any_step))
    return LIMIT_ORDER[int(np.argmax(flags[step]))]


__all__ = ["LIMIT_ORDER", "GridLimits", "LimitKind", "StepSummary", "first_breach"]
