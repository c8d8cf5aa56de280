"""The load series and their metrics are built in blocks at fleet scale (memory at a million EVs,
issue 12 Speed); a block boundary must not change a figure."""

from __future__ import annotations

import numpy as np
import pytest

from smartcharge.sim import load, metrics
from smartcharge.sim.load import accumulate_boxes
from smartcharge.sim.metrics import GroupMetrics


def _boxes(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    start = rng.uniform(-600, 86_400, n)
    end = start + rng.uniform(0, 20_000, n)
    return start, end, rng.uniform(1000, 11_000, n), rng.integers(0, 7, n)


def test_boxes_accumulated_in_blocks_give_the_one_block_series(monkeypatch: pytest.MonkeyPatch) -> None:
    start, end, power, column = _boxes(5000)
    whole = accumulate_boxes(start, end, power, column, 7, 0, 1440, 60)
    monkeypatch.setattr(load, "_BLOCK_BOXES", 333)
    blocked = accumulate_boxes(start, end, power, column, 7, 0, 1440, 60)
    np.testing.assert_allclose(blocked, whole, rtol=1e-12, atol=1e-6)
    inside = np.clip(end, 0, 86_400) - np.clip(start, 0, 86_400)
    assert blocked.sum() * 60 == pytest.approx(float((power * np.maximum(inside, 0)).sum()), rel=1e-9)


def _metrics(ev: np.ndarray, base: np.ndarray, near: np.ndarray, chunks: int) -> GroupMetrics:
    m = GroupMetrics(ev.shape[1], 60)
    for part in np.array_split(np.arange(ev.shape[0]), chunks):
        m.update(ev[part], base[part], near[part])
    return m


def test_metrics_in_blocks_of_steps_match_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Peaks and largest steps (overall and after a tariff edge), across chunk and block edges."""
    rng = np.random.default_rng(5)
    ev = rng.uniform(0, 50_000, (3000, 4)) * (rng.random((3000, 4)) < 0.3)
    base = rng.uniform(10_000, 40_000, (3000, 4))
    near = rng.random(3000) < 0.2
    # The largest step of group 0 falls on a block edge (step 37 with blocks of 37), after a tariff edge.
    ev[37:, 0] += 1e6
    near[37] = True
    whole = _metrics(ev, base, near, chunks=2)
    monkeypatch.setattr(metrics, "_BLOCK_STEPS", 37)
    blocked = _metrics(ev, base, near, chunks=2)
    for name in (
        "peak_total_w",
        "peak_ev_w",
        "peak_base_w",
        "max_step_w",
        "max_edge_step_w",
        "max_ev_step_w",
        "max_ev_edge_step_w",
        "ev_kwh",
        "base_kwh",
    ):
        np.testing.assert_array_equal(getattr(blocked, name), getattr(whole, name), err_msg=name)
    # The largest step is found wherever it falls, a block edge included.
    step = np.abs(np.diff(ev + base, axis=0))
    np.testing.assert_array_equal(blocked.max_step_w, step.max(axis=0))
    assert blocked.max_edge_step_w[0] == step[36, 0] > 9e5
