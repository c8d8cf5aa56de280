"""Inverse-CDF sampling from quantile tables (piecewise-linear between stored quantiles).

A table holds, per row, the values at the probability ``levels`` (strictly increasing from 0 to 1).
The levels need not be evenly spaced: a draw ``u`` is placed between the two levels around it, so
a table with levels ``[0, .5, .9, 1]`` gives its median at ``u = 0.5``, not at the second of four
equal steps.
"""

from __future__ import annotations

import numpy as np

from smartcharge.core.units import FloatArray, IntArray


def check_quantile_table(levels: FloatArray, table: FloatArray, name: str) -> str | None:
    """Why ``table`` is not a valid quantile table over ``levels``, or ``None`` when it is.

    Rules: at least two levels, strictly increasing, from exactly 0 to exactly 1; every value finite;
    every row non-decreasing (a quantile function never falls).
    """
    lv = np.asarray(levels, dtype=np.float64)
    q = np.asarray(table, dtype=np.float64)
    if lv.ndim != 1 or lv.shape[0] < 2:
        return f"{name}: needs at least two quantile levels"
    if lv[0] != 0.0 or lv[-1] != 1.0 or np.any(np.diff(lv) <= 0):
        return f"{name}: quantile levels must rise strictly from 0 to 1"
    if q.shape[-1] != lv.shape[0]:
        return f"{name}: {q.shape[-1]} values per row for {lv.shape[0]} quantile levels"
    if not np.all(np.isfinite(q)):
        return f"{name}: every quantile must be a finite number"
    if np.any(np.diff(q, axis=-1) < 0):
        return f"{name}: quantiles must not fall as the level rises (each row non-decreasing)"
    return None


def sample_quantiles(
    table: FloatArray,
    uniform: FloatArray,
    row: IntArray | None = None,
    *,
    levels: FloatArray | None = None,
) -> FloatArray:
    """Values at probability ``uniform`` from quantile ``table`` ((Q,) or (R, Q)).

    ``levels`` are the probabilities of the table's columns; without them the columns are taken as
    evenly spaced from 0 to 1. With a 2-D table, ``row`` picks the row of each draw (e.g. the
    plug-in hour).
    """
    q = np.asarray(table, dtype=np.float64)
    u = np.asarray(uniform, dtype=np.float64)
    width = q.shape[-1] - 1
    if levels is None:
        pos = u * width
        lo = np.minimum(pos.astype(np.int64), width - 1)
        frac = pos - lo
    else:
        lv = np.asarray(levels, dtype=np.float64)
        lo = np.clip(np.searchsorted(lv, u, side="right") - 1, 0, width - 1)
        frac = (u - lv[lo]) / (lv[lo + 1] - lv[lo])
    if q.ndim == 1:
        flat: FloatArray = q[lo] * (1.0 - frac) + q[lo + 1] * frac
        return flat
    r = np.asarray(row, dtype=np.int64)
    by_row: FloatArray = q[r, lo] * (1.0 - frac) + q[r, lo + 1] * frac
    return by_row


__all__ = ["check_quantile_table", "sample_quantiles"]
