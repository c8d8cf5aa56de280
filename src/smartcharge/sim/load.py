"""Accumulate charging boxes into load series on a regular grid, without a per-step loop.

Each box adds its power to every step it covers, in proportion to the covered part of the
first and last steps, so the series holds each step's mean power and conserves energy exactly.
This is done with a difference array: a box starting at fractional step ``x`` adds
``p * (1 - frac(x))`` at ``floor(x)`` and ``p * frac(x)`` at ``floor(x) + 1``; its end subtracts
the same way; one cumulative sum along time then gives the series.
"""

from __future__ import annotations

import numpy as np

from smartcharge.core.units import FloatArray, IntArray

_BLOCK_BOXES = 1_000_000


def _edges(
    start_s: FloatArray,
    end_s: FloatArray,
    power_w: FloatArray,
    column: IntArray,
    n_columns: int,
    grid: tuple[int, int, int],
) -> tuple[IntArray, FloatArray]:
    """The difference-array entries (flat index, weight) of the boxes' starts and ends on the
    grid (start s, steps, step s)."""
    grid_start_s, n_steps, step_s = grid
    grid_end = grid_start_s + n_steps * step_s
    a = np.clip(np.asarray(start_s, dtype=np.float64), grid_start_s, grid_end)
    b = np.clip(np.asarray(end_s, dtype=np.float64), grid_start_s, grid_end)
    keep = b > a
    a, b, p, col = a[keep], b[keep], np.asarray(power_w)[keep], np.asarray(column, dtype=np.int64)[keep]
    index_parts, weight_parts = [], []
    for edge, sign in ((a, 1.0), (b, -1.0)):
        x = (edge - grid_start_s) / step_s
        i = np.minimum(np.floor(x).astype(np.int64), n_steps)
        frac = x - i
        # Time-major layout (step * n_columns + column), so the cumulative sum runs along axis 0
        # and the (T, G) result needs no transpose.
        index_parts += [i * n_columns + col, np.minimum(i + 1, n_steps) * n_columns + col]
        weight_parts += [sign * p * (1.0 - frac), sign * p * frac]
    return np.concatenate(index_parts), np.concatenate(weight_parts)


def accumulate_boxes(
    start_s: FloatArray,
    end_s: FloatArray,
    power_w: FloatArray,
    column: IntArray,
    n_columns: int,
    grid_start_s: int,
    n_steps: int,
    step_s: int,
) -> FloatArray:
    """Mean power per step and column, shape (n_steps, n_columns); boxes are clipped to the grid."""
    width = n_steps + 1
    flat = np.zeros(width * n_columns)
    grid = (grid_start_s, n_steps, step_s)
    # Boxes in blocks, so the temporaries (edges, indices, weights: some 20 arrays of the
    # block's size) stay bounded at a million EVs; one block for smaller runs.
    for lo in range(0, max(len(start_s), 1), _BLOCK_BOXES):
        hi = lo + _BLOCK_BOXES
        index, weight = _edges(start_s[lo:hi], end_s[lo:hi], power_w[lo:hi], column[lo:hi], n_columns, grid)
        flat += np.bincount(index, weights=weight, minlength=width * n_columns)
    diff = flat.reshape(width, n_columns)
    np.cumsum(diff, axis=0, out=diff)  # in place: no second (T, G) array
    out: FloatArray = diff[:n_steps]
    # Cumulative sums of +p/-p leave rounding dust where nothing charges; it is not load.
    out[out < 1e-6] = 0.0  # loads are >= 0; what is below a microwatt is rounding
    return out


__all__ = ["accumulate_boxes"]
