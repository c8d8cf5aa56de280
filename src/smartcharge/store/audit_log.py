"""The web API's audit log: every call that changes something, with who, what, when and the answer.

Append-only through this interface; entries are written in batches (one transaction per batch) so
a burst of operator calls costs one commit, not one per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from smartcharge.store.models import AuditEntry


@dataclass(frozen=True, slots=True)
class AuditRecord:
    occurred_at: datetime
    actor: str
    role: str | None
    method: str
    path: str
    status_code: int
    detail: str
    client_address: str | None


class AuditLogRepository:
    """Append and read audit entries."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def record_many(self, records: Sequence[AuditRecord]) -> None:
        with self._sessions.begin() as session:
            session.add_all(
                AuditEntry(
                    occurred_at=r.occurred_at,
                    actor=r.actor[:100],
                    role=r.role,
                    method=r.method[:8],
                    path=r.path[:500],
                    status_code=r.status_code,
                    detail=r.detail[:4000],
                    client_address=None if r.client_address is None else r.client_address[:64],
                )
                for r in records
            )

    def recent(self, limit: int = 100, actor: str | None = None) -> list[AuditRecord]:
        with self._sessions() as session:
            query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if actor is not None:
                query = query.where(AuditEntry.actor == actor)
            return [
                AuditRecord(
                    r.occurred_at,
                    r.actor,
                    r.role,
                    r.method,
                    r.path,
                    r.status_code,
                    r.detail,
                    r.client_address,
                )
                for r in session.scalars(query)
            ]


__all__ = ["AuditLogRepository", "AuditRecord"]
