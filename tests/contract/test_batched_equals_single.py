"""One rule, one implementation: N calls of size 1 equal one batched call of size N (STYLE §2).

The live station runs the policy with arrays of one; the simulator with arrays of N. Hypothesis
generates event sequences; both ways of running them must agree exactly.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcharge.core.localtime import local_fields
from smartcharge.policy.charge_point import ChargePointState, StepInputs, step_charge_points
from smartcharge.policy.default_hours import ScheduleTable
from smartcharge.policy.offers import flexibility_offers
from smartcharge.policy.random_delay import RandomDelayState, step_random_delay

TABLE = ScheduleTable.gb_default()
START_S = 1_736_150_400  # Monday 2025-01-06 08:00 UTC

event = st.fixed_dictionaries(
    {
        "dt_s": st.integers(1, 4 * 3600),
        "site_w": st.sampled_from([np.inf, 11_000.0, 3_000.0, 0.0]),
        "response_w": st.sampled_from([np.inf, np.inf, 1_400.0]),
        "routine_w": st.sampled_from([np.inf, 7_400.0, 2_000.0, 0.0]),
        "override": st.booleans(),
        "upstream": st.booleans(),
        "restored": st.booleans(),
        "u": st.floats(0.0, 1.0, exclude_max=True),
    }
)


def _inputs(events: list[dict[str, float]]) -> StepInputs:
    n = len(events)
    limits = np.full((n, 6), np.inf)
    limits[:, 0] = 7400.0
    limits[:, 1] = [e["site_w"] for e in events]
    limits[:, 2] = [e["response_w"] for e in events]
    limits[:, 4] = [e["routine_w"] for e in events]
    return StepInputs(
        limits,
        np.array([bool(e["override"]) for e in events]),
        np.isfinite(limits[:, 2]),
        np.array([bool(e["upstream"]) for e in events]),
        np.array([bool(e["restored"]) for e in events]),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(event, min_size=1, max_size=12), min_size=1, max_size=6), st.integers(0, 1800))
def test_charge_point_step_batched_equals_single(histories: list[list[dict[str, float]]], max_s: int) -> None:
    """SCP-RD-*, SCP-OP-*, ARB-5: the batched kernel equals N single-charge-point runs."""
    n = len(histories)
    steps = max(len(h) for h in histories)
    # Pad shorter histories by repeating their last event one second later each step.
    padded = [h + [dict(h[-1], dt_s=1)] * (steps - len(h)) for h in histories]
    times = np.array([START_S + np.cumsum([e["dt_s"] for e in h]) for h in padded])  # (n, steps)

    batch = ChargePointState.shipped(n, max_delay_s=max_s)
    singles = [ChargePointState.shipped(1, max_delay_s=max_s) for _ in range(n)]
    for k in range(steps):
        events = [padded[i][k] for i in range(n)]
        now = times[:, k]
        minute = local_fields(now).minute_of_week
        u = np.array([e["u"] for e in events])
        batch, decided = step_charge_points(batch, TABLE, _inputs(events), minute, now, u)
        for i in range(n):
            singles[i], one = step_charge_points(
                singles[i], TABLE, _inputs([events[i]]), minute[i : i + 1], now[i : i + 1], u[i : i + 1]
            )
            assert one.output_w[0] == decided.output_w[i]
            assert one.binding_layer[0] == decided.binding_layer[i]
            assert one.countdown_s[0] == decided.countdown_s[i]


@given(
    st.lists(
        st.tuples(st.floats(0, 22_000), st.floats(0, 1, exclude_max=True), st.booleans()),
        min_size=1,
        max_size=20,
    )
)
def test_random_delay_batched_equals_single(rows: list[tuple[float, float, bool]]) -> None:
    """SCP-RD-2: one call over N equals N calls of one."""
    requested = np.array([r[0] for r in rows])
    u = np.array([r[1] for r in rows])
    exempt = np.array([r[2] for r in rows])
    batch, out = step_random_delay(RandomDelayState.initial(len(rows)), requested, 100, u, exempt)
    for i in range(len(rows)):
        one, single_out = step_random_delay(
            RandomDelayState.initial(1), requested[i : i + 1], 100, u[i : i + 1], exempt[i : i + 1]
        )
        assert single_out[0] == out[i]
        assert one.delay_end_s[0] == batch.delay_end_s[i]


def test_offers_batched_equals_single() -> None:
    """DSR-1: offers for N needs equal N separate calls."""
    rng = np.random.default_rng(7)
    plug = rng.integers(0, 20 * 3600, 25)
    leave = plug + rng.integers(0, 20 * 3600, 25)
    energy = rng.uniform(0, 40, 25)
    power = rng.choice([3700.0, 7400.0], 25)
    intended = rng.integers(0, 30 * 3600, 25)
    batch = flexibility_offers(plug, leave, energy, power, intended, 0, 900, 200)
    for i in range(25):
        s = slice(i, i + 1)
        one = flexibility_offers(plug[s], leave[s], energy[s], power[s], intended[s], 0, 900, 200)
        np.testing.assert_array_equal(one.intended_w[0], batch.intended_w[i])
        np.testing.assert_array_equal(one.most_delayed_w[0], batch.most_delayed_w[i])
