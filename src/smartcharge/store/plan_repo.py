"""Owners' ready-by plans in the store (issue 12 items 1 and 4): recurring weekday plans and
one-off plans per charge point, so a restarted CEM keeps planning and driving them.

Each create, change or delete is one transaction, written before the plan service changes its
own copy: a failed write changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from smartcharge.store.models import ChargePlanRow


@dataclass(frozen=True, slots=True)
class StoredPlan:
    """A plan as kept (the fields of :class:`smartcharge.cem.plans.ChargePlan`)."""

    plan_id: str
    station_id: str
    owner: str
    recurring: bool
    weekdays: tuple[int, ...]
    ready_by_local_min: int | None
    ready_by_s: int | None
    target_kwh: float | None
    target_soc: float | None
    battery_kwh: float | None
    soc_now: float


class PlanRepository:
    """Save, delete and load plans."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def save(self, plan: StoredPlan) -> None:
        """Insert the plan, or replace the one with its id."""
        with self._sessions.begin() as session:
            session.merge(
                ChargePlanRow(
                    plan_id=plan.plan_id,
                    station_id=plan.station_id,
                    owner=plan.owner,
                    recurring=plan.recurring,
                    weekdays=",".join(str(d) for d in plan.weekdays),
                    ready_by_local_min=plan.ready_by_local_min,
                    ready_by_s=plan.ready_by_s,
                    target_kwh=plan.target_kwh,
                    target_soc=plan.target_soc,
                    battery_kwh=plan.battery_kwh,
                    soc_now=plan.soc_now,
                    updated_at=datetime.now(UTC),
                )
            )

    def delete(self, plan_id: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(ChargePlanRow).where(ChargePlanRow.plan_id == plan_id))

    def load(self) -> list[StoredPlan]:
        """Every stored plan, oldest change first."""
        with self._sessions() as session:
            rows = session.scalars(select(ChargePlanRow).order_by(ChargePlanRow.updated_at)).all()
            return [
                StoredPlan(
                    r.plan_id,
                    r.station_id,
                    r.owner,
                    r.recurring,
                    tuple(int(d) for d in r.weekdays.split(",") if d),
                    r.ready_by_local_min,
                    r.ready_by_s,
                    r.target_kwh,
                    r.target_soc,
                    r.battery_kwh,
                    r.soc_now,
                )
                for r in rows
            ]


__all__ = ["PlanRepository", "StoredPlan"]
