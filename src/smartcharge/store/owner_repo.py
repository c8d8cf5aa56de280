"""Owners of charge points and their settings, and the owner's view of sessions in few queries
(reg 9, SCP-MS-3; reg 10 and 11 settings as last accepted by the charge point; PRIV-6).

The session view here reads many sessions at once (sessions, their rate changes and their energy
register samples in three queries), so the owner's pages stay quick with a year of sessions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from smartcharge.core.errors import ValidationError
from smartcharge.store.models import ChargingSession, MeterValueRow, OwnedChargePoint, RateChange, Station
from smartcharge.store.session_repo import ENERGY_REGISTER

OWNER_MAX = 64


@dataclass(frozen=True, slots=True)
class OwnedRecord:
    """One owned charge point and the owner's settings for it."""

    station_id: str
    owner: str
    tariff_id: str
    hours_choice: str  # Pending | Accepted | Changed | Removed
    hours_schedule: str | None
    max_delay_s: int | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A session with its rate changes (time, power W, limit W) and register samples (time, Wh)."""

    station_id: str
    transaction_id: str
    started_at: datetime
    stopped_at: datetime | None
    energy_kwh: float
    rate_changes: tuple[tuple[datetime, float, float | None], ...]
    register_wh: tuple[tuple[datetime, float], ...]


def _utc(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _record(row: OwnedChargePoint) -> OwnedRecord:
    return OwnedRecord(
        row.station_id,
        row.owner,
        row.tariff_id,
        row.hours_choice,
        row.hours_schedule,
        row.max_delay_s,
        _utc(row.updated_at),
    )


class OwnerRepository:
    """Who owns which charge point; the owner's settings; sessions of many charge points at once."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def assign(self, station_id: str, owner: str, tariff_id: str, now: datetime) -> OwnedRecord:
        """Make ``owner`` the owner of a registered charge point (its settings start as Pending)."""
        if not 1 <= len(owner) <= OWNER_MAX:
            raise ValidationError("owner", owner, f"an owner's name is 1-{OWNER_MAX} characters")
        with self._sessions.begin() as session:
            if session.get(Station, station_id) is None:
                raise ValidationError("station_id", station_id, "not a registered charge point")
            row = session.get(OwnedChargePoint, station_id)
            if row is not None and row.owner != owner:
                raise ValidationError("station_id", station_id, "this charge point already has an owner")
            if row is None:
                row = OwnedChargePoint(
                    station_id=station_id,
                    owner=owner,
                    tariff_id=tariff_id,
                    hours_choice="Pending",
                    updated_at=now,
                )
                session.add(row)
            return _record(row)

    def release(self, station_id: str) -> bool:
        with self._sessions.begin() as session:
            result = session.execute(
                delete(OwnedChargePoint).where(OwnedChargePoint.station_id == station_id)
            )
            return bool(getattr(result, "rowcount", 0))

    def get(self, station_id: str) -> OwnedRecord | None:
        with self._sessions() as session:
            row = session.get(OwnedChargePoint, station_id)
            return None if row is None else _record(row)

    def owned_by(self, owner: str) -> list[OwnedRecord]:
        with self._sessions() as session:
            query = (
                select(OwnedChargePoint)
                .where(OwnedChargePoint.owner == owner)
                .order_by(OwnedChargePoint.station_id)
            )
            return [_record(r) for r in session.scalars(query)]

    def all(self) -> list[OwnedRecord]:
        with self._sessions() as session:
            return [_record(r) for r in session.scalars(select(OwnedChargePoint))]

    def update(
        self,
        station_id: str,
        now: datetime,
        *,
        hours_choice: str | None = None,
        hours_schedule: str | None = None,
        max_delay_s: int | None = None,
        tariff_id: str | None = None,
    ) -> OwnedRecord:
        """Keep what the charge point accepted (or the owner chose); None leaves a field as it is."""
        with self._sessions.begin() as session:
            row = session.get(OwnedChargePoint, station_id)
            if row is None:
                raise ValidationError("station_id", station_id, "not an owned charge point")
            if hours_choice is not None:
                row.hours_choice = hours_choice
                row.hours_schedule = hours_schedule
            if max_delay_s is not None:
                row.max_delay_s = max_delay_s
            if tariff_id is not None:
                row.tariff_id = tariff_id
            row.updated_at = now
            return _record(row)

    def sessions_fingerprint(self, station_ids: list[str], since: datetime) -> tuple[object, ...]:
        """A cheap summary that changes whenever a session of ``station_ids`` since ``since`` is
        added, grows, ends or is erased (count, newest id, energy registers, last stop)."""
        if not station_ids:
            return ()
        with self._sessions() as session:
            row = session.execute(
                select(
                    func.count(ChargingSession.id),
                    func.max(ChargingSession.id),
                    func.sum(ChargingSession.meter_last_wh),
                    func.max(ChargingSession.stopped_at),
                ).where(ChargingSession.station_id.in_(station_ids), ChargingSession.started_at >= since)
            ).one()
            return tuple(row)

    def session_rows(self, station_ids: list[str], since: datetime, until: datetime) -> list[SessionRow]:
        """Sessions of ``station_ids`` started in [since, until), oldest first, in three queries."""
        if not station_ids:
            return []
        with self._sessions() as session:
            sessions = list(
                session.scalars(
                    select(ChargingSession)
                    .where(
                        ChargingSession.station_id.in_(station_ids),
                        ChargingSession.started_at >= since,
                        ChargingSession.started_at < until,
                    )
                    .order_by(ChargingSession.started_at, ChargingSession.id)
                )
            )
            rates: dict[tuple[str, str], list[tuple[datetime, float, float | None]]] = defaultdict(list)
            for r in session.execute(
                select(
                    RateChange.station_id,
                    RateChange.transaction_id,
                    RateChange.changed_at,
                    RateChange.power_w,
                    RateChange.limit_w,
                )
                .where(RateChange.station_id.in_(station_ids), RateChange.changed_at >= since)
                .order_by(RateChange.changed_at, RateChange.id)
            ):
                rates[(r[0], r[1])].append((_utc(r[2]), r[3], r[4]))
            registers: dict[tuple[str, str], list[tuple[datetime, float]]] = defaultdict(list)
            for m in session.execute(
                select(
                    MeterValueRow.station_id,
                    MeterValueRow.transaction_id,
                    MeterValueRow.measured_at,
                    MeterValueRow.value,
                    MeterValueRow.unit,
                )
                .where(
                    MeterValueRow.station_id.in_(station_ids),
                    MeterValueRow.measurand == ENERGY_REGISTER,
                    MeterValueRow.measured_at >= since,
                )
                .order_by(MeterValueRow.measured_at)
            ):
                wh = m[3] * 1000.0 if m[4] == "kWh" else m[3]
                registers[(m[0], m[1])].append((_utc(m[2]), wh))
        rows = []
        for s in sessions:
            key = (s.station_id, s.transaction_id)
            rows.append(
                SessionRow(
                    s.station_id,
                    s.transaction_id,
                    _utc(s.started_at),
                    None if s.stopped_at is None else _utc(s.stopped_at),
                    ((s.meter_last_wh or 0.0) - (s.meter_start_wh or 0.0)) / 1000.0,
                    tuple(rates.get(key, ())),
                    tuple(registers.get(key, ())),
                )
            )
        return rows


__all__ = ["OWNER_MAX", "OwnedRecord", "OwnerRepository", "SessionRow"]
