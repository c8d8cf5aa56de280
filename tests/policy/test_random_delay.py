"""Randomised delay, SCP Regs 2021 reg 11 (SCP-RD-1…6, RD-R1…R3)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcharge.core.errors import ValidationError
from smartcharge.policy.random_delay import (
    DEFAULT_MAX_DELAY_S,
    MAX_DELAY_CAPABILITY_S,
    NO_DELAY,
    RandomDelayState,
    countdown_s,
    delay_s_from_uniform,
    step_random_delay,
    validate_max_delay_s,
)

NO = np.array([False])
YES = np.array([True])


def _one(max_delay_s: int = 600) -> RandomDelayState:
    return RandomDelayState.initial(1, max_delay_s)


def test_default_and_capability_maxima() -> None:
    """SCP-RD-1, SCP-RD-2: default 600 s, capability 1800 s."""
    assert DEFAULT_MAX_DELAY_S == 600
    assert MAX_DELAY_CAPABILITY_S == 1800
    assert RandomDelayState.initial(3).max_delay_s.tolist() == [600, 600, 600]


@given(
    st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    st.integers(min_value=0, max_value=1800),
)
def test_delay_is_whole_seconds_within_max(u: float, max_s: int) -> None:
    """SCP-RD-2: a delay is a whole number of seconds in [0, max]."""
    delay = delay_s_from_uniform(np.array([u]), np.array([max_s]))
    assert delay.dtype == np.int64
    assert 0 <= int(delay[0]) <= max_s


def test_delay_is_uniform_over_every_second() -> None:
    """SCP-RD-2: uniformly chosen, resolution 1 s: every second 0..600 equally likely."""
    rng = np.random.default_rng(20211467)
    draws = delay_s_from_uniform(rng.random(601_000), np.full(601_000, 600))
    counts = np.bincount(draws, minlength=601)
    assert counts.shape == (601,)
    chi2 = float(((counts - 1000.0) ** 2 / 1000.0).sum())
    # 600 degrees of freedom: mean 600, sd ~34.6; 5 sd either side.
    assert 427 < chi2 < 773


@pytest.mark.parametrize("bad", [-1, 1801, 3600])
def test_max_delay_outside_range_refused(bad: int) -> None:
    """SCP-RD-3: settable 0..1800 s; anything else is refused, never clamped."""
    with pytest.raises(ValidationError, match=r"max_delay_s=.*0\.\.1800 s.*reg 11"):
        validate_max_delay_s(np.array([600, bad]))


def test_fractional_max_delay_refused() -> None:
    with pytest.raises(ValidationError, match="whole number"):
        validate_max_delay_s(np.array([600.5]))
    state = _one()
    with pytest.raises(ValidationError):
        state.with_max_delay_s(1801)
    assert state.with_max_delay_s(1800).max_delay_s.tolist() == [1800]


def test_start_is_delayed_then_applies() -> None:
    """SCP-RD-5: charging would start -> relevant time; level 0 holds for the delay (RD-R2)."""
    state, out = step_random_delay(_one(), np.array([7400.0]), 1000, np.array([0.5]), NO)
    assert out.tolist() == [0.0]
    assert countdown_s(state, 1000).tolist() == [300]
    state, out = step_random_delay(state, np.array([7400.0]), 1299, np.array([0.9]), NO)
    assert out.tolist() == [0.0]
    state, out = step_random_delay(state, np.array([7400.0]), 1300, np.array([0.9]), NO)
    assert out.tolist() == [7400.0]
    assert countdown_s(state, 1300).tolist() == [0]


@pytest.mark.parametrize(("first_w", "second_w"), [(3700.0, 7400.0), (7400.0, 3700.0), (7400.0, 0.0)])
def test_rise_and_fall_are_both_relevant_times(first_w: float, second_w: float) -> None:
    """SCP-RD-5: the rate would increase or decrease -> delayed; previous level holds meanwhile."""
    state, _ = step_random_delay(_one(0), np.array([first_w]), 0, np.array([0.0]), NO)
    state = state.with_max_delay_s(600)
    state, out = step_random_delay(state, np.array([second_w]), 100, np.array([0.1]), NO)
    assert out.tolist() == [first_w]
    delay = int(delay_s_from_uniform(np.array([0.1]), np.array([600]))[0])
    state, out = step_random_delay(state, np.array([second_w]), 100 + delay, np.array([0.1]), NO)
    assert out.tolist() == [second_w]


def test_exempt_change_applies_at_once() -> None:
    """SCP-RD-4: override, equivalent upstream delay or response DSR -> no delay."""
    state, out = step_random_delay(_one(), np.array([7400.0]), 0, np.array([0.99]), YES)
    assert out.tolist() == [7400.0]
    assert state.delay_end_s.tolist() == [NO_DELAY]


def test_exemption_cuts_a_running_delay_short() -> None:
    """SCP-RD-6: the owner can override the delay at each relevant time."""
    state, _ = step_random_delay(_one(), np.array([7400.0]), 0, np.array([0.99]), NO)
    state, out = step_random_delay(state, np.array([7400.0]), 10, np.array([0.5]), YES)
    assert out.tolist() == [7400.0]
    assert countdown_s(state, 10).tolist() == [0]


def test_power_restored_restarts_through_a_delay() -> None:
    """RD-R1, SCP-FS-4: after power is restored the charge point resumes only after a delay."""
    state, _ = step_random_delay(_one(0), np.array([7400.0]), 0, np.array([0.0]), NO)
    state = state.with_max_delay_s(600)
    state, out = step_random_delay(state, np.array([7400.0]), 50, np.array([0.5]), NO, restored=YES)
    assert out.tolist() == [0.0]
    assert countdown_s(state, 50).tolist() == [300]


def test_new_request_during_delay_keeps_countdown() -> None:
    """One relevant time, one delay: a second change retargets without restarting the countdown."""
    state, _ = step_random_delay(_one(), np.array([7400.0]), 0, np.array([0.5]), NO)
    end = int(state.delay_end_s[0])
    state, out = step_random_delay(state, np.array([3700.0]), 100, np.array([0.0]), NO)
    assert int(state.delay_end_s[0]) == end
    assert out.tolist() == [0.0]
    state, out = step_random_delay(state, np.array([3700.0]), end, np.array([0.0]), NO)
    assert out.tolist() == [3700.0]


def test_request_back_to_level_in_force_cancels_delay() -> None:
    state, _ = step_random_delay(_one(), np.array([7400.0]), 0, np.array([0.5]), NO)
    state, out = step_random_delay(state, np.array([0.0]), 10, np.array([0.5]), NO)
    assert out.tolist() == [0.0]
    assert state.delay_end_s.tolist() == [NO_DELAY]


def test_zero_draw_applies_at_once() -> None:
    state, out = step_random_delay(_one(), np.array([7400.0]), 0, np.array([0.0]), NO)
    assert out.tolist() == [7400.0]


@pytest.mark.parametrize("bad", [[None, []], [[1, 2], 3], "600"])
def test_a_maximum_that_is_not_an_array_of_numbers_is_refused(bad: object) -> None:
    """A ragged list from a file must be refused by name, not raise numpy's ValueError (SCP-RD-3)."""
    with pytest.raises(ValidationError, match="whole number"):
        validate_max_delay_s(bad)  # type: ignore[arg-type]
