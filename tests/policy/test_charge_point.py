"""One step of a GB smart charge point: reg 10 + ARB-5 + reg 11 composed."""

from __future__ import annotations

import calendar

import numpy as np

from smartcharge.core.limit import LimitSource
from smartcharge.core.localtime import local_fields
from smartcharge.policy.charge_point import ChargePointState, StepInputs, step_charge_points
from smartcharge.policy.default_hours import ScheduleTable

TABLE = ScheduleTable.gb_default()
MONDAY_1700 = calendar.timegm((2025, 1, 6, 17, 0, 0))  # GMT, so local = UTC
MONDAY_2200 = calendar.timegm((2025, 1, 6, 22, 0, 0))


def _inputs(
    site_w: float = np.inf, response_w: float = np.inf, override: bool = False, restored: bool = False
) -> StepInputs:
    limits = np.full((1, 6), np.inf)
    limits[0, LimitSource.SAFETY - 1] = 7400.0
    limits[0, LimitSource.SITE - 1] = site_w
    limits[0, LimitSource.RESPONSE_DSR - 1] = response_w
    return StepInputs(
        limits,
        np.array([override]),
        np.array([np.isfinite(response_w)]),
        np.array([False]),
        np.array([restored]),
    )


def _step(state: ChargePointState, inputs: StepInputs, now_s: int, u: float = 0.5):  # type: ignore[no-untyped-def]
    return step_charge_points(
        state, TABLE, inputs, local_fields(np.array([now_s])).minute_of_week, now_s, np.array([u])
    )


def test_plugged_in_at_peak_waits_for_default_hours_then_a_delay() -> None:
    """SCP-OP-5, SCP-RD-5: no charge at 17:00; at 22:00 a random delay, then full power."""
    state = ChargePointState.shipped(1)
    state, decision = _step(state, _inputs(), MONDAY_1700)
    assert decision.output_w.tolist() == [0.0]
    assert decision.binding_layer.tolist() == [LimitSource.DEVICE_DEFAULT]
    state, decision = _step(state, _inputs(), MONDAY_2200, u=0.5)
    assert decision.output_w.tolist() == [0.0]
    assert decision.countdown_s.tolist() == [300]
    assert decision.binding_layer.tolist() == [LimitSource.DEVICE_DEFAULT]
    state, decision = _step(state, _inputs(), MONDAY_2200 + 300)
    assert decision.output_w.tolist() == [7400.0]
    assert decision.binding_layer.tolist() == [LimitSource.SAFETY]


def test_override_charges_now_without_delay() -> None:
    """SCP-OP-3, SCP-RD-4: the owner's override lifts default hours and skips the delay."""
    _, decision = _step(ChargePointState.shipped(1), _inputs(override=True), MONDAY_1700)
    assert decision.output_w.tolist() == [7400.0]


def test_site_cut_acts_at_once() -> None:
    """ARB-5 layer 2, SCP-FS-6: a site limit cut is never held back by the delay."""
    state, _ = _step(ChargePointState.shipped(1, max_delay_s=0), _inputs(), MONDAY_2200)
    state = ChargePointState(state.hours, state.delay.with_max_delay_s(1800))
    _, decision = _step(state, _inputs(site_w=2000.0), MONDAY_2200 + 60, u=0.99)
    assert decision.output_w.tolist() == [2000.0]
    assert decision.binding_layer.tolist() == [LimitSource.SITE]


def test_response_dsr_is_exempt_and_immediate() -> None:
    """SCP-RD-4 (response DSR exemption), ARB-5 layer 3."""
    state, _ = _step(ChargePointState.shipped(1, max_delay_s=0), _inputs(), MONDAY_2200)
    state = ChargePointState(state.hours, state.delay.with_max_delay_s(600))
    state, decision = _step(state, _inputs(response_w=1400.0), MONDAY_2200 + 60, u=0.99)
    assert decision.output_w.tolist() == [1400.0]
    _, decision = _step(state, _inputs(), MONDAY_2200 + 120, u=0.99)
    assert decision.output_w.tolist() == [1400.0]  # end of the event is a rise: delayed
    assert decision.countdown_s.tolist() == [int(0.99 * 601)]


def test_power_restored_resumes_after_a_delay() -> None:
    """RD-R1, SCP-FS-4: no synchronised restart after power returns."""
    state, _ = _step(ChargePointState.shipped(1, max_delay_s=0), _inputs(), MONDAY_2200)
    state = ChargePointState(state.hours, state.delay.with_max_delay_s(600))
    _, decision = _step(state, _inputs(restored=True), MONDAY_2200 + 3600, u=0.25)
    assert decision.output_w.tolist() == [0.0]
    assert decision.countdown_s.tolist() == [150]
