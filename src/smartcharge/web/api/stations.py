"""Stations for operators: what the CEM knows of each (viewer), and their registration (operator).

Connection state, OCPP version and the connector status come from the live gateway; security
profile and boot details from the store. Registration follows ``smartcharge.cem.registration``:
re-registering or removing a station also closes its live connection (it must come back with its
new credentials, or not at all).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from smartcharge.cem import registration
from smartcharge.store.station_admin import StationDetails
from smartcharge.web.auth import Role, get_services, require_role
from smartcharge.web.services import WebServices
from smartcharge.web.types import UtcDateTime

router = APIRouter(prefix="/api/v1", tags=["stations"])
Viewer = Depends(require_role(Role.VIEWER))
Operator = Depends(require_role(Role.OPERATOR))
#: OCPP 2.0.1 identityString (part 4, 3.1.1), as the OCPP server accepts it.
STATION_ID_PATTERN = r"^[A-Za-z0-9*\-_=+|@.]{1,48}$"
StationPath = Annotated[str, Path(min_length=1, max_length=48, pattern=STATION_ID_PATTERN)]
StationField = Annotated[str, Field(min_length=1, max_length=48, pattern=STATION_ID_PATTERN)]
_VERSIONS = {"ocpp2.0.1": "2.0.1", "ocpp1.6": "1.6"}


class BootDetails(BaseModel):
    vendor: str | None
    model: str | None
    firmware_version: str | None
    last_boot_at: UtcDateTime | None


class StationView(BaseModel):
    station_id: str
    connected: bool
    ocpp_version: str | None = Field(description="2.0.1 or 1.6: of the live link, else of the last boot")
    security_profile: int
    has_password: bool
    registered_at: UtcDateTime
    boot: BootDetails
    status: str = Field(description="Connector status as last reported (Offline when not connected)")
    transaction_id: str | None
    power_w: float
    offered_w: float | None
    energy_wh: float
    limit_source: str | None = Field(None, description="An external limit the station reported, if any")


class RateChangeOut(BaseModel):
    changed_at: UtcDateTime
    power_w: float
    limit_w: float | None


class SessionOut(BaseModel):
    station_id: str
    transaction_id: str
    started_at: UtcDateTime
    stopped_at: UtcDateTime | None
    energy_kwh: float
    rate_changes: list[RateChangeOut]


class SecurityEventOut(BaseModel):
    occurred_at: UtcDateTime
    station_id: str | None
    event_type: str
    detail: str
    remote_address: str | None


class Registration(BaseModel):
    station_id: StationField
    security_profile: int = Field(2, ge=1, le=3, description="OCPP security profile (1, 2 or 3)")
    password: str | None = Field(
        None,
        min_length=16,
        max_length=40,
        description="The operator's own password (OCPP BasicAuthPassword rules); omitted: a random one",
    )


class Credentials(BaseModel):
    security_profile: int | None = Field(None, ge=1, le=3, description="Omitted: keep the profile")
    password: str | None = Field(None, min_length=16, max_length=40)


class RegistrationOut(BaseModel):
    station_id: str
    security_profile: int
    password: str | None = Field(None, description="The generated password: shown this once only")


def _view(services: WebServices, details: StationDetails) -> StationView:
    state = services.gateway.stations.get(details.station_id)
    link = None if state is None else state.link
    live_version = None if link is None else _VERSIONS.get(link.version.value)
    stored_version = None if details.ocpp_version is None else _VERSIONS.get(details.ocpp_version)
    external = None if state is None else state.external_limit
    return StationView(
        station_id=details.station_id,
        connected=link is not None,
        ocpp_version=live_version or stored_version,
        security_profile=details.security_profile,
        has_password=details.has_password,
        registered_at=details.registered_at,
        boot=BootDetails(
            vendor=details.vendor,
            model=details.model,
            firmware_version=details.firmware_version,
            last_boot_at=details.last_boot_at,
        ),
        status="Offline" if state is None or link is None else state.status,
        transaction_id=None if state is None else state.transaction_id,
        power_w=0.0 if state is None else state.power_w,
        offered_w=None if state is None else state.offered_w,
        energy_wh=0.0 if state is None else state.energy_wh,
        limit_source=None if external is None else str(external.source),
    )


async def _details_or_404(services: WebServices, station_id: str) -> StationDetails:
    details = await asyncio.to_thread(services.stations.details, station_id)
    if details is None:
        raise HTTPException(404, f"station {station_id!r} is not registered")
    return details


@router.get("/stations", response_model=list[StationView], dependencies=[Viewer])
async def list_stations(request: Request) -> list[StationView]:
    """Every registered station with its connection state, version, profile, boot details and status."""
    services = get_services(request)
    return [_view(services, d) for d in await asyncio.to_thread(services.stations.all_details)]


@router.get(
    "/stations/{station_id}",
    response_model=StationView,
    dependencies=[Viewer],
    responses={404: {"description": "Not registered"}},
)
async def get_station(request: Request, station_id: StationPath) -> StationView:
    services = get_services(request)
    return _view(services, await _details_or_404(services, station_id))


@router.get(
    "/stations/{station_id}/sessions",
    response_model=list[SessionOut],
    dependencies=[Viewer],
    responses={404: {"description": "Not registered"}},
)
async def station_sessions(request: Request, station_id: StationPath) -> list[SessionOut]:
    """The station's charging sessions of the last 12 months, with their rate changes (reg 9)."""
    services = get_services(request)
    await _details_or_404(services, station_id)
    views = await asyncio.to_thread(
        services.store.sessions.sessions_last_12_months, station_id, datetime.now(UTC)
    )
    return [
        SessionOut(
            station_id=v.station_id,
            transaction_id=v.transaction_id,
            started_at=v.started_at,
            stopped_at=v.stopped_at,
            energy_kwh=v.energy_kwh,
            rate_changes=[
                RateChangeOut(changed_at=r.changed_at, power_w=r.power_w, limit_w=r.limit_w)
                for r in v.rate_changes
            ],
        )
        for v in views
    ]


