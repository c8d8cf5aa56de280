"""The planner's array kernels against plain references (they were rewritten for speed, issue 12
Speed): each fast path and its fallback give the same answer."""

from __future__ import annotations

import numpy as np

from smartcharge.policy.planner import (
    Circuits,
    _by_limit_then_value,
    _BySession,
    _Headroom,
    _segment_exclusive_cumsum,
    _take,
)


def _runs(seed: int) -> tuple[np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n = 40
    counts = rng.integers(0, 12, n)
    counts[0] = 30  # one long run: the dense table stays small enough only with the others
    return np.repeat(np.arange(n), counts), n


def test_per_session_argmin_dense_and_segment_paths_agree_with_a_loop() -> None:
    for seed in range(20):
        session, n = _runs(seed)
        rng = np.random.default_rng(100 + seed)
        values = rng.integers(0, 5, session.size).astype(np.float64)  # many ties
        values[rng.random(session.size) < 0.3] = np.inf  # some sessions have no finite value
        expected = np.full(n, -1)
        for s in range(n):
            idx = np.flatnonzero((session == s) & np.isfinite(values))
            if idx.size:
                expected[s] = idx[np.argmin(values[idx])]  # first of ties
        by = _BySession(session, n)
        assert by.dense
        np.testing.assert_array_equal(by.argmin(values), expected)
        by.dense = False
        np.testing.assert_array_equal(by.argmin(values), expected)
        largest = np.array([values[session == s].max(initial=-np.inf) for s in range(n)])
        np.testing.assert_array_equal(by.max(values), largest)


def test_by_limit_then_value_is_lexsort_order_with_or_without_the_radix_key() -> None:
    rng = np.random.default_rng(7)
    limit = rng.integers(0, 50, 2000)
    value = rng.integers(0, 20, 2000).astype(np.float64)  # ties keep their row order
    expected = np.lexsort((value, limit))
    np.testing.assert_array_equal(_by_limit_then_value(limit, value, 50), expected)
    np.testing.assert_array_equal(_by_limit_then_value(limit, value, 2**15), expected)


def test_segment_exclusive_cumsum_per_column() -> None:
    rng = np.random.default_rng(11)
    group = np.sort(rng.integers(0, 30, 500))
    values = rng.random((500, 3))
    expected = np.zeros_like(values)
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        expected[idx] = np.cumsum(values[idx], axis=0) - values[idx]
    np.testing.assert_allclose(_segment_exclusive_cumsum(values, group), expected, atol=1e-12)
    np.testing.assert_allclose(_segment_exclusive_cumsum(values[:, 1], group), expected[:, 1], atol=1e-12)


def _take_over_every_cell(grant_w, slot, path, share, room) -> None:  # type: ignore[no-untyped-def]
    """The reference: a bincount over every (node, slot) cell per depth (the code before)."""
    size, k = room.total.size, room.n_slots
    for d in range(path.shape[1]):
        flat = path[:, d] * k + slot
        used = np.bincount(flat, weights=grant_w, minlength=size).reshape(room.total.shape)
        room.total -= used
        room.level -= used
        for phase in range(3):
            load = np.bincount(flat, weights=grant_w * share[:, phase], minlength=size)
            room.phase[:, :, phase] -= load.reshape(room.total.shape)


def test_take_updates_only_the_touched_cells_with_the_same_bits_as_a_pass_over_every_cell() -> None:
    """``_take`` sums grants per touched cell only (it was 3/4 of a network_aware case on a deep
    feeder); every headroom must come out bit for bit as from the full pass, grants sharing a cell
    included, and a cell no grant touches keeps its value (inf and -0.0 too)."""
    for seed in range(10):
        rng = np.random.default_rng(seed)
        m, k, depth, n = 12, 9, 5, 60
        total = rng.random((m, k)) * 1e4
        total[0, 0], total[1, 1] = np.inf, -0.0
        circuits = Circuits(
            parent=np.full(m, -1), total_headroom_w=total, phase_headroom_w=rng.random((m, k, 3)) * 1e4
        )
        rooms = [_Headroom(circuits), _Headroom(circuits)]
        level = rng.random((m + 1, k)) * 1e4 if seed % 2 else np.full((m + 1, k), np.inf)
        for room in rooms:
            room.level[:] = level
        path = rng.integers(0, m + 1, (n, depth))  # node m is the virtual unlimited one
        slot = rng.integers(0, 3, n)  # few slots: many grants share a cell
        grant = rng.random(n) * 7400.0
        share = rng.dirichlet(np.ones(3), n)
        _take(grant, slot, path, share, rooms[0])
        _take_over_every_cell(grant, slot, path, share, rooms[1])
        for name in ("total", "level", "phase"):
            new, old = getattr(rooms[0], name), getattr(rooms[1], name)
            assert new.tobytes() == old.tobytes(), name
