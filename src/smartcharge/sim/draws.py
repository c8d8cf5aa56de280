"""Common random numbers: uniforms keyed by (seed, stream, household, counter), not by draw order.

A household's car and its chain of stays must come out the same whatever else is simulated
(issue 14, item 7): at 40 % penetration the EVs are a subset of those at 60 %, with the same
chargers and the same stays, and every strategy sees the same cars and stays for one seed. A
sequential generator cannot give that (who else is drawn shifts the stream), so each draw is a
pure function of its key: a SplitMix64 finaliser over the key words, all in numpy uint64
arithmetic (wrap-around is the intended modular arithmetic). Uniforms are in [0, 1) with 53 bits.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from smartcharge.core.units import FloatArray, IntArray

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / float(1 << 53)


class Stream(IntEnum):
    """What a draw is for; each has its own stream so that adding one never moves another."""

    CHARGER = 1
    BATTERY = 2
    ARRIVAL_RATE = 3
    ENERGY_RATE = 4
    GAP = 5
    DURATION = 6
    ENERGY = 7
    PHASE = 8
    FIRST_GAP = 9
    OWNER = 10
    PROFILE = 11
    SHIFT = 12


def _mix(x: np.ndarray) -> np.ndarray:
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    out: np.ndarray = z ^ (z >> np.uint64(31))
    return out


def keyed_uniform(seed: int, stream: Stream, household: IntArray, counter: IntArray | int = 0) -> FloatArray:
    """One uniform in [0, 1) per element of ``household`` (and ``counter``, broadcast)."""
    with np.errstate(over="ignore"):
        h = np.asarray(household, dtype=np.int64).astype(np.uint64)
        c = np.asarray(counter, dtype=np.int64).astype(np.uint64)
        z = _mix(np.full(1, seed, dtype=np.uint64) ^ (np.uint64(int(stream)) << np.uint64(56)))
        z = _mix(z ^ h)
        z = _mix(z ^ (c * _GOLDEN))
    unit: FloatArray = (z >> np.uint64(11)).astype(np.float64) * _TO_UNIT
    return unit


__all__ = ["Stream", "keyed_uniform"]
