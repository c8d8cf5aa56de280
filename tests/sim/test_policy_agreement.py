"""The simulator and the live charge point agree: same draws, same start and stop seconds.

The live station calls :func:`smartcharge.policy.charge_point.step_charge_points` with N = 1 on
every event; here it is stepped every second over a session, with the tariff window as routine
DSR (layer 5) and the charger rating as layer 1. The simulator turns the same session into
boxes in one vectorised call. With the same uniform draw for each relevant time the two must
switch on and off at the same second (SCP Regs 2021 reg 10 and reg 11; SCP-RD-2, SCP-RD-5).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcharge.core.localtime import local_fields
from smartcharge.core.tariff import get_tariff
from smartcharge.policy.charge_point import ChargePointState, StepInputs, step_charge_points
from smartcharge.policy.default_hours import FirstUseChoice, ScheduleTable
from smartcharge.sim.charging import charge_on_timeline
from smartcharge.sim.sessions import Sessions
from smartcharge.sim.timeline import LevelTimeline, default_hours_timeline, tariff_window_timeline

POWER_W = 3700.0


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def _live_on_off(
    plugin_s: int,
    plugout_s: int,
    timeline: LevelTimeline,
    draws: np.ndarray,
    tariff_layer: bool,
    max_delay_s: int,
    defaults_removed: bool = False,
    draw_timeline: LevelTimeline | None = None,
) -> list[tuple[int, int]]:
    """Step the live policy as a station does; return the (on, off) seconds of its output.

    ``defaults_removed``: the owner replaced the reg 10 default hours by the tariff's window at first
    use (SCP-OP-2, SCP-OP-3), the configuration the simulator's tariff strategies assume by default.
    """
    state = ChargePointState.shipped(1, max_delay_s=max_delay_s)
    if defaults_removed:
        state = ChargePointState(state.hours.with_choice(np.array([0]), FirstUseChoice.REMOVED), state.delay)
    table = ScheduleTable.gb_default()
    flags = StepInputs(
        limit_w=np.zeros((1, 6)),
        override_active=np.zeros(1, bool),
        response_dsr_active=np.zeros(1, bool),
        upstream_randomised=np.zeros(1, bool),
        restored=np.zeros(1, bool),
    )
    draw_edges = (draw_timeline or timeline).edge_s
    first_seg = int(np.searchsorted(draw_edges, plugin_s, side="right") - 1)
    runs: list[tuple[int, int]] = []
    on_since: int | None = None
    now = plugin_s
    # Like the live station: a call on every minute tick and one when a countdown ends.
    while now < plugout_s:
        seg = int(np.searchsorted(timeline.edge_s, now, side="right") - 1)
        limits = np.full((1, 6), np.inf)
        limits[0, 0] = POWER_W
        if tariff_layer:
            limits[0, 4] = POWER_W * timeline.level[seg]
        inputs = StepInputs(
            limits,
            flags.override_active,
            flags.response_dsr_active,
            flags.upstream_randomised,
            flags.restored,
        )
        minute_of_week = local_fields(np.array([now])).minute_of_week
        draw_seg = int(np.searchsorted(draw_edges, now, side="right") - 1) - first_seg
        draw = draws[draw_seg : draw_seg + 1]
        state, decision = step_charge_points(state, table, inputs, minute_of_week, now, draw)
        on = decision.output_w[0] > 0
        if on and on_since is None:
            on_since = now
        elif not on and on_since is not None:
            runs.append((on_since, now))
            on_since = None
        next_tick = now - now % 60 + 60
        countdown = int(decision.countdown_s[0])
        now = min(next_tick, now + countdown) if countdown > 0 else next_tick
    if on_since is not None:
        runs.append((on_since, plugout_s))
    return runs


def _sim_on_off(
    plugin_s: int, plugout_s: int, timeline: LevelTimeline, seed: int, max_delay_s: int
) -> list[tuple[int, int]]:
    sessions = Sessions(np.zeros(1, np.int64), np.array([plugin_s]), np.array([plugout_s]), np.array([500.0]))
    boxes = charge_on_timeline(
        sessions, np.array([POWER_W]), timeline, max_delay_s, np.random.default_rng(seed), False
    )
    return [(int(a), int(b)) for a, b in zip(boxes.start_s, boxes.end_s, strict=True)]


@pytest.mark.parametrize("max_delay_s", [600, 1800])
def test_tariff_window_delay_sim_equals_live_policy(max_delay_s: int) -> None:
    """Tariff window + reg 11 delay: same draws give the same on/off seconds (SCP-RD-2, SCP-RD-5)."""
    plugin, plugout = _epoch("2025-01-06T20:03:17"), _epoch("2025-01-07T07:10:00")
    tariff = get_tariff("octopus_go")
    timeline = tariff_window_timeline(tariff, plugin - 86_400, plugout + 86_400)
    n_segments = int(np.sum((timeline.edge_s > plugin) & (timeline.edge_s < plugout))) + 1
    draws = np.random.default_rng(11).random(n_segments)
    live = _live_on_off(plugin, plugout, timeline, draws, tariff_layer=True, max_delay_s=max_delay_s)
    sim = _sim_on_off(plugin, plugout, timeline, 11, max_delay_s)
    assert len(sim) == 1 and sim == live
    on, off = sim[0]
    assert 0 <= on - _epoch("2025-01-07T00:30:00") <= max_delay_s  # window start + delay
    assert 0 <= off - _epoch("2025-01-07T05:30:00") <= max_delay_s  # the fall is delayed too


def test_default_hours_sim_equals_live_policy() -> None:
    """Reg 10 default hours with the reg 11 delay: start after the 16:00-22:00 peak, pause in the
    08:00-11:00 peak, restart after it, each edge with its own delay (SCP-OP-1, SCP-OP-5)."""
    plugin, plugout = _epoch("2025-01-06T17:00:00"), _epoch("2025-01-07T12:00:00")
    timeline = default_hours_timeline(plugin - 86_400, plugout + 86_400)
    n_segments = int(np.sum((timeline.edge_s > plugin) & (timeline.edge_s < plugout))) + 1
    draws = np.random.default_rng(5).random(n_segments)
    live = _live_on_off(plugin, plugout, timeline, draws, tariff_layer=False, max_delay_s=600)
    sim = _sim_on_off(plugin, plugout, timeline, 5, 600)
    assert len(sim) == 2 and sim == live
    assert 0 <= sim[0][0] - _epoch("2025-01-06T22:00:00") <= 600
    assert 0 <= sim[1][0] - _epoch("2025-01-07T11:00:00") <= 600


@settings(max_examples=25, deadline=None)
@given(
    plugin_offset_s=st.integers(min_value=0, max_value=7 * 86_400),
    duration_s=st.integers(min_value=60, max_value=20 * 3600),
    keep_defaults=st.booleans(),
    max_delay_s=st.sampled_from([0, 600, 1800]),
    tariff_id=st.sampled_from(["octopus_go", "edf_goelectric_98", "good_energy_smart_ev"]),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_any_session_sim_equals_live_policy(
    plugin_offset_s: int, duration_s: int, keep_defaults: bool, max_delay_s: int, tariff_id: str, seed: int
) -> None:
    """Property: for any plug-in time, length, delay maximum and tariff (local or UTC clock, a
    window reaching into the weekday peak), with the reg 10 defaults kept or replaced by the
    window, the simulator and the live N = 1 policy give the same on/off seconds."""
    plugin = _epoch("2025-03-24T00:00:00") + plugin_offset_s  # a week spanning the spring clock change
    plugout = plugin + duration_s
    tariff = get_tariff(tariff_id)
    timeline = tariff_window_timeline(
        tariff, plugin - 86_400, plugout + 86_400, with_default_hours=keep_defaults
    )
    n_segments = int(np.sum((timeline.edge_s > plugin) & (timeline.edge_s < plugout))) + 1
    draws = np.random.default_rng(seed).random(n_segments)
    # The live station sees the tariff alone as routine DSR; reg 10 comes from its own state.
    window = tariff_window_timeline(tariff, plugin - 86_400, plugout + 86_400)
    live = _live_on_off(plugin, plugout, window, draws, True, max_delay_s, not keep_defaults, timeline)
    assert _sim_on_off(plugin, plugout, timeline, seed, max_delay_s) == live
