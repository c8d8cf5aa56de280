"""Inverse-CDF sampling from quantile tables (piecewise-linear between stored quantiles)."""

from __future__ import annotations

import numpy as np

from smartcharge.core.units import FloatArray, IntArray


def sample_quantiles(table: FloatArray, uniform: FloatArray, row: IntArray | None = None) -> FloatArray:
    """Values at probability ``uniform`` from equally spaced quantiles ``table`` ((Q,) or (R, Q)).

    With a 2-D table, ``row`` picks the row of each draw (e.g. the plug-in hour).
    """
    q = np.asarray(table, dtype=np.float64)
    u = np.asarray(uniform, dtype=np.float64)
    width = q.shape[-1] - 1
    pos = u * width
    lo = np.minimum(pos.astype(np.int64), width - 1)
    frac = pos - lo
    if q.ndim == 1:
        flat: FloatArray = q[lo] * (1.0 - frac) + q[lo + 1] * frac
        return flat
    r = np.asarray(row, dtype=np.int64)
    by_row: FloatArray = q[r, lo] * (1.0 - frac) + q[r, lo + 1] * frac
    return by_row


__all__ = ["sample_quantiles"]
