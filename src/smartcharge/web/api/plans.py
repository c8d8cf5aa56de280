"""Ready-by charging plans for owners (issue 12 items 1 and 4): create, change, delete, list, and
the plan's result (slots, power, price, carbon, whether the target will be met, the shortfall).

Thin routes over :class:`smartcharge.cem.plans.PlanService`. Only the ``owner`` role; an owner sees
and plans only his own charge points (any other id is "not yours", whether it exists or not).
Bad input is refused with 422 naming the field and the rule, and nothing changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from smartcharge.cem.plans import ChargePlan, PlanResult, PlanService
from smartcharge.core.errors import ValidationError
from smartcharge.policy.ready_by import WEEKDAYS
from smartcharge.web.auth import Principal, Role, get_services, require_role

router = APIRouter(prefix="/api/v1", tags=["plans"])
Owner = Annotated[Principal, Depends(require_role(Role.OWNER))]
StationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
PlanId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class PlanIn(BaseModel):
    """A plan. ``kind="recurring"``: ``weekdays`` and ``ready_by_local`` (GB local time, HH:MM);
    ``kind="one_off"``: ``ready_by`` (an instant with its zone). Target: ``target_kwh``, or
    ``target_soc`` (0-1) with ``battery_kwh`` (and ``soc_now`` if known)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["recurring", "one_off"]
    weekdays: list[Weekday] | None = Field(None, max_length=7)
    ready_by_local: str | None = Field(None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    ready_by: datetime | None = None
    target_kwh: float | None = Field(None, gt=0, le=250)
    target_soc: float | None = Field(None, gt=0, le=1)
    battery_kwh: float | None = Field(None, ge=1, le=250)
    soc_now: float = Field(0.0, ge=0, le=1)


class PlanChange(BaseModel):
    """Fields to change; the others keep their value."""

    model_config = ConfigDict(extra="forbid")

    weekdays: list[Weekday] | None = Field(None, max_length=7)
    ready_by_local: str | None = Field(None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    ready_by: datetime | None = None
    target_kwh: float | None = Field(None, gt=0, le=250)
    target_soc: float | None = Field(None, gt=0, le=1)
    battery_kwh: float | None = Field(None, ge=1, le=250)
    soc_now: float | None = Field(None, ge=0, le=1)


class PlanOut(BaseModel):
    plan_id: str
    station_id: str
    kind: Literal["recurring", "one_off"]
    weekdays: list[str] | None
    ready_by_local: str | None
    ready_by: datetime | None
    target_kwh: float | None
    target_soc: float | None
    battery_kwh: float | None
    soc_now: float


class SlotOut(BaseModel):
    start: datetime
    end: datetime
    power_w: float
    energy_kwh: float
    price_p_per_kwh: float
    carbon_g_per_kwh: float


class PlanResultOut(BaseModel):
    station_id: str
    plan_id: str
    ready_by: datetime
    target_kwh: float = Field(description="energy still wanted by ready_by")
    planned_kwh: float
    will_meet: bool
    shortfall_kwh: float = Field(description="0 when met; else how much the target cannot get")
    cost_p: float
    carbon_g: float
    slots: list[SlotOut]
    computed_at: datetime


def _service(request: Request) -> PlanService:
    plans = get_services(request).plans
    if plans is None:
        raise HTTPException(409, "this CEM runs no planner")
    return plans


def _at(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def _fields(body: BaseModel, kind: str | None) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=True)
    out: dict[str, Any] = {}
    if kind is not None:
        out["recurring"] = kind == "recurring"
    for name, value in data.items():
        if name == "kind":
            continue
        if name == "weekdays":
            out["weekdays"] = () if value is None else tuple(WEEKDAYS.index(d) for d in value)
        elif name == "ready_by_local":
            out["ready_by_local_min"] = None if value is None else int(value[:2]) * 60 + int(value[3:])
        elif name == "ready_by":
            if value is not None and value.tzinfo is None:
                raise ValidationError("ready_by", value.isoformat(), "needs its time zone, e.g. Z or +01:00")
            out["ready_by_s"] = None if value is None else int(value.timestamp())
        else:
            out[name] = value
    return out


def _out(plan: ChargePlan) -> PlanOut:
    minute = plan.ready_by_local_min
    return PlanOut(
        plan_id=plan.plan_id,
        station_id=plan.station_id,
        kind="recurring" if plan.recurring else "one_off",
        weekdays=[WEEKDAYS[d] for d in plan.weekdays] if plan.recurring else None,
        ready_by_local=None if minute is None else f"{minute // 60:02d}:{minute % 60:02d}",
        ready_by=None if plan.ready_by_s is None else _at(plan.ready_by_s),
        target_kwh=plan.target_kwh,
        target_soc=plan.target_soc,
        battery_kwh=plan.battery_kwh,
        soc_now=plan.soc_now,
    )


def _result_out(result: PlanResult) -> PlanResultOut:
    return PlanResultOut(
        station_id=result.station_id,
        plan_id=result.plan_id,
        ready_by=_at(result.ready_by_s),
        target_kwh=result.target_kwh,
        planned_kwh=result.planned_kwh,
        will_meet=result.will_meet,
        shortfall_kwh=result.shortfall_kwh,
        cost_p=result.cost_p,
        carbon_g=result.carbon_g,
        slots=[
            SlotOut(
                start=_at(s.start_s),
                end=_at(s.end_s),
                power_w=s.power_w,
                energy_kwh=s.energy_kwh,
                price_p_per_kwh=s.price_p_per_kwh,
                carbon_g_per_kwh=s.carbon_g_per_kwh,
            )
            for s in result.slots
        ],
        computed_at=_at(result.computed_at_s),
    )


@router.post("/charge-points/{station_id}/plans", response_model=PlanOut, status_code=201)
async def create_plan(station_id: StationId, body: PlanIn, who: Owner, request: Request) -> PlanOut:
    """Add a recurring or one-off plan to one of your charge points (a one-off does not replace
    your recurring plans; it stands in for that day only)."""
    fields = _fields(body, body.kind)
    return _out(_service(request).create(who.name, station_id=station_id, **fields))


@router.get("/charge-points/{station_id}/plans", response_model=list[PlanOut])
async def list_plans(station_id: StationId, who: Owner, request: Request) -> list[PlanOut]:
    """Your plans on this charge point."""
    return [_out(p) for p in _service(request).owned_plans(who.name, station_id)]


@router.get("/plans/{plan_id}", response_model=PlanOut)
async def get_plan(plan_id: PlanId, who: Owner, request: Request) -> PlanOut:
    return _out(_service(request).get(who.name, plan_id))


@router.patch("/plans/{plan_id}", response_model=PlanOut)
async def change_plan(plan_id: PlanId, body: PlanChange, who: Owner, request: Request) -> PlanOut:
    """Change some fields of a plan; the whole plan is checked again."""
    return _out(_service(request).change(who.name, plan_id, **_fields(body, None)))


@router.delete("/plans/{plan_id}", status_code=204)
async def delete_plan(plan_id: PlanId, who: Owner, request: Request) -> Response:
    _service(request).delete(who.name, plan_id)
    return Response(status_code=204)


@router.get("/charge-points/{station_id}/plan", response_model=PlanResultOut | None)
async def plan_result(station_id: StationId, who: Owner, request: Request) -> PlanResultOut | None:
    """The plan for the next departure: its slots with power, price and carbon, whether the target
    will be met by the ready-by time and, if not, the shortfall in kWh (null: no plan ahead)."""
    result = _service(request).result_for(who.name, station_id)
    return None if result is None else _result_out(result)
