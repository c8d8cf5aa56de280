"""The site's load-management settings in the store (issue 12 item 3; SCN-WRK after ENA G100):
the circuit tree, the site's charge points (circuit, phases, minimum and maximum current,
priority), id-token priorities and the fail-safe current, so a restarted CEM resumes them.

The settings are saved whole, in one transaction, after the site service has checked them: a
failed write leaves the previous settings in the store and in force (nothing half-changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from smartcharge.store.models import (
    SiteChargePointRow,
    SiteCircuit,
    SiteSetting,
    SiteTokenPriority,
)

#: ``SiteSetting.id`` of the one settings row.
SETTINGS_ROW = 1


@dataclass(frozen=True, slots=True)
class StoredCircuit:
    circuit_id: str
    parent: str | None
    phase_limit_a: float | None
    power_limit_w: float | None


@dataclass(frozen=True, slots=True)
class StoredSiteChargePoint:
    station_id: str
    circuit_id: str
    phases: str
    max_current_a: float
    min_current_a: float
    priority: int


@dataclass(frozen=True, slots=True)
class StoredSite:
    """The site as kept: circuits in order (the first is the connection), charge points in order."""

    circuits: tuple[StoredCircuit, ...]
    charge_points: tuple[StoredSiteChargePoint, ...]
    token_priority: dict[str, int]
    failsafe_current_a: float
    voltage_v: float
    updated_at: datetime
    updated_by: str


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


class SiteRepository:
    """Save and load the site's settings (one site per CEM)."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def save(self, site: StoredSite) -> None:
        """Replace the stored settings by ``site`` in one transaction."""
        with self._sessions.begin() as session:
            for table in (SiteCircuit, SiteChargePointRow, SiteTokenPriority, SiteSetting):
                session.execute(delete(table))
            session.add_all(
                SiteCircuit(
                    circuit_id=c.circuit_id,
                    position=i,
                    parent=c.parent,
                    phase_limit_a=c.phase_limit_a,
                    power_limit_w=c.power_limit_w,
                )
                for i, c in enumerate(site.circuits)
            )
            session.add_all(
                SiteChargePointRow(
                    station_id=cp.station_id,
                    position=i,
                    circuit_id=cp.circuit_id,
                    phases=cp.phases,
                    max_current_a=cp.max_current_a,
                    min_current_a=cp.min_current_a,
                    priority=cp.priority,
                )
                for i, cp in enumerate(site.charge_points)
            )
            session.add_all(
                SiteTokenPriority(id_token=token, priority=prio)
                for token, prio in site.token_priority.items()
            )
            session.add(
                SiteSetting(
                    id=SETTINGS_ROW,
                    failsafe_current_a=site.failsafe_current_a,
                    voltage_v=site.voltage_v,
                    updated_at=site.updated_at,
                    updated_by=site.updated_by[:100],
                )
            )

    def load(self) -> StoredSite | None:
        """The stored settings, or None when no site was ever saved."""
        with self._sessions() as session:
            setting = session.get(SiteSetting, SETTINGS_ROW)
            if setting is None:
                return None
            circuits = session.scalars(select(SiteCircuit).order_by(SiteCircuit.position)).all()
            cps = session.scalars(select(SiteChargePointRow).order_by(SiteChargePointRow.position)).all()
            tokens = session.scalars(select(SiteTokenPriority).order_by(SiteTokenPriority.id_token)).all()
            return StoredSite(
                tuple(
                    StoredCircuit(c.circuit_id, c.parent, c.phase_limit_a, c.power_limit_w) for c in circuits
                ),
                tuple(
                    StoredSiteChargePoint(
                        cp.station_id,
                        cp.circuit_id,
                        cp.phases,
                        cp.max_current_a,
                        cp.min_current_a,
                        cp.priority,
                    )
                    for cp in cps
                ),
                {t.id_token: t.priority for t in tokens},
                setting.failsafe_current_a,
                setting.voltage_v,
                _utc(setting.updated_at),
                setting.updated_by,
            )


__all__ = ["SiteRepository", "StoredCircuit", "StoredSite", "StoredSiteChargePoint"]
