"""Synthetic plug-in sessions for a time chunk, drawn as whole arrays (no per-vehicle loop).

For each vehicle the number of plug-ins in the chunk is Poisson with its own weekly rate; each
plug-in picks a local (day, hour) cell in proportion to the source's hour-of-week histogram and a
uniform second within the hour. The duration is drawn from the quantiles for that plug-in hour
and the energy from the quantiles for that duration band, times ``energy_scale`` (the GB
rescaling, see docs/sim.md), capped at ``max_fill`` of the battery.

Behaviour times are local wall-clock times (Norwegian and Scottish sources alike), so they are
placed on the GB local clock and converted to UTC across clock changes with
:func:`smartcharge.core.localtime.utc_offset_s`.

A vehicle cannot be plugged in twice: a plug-out is cut to one minute before the same vehicle's
next plug-in, and a plug-in that falls inside a session carried over from the previous chunk is
dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.localtime import utc_offset_s
from smartcharge.core.units import SECONDS_PER_DAY, SECONDS_PER_HOUR, FloatArray, IntArray
from smartcharge.sim.behaviour import SessionBehaviour
from smartcharge.sim.fleet import Fleet
from smartcharge.sim.quantile import sample_quantiles

_MIN_GAP_S = 60


@dataclass(frozen=True, slots=True)
class Sessions:
    """One row per plug-in, sorted by (vehicle, plug-in); shapes (S,)."""

    vehicle: IntArray
    plugin_s: IntArray  # UTC epoch s
    plugout_s: IntArray
    energy_kwh: FloatArray  # energy the driver wants this session

    @property
    def size(self) -> int:
        return int(self.vehicle.shape[0])

    def take(self, index: IntArray) -> Sessions:
        return Sessions(
            self.vehicle[index], self.plugin_s[index], self.plugout_s[index], self.energy_kwh[index]
        )


def utc_from_local_s(local_s: IntArray) -> IntArray:
    """UTC epoch s for GB local wall-clock seconds (the skipped spring hour maps forward)."""
    local = np.asarray(local_s, dtype=np.int64)
    first = local - utc_offset_s(local)
    return local - utc_offset_s(first)


def generate_sessions(
    fleet: Fleet,
    vehicles: IntArray,
    behaviour: SessionBehaviour,
    first_local_day: int,
    n_days: int,
    rng: np.random.Generator,
    energy_scale: float = 1.0,
    max_fill: float = 0.9,
) -> Sessions:
    """Plug-ins of ``vehicles`` on local days ``first_local_day`` .. ``+n_days-1`` (days since 1970)."""
    vehicles = np.asarray(vehicles, dtype=np.int64)
    rate = fleet.sessions_per_week[vehicles] * (n_days / 7.0)
    counts = rng.poisson(rate)
    owner = np.repeat(vehicles, counts)
    n = int(owner.shape[0])
    days = first_local_day + np.arange(n_days, dtype=np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    cell_p = behaviour.hour_of_week_p.reshape(7, 24)[weekday].ravel()
    cell_cdf = np.cumsum(cell_p)
    cell = np.minimum(np.searchsorted(cell_cdf, rng.random(n) * cell_cdf[-1], side="right"), cell_p.size - 1)
    day, hour = np.divmod(cell, 24)
    local_s = (days[day] * SECONDS_PER_DAY + hour * SECONDS_PER_HOUR + rng.integers(0, 3600, n)).astype(
        np.int64
    )
    plugin = utc_from_local_s(local_s)
    duration_h = sample_quantiles(
        behaviour.duration_h_q, rng.random(n), hour, levels=behaviour.quantile_levels
    )
    band = np.clip(
        np.searchsorted(behaviour.band_edges_h, duration_h, side="right") - 1,
        0,
        behaviour.energy_kwh_q.shape[0] - 1,
    )
    energy = (
        sample_quantiles(behaviour.energy_kwh_q, rng.random(n), band, levels=behaviour.quantile_levels)
        * energy_scale
    )
    energy = np.minimum(energy, fleet.battery_kwh[owner] * max_fill)
    plugout = plugin + np.maximum(np.round(duration_h * SECONDS_PER_HOUR), _MIN_GAP_S).astype(np.int64)
    # ``owner`` is already grouped by vehicle; order each vehicle's plug-ins with one integer key
    # (vehicle major, plug-in minor). Timsort on this nearly sorted key is far faster than lexsort.
    if n == 0:
        return Sessions(owner, plugin, plugout, energy)
    offset = plugin - plugin.min()
    key = owner * (int(offset.max()) + 1) + offset
    order = np.argsort(key, kind="stable")
    return Sessions(owner[order], plugin[order], plugout[order], energy[order])


def resolve_overlaps(sessions: Sessions, busy_until_s: IntArray) -> tuple[Sessions, IntArray]:
    """Cut each plug-out before the same vehicle's next plug-in; drop plug-ins while still busy.

    ``busy_until_s`` (V,) is each vehicle's last plug-out carried from the previous chunk; the
    returned copy is updated with this chunk's sessions.
    """
    keep = sessions.plugin_s >= busy_until_s[sessions.vehicle]
    s = sessions.take(np.flatnonzero(keep))
    plugout = s.plugout_s.copy()
    same_next = np.zeros(s.size, dtype=np.bool_)
    same_next[:-1] = s.vehicle[1:] == s.vehicle[:-1]
    nxt = np.empty_like(plugout)
    nxt[:-1] = s.plugin_s[1:] - _MIN_GAP_S
    plugout = np.where(same_next, np.minimum(plugout, nxt[: s.size] if s.size else nxt), plugout)
    valid = plugout > s.plugin_s
    out = Sessions(s.vehicle[valid], s.plugin_s[valid], plugout[valid], s.energy_kwh[valid])
    busy = busy_until_s.copy()
    if out.size:
        last = np.ones(out.size, dtype=np.bool_)
        last[:-1] = out.vehicle[1:] != out.vehicle[:-1]
        who = out.vehicle[last]
        busy[who] = np.maximum(busy[who], out.plugout_s[last])
    return out, busy


__all__ = ["Sessions", "generate_sessions", "resolve_overlaps", "utc_from_local_s"]
