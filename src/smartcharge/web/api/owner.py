"""The owner's REST API (``/api/v1/owner``): his charge points with live power, mode and the limit
in force with its source; reg 10 default hours (accept, change, remove, override once); reg 11
randomised delay (maximum 0-1800 s, countdown, "start now"); sessions of the last 12 months with
totals and CSV; consent per DSR provider, export and erasure of his data (issue 12 item 4).

Every route needs the ``owner`` role, and an owner sees and changes only his own charge points: a
charge point of anyone else answers 404 exactly like one that does not exist. Routes only call
the owner services (:mod:`smartcharge.cem.owner`, ``owner_sessions``, ``owner_data``), which the
pages call too. Refusals have the app's one shape, ``{"detail", "errors": [{field, rule}]}``:
422 for a value that breaks a rule, 404 for a charge point that is not yours, 409 for a request
that cannot be carried out now (offline, no delay running, refused by the charge point).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from smartcharge.cem.owner import ActionRefusedError, NotYoursError, OwnerService
from smartcharge.cem.owner_data import OwnerData
from smartcharge.cem.owner_sessions import sessions_csv_chunks, sessions_report
from smartcharge.web.auth import Principal, Role, get_services, require_role
from smartcharge.web.errors import refusal

router = APIRouter(prefix="/api/v1/owner", tags=["owner"])
owner_only = require_role(Role.OWNER)

STATION_ID = r"^[A-Za-z0-9*\-_=+|@.]{1,48}$"
_NOT_YOURS: dict[int | str, dict[str, Any]] = {404: {"description": "No charge point of yours has this id"}}
_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"description": "Cannot be done now (offline, nothing to cancel, refused by the charge point)"}
}


# ---- response and request bodies ----------------------------------------------------------------


class LimitOut(BaseModel):
    limit_w: float | None = Field(description="Limit in force (W); null: up to the rating")
    source: str | None = Field(description="Binding source (ARB-5 layer), e.g. response_dsr")
    until: datetime | None
    detail: str
    words: str = Field(description="The same in plain words")


class DelayOut(BaseModel):
    max_delay_s: int | None = Field(description="Maximum randomised delay, 0-1800 s (reg 11)")
    countdown_s: int = Field(description="Seconds left of the running delay (RD-R2); 0: none")
    can_start_now: bool
    why_not: str | None


class HoursOut(BaseModel):
    choice: str = Field(description="Pending (first use), Accepted, Changed or Removed (reg 10)")
    schedule: str
    shipped_schedule: str
    first_use_pending: bool
    allowed_now: bool
    next_allowed_at: datetime | None


class ChargePointOut(BaseModel):
    station_id: str
    connected: bool
    status: str
    mode: str
    mode_words: str
    power_w: float
    offered_w: float | None
    energy_kwh: float
    charging: bool
    session_active: bool
    override_active: bool
    limit: LimitOut
    delay: DelayOut
    hours: HoursOut
    tariff_id: str
    live: bool = Field(description="Read from the charge point just now (false: the CEM's copy)")
    as_of: datetime


class DefaultHoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    choice: Literal["accept", "change", "remove"]
    schedule: str | None = Field(
        None, max_length=500, description="The new hours when changing, e.g. 'Mon-Fri 00:30-05:30'"
    )


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool = Field(description="true: override the default hours and delay for this session")


class DelayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_delay_s: int = Field(description="0-1800 whole seconds (SCP-RD-3); never clamped")


class TariffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tariff_id: str = Field(min_length=1, max_length=64)


class RateChangeOut(BaseModel):
    changed_at: datetime
    power_w: float
    limit_w: float | None


class SessionOut(BaseModel):
    station_id: str
    transaction_id: str
    started_at: datetime
    stopped_at: datetime | None
    duration_s: int
    energy_kwh: float
    cost_p: float
    carbon_g: float
    tariff_id: str
    rate_changes: list[RateChangeOut]


class MonthOut(BaseModel):
    month: str
    sessions: int
    energy_kwh: float
    cost_p: float
    carbon_g: float


class SessionsOut(BaseModel):
    since: datetime
    until: datetime
    energy_kwh: float
    cost_p: float
    carbon_g: float
    months: list[MonthOut]
    sessions: list[SessionOut]


class ConsentOut(BaseModel):
    dsrsp_id: str
    in_force: bool
    may_control: bool
    may_read: list[str]
    since: datetime
    valid_until: datetime | None
    vtn_url: str
    last_action: str


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=500)


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: Literal[True] = Field(description="Must be true: erasure cannot be undone")


class StationClearOut(BaseModel):
    station_id: str
    id_token: str
    status: str = Field(
        description="CustomerInformation's answer (Accepted, Rejected, Invalid) or why none came"
    )


class EraseOut(BaseModel):
    rows_deleted: dict[str, int] = Field(description="Rows deleted per charge point")
    stations: list[StationClearOut] = Field(
        default_factory=list,
        description="Each connected OCPP 2.0.1 charge point asked to clear your id tokens",
    )


# ---- wiring ---------------------------------------------------------------------------------------


def owner_services(request: Request) -> tuple[OwnerService, OwnerData]:
    services = get_services(request)
    owners, data = services.owners, services.owner_data
    if owners is None or data is None:  # built without the owner services (OpenAPI only)
        raise NotYoursError("-")
    return owners, data


def _cp(view: Any) -> ChargePointOut:
    return ChargePointOut.model_validate(asdict(view))


async def _not_yours(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NotYoursError)
    return refusal(404, [{"field": error.field, "rule": error.rule}])


async def _refused(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ActionRefusedError)
    return refusal(409, [{"field": error.field, "rule": error.rule}])


def install(app: FastAPI) -> None:
    """Add the router and the owner's refusal shapes (404 not yours, 409 cannot now) to ``app``."""
    app.add_exception_handler(NotYoursError, _not_yours)
    app.add_exception_handler(ActionRefusedError, _refused)
    app.include_router(router)


