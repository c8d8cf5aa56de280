"""Households and sites on feeders, which of them own an EV, and whose real demand each follows.

Households are numbered feeder by feeder, so a feeder's households are one contiguous run.
Which households own an EV is decided by a key drawn per household (:mod:`smartcharge.sim.draws`):
the ``round(p x n)`` households with the lowest keys, so the owners at 40 % are a subset of those
at 60 % (common random numbers, issue 14 item 7).

Base load (item 9). Each household follows one Low Carbon London home (flat tariff, 2013) on the
same dates, so a cold day is cold for every household; to keep two households on the same source
home from peaking in the same minute, the profile is moved by a whole number of half-hours,
-2..+2 (at most an hour, within the day's weather; the old -3..+3 week shifts spread a common
weather peak over different weeks). A feeder chooses which homes it draws from: all, only those
marked with electric heating, or only those without (the marks come from each home's own demand,
see ``scripts/derive_behaviour.py``). A site can instead carry no base load (``none``) or a
parametric non-residential load (``office``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.localtime import local_fields
from smartcharge.core.units import FloatArray, IntArray
from smartcharge.sim.behaviour import BaseDemand
from smartcharge.sim.draws import Stream, keyed_uniform
from smartcharge.sim.reference_year import reference_index

SHIFT_HALF_HOURS = np.arange(-2, 3, dtype=np.int64)
_HALF_HOUR_S = 1800
HOME_SETS = ("all", "electric_heating", "no_electric_heating")
SITE_BASES = ("homes", "none", "office")


@dataclass(frozen=True, slots=True)
class Households:
    """Per household, shape (H,): its group (feeder), its base profile, and its EV (-1 if none)."""

    group: IntArray
    profile: IntArray  # source_home * len(SHIFT_HALF_HOURS) + shift index
    vehicle: IntArray

    @property
    def size(self) -> int:
        return int(self.group.shape[0])


def eligible_homes(base: BaseDemand, home_set: str) -> IntArray:
    """Indices of the source homes a feeder with ``home_set`` draws from."""
    n = base.base_w.shape[0]
    if home_set == "all":
        return np.arange(n, dtype=np.int64)
    if home_set not in HOME_SETS:
        raise ValidationError("homes", home_set, f"one of {', '.join(HOME_SETS)}")
    if base.electric_heating is None:
        raise ValidationError("homes", home_set, "the packaged base load carries no electric-heating marks")
    want = home_set == "electric_heating"
    return np.flatnonzero(base.electric_heating == want).astype(np.int64)


def place_households(
    n_per_group: IntArray,
    penetration: FloatArray,
    base: BaseDemand,
    seed: int,
    home_sets: tuple[str, ...] | None = None,
) -> tuple[Households, IntArray]:
    """Households of each group, and the household of each EV (EV count = round(p x n) per group)."""
    counts = np.asarray(n_per_group, dtype=np.int64)
    group = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    index = np.arange(group.size, dtype=np.int64)
    sets = home_sets or ("all",) * counts.size
    home = np.zeros(group.size, dtype=np.int64)
    u_home = keyed_uniform(seed, Stream.PROFILE, index)
    for name in set(sets):
        if name not in HOME_SETS:
            raise ValidationError("homes", name, f"one of {', '.join(HOME_SETS)}")
    set_of_household = np.array([HOME_SETS.index(name) for name in sets], dtype=np.int64)[group]
    for k, name in enumerate(HOME_SETS):  # loop over the few home sets, not over the groups
        sel = set_of_household == k
        if sel.any():
            pool = eligible_homes(base, name)
            home[sel] = pool[np.minimum((u_home[sel] * pool.size).astype(np.int64), pool.size - 1)]
    shift = np.minimum(
        (keyed_uniform(seed, Stream.SHIFT, index) * SHIFT_HALF_HOURS.size).astype(np.int64),
        SHIFT_HALF_HOURS.size - 1,
    )
    profile = home * SHIFT_HALF_HOURS.size + shift
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    n_ev = np.rint(np.asarray(penetration) * counts).astype(np.int64)
    # Owners: the households with the lowest keys in their group (nested in penetration).
    key = keyed_uniform(seed, Stream.OWNER, index) + group
    rank = np.argsort(np.argsort(key, kind="stable"), kind="stable") - first[group]
    owner = np.flatnonzero(rank < n_ev[group])
    vehicle = np.full(group.size, -1, dtype=np.int64)
    vehicle[owner] = np.arange(owner.size, dtype=np.int64)
    return Households(group, profile, vehicle), owner


def profile_w(base: BaseDemand, times_s: IntArray) -> FloatArray:
    """Base demand of every profile at each UTC time, shape (profiles, T), watts."""
    t = np.asarray(times_s, dtype=np.int64)
    shifts = SHIFT_HALF_HOURS * _HALF_HOUR_S
    idx = reference_index(t[None, :] + shifts[:, None], base.start_s)  # (shifts, T)
    values = base.base_w[:, idx].astype(np.float64)  # (homes, shifts, T)
    return values.reshape(-1, t.size)


def profile_counts(base: BaseDemand, households: Households, n_groups: int) -> FloatArray:
    """How many households of each group follow each base profile, shape (G, profiles)."""
    n_profiles = base.base_w.shape[0] * SHIFT_HALF_HOURS.size
    flat = np.bincount(households.group * n_profiles + households.profile, minlength=n_groups * n_profiles)
    counts: FloatArray = flat.reshape(n_groups, n_profiles).astype(np.float64)
    return counts


def office_shape(times_s: IntArray) -> FloatArray:
    """Share of an office site's peak load at each UTC time (a parametric shape, not data).

    Weekdays 07:00-19:00 local at 100 % with one-hour ramps from and to a 30 % night and weekend
    base (lighting, IT, ventilation left on). A stand-in until a non-domestic profile with a clear
    licence is packaged; set the peak per site.
    """
    fields = local_fields(np.asarray(times_s, dtype=np.int64))
    hour = fields.minute_of_day / 60.0
    day = np.clip(np.minimum(hour - 6.0, 19.0 - hour), 0.0, 1.0)
    weekday = fields.weekday < 5
    shape: FloatArray = 0.3 + 0.7 * np.where(weekday, day, 0.0)
    return shape


def group_base_w(
    base: BaseDemand, counts: FloatArray, times_s: IntArray, office_peak_w: FloatArray | None = None
) -> FloatArray:
    """Base load of each group, shape (T, G): its households' demand plus any site load.

    ``counts`` from :func:`profile_counts` (a group with no homes has a zero row); the source is
    half-hourly, so the household sum is formed once per half-hour and repeated per step.
    """
    t = np.asarray(times_s, dtype=np.int64)
    slots, inverse = np.unique(t // _HALF_HOUR_S, return_inverse=True)
    per_slot = (counts @ profile_w(base, slots * _HALF_HOUR_S)).T
    result: FloatArray = per_slot[inverse.ravel()]
    if office_peak_w is not None and np.any(office_peak_w > 0):
        result = result + office_shape(t)[:, None] * np.asarray(office_peak_w)[None, :]
    return result


def household_base_w(base: BaseDemand, households: Households, times_s: IntArray) -> FloatArray:
    """Base demand of each household, shape (T, H): row ``profile`` of :func:`profile_w`, read
    for the households' own profiles only (not every home at every shift; issue 14 "Speed")."""
    t = np.asarray(times_s, dtype=np.int64)
    shifts = SHIFT_HALF_HOURS * _HALF_HOUR_S
    home, shift = np.divmod(np.asarray(households.profile, dtype=np.int64), shifts.size)
    idx = reference_index(t[None, :] + shifts[:, None], base.start_s)  # (shifts, T)
    per_household = base.base_w[home[:, None], idx[shift]].astype(np.float64)  # (H, T)
    result: FloatArray = per_household.T
    return result


__all__ = [
    "HOME_SETS",
    "SITE_BASES",
    "SHIFT_HALF_HOURS",
    "Households",
    "eligible_homes",
    "group_base_w",
    "household_base_w",
    "office_shape",
    "place_households",
    "profile_counts",
    "profile_w",
]
