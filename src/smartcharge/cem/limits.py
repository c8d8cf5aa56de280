"""The CEM's limit book: every limit on the site and on each charge point, with its source, and
what charging profile each charge point should therefore hold (ARB-3, ARB-5; OCPP 2.0.1 K01).

Arbitration is never re-implemented here: each charge point's own layers go through
:func:`~smartcharge.policy.arbitration.arbitrate_layers`, and a site-wide limit is shared out
with :func:`~smartcharge.policy.arbitration.allocate_tree` (site node above the charge points).
The result becomes profiles by source: site and safety -> ChargingStationMaxProfile, response DSR
-> ChargingStationExternalConstraints, routine DSR -> TxDefaultProfile. The device keeps its own
layer 6 (default hours, randomised delay); a consumer override is a device variable, not a profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.limit import N_LAYERS, Limit, LimitSource
from smartcharge.ocpp.domain import ProfilePurpose
from smartcharge.policy.arbitration import allocate_tree, arbitrate_layers

PURPOSE_OF_SOURCE = {
    LimitSource.SAFETY: ProfilePurpose.STATION_MAX,
    LimitSource.SITE: ProfilePurpose.STATION_MAX,
    LimitSource.RESPONSE_DSR: ProfilePurpose.EXTERNAL_CONSTRAINTS,
    LimitSource.ROUTINE_DSR: ProfilePurpose.TX_DEFAULT,
}
#: Fixed profile id and stack level per purpose, so a new limit replaces the old one in place.
PROFILE_ID = {
    ProfilePurpose.STATION_MAX: 101,
    ProfilePurpose.EXTERNAL_CONSTRAINTS: 102,
    ProfilePurpose.TX_DEFAULT: 103,
}
#: What a charge point can draw when nothing else is known of it (a 32 A single-phase wallbox).
DEFAULT_RATED_W = 7_400.0


@dataclass(frozen=True, slots=True)
class ProfileTarget:
    """What one charge point should hold for one purpose (None: no profile)."""

    limit_w: float | None
    until_s: int | None
    exempt_from_delay: bool


@dataclass
class LimitBook:
    """Limits per layer for the site and for each charge point; times in epoch seconds."""

    site: dict[LimitSource, tuple[Limit, int | None, bool]] = field(default_factory=dict)
    station: dict[str, dict[LimitSource, tuple[Limit, int | None, bool]]] = field(default_factory=dict)
    override: set[str] = field(default_factory=set)

    def apply(self, station_id: str | None, limit: Limit, until_s: int | None, exempt: bool) -> None:
        if limit.source is LimitSource.DEVICE_DEFAULT:
            raise ValidationError(
                "source", limit.source.name, "device defaults are set on the charge point itself"
            )
        if limit.source is LimitSource.CONSUMER_OVERRIDE:
            raise ValidationError(
                "source", limit.source.name, "an override is set with set_override, not a limit"
            )
        table = self.site if station_id is None else self.station.setdefault(station_id, {})
        table[limit.source] = (limit, until_s, exempt)

    def clear(self, station_id: str | None, source: LimitSource) -> None:
        table = self.site if station_id is None else self.station.get(station_id, {})
        table.pop(source, None)

    def _rows(self, station_ids: list[str], now_s: int) -> np.ndarray:
        rows = np.full((len(station_ids), N_LAYERS), np.inf)
        for i, sid in enumerate(station_ids):
            for source, (limit, until_s, _) in self.station.get(sid, {}).items():
                if until_s is None or until_s > now_s:
                    rows[i, source - 1] = limit.value_w
        return rows

    def targets(
        self, station_ids: list[str], rated_w: dict[str, float], now_s: int
    ) -> tuple[dict[str, dict[ProfilePurpose, ProfileTarget]], np.ndarray, np.ndarray]:
        """Per charge point the profile per purpose, plus the allocation and binding layer (N,)."""
        rows = self._rows(station_ids, now_s)
        override = np.array([sid in self.override for sid in station_ids], dtype=np.bool_)
        own_w, own_layer = arbitrate_layers(rows, override)
        rated = np.array([rated_w.get(sid, DEFAULT_RATED_W) for sid in station_ids])
        request = np.minimum(own_w, rated)
        site_row = np.full((1, N_LAYERS), np.inf)
        for source, (limit, until_s, _) in self.site.items():
            if until_s is None or until_s > now_s:
                site_row[0, source - 1] = limit.value_w
        site_w, site_layer = arbitrate_layers(site_row, np.array([False]))
        alloc, layer = allocate_tree(
            request,
            np.zeros(len(station_ids), dtype=np.int64),
            np.array([-1], dtype=np.int64),
            site_w,
            site_layer,
            np.where(np.isfinite(own_w), own_layer, 0),
        )
        site_binds = alloc < request
        result: dict[str, dict[ProfilePurpose, ProfileTarget]] = {}
        for i, sid in enumerate(station_ids):
            wanted: dict[ProfilePurpose, ProfileTarget] = {}
            for source, (limit, until_s, exempt) in self.station.get(sid, {}).items():
                if until_s is not None and until_s <= now_s:
                    continue
                purpose = PURPOSE_OF_SOURCE[source]
                old = wanted.get(purpose)
                if old is None or (old.limit_w is not None and limit.value_w < old.limit_w):
                    wanted[purpose] = ProfileTarget(limit.value_w, until_s, exempt)
            if site_binds[i]:
                source = LimitSource(int(site_layer[0]))
                purpose = PURPOSE_OF_SOURCE[source]
                _, until_s, exempt = self.site[source]
                share = float(alloc[i])
                old = wanted.get(purpose)
                if old is None or (old.limit_w is not None and share < old.limit_w):
                    wanted[purpose] = ProfileTarget(share, until_s, exempt)
            result[sid] = wanted
        return result, alloc, layer


__all__ = ["DEFAULT_RATED_W", "PROFILE_ID", "PURPOSE_OF_SOURCE", "LimitBook", "ProfileTarget"]
