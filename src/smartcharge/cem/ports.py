"""The CEM's narrow ports: how a DSR source (the OpenADR VEN) reaches the charge points.

Interface A (OpenADR, ``smartcharge.openadr``) and Interface B (OCPP, ``smartcharge.ocpp``) never
import each other; the CEM joins them through these protocols. The OCPP side implements
:class:`ChargerGateway`; the VEN side calls it. Tests use in-memory fakes of each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from smartcharge.core.limit import Limit, LimitSource


@dataclass(frozen=True, slots=True)
class StationTelemetry:
    """What the CEM knows of one charge point right now (for OpenADR TELEMETRY reports)."""

    station_id: str
    connected: bool
    charging: bool
    power_w: float
    energy_kwh: float  # meter register
    limit_w: float
    binding_source: LimitSource | None


class ChargerGateway(Protocol):
    """Apply and clear limits on the CEM's charge points, and read their state.

    ``station_id=None`` addresses every charge point the CEM holds (the site).
    ``until_s`` is the epoch second when the limit lapses by itself (None: until cleared).
    ``exempt_from_delay`` is True when the sender already randomised, or for response DSR
    (SCP-RD-4, RD-R3).
    """

    async def apply_limit(
        self, station_id: str | None, limit: Limit, until_s: int | None, exempt_from_delay: bool
    ) -> None: ...

    async def clear_limit(self, station_id: str | None, source: LimitSource) -> None: ...

    def telemetry(self) -> list[StationTelemetry]: ...


__all__ = ["ChargerGateway", "StationTelemetry"]
