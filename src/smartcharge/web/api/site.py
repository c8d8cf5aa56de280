"""The site for its manager (issue 12 items 3 and 4): circuits, charge points, priorities, the meter
and its age, the fail-safe state, and each charge point's share.

Thin routes over :class:`smartcharge.cem.site.SiteService`. Reading: ``site-manager`` or any role
that acts as ``viewer``; changing: ``site-manager`` only. Each change is checked whole (a circuit
limit below a charge point's minimum charging current, a priority naming no charge point, ...):
422 naming the field and the rule, nothing changed; every change and refusal is in the security log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from smartcharge.cem.site import Actor, Circuit, SiteChargePoint, SiteService
from smartcharge.web.auth import Principal, Role, get_services, require_role

router = APIRouter(prefix="/api/v1/site", tags=["site"])
Reader = Annotated[Principal, Depends(require_role(Role.SITE_MANAGER, Role.VIEWER))]
Manager = Annotated[Principal, Depends(require_role(Role.SITE_MANAGER))]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class CircuitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    circuit_id: Id
    parent: Id | None = None
    phase_limit_a: float | None = Field(None, ge=0, le=10_000)
    power_limit_w: float | None = Field(None, ge=0, le=10_000_000)


class ChargePointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    station_id: Id
    circuit_id: Id
    phases: Literal["L1", "L2", "L3", "L1L2L3"] = "L1"
    max_current_a: float = Field(32.0, ge=6, le=80)
    min_current_a: float = Field(6.0, ge=6, le=80)
    priority: int = Field(0, ge=-100, le=100)


class CircuitsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    circuits: list[CircuitIn] = Field(min_length=1, max_length=500)


class ChargePointsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    charge_points: list[ChargePointIn] = Field(max_length=5000)


class PrioritiesIn(BaseModel):
    """Priorities per charge point (higher first) and per id token (e.g. the fleet vans' cards)."""

    model_config = ConfigDict(extra="forbid")
    priorities: dict[str, int] = Field(default_factory=dict, max_length=5000)
    token_priority: dict[str, int] | None = Field(None, max_length=5000)


class FailsafeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    failsafe_current_a: float = Field(ge=0, le=80)


class MeterOut(BaseModel):
    import_w: float
    phase_a: list[float] | None
    taken_at: datetime
    age_s: float
    source: str
    stale: bool


class ShareOut(BaseModel):
    station_id: str
    current_a: float
    power_w: float
    binding: str = Field(description="'request', 'starved', 'failsafe' or the circuit that limits it")
    priority: int


class SiteOut(BaseModel):
    circuits: list[CircuitIn]
    charge_points: list[ChargePointIn]
    token_priority: dict[str, int]
    failsafe_current_a: float
    meter: MeterOut | None
    failsafe_active: bool
    failsafe_since: datetime | None
    shares: list[ShareOut]


class MeterStateOut(BaseModel):
    meter: MeterOut | None
    stale_after_s: float
    failsafe_active: bool
    failsafe_since: datetime | None


def _site(request: Request) -> SiteService:
    site = get_services(request).site
    if site is None:
        raise HTTPException(409, "this CEM manages no site")
    return site


def _at(epoch_s: float | None) -> datetime | None:
    return None if epoch_s is None else datetime.fromtimestamp(epoch_s, UTC)


def _meter(data: dict[str, Any] | None) -> MeterOut | None:
    if data is None:
        return None
    return MeterOut(
        import_w=data["import_w"],
        phase_a=data["phase_a"],
        taken_at=datetime.fromtimestamp(data["taken_s"], UTC),
        age_s=data["age_s"],
        source=data["source"],
        stale=data["stale"],
    )


def _out(site: SiteService) -> SiteOut:
    d = site.describe()
    return SiteOut(
        circuits=[CircuitIn(**c) for c in d["circuits"]],
        charge_points=[ChargePointIn(**cp) for cp in d["charge_points"]],
        token_priority=d["token_priority"],
        failsafe_current_a=d["failsafe_current_a"],
        meter=_meter(d["meter"]),
        failsafe_active=d["failsafe"]["active"],
        failsafe_since=_at(d["failsafe"]["since_s"]),
        shares=[ShareOut(**s) for s in d["shares"]],
    )


def _actor(who: Principal) -> Actor:
    return Actor(who.actor, who.role.value)


@router.get("", response_model=SiteOut)
async def get_site(who: Reader, request: Request) -> SiteOut:
    """The site: circuits, charge points, priorities, meter state and age, fail-safe, shares."""
    return _out(_site(request))


@router.get("/meter", response_model=MeterStateOut)
async def meter_state(who: Reader, request: Request) -> MeterStateOut:
    """The site meter's last reading and its age; whether the fail-safe is in force."""
    site = _site(request)
    d = site.describe()
    return MeterStateOut(
        meter=_meter(d["meter"]),
        stale_after_s=site.stale_s,
        failsafe_active=d["failsafe"]["active"],
        failsafe_since=_at(d["failsafe"]["since_s"]),
    )


@router.put("/circuits", response_model=SiteOut)
async def set_circuits(body: CircuitsIn, who: Manager, request: Request) -> SiteOut:
    """Replace the circuit tree (the first circuit is the site connection)."""
    site = _site(request)
    circuits = tuple(Circuit(**c.model_dump()) for c in body.circuits)
    await site.change(_actor(who), circuits=circuits)
    return _out(site)


@router.put("/charge-points", response_model=SiteOut)
async def set_charge_points(body: ChargePointsIn, who: Manager, request: Request) -> SiteOut:
    """Replace the charge points of the site (circuit, phases, currents, priority)."""
    site = _site(request)
    cps = tuple(SiteChargePoint(**cp.model_dump()) for cp in body.charge_points)
    await site.change(_actor(who), charge_points=cps)
    return _out(site)


@router.put("/priorities", response_model=SiteOut)
async def set_priorities(body: PrioritiesIn, who: Manager, request: Request) -> SiteOut:
    """Set priorities of named charge points and, if given, the priorities of id tokens (higher
    first; a session started with a listed token takes the higher of its charge point's priority
    and its token's). A name that is no charge point of the site, or a token the CEM does not
    know: 422 naming it, nothing changed."""
    site = _site(request)
    await site.set_priorities(_actor(who), body.priorities, body.token_priority)
    return _out(site)


@router.put("/failsafe", response_model=SiteOut)
async def set_failsafe(body: FailsafeIn, who: Manager, request: Request) -> SiteOut:
    """The current every charge point falls back to when the meter's data is older than 15 s."""
    site = _site(request)
    await site.change(_actor(who), failsafe_current_a=body.failsafe_current_a)
    return _out(site)