@router.get("/security-log", response_model=list[SecurityEventOut], dependencies=[Viewer])
async def security_log(
    request: Request,
    station: Annotated[str | None, Query(max_length=48, description="Only this station")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SecurityEventOut]:
    """The newest security events: refused handshakes, invalid messages, station notifications,
    failed logins (SEC-D-9)."""
    records = await asyncio.to_thread(get_services(request).store.security.recent, limit, station)
    return [SecurityEventOut.model_validate(r, from_attributes=True) for r in records]


async def _disconnect(services: WebServices, station_id: str, reason: str) -> None:
    session = services.ocpp.sessions.get(station_id)
    if session is not None:
        await session._connection.close(1008, reason)


@router.post(
    "/stations",
    response_model=RegistrationOut,
    status_code=201,
    dependencies=[Operator],
    responses={409: {"description": "Already registered"}},
)
async def register_station(request: Request, body: Registration) -> RegistrationOut:
    """Register a station at a security profile, with the operator's own password or a random one
    (returned once)."""
    services = get_services(request)
    if await asyncio.to_thread(services.stations.details, body.station_id) is not None:
        raise HTTPException(409, f"station {body.station_id!r} is already registered")
    shown = await asyncio.to_thread(
        registration.register, services.store.stations, body.station_id, body.security_profile, body.password
    )
    request.state.audit_detail = f"registered at profile {body.security_profile}"
    return RegistrationOut(station_id=body.station_id, security_profile=body.security_profile, password=shown)


@router.post(
    "/stations/{station_id}/password",
    response_model=RegistrationOut,
    dependencies=[Operator],
    responses={
        404: {"description": "Not registered"},
        409: {"description": "Not connected, or the station refused the new password (the old stays)"},
        504: {"description": "The station did not answer"},
    },
)
async def rotate_password(
    request: Request, station_id: StationPath, body: Credentials | None = None
) -> RegistrationOut:
    """Rotate a connected station's password (OCPP 2.0.1 A01): the operator's own or a random one
    (returned once) goes to the station (SetVariables SecurityCtrlr.BasicAuthPassword; 1.6:
    ChangeConfiguration AuthorizationKey) and the CEM accepts it, and only it, once the station
    answers Accepted; the station reconnects with it. A station that is not connected cannot
    learn a new password: 409, nothing changes (re-register it with PUT to set credentials
    configured on the station by hand)."""
    services = get_services(request)
    details = await _details_or_404(services, station_id)
    state = services.gateway.stations.get(station_id)
    if state is None or state.link is None:
        raise HTTPException(
            409,
            f"station {station_id!r} is not connected: a password is rotated over OCPP (A01) so the"
            " station learns it; nothing was changed. To set credentials configured on the station"
            " by hand, re-register it (PUT /api/v1/stations/{id})",
        )
    given = None if body is None else body.password
    password = registration.rotation_password(details.security_profile, given)
    try:
        status = await services.gateway.security.rotate_password(station_id, password)
    except TimeoutError:
        raise HTTPException(504, f"station {station_id!r} did not answer the new password") from None
    request.state.audit_detail = f"password rotation: station answered {status}"
    if status != "Accepted":
        raise HTTPException(409, f"station {station_id!r} answered {status}: the old password stays")
    return RegistrationOut(
        station_id=station_id,
        security_profile=details.security_profile,
        password=None if given is not None else password,
    )


@router.put(
    "/stations/{station_id}",
    response_model=RegistrationOut,
    dependencies=[Operator],
    responses={404: {"description": "Not registered"}},
)
async def reregister_station(request: Request, station_id: StationPath, body: Credentials) -> RegistrationOut:
    """Re-register: a security profile and new credentials; the live connection is closed."""
    services = get_services(request)
    current = await _details_or_404(services, station_id)
    profile = current.security_profile if body.security_profile is None else body.security_profile
    shown = await asyncio.to_thread(
        registration.set_credentials, services.stations, station_id, profile, body.password
    )
    await _disconnect(services, station_id, "re-registered")
    request.state.audit_detail = f"re-registered at profile {profile}"
    return RegistrationOut(station_id=station_id, security_profile=profile, password=shown)


@router.delete(
    "/stations/{station_id}",
    status_code=204,
    dependencies=[Operator],
    responses={404: {"description": "Not registered"}},
)
async def remove_station(request: Request, station_id: StationPath) -> Response:
    """Remove a station and its sessions (the security log is kept); the live connection is closed."""
    services = get_services(request)
    await _details_or_404(services, station_id)
    await asyncio.to_thread(services.store.stations.remove, station_id)
    await _disconnect(services, station_id, "removed")
    request.state.audit_detail = "removed"
    return Response(status_code=204)
