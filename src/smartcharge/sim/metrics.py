"""Streaming metrics over chunks: peaks, step changes, diversity (after-diversity maximum demand).

- peak: the largest step-mean load of a group (kW);
- ADMD per household: the group's peak total load divided by its households; per EV: the peak EV
  load divided by its EVs (report 7.10-7.11, SQ-3);
- coincidence factor: peak EV load / sum of the EVs' rated charger powers;
- step change: the largest change between consecutive steps, in kW per minute, overall and within
  45 minutes after a tariff edge (covering a 1800 s delay; SQ-1, SQ-4);
- the diversity curve: ADMD per EV for groups of N EVs drawn from a random sample of EVs.
"""

from __future__ import annotations

import numpy as np

from smartcharge.core.tariff import Tariff
from smartcharge.core.units import BoolArray, FloatArray, IntArray

EDGE_WINDOW_S = 2700
_BLOCK_STEPS = 1440  # steps of load series handled at once (a day of minutes)
DIVERSITY_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 50_000, 100_000)


def near_tariff_edge(tariff: Tariff, time_s: IntArray) -> BoolArray:
    """Whether each step lies within 45 minutes after a change of the tariff's cheap window."""
    t = np.asarray(time_s, dtype=np.int64)
    if t.size == 0:
        return np.zeros(0, dtype=np.bool_)
    minutes = np.arange(t[0] - EDGE_WINDOW_S - 60, t[-1] + 60, 60, dtype=np.int64)
    flags = tariff.is_offpeak(minutes)
    change = np.concatenate([[0], (flags[1:] != flags[:-1]).astype(np.int64)])
    cum = np.cumsum(change)
    at = np.searchsorted(minutes, t, side="right") - 1
    before = np.searchsorted(minutes, t - EDGE_WINDOW_S, side="right") - 1
    near: BoolArray = cum[at] - cum[np.clip(before, 0, None)] > 0
    return near


class GroupMetrics:
    """Running peaks and steps of G load series fed chunk by chunk as (T, G) arrays in watts."""

    def __init__(self, n_groups: int, step_s: int) -> None:
        self.step_min = step_s / 60.0
        self.step_h = step_s / 3600.0
        zeros = np.zeros(n_groups)
        self.peak_total_w, self.peak_ev_w, self.peak_base_w = zeros.copy(), zeros.copy(), zeros.copy()
        self.max_step_w, self.max_edge_step_w = zeros.copy(), zeros.copy()
        self.max_ev_step_w, self.max_ev_edge_step_w = zeros.copy(), zeros.copy()
        self.ev_kwh, self.base_kwh = zeros.copy(), zeros.copy()
        self.last_total: FloatArray | None = None
        self.last_ev: FloatArray | None = None

    def update(self, ev_w: FloatArray, base_w: FloatArray, near_edge: BoolArray) -> None:
        if ev_w.shape[0] == 0:
            return
        self.ev_kwh += ev_w.sum(axis=0) * self.step_h / 1000.0
        self.base_kwh += base_w.sum(axis=0) * self.step_h / 1000.0
        # Peaks and steps over blocks of steps: the (T, G) temporaries (total load, steps) stay a
        # block's size (at a million EVs a week's are ~0.3 GB each); maxima do not depend on it.
        for lo in range(0, ev_w.shape[0], _BLOCK_STEPS):
            hi = lo + _BLOCK_STEPS
            ev, base = ev_w[lo:hi], base_w[lo:hi]
            total = ev + base
            self.peak_total_w = np.maximum(self.peak_total_w, total.max(axis=0))
            self.peak_ev_w = np.maximum(self.peak_ev_w, ev.max(axis=0))
            self.peak_base_w = np.maximum(self.peak_base_w, base.max(axis=0))
            self._steps(total, self.last_total, near_edge[lo:hi], "max_step_w", "max_edge_step_w")
            self._steps(ev, self.last_ev, near_edge[lo:hi], "max_ev_step_w", "max_ev_edge_step_w")
            self.last_total, self.last_ev = total[-1].copy(), ev[-1].copy()

    def _steps(
        self, series: FloatArray, last: FloatArray | None, near: BoolArray, overall: str, edge: str
    ) -> None:
        """Largest change between consecutive steps, including the step across the chunk boundary."""
        step = np.diff(series, axis=0)
        np.abs(step, out=step)
        best = np.maximum(getattr(self, overall), step.max(axis=0, initial=0.0))
        best_edge = getattr(self, edge)
        if near[1:].any():
            best_edge = np.maximum(best_edge, step[near[1:]].max(axis=0))
        if last is not None:
            first = np.abs(series[0] - last)
            best = np.maximum(best, first)
            if near[0]:
                best_edge = np.maximum(best_edge, first)
        setattr(self, overall, best)
        setattr(self, edge, best_edge)

    def row(self, g: int, households: int, evs: int, rated_ev_w: float) -> dict[str, float | int]:
        """Summary of group ``g`` in kW (per minute for steps)."""
        return {
            "households": households,
            "evs": evs,
            "peak_kw": self.peak_total_w[g] / 1000.0,
            "ev_peak_kw": self.peak_ev_w[g] / 1000.0,
            "base_peak_kw": self.peak_base_w[g] / 1000.0,
            "admd_kw_per_household": self.peak_total_w[g] / 1000.0 / max(households, 1),
            "ev_admd_kw_per_ev": self.peak_ev_w[g] / 1000.0 / evs if evs else 0.0,
            "coincidence_factor": self.peak_ev_w[g] / rated_ev_w if rated_ev_w else 0.0,
            "max_step_kw_per_min": self.max_step_w[g] / 1000.0 / self.step_min,
            "max_tariff_edge_step_kw_per_min": self.max_edge_step_w[g] / 1000.0 / self.step_min,
            "max_ev_step_kw_per_min": self.max_ev_step_w[g] / 1000.0 / self.step_min,
            "max_ev_tariff_edge_step_kw_per_min": self.max_ev_edge_step_w[g] / 1000.0 / self.step_min,
            "ev_energy_kwh": self.ev_kwh[g],
            "base_energy_kwh": self.base_kwh[g],
        }


class DiversityCurve:
    """ADMD per EV against group size N, from per-EV series of a sample of EVs (columns)."""

    def __init__(self, n_sample: int) -> None:
        self.sizes = [n for n in DIVERSITY_SIZES if n <= n_sample]
        self.block_max = {n: np.zeros(n_sample // n) for n in self.sizes}

    def update(self, ev_w: FloatArray) -> None:
        if ev_w.shape[0] == 0 or not self.sizes:
            return
        # One running sum across EVs serves every block size: a block's sum is a difference of two
        # columns, so the cost does not grow with the number of sizes.
        # EV-major layout so that picking block edges copies whole contiguous rows.
        running = np.zeros((ev_w.shape[1] + 1, ev_w.shape[0]))
        np.cumsum(np.ascontiguousarray(ev_w.T), axis=0, out=running[1:])
        for n, best in self.block_max.items():
            # Block edges are every n-th row: strided views, no copies of the rows.
            end = best.size * n
            blocks = running[n : end + 1 : n] - running[0:end:n]
            np.maximum(best, blocks.max(axis=1), out=best)

    def curve(self) -> list[dict[str, float]]:
        return [
            {"n_evs": n, "admd_kw_per_ev": float(best.mean() / n / 1000.0), "groups": int(best.size)}
            for n, best in self.block_max.items()
        ]


__all__ = ["DIVERSITY_SIZES", "DiversityCurve", "GroupMetrics", "near_tariff_edge"]
