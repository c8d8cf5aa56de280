"""What stations report of themselves, and how the CEM answers their boot: boot policy (B01-B03),
connector status (G01), the device model (B07/B08 NotifyReport), stored notices (NotifyEvent N07,
DataTransfer, firmware and diagnostics status, ...) and reservations (H01-H04)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from smartcharge.core.errors import ValidationError
from smartcharge.store.models import (
    NO_EVSE,
    ConnectorStatusRow,
    DeviceVariable,
    ReservationRow,
    Station,
    StationBootPolicy,
    StationNoticeRow,
)

BOOT_STATUSES = ("Accepted", "Pending", "Rejected")


@dataclass(frozen=True, slots=True)
class ConnectorRecord:
    evse_id: int
    connector_id: int
    status: str
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class VariableRecord:
    component: str
    variable: str
    attribute_type: str = "Actual"
    value: str | None = None
    mutability: str | None = None
    component_instance: str = ""
    variable_instance: str = ""
    evse_id: int = NO_EVSE
    connector_id: int = NO_EVSE


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    action: str
    received_at: datetime
    summary: str
    payload: str


@dataclass(frozen=True, slots=True)
class ReservationRecord:
    reservation_id: int
    status: str
    expires_at: datetime | None = None
    id_token: str | None = None
    evse_id: int | None = None


class StationDetailRepository:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def station_exists(self, station_id: str) -> bool:
        with self._sessions() as session:
            return session.get(Station, station_id) is not None

    # ---- boot policy ------------------------------------------------------------------------

    def set_boot_status(self, station_id: str, status: str, now: datetime) -> None:
        if status not in BOOT_STATUSES:
            raise ValidationError("status", status, f"a boot status is one of {', '.join(BOOT_STATUSES)}")
        with self._sessions.begin() as session:
            if session.get(Station, station_id) is None:
                raise ValidationError("station_id", station_id, "not a registered station")
            row = session.get(StationBootPolicy, station_id)
            if row is None:
                session.add(StationBootPolicy(station_id=station_id, status=status, updated_at=now))
            else:
                row.status, row.updated_at = status, now

    def boot_policies(self) -> dict[str, str]:
        """The boot status of every station the operator set one for (the rest are Accepted)."""
        with self._sessions() as session:
            return {row.station_id: row.status for row in session.scalars(select(StationBootPolicy))}

    def boot_status(self, station_id: str) -> str:
        """Accepted unless the operator set otherwise."""
        with self._sessions() as session:
            row = session.get(StationBootPolicy, station_id)
            return "Accepted" if row is None else row.status

    # ---- connector status -------------------------------------------------------------------

    def record_connector(self, station_id: str, record: ConnectorRecord) -> None:
        with self._sessions.begin() as session:
            row = session.scalar(
                select(ConnectorStatusRow).where(
                    ConnectorStatusRow.station_id == station_id,
                    ConnectorStatusRow.evse_id == record.evse_id,
                    ConnectorStatusRow.connector_id == record.connector_id,
                )
            )
            if row is None:
                session.add(
                    ConnectorStatusRow(
                        station_id=station_id,
                        evse_id=record.evse_id,
                        connector_id=record.connector_id,
                        status=record.status,
                        reported_at=record.reported_at,
                    )
                )
            elif record.reported_at >= _aware(row.reported_at):
                row.status, row.reported_at = record.status, record.reported_at

    def connectors(self, station_id: str) -> list[ConnectorRecord]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ConnectorStatusRow)
                .where(ConnectorStatusRow.station_id == station_id)
                .order_by(ConnectorStatusRow.evse_id, ConnectorStatusRow.connector_id)
            )
            return [ConnectorRecord(r.evse_id, r.connector_id, r.status, _aware(r.reported_at)) for r in rows]

    # ---- device model -------------------------------------------------------------------------

    def record_variables(self, station_id: str, variables: list[VariableRecord], now: datetime) -> None:
        """Upsert each reported attribute (a later report of the same attribute replaces it)."""
        with self._sessions.begin() as session:
            for v in variables:
                row = session.scalar(
                    select(DeviceVariable).where(
                        DeviceVariable.station_id == station_id,
                        DeviceVariable.component == v.component,
                        DeviceVariable.component_instance == v.component_instance,
                        DeviceVariable.evse_id == v.evse_id,
                        DeviceVariable.connector_id == v.connector_id,
                        DeviceVariable.variable == v.variable,
                        DeviceVariable.variable_instance == v.variable_instance,
                        DeviceVariable.attribute_type == v.attribute_type,
                    )
                )
                if row is None:
                    row = DeviceVariable(
                        station_id=station_id,
                        component=v.component,
                        component_instance=v.component_instance,
                        evse_id=v.evse_id,
                        connector_id=v.connector_id,
                        variable=v.variable,
                        variable_instance=v.variable_instance,
                        attribute_type=v.attribute_type,
                    )
                    session.add(row)
                row.value, row.mutability, row.updated_at = v.value, v.mutability, now

    def device_model(self, station_id: str) -> list[VariableRecord]:
        with self._sessions() as session:
            rows = session.scalars(
                select(DeviceVariable)
                .where(DeviceVariable.station_id == station_id)
                .order_by(DeviceVariable.component, DeviceVariable.variable, DeviceVariable.id)
            )
            return [
                VariableRecord(
                    r.component,
                    r.variable,
                    r.attribute_type,
                    r.value,
                    r.mutability,
                    r.component_instance,
                    r.variable_instance,
                    r.evse_id,
                    r.connector_id,
                )
                for r in rows
            ]

    # ---- notices ------------------------------------------------------------------------------

    def record_notice(self, station_id: str, notice: NoticeRecord) -> None:
        with self._sessions.begin() as session:
            session.add(
                StationNoticeRow(
                    station_id=station_id,
                    action=notice.action,
                    received_at=notice.received_at,
                    summary=notice.summary[:200],
                    payload=notice.payload,
                )
            )

    def notices(self, station_id: str, action: str | None = None, limit: int = 1000) -> list[NoticeRecord]:
        with self._sessions() as session:
            query = select(StationNoticeRow).where(StationNoticeRow.station_id == station_id)
            if action is not None:
                query = query.where(StationNoticeRow.action == action)
            rows = session.scalars(query.order_by(StationNoticeRow.id.desc()).limit(limit))
            return [NoticeRecord(r.action, _aware(r.received_at), r.summary, r.payload) for r in rows][::-1]

    # ---- reservations ---------------------------------------------------------------------------

    def record_reservation(self, station_id: str, record: ReservationRecord, now: datetime) -> None:
        """Create or update a reservation; fields given as None keep what was stored."""
        with self._sessions.begin() as session:
            row = session.scalar(
                select(ReservationRow).where(
                    ReservationRow.station_id == station_id,
                    ReservationRow.reservation_id == record.reservation_id,
                )
            )
            if row is None:
                row = ReservationRow(station_id=station_id, reservation_id=record.reservation_id)
                session.add(row)
            row.status, row.updated_at = record.status, now
            if record.expires_at is not None:
                row.expires_at = record.expires_at
            if record.id_token is not None:
                row.id_token = record.id_token
            if record.evse_id is not None:
                row.evse_id = record.evse_id

    def reservations(self, station_id: str) -> list[ReservationRecord]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ReservationRow)
                .where(ReservationRow.station_id == station_id)
                .order_by(ReservationRow.reservation_id)
            )
            return [
                ReservationRecord(
                    r.reservation_id,
                    r.status,
                    None if r.expires_at is None else _aware(r.expires_at),
                    r.id_token,
                    r.evse_id,
                )
                for r in rows
            ]


def _aware(at: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone columns; every stored time is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


__all__ = [
    "BOOT_STATUSES",
    "ConnectorRecord",
    "NoticeRecord",
    "ReservationRecord",
    "StationDetailRepository",
    "VariableRecord",
]