Owner = Depends(owner_only)
Services = Depends(owner_services)


# ---- charge points --------------------------------------------------------------------------------


@router.get("/charge-points", response_model=list[ChargePointOut])
async def list_charge_points(who: Principal = Owner, s: tuple[OwnerService, OwnerData] = Services) -> Any:
    """Your charge points with live power, mode, the limit in force and its source in plain words."""
    return [_cp(v) for v in await s[0].charge_points(who.name)]


@router.get("/charge-points/{station_id}", response_model=ChargePointOut, responses=_NOT_YOURS)
async def get_charge_point(
    station_id: str, who: Principal = Owner, s: tuple[OwnerService, OwnerData] = Services
) -> Any:
    return _cp(await s[0].charge_point(who.name, station_id))


@router.put(
    "/charge-points/{station_id}/default-hours",
    response_model=ChargePointOut,
    responses={**_NOT_YOURS, **_REFUSED},
)
async def put_default_hours(
    station_id: str,
    body: DefaultHoursIn,
    who: Principal = Owner,
    s: tuple[OwnerService, OwnerData] = Services,
) -> Any:
    """The reg 10 choice at first use or later (SCP-OP-2/3): accept, change (with ``schedule``), remove."""
    return _cp(await s[0].choose_default_hours(who.name, station_id, body.choice, body.schedule))


@router.put(
    "/charge-points/{station_id}/override",
    response_model=ChargePointOut,
    responses={**_NOT_YOURS, **_REFUSED},
)
async def put_override(
    station_id: str, body: OverrideIn, who: Principal = Owner, s: tuple[OwnerService, OwnerData] = Services
) -> Any:
    """Override once: charge now for this session whatever the default hours and delay (SCP-OP-3)."""
    return _cp(await s[0].set_override(who.name, station_id, body.active))


@router.get("/charge-points/{station_id}/delay", response_model=DelayOut, responses=_NOT_YOURS)
async def get_delay(
    station_id: str, who: Principal = Owner, s: tuple[OwnerService, OwnerData] = Services
) -> Any:
    """The reg 11 randomised delay: maximum, countdown, and whether "start now" is allowed."""
    return DelayOut.model_validate(asdict((await s[0].charge_point(who.name, station_id)).delay))


@router.put(
    "/charge-points/{station_id}/delay", response_model=ChargePointOut, responses={**_NOT_YOURS, **_REFUSED}
)
async def put_delay(
    station_id: str, body: DelayIn, who: Principal = Owner, s: tuple[OwnerService, OwnerData] = Services
) -> Any:
    """Set the maximum randomised delay, 0-1800 s (SCP-RD-3)."""
    return _cp(await s[0].set_max_delay(who.name, station_id, body.max_delay_s))


