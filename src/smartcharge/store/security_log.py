"""The CEM's security event log (SEC-D-9, SEC-S-6): refused handshakes, protocol faults, and the
SecurityEventNotifications stations send. Time-stamped, append-only through this interface."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from smartcharge.store.models import SecurityEvent


@dataclass(frozen=True, slots=True)
class SecurityEventRecord:
    occurred_at: datetime
    station_id: str | None
    event_type: str
    detail: str
    remote_address: str | None


class SecurityLog:
    """Append and read security events."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def record(self, event: SecurityEventRecord) -> None:
        with self._sessions.begin() as session:
            session.add(
                SecurityEvent(
                    occurred_at=event.occurred_at,
                    station_id=None if event.station_id is None else event.station_id[:48],
                    event_type=event.event_type[:50],
                    detail=event.detail[:2000],
                    remote_address=event.remote_address,
                )
            )

    def recent(self, limit: int = 100, station_id: str | None = None) -> list[SecurityEventRecord]:
        with self._sessions() as session:
            query = select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(limit)
            if station_id is not None:
                query = query.where(SecurityEvent.station_id == station_id)
            return [
                SecurityEventRecord(r.occurred_at, r.station_id, r.event_type, r.detail, r.remote_address)
                for r in session.scalars(query)
            ]

    def count(self, event_type: str) -> int:
        with self._sessions() as session:
            stmt = (
                select(func.count()).select_from(SecurityEvent).where(SecurityEvent.event_type == event_type)
            )
            return int(session.scalar(stmt) or 0)


__all__ = ["SecurityEventRecord", "SecurityLog"]
