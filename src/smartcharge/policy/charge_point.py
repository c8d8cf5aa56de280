"""One decision step of a GB smart charge point, composed from the rules (arrays of N).

The live station calls this with N = 1 on every event (new limit, minute tick, power or link
restored); the simulator calls the same function for N vehicles at once. Order of work:

1. reg 10 default hours give the layer-6 limit (0 W outside them, none inside);
2. :func:`~smartcharge.policy.arbitration.arbitrate_layers` gives the effective limit and the
   binding layer (ARB-5);
3. the reg 11 randomised delay holds the previous level for a random time at each change, except
   under the SCP-RD-4 exemptions;
4. the output never exceeds the undelayable envelope (layers 1-3, and an active override), so
   a site or response-DSR cut acts at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.limit import LimitSource
from smartcharge.core.units import BoolArray, FloatArray, IntArray
from smartcharge.policy.arbitration import arbitrate_layers, hard_envelope_w
from smartcharge.policy.default_hours import DefaultHoursState, ScheduleTable, is_charging_allowed
from smartcharge.policy.random_delay import RandomDelayState, countdown_s, step_random_delay

_DEFAULT_COLUMN = LimitSource.DEVICE_DEFAULT - 1


@dataclass(frozen=True, slots=True)
class ChargePointState:
    """Everything a charge point carries from one step to the next."""

    hours: DefaultHoursState
    delay: RandomDelayState

    @classmethod
    def shipped(cls, n: int, max_delay_s: int = 600, dsr_agreement: bool = False) -> ChargePointState:
        return cls(DefaultHoursState.shipped(n, dsr_agreement), RandomDelayState.initial(n, max_delay_s))


@dataclass(frozen=True, slots=True)
class StepInputs:
    """What bears on each charge point at this step; shapes (N, 6) and (N,)."""

    limit_w: FloatArray  # layers 1-5 as given; column 6 is filled from the default hours
    override_active: BoolArray
    response_dsr_active: BoolArray
    upstream_randomised: BoolArray
    restored: BoolArray  # power restored (output was off); not communications, see step_random_delay


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one step per charge point."""

    output_w: FloatArray  # the limit the charge point applies now
    effective_w: FloatArray  # arbitrated limit the delay is heading for
    binding_layer: IntArray  # layer that binds the output (6 while a delay holds it)
    countdown_s: IntArray  # remaining randomised delay, 0 if none (RD-R2)


def step_charge_points(
    state: ChargePointState,
    table: ScheduleTable,
    inputs: StepInputs,
    minute_of_week: IntArray,
    now_s: IntArray | int,
    uniform: FloatArray,
) -> tuple[ChargePointState, Decision]:
    """Advance N charge points to ``now_s``; ``uniform`` holds one draw in [0, 1) each."""
    allowed = is_charging_allowed(state.hours, table, minute_of_week, now_s)
    limits = np.array(inputs.limit_w, dtype=np.float64, copy=True)
    limits[:, _DEFAULT_COLUMN] = np.where(allowed, np.inf, 0.0)
    effective, binding = arbitrate_layers(limits, inputs.override_active)
    exempt = inputs.override_active | inputs.response_dsr_active | inputs.upstream_randomised
    delay, delayed_w = step_random_delay(state.delay, effective, now_s, uniform, exempt, inputs.restored)
    hard = hard_envelope_w(limits, inputs.override_active)
    output = np.minimum(delayed_w, hard)
    held = output != effective
    layer = np.where(held & (output < hard), LimitSource.DEVICE_DEFAULT, binding)
    layer = np.where(held & (output >= hard) & np.isfinite(hard), np.argmin(limits[:, :3], axis=1) + 1, layer)
    decision = Decision(output, effective, layer.astype(np.int64), countdown_s(delay, now_s))
    return ChargePointState(state.hours, delay), decision


__all__ = ["ChargePointState", "Decision", "StepInputs", "step_charge_points"]
