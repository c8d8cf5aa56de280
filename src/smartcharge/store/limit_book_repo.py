"""The CEM's limit book in the store (ARB-5, SCP-FS-4): one row per (scope, source), written on
every apply and clear, read back when the CEM starts. Expired limits are deleted on load, so an
ended DSR event is never resumed after a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from smartcharge.core.limit import Limit, LimitSource
from smartcharge.store.models import SITE_WIDE, LimitBookEntry


@dataclass(frozen=True, slots=True)
class StoredLimit:
    """A limit as kept: ``station_id`` None is site-wide; ``until_s`` in epoch seconds or None."""

    station_id: str | None
    limit: Limit
    until_s: int | None
    exempt_from_delay: bool


class LimitBookRepository:
    """Save, clear and load the CEM's limit book."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def save(self, entry: StoredLimit) -> None:
        """Insert or replace the limit of ``entry``'s scope and source (the latest one wins)."""
        row: dict[str, Any] = {
            "station_id": SITE_WIDE if entry.station_id is None else entry.station_id,
            "source": int(entry.limit.source),
            "limit_w": entry.limit.value_w,
            "until_s": entry.until_s,
            "exempt_from_delay": entry.exempt_from_delay,
            "detail": entry.limit.detail[:200],
            "updated_at": datetime.now(UTC),
        }
        with self._sessions.begin() as session:
            stmt: Any
            if session.get_bind().dialect.name == "postgresql":
                stmt = postgresql.insert(LimitBookEntry).values(row)
            else:
                stmt = sqlite.insert(LimitBookEntry).values(row)
            changed = {k: stmt.excluded[k] for k in row if k not in ("station_id", "source")}
            session.execute(stmt.on_conflict_do_update(index_elements=["station_id", "source"], set_=changed))

    def clear(self, station_id: str | None, source: LimitSource) -> None:
        scope = SITE_WIDE if station_id is None else station_id
        with self._sessions.begin() as session:
            session.execute(
                delete(LimitBookEntry).where(
                    LimitBookEntry.station_id == scope, LimitBookEntry.source == int(source)
                )
            )

    def load(self, now_s: int) -> list[StoredLimit]:
        """Every limit still in force at ``now_s``; the expired ones are deleted (SCP-FS-4)."""
        with self._sessions.begin() as session:
            session.execute(
                delete(LimitBookEntry).where(
                    LimitBookEntry.until_s.is_not(None), LimitBookEntry.until_s <= now_s
                )
            )
            rows = session.scalars(select(LimitBookEntry).order_by(LimitBookEntry.id)).all()
            return [
                StoredLimit(
                    None if r.station_id == SITE_WIDE else r.station_id,
                    Limit(r.limit_w, LimitSource(r.source), r.detail),
                    r.until_s,
                    r.exempt_from_delay,
                )
                for r in rows
            ]


__all__ = ["LimitBookRepository", "StoredLimit"]
