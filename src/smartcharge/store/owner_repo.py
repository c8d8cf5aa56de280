"""Owners of charge points and their settings (reg 10 and 11 settings as last accepted by the
charge point; PRIV-6); the owner's priced sessions are read through ``priced``
(:mod:`smartcharge.store.session_prices`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from smartcharge.core.errors import ValidationError
from smartcharge.store.models import OwnedChargePoint, Station
from smartcharge.store.session_prices import PricedSessionRepository

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
        self.priced = PricedSessionRepository(engine)

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


__all__ = ["OWNER_MAX", "OwnedRecord", "OwnerRepository"]
