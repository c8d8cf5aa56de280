"""The limit a set of charging profiles puts on one EVSE at an instant, and over a period (K08).

Pure functions of the profiles and a time, no clock and no I/O (the station calls them on each
tick and for GetCompositeSchedule):

* one profile is *in force* at ``at_s`` when ``at_s`` lies in [validFrom, validTo), after its
  schedule's start (startSchedule for Absolute and Recurring, the transaction's start for
  Relative) and before the start plus ``duration``; a Recurring schedule restarts every day or
  week (OCPP 2.0.1 K01, 1.6 section 3.13.2);
* its limit is that of the last period started, in W: a limit in A is per phase, times the
  phases used (the period's numberPhases, at most the station's) and the nominal voltage
  (230 V in GB, BS EN 50160);
* within one purpose the profile in force with the highest stack level leads, across purposes
  the minimum counts and a TxProfile replaces the TxDefaultProfile (K08 composite rules, 1.6
  section 3.13.4): :func:`smartcharge.policy.profile_stack.leading_limits_w` decides, fed with
  the profiles in force at that instant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from smartcharge.core.units import NOMINAL_VOLTAGE_V
from smartcharge.ocpp.domain import (
    RECURRENCY_S,
    ChargingProfile,
    ChargingSchedule,
    ProfilePurpose,
    SchedulePeriod,
)
from smartcharge.policy import profile_stack

PURPOSE_CODE = {
    ProfilePurpose.STATION_MAX: profile_stack.STATION_MAX,
    ProfilePurpose.EXTERNAL_CONSTRAINTS: profile_stack.EXTERNAL_CONSTRAINTS,
    ProfilePurpose.TX_DEFAULT: profile_stack.TX_DEFAULT,
    ProfilePurpose.TX: profile_stack.TX,
}


def schedule_of(profile: ChargingProfile) -> ChargingSchedule:
    """The profile's schedule; a flat limit (the CEM's own profiles) is one period in W from its
    validFrom (or always)."""
    if profile.schedule is not None:
        return profile.schedule
    return ChargingSchedule("W", (SchedulePeriod(0, profile.limit_w),), start_at=profile.valid_from)


def limit_w_of(period: SchedulePeriod, rate_unit: str, station_phases: int, voltage_v: float) -> float:
    """A period's limit in W: A per phase times the phases used and the voltage (K01 numberPhases:
    a station cannot draw on more phases than it has)."""
    if rate_unit == "W":
        return period.limit
    phases = min(period.phases or station_phases, station_phases)
    return period.limit * voltage_v * phases


def schedule_origin_s(profile: ChargingProfile, tx_start_s: float | None) -> float | None:
    """When the schedule's offset 0 is: startSchedule, or the transaction start for Relative
    (None: a Relative schedule with no transaction is not in force). A flat or Absolute profile
    given without startSchedule runs from its validFrom, or always."""
    schedule = schedule_of(profile)
    if schedule.kind == "Relative":
        return tx_start_s
    if schedule.start_at is not None:
        return schedule.start_at.timestamp()
    return -math.inf if profile.valid_from is None else profile.valid_from.timestamp()


def profile_limit_w(
    profile: ChargingProfile,
    at_s: float,
    tx_start_s: float | None,
    station_phases: int = 1,
    voltage_v: float = NOMINAL_VOLTAGE_V,
) -> float | None:
    """The limit one profile sets at ``at_s`` in W, or None when it is not in force then."""
    if profile.valid_from is not None and at_s < profile.valid_from.timestamp():
        return None
    if profile.valid_to is not None and at_s >= profile.valid_to.timestamp():
        return None
    schedule = schedule_of(profile)
    origin_s = schedule_origin_s(profile, tx_start_s)
    if origin_s is None or at_s < origin_s:
        return None
    offset_s = 0.0 if origin_s == -math.inf else at_s - origin_s
    if schedule.kind == "Recurring" and schedule.recurrency is not None:
        offset_s %= RECURRENCY_S[schedule.recurrency]
    if schedule.duration_s is not None and offset_s >= schedule.duration_s:
        return None
    current = schedule.periods[0]
    for period in schedule.periods:
        if period.start_s <= offset_s:
            current = period
    return limit_w_of(current, schedule.rate_unit, station_phases, voltage_v)


def leading_limits_w(
    profiles: Iterable[ChargingProfile],
    at_s: float,
    tx_start_s: float | None,
    station_phases: int = 1,
    voltage_v: float = NOMINAL_VOLTAGE_V,
) -> np.ndarray:
    """The leading limit per purpose at ``at_s``, shape (4,) by ``profile_stack`` code; ``inf``
    where no profile of that purpose is in force."""
    codes, levels, limits = [], [], []
    for profile in profiles:
        limit_w = profile_limit_w(profile, at_s, tx_start_s, station_phases, voltage_v)
        if limit_w is not None:
            codes.append(PURPOSE_CODE[profile.purpose])
            levels.append(profile.stack_level)
            limits.append(limit_w)
    return profile_stack.leading_limits_w(
        np.array(codes, dtype=np.int64),
        np.array(levels, dtype=np.int64),
        np.array(limits, dtype=np.float64),
        np.full(len(codes), profile_stack.NO_END, dtype=np.int64),
        0,
    )


def composite_limit_w(leading_w: np.ndarray, hardware_w: float) -> float:
    """The composite at one instant: the minimum across purposes and the hardware (K08)."""
    return min(
        hardware_w,
        float(leading_w[profile_stack.STATION_MAX]),
        float(leading_w[profile_stack.EXTERNAL_CONSTRAINTS]),
        profile_stack.transaction_limit_w(leading_w),
    )


def change_points_s(
    profile: ChargingProfile, start_s: float, end_s: float, tx_start_s: float | None
) -> set[float]:
    """Every instant in (start_s, end_s) at which this profile's limit may change: validity
    bounds, schedule start and end, period starts (each cycle of a Recurring schedule)."""
    points: set[float] = set()
    for bound in (profile.valid_from, profile.valid_to):
        if bound is not None:
            points.add(bound.timestamp())
    schedule = schedule_of(profile)
    origin_s = schedule_origin_s(profile, tx_start_s)
    if origin_s is not None and origin_s != -math.inf:
        cycle_s = RECURRENCY_S.get(schedule.recurrency or "") if schedule.kind == "Recurring" else None
        first = 0 if cycle_s is None else max(0, math.floor((start_s - origin_s) / cycle_s))
        last = 0 if cycle_s is None else max(0, math.ceil((end_s - origin_s) / cycle_s))
        offsets = [p.start_s for p in schedule.periods]
        if schedule.duration_s is not None:
            offsets.append(schedule.duration_s)
        for n in range(first, last + 1):
            base_s = origin_s + n * (cycle_s or 0)
            points.update(base_s + offset for offset in offsets)
    return {p for p in points if start_s < p < end_s}


def composite_schedule_w(
    profiles: Sequence[ChargingProfile],
    start_s: float,
    duration_s: int,
    tx_start_s: float | None,
    hardware_w: float,
    station_phases: int = 1,
    voltage_v: float = NOMINAL_VOLTAGE_V,
) -> list[tuple[int, float]]:
    """The composite schedule from ``start_s`` for ``duration_s`` (K08, 1.6 GetCompositeSchedule):
    (offset in s, limit in W) at every change, the first at offset 0."""
    end_s = start_s + duration_s
    points = {start_s}
    for profile in profiles:
        points |= change_points_s(profile, start_s, end_s, tx_start_s)
    periods: list[tuple[int, float]] = []
    for at_s in sorted(points):
        leading = leading_limits_w(profiles, at_s, tx_start_s, station_phases, voltage_v)
        limit_w = round(composite_limit_w(leading, hardware_w), 1)
        offset_s = math.floor(at_s - start_s)
        if periods and periods[-1][0] == offset_s:
            periods[-1] = (offset_s, limit_w)
        elif not periods or periods[-1][1] != limit_w:
            periods.append((offset_s, limit_w))
    return periods


__all__ = [
    "PURPOSE_CODE",
    "change_points_s",
    "composite_limit_w",
    "composite_schedule_w",
    "leading_limits_w",
    "limit_w_of",
    "profile_limit_w",
    "schedule_of",
    "schedule_origin_s",
]
