"""PAS 1878 flexibility offers and telemetry as OpenADR report readings (DSR-1, DSR-4, SCP-MS-4).

The profiles come from the one shared rule, :func:`smartcharge.policy.offers.flexibility_offers`;
this module only sums them over the site and lays them out as ``oadrUpdateReport`` readings:

* ``x-FLEX_OFFER``: r_id ``IO`` / ``LD`` / ``MD`` (intended operation, least and most delayed),
  one reading per step, value in W;
* ``TELEMETRY_USAGE``: r_id ``power_w`` and ``energy_kwh`` (site totals);
* ``TELEMETRY_STATUS``: r_id ``charging`` (charge points drawing power) and ``override``;
* ``x-POWER_REPORT``: r_id = event id, the site power sampled while the event ran, so the
  DSRSP can verify delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from smartcharge.cem.ports import StationTelemetry
from smartcharge.core.limit import LimitSource
from smartcharge.openadr.model import OFFER_REPORT, STATUS_REPORT, USAGE_REPORT, ReportPoint
from smartcharge.policy.offers import flexibility_offers


@dataclass(frozen=True, slots=True)
class ChargingNeed:
    """One plugged-in vehicle's need as the CEM knows it (from the owner's app or the EV)."""

    station_id: str
    plug_in_s: int
    departure_s: int
    energy_kwh: float
    max_power_w: float
    intended_start_s: int


@runtime_checkable
class ChargingNeedSource(Protocol):
    """Optional extra of a gateway: the charging needs behind the flexibility offers."""

    def charging_needs(self) -> list[ChargingNeed]: ...


def offer_points(needs: Sequence[ChargingNeed], now_s: int, step_s: int, n_steps: int) -> list[ReportPoint]:
    """Site-level IO, LD and MD profiles from ``now_s`` on (DSR-1)."""
    if not needs:
        return []
    offers = flexibility_offers(
        plug_in_s=np.array([max(n.plug_in_s, now_s) for n in needs], dtype=np.int64),
        departure_s=np.array([max(n.departure_s, now_s) for n in needs], dtype=np.int64),
        energy_kwh=np.array([n.energy_kwh for n in needs]),
        max_power_w=np.array([n.max_power_w for n in needs]),
        intended_start_s=np.array([n.intended_start_s for n in needs], dtype=np.int64),
        grid_start_s=now_s,
        step_s=step_s,
        n_steps=n_steps,
    )
    points: list[ReportPoint] = []
    for r_id, profile in (
        ("IO", offers.intended_w),
        ("LD", offers.least_delayed_w),
        ("MD", offers.most_delayed_w),
    ):
        site = profile.sum(axis=0)
        points.extend(
            ReportPoint(OFFER_REPORT, r_id, now_s + k * step_s, float(site[k])) for k in range(n_steps)
        )
    return points


def is_override_active(telemetry: Sequence[StationTelemetry]) -> bool:
    """Whether the owner's override binds any charge point (ARB-5 layer 4)."""
    return any(t.binding_source is LimitSource.CONSUMER_OVERRIDE for t in telemetry)


def telemetry_points(telemetry: Sequence[StationTelemetry], now_s: int) -> list[ReportPoint]:
    """Site totals for TELEMETRY_USAGE and TELEMETRY_STATUS (SCP-MS-4)."""
    power_w = float(sum(t.power_w for t in telemetry))
    energy_kwh = float(sum(t.energy_kwh for t in telemetry))
    charging = float(sum(1 for t in telemetry if t.charging))
    return [
        ReportPoint(USAGE_REPORT, "power_w", now_s, power_w),
        ReportPoint(USAGE_REPORT, "energy_kwh", now_s, energy_kwh),
        ReportPoint(STATUS_REPORT, "charging", now_s, charging),
        ReportPoint(STATUS_REPORT, "override", now_s, float(is_override_active(telemetry))),
    ]


__all__ = [
    "ChargingNeed",
    "ChargingNeedSource",
    "is_override_active",
    "offer_points",
    "telemetry_points",
]
