"""Turn sessions into constant-power charging boxes, all sessions at once.

A *box* is one stretch of constant power: ``[start_s, end_s)`` at ``power_w`` for one session.
For rule-based strategies each session crosses the edges of a :class:`LevelTimeline` inside its
plug-in span; every relevant time (the plug-in itself when charging may start at once, and each
delayable edge) is shifted by its own reg 11 randomised delay drawn with
:func:`smartcharge.policy.random_delay.delay_s_from_uniform`, exactly as the live charge point
holds the previous level until its countdown ends (SCP-RD-2, SCP-RD-5, RD-R2). The session then
charges through the delayed segments in time order at level x rated power until its energy is met
or it is unplugged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.units import BoolArray, FloatArray, IntArray
from smartcharge.policy.random_delay import delay_s_from_uniform, validate_max_delay_s
from smartcharge.sim.sessions import Sessions
from smartcharge.sim.timeline import LevelTimeline

_J_PER_KWH = 3_600_000.0
# Keeps each session's times apart when one running maximum runs over all sessions at once.
_SESSION_STRIDE_S = 10_000_000_000


@dataclass(frozen=True, slots=True)
class Boxes:
    """Constant-power charging stretches; shapes (K,). ``session`` indexes the chunk's sessions."""

    session: IntArray
    start_s: FloatArray
    end_s: FloatArray
    power_w: FloatArray

    @classmethod
    def empty(cls) -> Boxes:
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0))

    @property
    def size(self) -> int:
        return int(self.session.shape[0])

    def energy_kwh(self) -> FloatArray:
        return self.power_w * (self.end_s - self.start_s) / _J_PER_KWH

    def take(self, index: IntArray | BoolArray) -> Boxes:
        return Boxes(self.session[index], self.start_s[index], self.end_s[index], self.power_w[index])


def _group_offsets(counts: IntArray) -> IntArray:
    offsets = np.zeros(counts.shape[0], dtype=np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    return offsets


def charge_on_timeline(
    sessions: Sessions,
    power_w: FloatArray,
    timeline: LevelTimeline,
    max_delay_s: int,
    rng: np.random.Generator,
    override_when_blocked: bool = True,
) -> Boxes:
    """Charging boxes of every session under ``timeline`` with reg 11 delays up to ``max_delay_s``.

    ``power_w`` (S,) is each session's rated power. A session whose plug-in span holds no allowed
    time at all is charged at once on plug-in when ``override_when_blocked`` (the owner's
    override, SCP-OP-3 / SCP-RD-6: exempt from the delay).
    """
    top = int(validate_max_delay_s(max_delay_s))
    n = sessions.size
    if n == 0:
        return Boxes.empty()
    edges, level = timeline.edge_s, timeline.level
    j_in = np.clip(np.searchsorted(edges, sessions.plugin_s, side="right") - 1, 0, None)
    j_last = np.clip(np.searchsorted(edges, sessions.plugout_s, side="left") - 1, 0, None)
    counts = np.maximum(j_last - j_in, 0) + 1
    offsets = _group_offsets(counts)
    seg_session = np.repeat(np.arange(n, dtype=np.int64), counts)
    rank = np.arange(seg_session.shape[0], dtype=np.int64) - offsets[seg_session]
    seg_j = j_in[seg_session] + rank
    first = rank == 0
    seg_level = level[seg_j]
    prev_level = np.where(first, 0.0, level[np.maximum(seg_j - 1, 0)])
    relevant = seg_level != prev_level
    delayed = relevant & np.where(first, True, timeline.delayable[seg_j])
    delay = delay_s_from_uniform(
        rng.random(seg_session.shape[0]), np.full(seg_session.shape[0], top, dtype=np.int64)
    )
    nominal = np.where(first, sessions.plugin_s[seg_session], edges[seg_j])
    start = nominal + np.where(delayed, delay, 0)
    # A countdown that outlasts the next edge cannot reorder the segments (one relevant time,
    # one delay, SCP-RD-5): keep starts non-decreasing within each session.
    stride = seg_session * _SESSION_STRIDE_S
    start = np.maximum.accumulate(start + stride) - stride
    plugout = sessions.plugout_s[seg_session]
    start = np.minimum(start, plugout)
    end = np.empty_like(start)
    end[:-1] = start[1:]
    last = np.ones(seg_session.shape[0], dtype=np.bool_)
    last[:-1] = seg_session[1:] != seg_session[:-1]
    end = np.where(last, plugout, end)
    seg_power = seg_level * power_w[seg_session]
    capacity_kwh = seg_power * (end - start) / _J_PER_KWH
    cum = np.cumsum(capacity_kwh)
    before = cum - capacity_kwh - (cum - capacity_kwh)[offsets][seg_session]
    want = sessions.energy_kwh[seg_session]
    take_kwh = np.clip(want - before, 0.0, capacity_kwh)
    used = take_kwh > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        used_s = np.where(used, take_kwh * _J_PER_KWH / seg_power, 0.0)
    boxes = Boxes(
        seg_session[used], start[used].astype(np.float64), start[used] + used_s[used], seg_power[used]
    )
    if override_when_blocked:
        total = np.bincount(seg_session, weights=capacity_kwh, minlength=n)
        blocked = np.flatnonzero((total <= 0) & (sessions.energy_kwh > 0))
        if blocked.size:
            boxes = concat_boxes([boxes, charge_at_once(sessions.take(blocked), power_w[blocked], blocked)])
    return boxes


def charge_at_once(sessions: Sessions, power_w: FloatArray, session_index: IntArray | None = None) -> Boxes:
    """Full rated power from plug-in until the energy is met or the car leaves (uncontrolled)."""
    need_s = sessions.energy_kwh * _J_PER_KWH / power_w
    end = np.minimum(sessions.plugin_s + need_s, sessions.plugout_s.astype(np.float64))
    index = np.arange(sessions.size, dtype=np.int64) if session_index is None else session_index
    keep = end > sessions.plugin_s
    return Boxes(index[keep], sessions.plugin_s[keep].astype(np.float64), end[keep], power_w[keep].copy())


def concat_boxes(parts: list[Boxes]) -> Boxes:
    return Boxes(
        np.concatenate([p.session for p in parts]),
        np.concatenate([p.start_s for p in parts]),
        np.concatenate([p.end_s for p in parts]),
        np.concatenate([p.power_w for p in parts]),
    )


def delivered_kwh(boxes: Boxes, n_sessions: int) -> FloatArray:
    """Energy delivered to each session, (S,)."""
    return np.bincount(boxes.session, weights=boxes.energy_kwh(), minlength=n_sessions).astype(np.float64)


__all__ = ["Boxes", "charge_at_once", "charge_on_timeline", "concat_boxes", "delivered_kwh"]
