"""Station registration as an operator manages it: register, set or rotate the password, change the
security profile (re-register), remove; and the boot details the CEM keeps (SEC-S-1, SEC-S-2).

Kept apart from :mod:`smartcharge.store.station_repo` (the CEM's hot path at every handshake and
boot), so the operator's views can grow without touching it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from smartcharge.core.errors import ValidationError
from smartcharge.store.models import Station


@dataclass(frozen=True, slots=True)
class StationDetails:
    """A registered station as the operator sees it (no secret)."""

    station_id: str
    security_profile: int
    has_password: bool
    registered_at: datetime
    ocpp_version: str | None
    vendor: str | None
    model: str | None
    firmware_version: str | None
    last_boot_at: datetime | None


def _details(row: Station) -> StationDetails:
    return StationDetails(
        row.station_id,
        row.security_profile,
        row.password_hash is not None,
        row.created_at,
        row.ocpp_version,
        row.vendor,
        row.model,
        row.firmware_version,
        row.last_boot_at,
    )


class StationAdmin:
    """Register and describe stations."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def details(self, station_id: str) -> StationDetails | None:
        with self._sessions() as session:
            row = session.get(Station, station_id)
            return None if row is None else _details(row)

    def all_details(self) -> list[StationDetails]:
        with self._sessions() as session:
            return [_details(r) for r in session.scalars(select(Station).order_by(Station.station_id))]

    def set_credentials(self, station_id: str, security_profile: int, password_hash: str | None) -> None:
        """New security profile and password hash of a registered station (rotate or re-register)."""
        with self._sessions.begin() as session:
            row = session.get(Station, station_id)
            if row is None:
                raise ValidationError("station_id", station_id, "not a registered station")
            row.security_profile, row.password_hash = security_profile, password_hash


__all__ = ["StationAdmin", "StationDetails"]
