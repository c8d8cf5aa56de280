"""Feeder demand shapes: daily profile on the GB local clock, load-duration curve, peak and ramp.

The second-peak question (report 7.10-7.11, SQ-3/SQ-4) is about the step in demand at the start
of a cheap window: the peak (kW), the steepest one-minute rise (kW/min) and the lowest customer
voltage show it; :func:`cheap_intervals` marks the tariff's windows on the daily plots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.localtime import local_fields
from smartcharge.core.tariff import get_tariff
from smartcharge.core.units import MINUTES_PER_DAY, FloatArray, IntArray
from smartcharge.study.cases import CaseResult


@dataclass(frozen=True, slots=True)
class PeakMetrics:
    peak_kw: float
    max_ramp_kw_per_min: float
    u_min_v: float
    mean_kw: float

    @property
    def peak_to_mean(self) -> float:
        return self.peak_kw / self.mean_kw if self.mean_kw > 0 else float("nan")


def peak_metrics(result: CaseResult) -> PeakMetrics:
    """Peak, steepest rise per minute and lowest customer voltage of one case."""
    step_min = result.case.step_s / 60
    kw = result.total_w / 1e3
    ramp = np.diff(kw) / step_min if kw.size > 1 else np.zeros(1)
    return PeakMetrics(
        peak_kw=float(kw.max()),
        max_ramp_kw_per_min=float(ramp.max()),
        u_min_v=float(result.summary.u_min_v.min()),
        mean_kw=float(kw.mean()),
    )


def daily_profile(time_s: IntArray, value: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean of ``value`` by local minute of the day: (minutes present, mean)."""
    minute = local_fields(np.asarray(time_s, dtype=np.int64)).minute_of_day
    sums = np.bincount(minute, weights=value, minlength=MINUTES_PER_DAY)
    counts = np.bincount(minute, minlength=MINUTES_PER_DAY)
    present = counts > 0
    return np.flatnonzero(present).astype(np.float64), sums[present] / counts[present]


def daily_envelope(
    time_s: IntArray, low: FloatArray, high: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Lowest of ``low`` and highest of ``high`` by local minute of the day (voltage envelopes)."""
    minute = local_fields(np.asarray(time_s, dtype=np.int64)).minute_of_day
    lo = np.full(MINUTES_PER_DAY, np.inf)
    hi = np.full(MINUTES_PER_DAY, -np.inf)
    np.minimum.at(lo, minute, low)
    np.maximum.at(hi, minute, high)
    present = np.isfinite(lo)
    return np.flatnonzero(present).astype(np.float64), lo[present], hi[present]


def load_duration(value: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(share of time in %, value sorted from highest)."""
    ordered = np.sort(np.asarray(value))[::-1]
    return np.linspace(0, 100, ordered.size), ordered


def cheap_intervals(tariff_id: str, time_s: IntArray) -> list[tuple[float, float]]:
    """The tariff's cheap windows on the first day of ``time_s``, as local (start, end) minutes."""
    tariff = get_tariff(tariff_id)
    t = np.asarray(time_s, dtype=np.int64)
    first_day = t[: int(MINUTES_PER_DAY * 60 // max(int(t[1] - t[0]), 1))] if t.size > 1 else t
    minute = local_fields(first_day).minute_of_day
    cheap = tariff.is_offpeak(first_day)
    order = np.argsort(minute)
    minute, cheap = minute[order], cheap[order]
    spans: list[tuple[float, float]] = []
    start: float | None = None
    for m, c in zip(minute.tolist(), cheap.tolist(), strict=True):
        if c and start is None:
            start = float(m)
        if not c and start is not None:
            spans.append((start, float(m)))
            start = None
    if start is not None:
        spans.append((start, float(MINUTES_PER_DAY)))
    return spans


__all__ = [
    "PeakMetrics",
    "cheap_intervals",
    "daily_envelope",
    "daily_profile",
    "load_duration",
    "peak_metrics",
]
