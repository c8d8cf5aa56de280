"""The two ports between the CEM and its OCPP connections, version-neutral.

* :class:`CsmsEvents`: what a connected station tells the CEM (implemented by ``cem``). Each
  method is awaited inside the receive loop of that station, so it must never await a call to
  the same station (the ``ocpp`` handler trap); it may await the store, so that a message is
  committed before the station gets its answer (nothing lost on a crash).
* :class:`StationLink`: what the CEM can ask of one connected station (implemented by the
  version modules ``v16`` and ``v201``). One call in flight per link (OCPP-J); fan-out to many
  stations needs one task per station.
"""

from __future__ import annotations

from typing import Protocol

from smartcharge.ocpp.domain import (
    BootAnswer,
    BootInfo,
    ChargingLimitNotice,
    ChargingNeeds,
    ChargingProfile,
    CompositeSchedule,
    IdTokenInfo,
    MeterReading,
    OcppVersion,
    ProfilePurpose,
    ProfileReport,
    ReportedVariable,
    SecurityNotice,
    StationNotice,
    StatusReport,
    TransactionMessage,
    VariableRef,
    VariableResult,
)


class StationLink(Protocol):
    station_id: str
    version: OcppVersion

    async def set_charging_profile(self, profile: ChargingProfile, evse_id: int = 0) -> str: ...

    async def clear_charging_profile(self, profile_id: int | None, purpose: ProfilePurpose | None) -> str: ...

    async def get_composite_schedule(self, duration_s: int, evse_id: int = 0) -> CompositeSchedule: ...

    async def get_charging_profiles(self, request_id: int) -> str: ...

    async def get_variables(self, refs: list[VariableRef]) -> list[VariableResult]: ...

    async def set_variables(self, values: list[tuple[VariableRef, str]]) -> list[VariableResult]: ...

    async def request_start(self, id_token: str, remote_start_id: int) -> str: ...

    async def request_stop(self, transaction_id: str) -> str: ...

    async def reset(self) -> str: ...

    async def get_log(self, remote_location: str, request_id: int) -> str: ...


class CsmsEvents(Protocol):
    async def on_connected(self, link: StationLink) -> None: ...

    async def on_disconnected(self, link: StationLink) -> None: ...

    async def on_boot(self, station_id: str, version: OcppVersion, info: BootInfo) -> BootAnswer:
        """Accepted, Pending or Rejected as the operator set it for this station (B01-B03)."""
        ...

    async def on_status(self, station_id: str, report: StatusReport) -> None: ...

    async def authorize(self, station_id: str, id_token: str) -> IdTokenInfo: ...

    async def on_transaction(self, station_id: str, message: TransactionMessage) -> IdTokenInfo | None:
        """Store the event; the verdict on its id token if it carries one (E01.FR.11/12)."""
        ...

    async def on_meter_values(
        self, station_id: str, transaction_id: str | None, readings: tuple[MeterReading, ...]
    ) -> None: ...

    async def on_security_event(self, station_id: str, notice: SecurityNotice) -> None: ...

    async def on_charging_limit(self, station_id: str, notice: ChargingLimitNotice) -> None: ...

    async def on_profile_report(self, station_id: str, report: ProfileReport) -> None: ...

    async def on_log_status(self, station_id: str, status: str, request_id: int | None) -> None: ...

    async def on_fault(self, station_id: str, kind: str, detail: str) -> None: ...

    async def on_notice(self, station_id: str, notice: StationNotice) -> None:
        """Store a message the CSMS acknowledges without further action (NotifyEvent, DataTransfer, ...)."""
        ...

    async def on_report(
        self,
        station_id: str,
        request_id: int,
        seq_no: int,
        tbc: bool,
        variables: tuple[ReportedVariable, ...],
    ) -> None:
        """One NotifyReport part (B07/B08): the variables become the station's device model."""
        ...

    async def on_reservation_status(self, station_id: str, reservation_id: int, status: str) -> None: ...

    async def on_cleared_charging_limit(self, station_id: str, source: str, evse_id: int | None) -> None: ...

    async def on_charging_needs(self, station_id: str, needs: ChargingNeeds) -> str:
        """NotifyEVChargingNeeds (K15): Accepted when a profile will follow, else Rejected."""
        ...


__all__ = ["CsmsEvents", "StationLink"]
