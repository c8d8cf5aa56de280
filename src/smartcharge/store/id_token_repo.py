"""The CEM's id tokens (OCPP 2.0.1 C01, C05, C09; 1.6 idTag): status, expiry and group token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from smartcharge.core.errors import ValidationError
from smartcharge.store.models import IdToken


@dataclass(frozen=True, slots=True)
class IdTokenRecord:
    id_token: str
    token_type: str
    status: str
    expires_at: datetime | None
    group_id_token: str | None


def _record(row: IdToken) -> IdTokenRecord:
    expires = row.expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)  # SQLite gives back naive UTC
    return IdTokenRecord(row.id_token, row.token_type, row.status, expires, row.group_id_token)


class IdTokenRepository:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def add(self, record: IdTokenRecord, now: datetime) -> None:
        """Add a token; one already known is refused, not overwritten (use ``update``)."""
        with self._sessions.begin() as session:
            if session.get(IdToken, record.id_token) is not None:
                raise ValidationError("id_token", record.id_token, "this id token is already known")
            session.add(
                IdToken(
                    id_token=record.id_token,
                    token_type=record.token_type,
                    status=record.status,
                    expires_at=record.expires_at,
                    group_id_token=record.group_id_token,
                    created_at=now,
                )
            )

    def update(self, record: IdTokenRecord) -> bool:
        with self._sessions.begin() as session:
            row = session.get(IdToken, record.id_token)
            if row is None:
                return False
            row.token_type, row.status = record.token_type, record.status
            row.expires_at, row.group_id_token = record.expires_at, record.group_id_token
            return True

    def get(self, id_token: str) -> IdTokenRecord | None:
        with self._sessions() as session:
            row = session.get(IdToken, id_token)
            return None if row is None else _record(row)

    def all(self) -> list[IdTokenRecord]:
        with self._sessions() as session:
            return [_record(r) for r in session.scalars(select(IdToken).order_by(IdToken.id_token))]

    def remove(self, id_token: str) -> bool:
        with self._sessions.begin() as session:
            result = session.execute(delete(IdToken).where(IdToken.id_token == id_token))
            return bool(getattr(result, "rowcount", 0))


__all__ = ["IdTokenRecord", "IdTokenRepository"]