@router.post(
    "/charge-points/{station_id}/start-now",
    response_model=ChargePointOut,
    responses={**_NOT_YOURS, **_REFUSED},
)
async def post_start_now(
    station_id: str, who: Principal = Owner, s: tuple[OwnerService, OwnerData] = Services
) -> Any:
    """Cancel the running randomised delay (owner override, SCP-RD-4/6); 409 when none runs."""
    return _cp(await s[0].start_now(who.name, station_id))


@router.put("/charge-points/{station_id}/tariff", response_model=ChargePointOut, responses=_NOT_YOURS)
async def put_tariff(
    station_id: str, body: TariffIn, who: Principal = Owner, s: tuple[OwnerService, OwnerData] = Services
) -> Any:
    """The packaged GB tariff that prices this charge point's sessions."""
    await asyncio.to_thread(s[0].set_tariff, who.name, station_id, body.tariff_id)
    return _cp(await s[0].charge_point(who.name, station_id))


# ---- sessions -------------------------------------------------------------------------------------


@router.get("/sessions", response_model=SessionsOut, responses=_NOT_YOURS)
async def get_sessions(
    station_id: str | None = Query(None, max_length=48),
    month: str | None = Query(None, description="YYYY-MM: list only that month's sessions"),
    who: Principal = Owner,
    s: tuple[OwnerService, OwnerData] = Services,
) -> Any:
    """Your sessions of the last 12 months with energy, cost, carbon, rate changes and monthly totals."""
    report = await asyncio.to_thread(sessions_report, s[0], who.name, station_id, month)
    return SessionsOut.model_validate(asdict(report))


@router.get(
    "/sessions.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per session"}, **_NOT_YOURS},
)
async def get_sessions_csv(
    station_id: str | None = Query(None, max_length=48),
    who: Principal = Owner,
    s: tuple[OwnerService, OwnerData] = Services,
) -> Response:
    """The same 12 months as CSV (UTC times, kWh, GBP, kg CO2, rate changes)."""
    chunks = await asyncio.to_thread(sessions_csv_chunks, s[0], who.name, station_id)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="sessions.csv"'},
    )


# ---- consent and data -----------------------------------------------------------------------------


@router.get("/consent", response_model=list[ConsentOut])
async def get_consent(who: Principal = Owner, s: tuple[OwnerService, OwnerData] = Services) -> Any:
    """Who may control or read your charge points, per DSR provider (PRIV-3)."""
    return [ConsentOut.model_validate(asdict(v)) for v in await asyncio.to_thread(s[1].consents)]


@router.post("/consent/{dsrsp_id}/revoke", response_model=ConsentOut, responses=_REFUSED)
async def post_revoke(
    dsrsp_id: str, body: RevokeIn, who: Principal = Owner, s: tuple[OwnerService, OwnerData] = Services
) -> Any:
    """Revoke a provider's consent: the CEM de-registers from it and deletes what it kept (PRIV-3)."""
    view = await asyncio.to_thread(s[1].revoke, who.name, dsrsp_id, body.reason)
    return ConsentOut.model_validate(asdict(view))


@router.get("/data/export")
async def get_export(who: Principal = Owner, s: tuple[OwnerService, OwnerData] = Services) -> JSONResponse:
    """Everything the CEM holds about your charge points, as JSON (PRIV-6 access, portability)."""
    data = await s[1].export_all(who.name)
    return JSONResponse(data, headers={"Content-Disposition": 'attachment; filename="my-data.json"'})


@router.post("/data/erase", response_model=EraseOut)
async def post_erase(
    body: EraseIn, who: Principal = Owner, s: tuple[OwnerService, OwnerData] = Services
) -> Any:
    """Erase your charge points' sessions, meter values and rate changes (PRIV-6 erasure); every
    connected OCPP 2.0.1 charge point clears what it holds about your id tokens."""
    counts, stations = await s[1].erase_all(who.name)
    return EraseOut(rows_deleted=counts, stations=[StationClearOut(**a) for a in stations])


__all__ = ["install", "router"]
