"""Households on feeders, which of them own an EV, and whose real demand each one follows.

Households are numbered feeder by feeder, so a feeder's households are one contiguous run.
Each household follows one Low Carbon London home (flat tariff, 2013), shifted by a whole number
of weeks (-3..+3) so that two households on the same source home do not peak in the same minute;
weekdays are kept. With 75 homes x 7 shifts there are 525 base profiles, and a group's base load
is a (groups x profiles) count matrix times the (profiles x time) profile table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.units import SECONDS_PER_DAY, FloatArray, IntArray
from smartcharge.sim.behaviour import BaseDemand
from smartcharge.sim.reference_year import reference_index

_SHIFT_WEEKS = np.arange(-3, 4, dtype=np.int64)
_HALF_HOUR_S = 1800


@dataclass(frozen=True, slots=True)
class Households:
    """Per household, shape (H,): its group (feeder), its base profile, and its EV (-1 if none)."""

    group: IntArray
    profile: IntArray  # source_home * 7 + shift index
    vehicle: IntArray

    @property
    def size(self) -> int:
        return int(self.group.shape[0])


def place_households(
    n_per_group: IntArray, penetration: FloatArray, n_homes: int, rng: np.random.Generator
) -> tuple[Households, IntArray]:
    """Households of each group, and the household of each EV (EV count = round(p x n) per group)."""
    counts = np.asarray(n_per_group, dtype=np.int64)
    group = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    profile = rng.integers(0, n_homes, group.size) * _SHIFT_WEEKS.size + rng.integers(
        0, _SHIFT_WEEKS.size, group.size
    )
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    n_ev = np.rint(np.asarray(penetration) * counts).astype(np.int64)
    # A random subset of each group owns an EV: rank households by a random key within their group.
    key = rng.random(group.size) + group
    rank = np.argsort(np.argsort(key, kind="stable"), kind="stable") - first[group]
    owner = np.flatnonzero(rank < n_ev[group])
    vehicle = np.full(group.size, -1, dtype=np.int64)
    vehicle[owner] = np.arange(owner.size, dtype=np.int64)
    return Households(group, profile, vehicle), owner


def profile_w(base: BaseDemand, times_s: IntArray) -> FloatArray:
    """Base demand of every profile at each UTC time, shape (profiles, T), watts."""
    t = np.asarray(times_s, dtype=np.int64)
    shifts = _SHIFT_WEEKS * 7 * SECONDS_PER_DAY
    idx = reference_index(t[None, :] + shifts[:, None], base.start_s)  # (7, T)
    values = base.base_w[:, idx].astype(np.float64)  # (homes, 7, T)
    return values.reshape(-1, t.size)


def profile_counts(base: BaseDemand, households: Households, n_groups: int) -> FloatArray:
    """How many households of each group follow each base profile, shape (G, profiles)."""
    n_profiles = base.base_w.shape[0] * _SHIFT_WEEKS.size
    flat = np.bincount(households.group * n_profiles + households.profile, minlength=n_groups * n_profiles)
    counts: FloatArray = flat.reshape(n_groups, n_profiles).astype(np.float64)
    return counts


def group_base_w(base: BaseDemand, counts: FloatArray, times_s: IntArray) -> FloatArray:
    """Sum of the base demand of each group's households, shape (T, G); ``counts`` from profile_counts.

    The source is half-hourly, so the sum is formed once per half-hour and repeated per step.
    """
    t = np.asarray(times_s, dtype=np.int64)
    slots, inverse = np.unique(t // _HALF_HOUR_S, return_inverse=True)
    per_slot = (counts @ profile_w(base, slots * _HALF_HOUR_S)).T
    result: FloatArray = per_slot[inverse.ravel()]
    return result


def household_base_w(base: BaseDemand, households: Households, times_s: IntArray) -> FloatArray:
    """Base demand of each household, shape (T, H)."""
    result: FloatArray = profile_w(base, times_s)[households.profile].T
    return result


__all__ = [
    "Households",
    "group_base_w",
    "household_base_w",
    "place_households",
    "profile_counts",
    "profile_w",
]
