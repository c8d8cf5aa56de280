"""Charging boxes under the rules: conservation, the delay's spread, reg 10 hours, DSR rebound."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from scipy import stats

from smartcharge.core.localtime import local_fields
from smartcharge.core.tariff import get_tariff
from smartcharge.core.window import WeeklySchedule
from smartcharge.policy.default_hours import GB_PEAK
from smartcharge.sim.charging import charge_at_once, charge_on_timeline, delivered_kwh
from smartcharge.sim.load import accumulate_boxes
from smartcharge.sim.sessions import Sessions
from smartcharge.sim.strategies.dsr_turndown import event_edges_s
from smartcharge.sim.timeline import (
    LevelTimeline,
    default_hours_timeline,
    overlay_events,
    tariff_window_timeline,
)

DAY0 = int(datetime(2025, 1, 6, tzinfo=UTC).timestamp())  # a Monday, GMT


def _sessions(n: int, rng: np.random.Generator, plugin_hour: float = 18.0, hours: float = 14.0) -> Sessions:
    plugin = DAY0 + int(plugin_hour * 3600) + rng.integers(0, 3600, n)
    plugout = plugin + int(hours * 3600)
    return Sessions(np.arange(n, dtype=np.int64), plugin, plugout, rng.uniform(2.0, 30.0, n))


def test_energy_is_conserved_when_nothing_constrains() -> None:
    """Uncontrolled and long plug-ins: every session gets exactly its energy, and the load series
    integrates to the same energy (issue 4: energy conservation)."""
    rng = np.random.default_rng(3)
    s = _sessions(5000, rng)
    power = rng.choice([3700.0, 7400.0], s.size)
    window = tariff_window_timeline(get_tariff("octopus_go"), DAY0 - 86400, DAY0 + 3 * 86400)
    full = np.full(s.size, 7400.0)  # 5 h x 7.4 kW = 37 kWh > the largest 30 kWh asked
    for boxes in (charge_at_once(s, power), charge_on_timeline(s, full, window, 600, rng)):
        got = delivered_kwh(boxes, s.size)
        np.testing.assert_allclose(got, s.energy_kwh, rtol=1e-9)
        series = accumulate_boxes(
            boxes.start_s, boxes.end_s, boxes.power_w, np.zeros(boxes.size, np.int64), 1, DAY0, 3 * 1440, 60
        )
        assert np.isclose(series.sum() * 60 / 3.6e6, s.energy_kwh.sum(), rtol=1e-9)


def test_random_delay_spreads_starts_uniformly_over_0_to_max() -> None:
    """With every car plugged in before the window, starts minus the window edge are uniform over
    the whole seconds 0..max (SCP-RD-2; chi-square at a fixed seed, and the range is exact)."""
    rng = np.random.default_rng(42)
    s = _sessions(20_000, rng, plugin_hour=18.0, hours=12.0)
    timeline = tariff_window_timeline(get_tariff("octopus_go"), DAY0 - 86400, DAY0 + 3 * 86400)
    boxes = charge_on_timeline(s, np.full(s.size, 7400.0), timeline, 1800, rng)
    edge = DAY0 + 86400 + 30 * 60  # Tuesday 00:30
    delay = boxes.start_s - edge
    assert delay.min() >= 0 and delay.max() <= 1800
    assert np.all(delay == np.floor(delay))  # whole seconds, reg 11 resolution
    counts = np.bincount((delay // 180).astype(int).clip(0, 9), minlength=10)
    expected = np.array([180] * 9 + [181]) / 1801 * delay.size
    assert stats.chisquare(counts, expected).pvalue > 0.01
    assert abs(delay.mean() - 900) < 20


def test_no_delay_means_every_start_on_the_edge() -> None:
    """max_delay_s = 0: a synchronised start at the window edge (report 7.10, the second peak)."""
    rng = np.random.default_rng(1)
    s = _sessions(1000, rng)
    timeline = tariff_window_timeline(get_tariff("octopus_go"), DAY0 - 86400, DAY0 + 3 * 86400)
    boxes = charge_on_timeline(s, np.full(s.size, 7400.0), timeline, 0, rng)
    assert np.all(boxes.start_s == DAY0 + 86400 + 1800)


def test_default_hours_never_start_charging_in_the_weekday_peak() -> None:
    """Reg 10: cars plugging in at 17:00-18:00 on a weekday wait for 22:00 (+ delay), and charging
    in the peak happens only by the owner's override when the plug-in span has no allowed time."""
    rng = np.random.default_rng(8)
    s = _sessions(2000, rng, plugin_hour=17.0, hours=10.0)
    timeline = default_hours_timeline(DAY0 - 86400, DAY0 + 3 * 86400)
    boxes = charge_on_timeline(s, np.full(s.size, 7400.0), timeline, 600, rng)
    starts = boxes.start_s.astype(np.int64)
    assert np.all(starts >= DAY0 + 22 * 3600) and np.all(starts <= DAY0 + 22 * 3600 + 600)
    peak = GB_PEAK.contains(local_fields(starts).minute_of_week)
    assert not peak.any()


def test_dsr_turndown_cuts_at_once_and_rebounds_after_a_delay() -> None:
    """Response DSR acts at once (SCP-RD-4); the return to power after the event is a relevant
    time and is delayed (SCP-RD-5), and the held-back energy is delivered afterwards."""
    rng = np.random.default_rng(9)
    s = _sessions(3000, rng, plugin_hour=16.0, hours=14.0)
    schedule = WeeklySchedule.parse("Mon-Fri 17:30-19:00")
    starts, ends = event_edges_s(schedule, DAY0 - 86400, DAY0 + 3 * 86400)
    timeline = overlay_events(LevelTimeline.always(), starts, ends, 0.0)
    boxes = charge_on_timeline(s, np.full(s.size, 3700.0), timeline, 600, rng)
    series = accumulate_boxes(
        boxes.start_s, boxes.end_s, boxes.power_w, np.zeros(boxes.size, np.int64), 1, DAY0, 1440, 60
    )[:, 0]
    event = slice(17 * 60 + 30, 19 * 60)
    assert series[event].max() == 0.0
    assert series[17 * 60 + 29] > 0
    rebound = series[19 * 60 : 19 * 60 + 11]
    assert rebound[0] < rebound[-1]  # the delay spreads the return over 10 minutes
    np.testing.assert_allclose(delivered_kwh(boxes, s.size), s.energy_kwh, rtol=1e-9)
