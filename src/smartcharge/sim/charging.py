"""Turn sessions into constant-power charging boxes, all sessions at once.

A *box* is one stretch of constant power: ``[start_s, end_s)`` at ``power_w`` for one session.
For rule-based strategies each session crosses the edges of a :class:`LevelTimeline` inside its
plug-in span. The plug-in and each edge are events for the charge point, and the level in force
is decided by the live station's own reg 11 kernel,
:func:`smartcharge.policy.random_delay.step_random_delay`, called once per event rank for all
sessions at once: the previous level holds until each countdown ends (SCP-RD-2, SCP-RD-5,
RD-R2), response-DSR edges act at once (SCP-RD-4). The session then charges through the levels in
force in time order until its energy is met or it is unplugged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.units import BoolArray, FloatArray, IntArray
from smartcharge.policy.random_delay import (
    NO_DELAY,
    RandomDelayState,
    step_random_delay,
    validate_max_delay_s,
)
from smartcharge.sim.sessions import Sessions
from smartcharge.sim.timeline import LevelTimeline

_J_PER_KWH = 3_600_000.0


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
    # Each segment start is an event for the charge point: the plug-in (never exempt) and each
    # timeline edge (exempt where the edge is response DSR, SCP-RD-4).
    event_s = np.where(first, sessions.plugin_s[seg_session], edges[seg_j])
    request_w = level[seg_j] * power_w[seg_session]
    exempt = ~first & ~timeline.delayable[seg_j]
    uniform = rng.random(seg_session.shape[0])
    change_session, change_s, change_w = _run_delay_kernel(
        counts, offsets, event_s, request_w, exempt, uniform, top, sessions.plugout_s
    )
    # The level in force holds from each change to the next one of the same session, or the plug-out.
    nxt = np.empty_like(change_s)
    nxt[:-1] = change_s[1:]
    last = np.ones(change_session.shape[0], dtype=np.bool_)
    last[:-1] = change_session[1:] != change_session[:-1]
    end = np.where(last, sessions.plugout_s[change_session], nxt)
    keep = (change_w > 0) & (end > change_s)
    box_session, start, end, seg_power = change_session[keep], change_s[keep], end[keep], change_w[keep]
    capacity_kwh = seg_power * (end - start) / _J_PER_KWH
    cum = np.cumsum(capacity_kwh) - capacity_kwh
    group_first = np.ones(box_session.shape[0], dtype=np.bool_)
    group_first[1:] = box_session[1:] != box_session[:-1]
    first_index = np.maximum.accumulate(np.where(group_first, np.arange(box_session.shape[0]), 0))
    before = cum - cum[first_index] if box_session.size else cum
    take_kwh = np.clip(sessions.energy_kwh[box_session] - before, 0.0, capacity_kwh)
    used = take_kwh > 0
    used_s = take_kwh[used] * _J_PER_KWH / seg_power[used]
    start_used = start[used].astype(np.float64)
    boxes = Boxes(box_session[used], start_used, start_used + used_s, seg_power[used])
    seg_session = box_session
    if override_when_blocked:
        total = np.bincount(seg_session, weights=capacity_kwh, minlength=n)
        blocked = np.flatnonzero((total <= 0) & (sessions.energy_kwh > 0))
        if blocked.size:
            boxes = concat_boxes([boxes, charge_at_once(sessions.take(blocked), power_w[blocked], blocked)])
    return boxes


def _run_delay_kernel(
    counts: IntArray,
    offsets: IntArray,
    event_s: IntArray,
    request_w: FloatArray,
    exempt: BoolArray,
    uniform: FloatArray,
    max_delay_s: int,
    plugout_s: IntArray,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Feed each session's events, k-th event of every session at once, to the reg 11 kernel.

    This is :func:`smartcharge.policy.random_delay.step_random_delay` itself, called once per event
    rank over all sessions that have that many events (one rule, one implementation): a countdown
    that is still running at the next event keeps its end and only moves its target, or is
    cancelled when the request returns to the level in force (SCP-RD-5). Returns the changes of the
    level in force as (session, epoch s, watts), sorted by session and then time.
    """
    n = counts.shape[0]
    state = RandomDelayState.initial(n, max_delay_s)
    maxima, applied = state.max_delay_s, state.applied_w
    pending, end = state.pending_w, state.delay_end_s
    sessions_out, times_out, levels_out = [], [], []
    for r in range(int(counts.max(initial=0))):
        act = np.flatnonzero(counts > r)
        idx = offsets[act] + r
        now = event_s[idx]
        sub = RandomDelayState(maxima[act], applied[act], pending[act], end[act])
        due = (sub.delay_end_s != NO_DELAY) & (sub.delay_end_s <= now)
        sessions_out.append(act[due])
        times_out.append(sub.delay_end_s[due])
        levels_out.append(sub.pending_w[due])
        in_force = np.where(due, sub.pending_w, sub.applied_w)
        new, out = step_random_delay(sub, request_w[idx], now, uniform[idx], exempt[idx])
        changed = out != in_force
        sessions_out.append(act[changed])
        times_out.append(now[changed])
        levels_out.append(out[changed])
        applied[act], pending[act], end[act] = new.applied_w, new.pending_w, new.delay_end_s
    ends_later = (end != NO_DELAY) & (end < plugout_s)
    sessions_out.append(np.flatnonzero(ends_later))
    times_out.append(end[ends_later])
    levels_out.append(pending[ends_later])
    session = np.concatenate(sessions_out)
    order = np.argsort(session, kind="stable")  # within a session the changes are already in time order
    return session[order], np.concatenate(times_out)[order], np.concatenate(levels_out)[order]


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
