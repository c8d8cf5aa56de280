"""Stations the CEM accepts: their security profile, password hash and last boot (SEC-S-1, SEC-D-2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from smartcharge.core.errors import ValidationError
from smartcharge.store.models import Station


@dataclass(frozen=True, slots=True)
class StationRecord:
    """What the CEM needs to know of a registered station."""

    station_id: str
    security_profile: int
    password_hash: str | None
    ocpp_version: str | None
    last_boot_at: datetime | None


def _record(row: Station) -> StationRecord:
    return StationRecord(
        row.station_id, row.security_profile, row.password_hash, row.ocpp_version, row.last_boot_at
    )


class StationRepository:
    """Create, look up and describe stations."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def add(self, station_id: str, security_profile: int, password_hash: str | None, now: datetime) -> None:
        """Register a station; an id already registered is refused rather than overwritten."""
        with self._sessions.begin() as session:
            if session.get(Station, station_id) is not None:
                raise ValidationError(
                    "station_id", station_id, "a station with this id is already registered"
                )
            session.add(
                Station(
                    station_id=station_id,
                    security_profile=security_profile,
                    password_hash=password_hash,
                    created_at=now,
                )
            )

    def get(self, station_id: str) -> StationRecord | None:
        with self._sessions() as session:
            row = session.get(Station, station_id)
            return None if row is None else _record(row)

    def all(self) -> list[StationRecord]:
        with self._sessions() as session:
            return [_record(r) for r in session.scalars(select(Station).order_by(Station.station_id))]

    def record_boot(
        self, station_id: str, ocpp_version: str, vendor: str, model: str, firmware: str | None, at: datetime
    ) -> None:
        with self._sessions.begin() as session:
            row = session.get(Station, station_id)
            if row is None:
                raise ValidationError("station_id", station_id, "not a registered station")
            row.ocpp_version, row.vendor, row.model = ocpp_version, vendor[:50], model[:50]
            row.firmware_version = None if firmware is None else firmware[:50]
            row.last_boot_at = at

    def set_credentials(self, station_id: str, security_profile: int, password_hash: str | None) -> None:
        """A rotated password (A01) or an upgraded security profile (A05); never a downgrade."""
        with self._sessions.begin() as session:
            row = session.get(Station, station_id)
            if row is None:
                raise ValidationError("station_id", station_id, "not a registered station")
            if security_profile < row.security_profile:
                raise ValidationError(
                    "security_profile", security_profile, f"no downgrade from profile {row.security_profile}"
                )
            row.security_profile, row.password_hash = security_profile, password_hash

    def remove(self, station_id: str) -> bool:
        """Delete a station and, by cascade, all its sessions (PRIV-6 erasure)."""
        with self._sessions.begin() as session:
            return bool(
                getattr(
                    session.execute(delete(Station).where(Station.station_id == station_id)), "rowcount", 0
                )
            )


__all__ = ["StationRecord", "StationRepository"]
