"""The OCPP core for operators (issue 10): id tokens (C01, C05, C09), the boot answer per station
(B01-B03), and what each station reported: connector status (G01), device model (B07/B08),
reservations (H01-H04; 1.6 Reservation profile) and stored notices such as NotifyEvent (N07);
the local authorization list sent from the id-token store (D01/D02; 1.6 Local Auth List).

Changing calls need the ``operator`` role, reads ``viewer``; every route goes through the CEM's
services (``gateway.id_tokens``, ``gateway.reports``), never the store.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from ocpp.exceptions import OCPPError
from pydantic import BaseModel, Field

from smartcharge.cem import local_list
from smartcharge.cem import reservations as reservation_book
from smartcharge.cem.id_tokens import ID_TOKEN_MAX
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.csms_base import CsmsBase
from smartcharge.store.station_detail_repo import BOOT_STATUSES
from smartcharge.web.auth import Role, get_services, require_role

router = APIRouter(prefix="/api/v1", tags=["ocpp-core"])
READ = [Depends(require_role(Role.VIEWER))]
CHANGE = [Depends(require_role(Role.OPERATOR))]
StationId = Annotated[str, Path(min_length=1, max_length=48, description="The station's OCPP identity")]
TokenId = Annotated[str, Path(min_length=1, max_length=ID_TOKEN_MAX)]


class IdTokenIn(BaseModel):
    id_token: str = Field(min_length=1, max_length=ID_TOKEN_MAX)
    status: str = Field("Accepted", description="Accepted, Blocked, Expired or Invalid")
    token_type: str = Field("ISO14443", description="OCPP IdTokenEnumType")
    expires_at: datetime | None = Field(None, description="With UTC offset; none: never")
    group_id_token: str | None = Field(None, min_length=1, max_length=ID_TOKEN_MAX)


class IdTokenPatch(BaseModel):
    status: str | None = None
    expires_at: datetime | None = None
    group_id_token: str | None = Field(None, min_length=1, max_length=ID_TOKEN_MAX)
    clear_expiry: bool = False


class IdTokenOut(BaseModel):
    id_token: str
    token_type: str
    status: str
    expires_at: datetime | None
    group_id_token: str | None


class BootStatus(BaseModel):
    status: str = Field(description=f"One of {', '.join(BOOT_STATUSES)}")


class ConnectorOut(BaseModel):
    evse_id: int
    connector_id: int
    status: str
    reported_at: datetime


class ReservationOut(BaseModel):
    reservation_id: int
    status: str = Field(
        description="ReserveNow's answer (Accepted, Faulted, Occupied, Rejected, Unavailable), "
        "then Cancelled, Expired or Removed"
    )
    expires_at: datetime | None
    id_token: str | None
    evse_id: int | None = Field(description="The EVSE (2.0.1) or connector (1.6); none: any")


class StationStatusOut(BaseModel):
    station_id: str
    connected: bool
    boot_status: str = Field(description="What the CEM answers the station's next boot")
    last_boot_answer: str | None = Field(description="What this connection's last boot got")
    transaction_id: str | None
    connectors: list[ConnectorOut]
    reservations: list[ReservationOut] = Field(description="As the CEM recorded them (H01-H04)")


class LocalListIn(BaseModel):
    update_type: str = Field("Full", description="Full (every stored token) or Differential")
    id_tokens: list[Annotated[str, Field(min_length=1, max_length=ID_TOKEN_MAX)]] | None = Field(
        None, max_length=local_list.ITEMS_PER_MESSAGE, description="Differential: the tokens to send"
    )
    timeout_s: float | None = Field(None, gt=0, le=300)


class LocalListOut(BaseModel):
    version: int = Field(description="The list version sent (-1: the 1.6 station has the list disabled)")
    update_type: str
    status: str = Field(description="SendLocalList's answer: Accepted, Failed, NotSupported, VersionMismatch")
    entries: int
    left_out: list[str] = Field(description="Tokens too long for a 1.6 idTag (20 characters)")


class VariableOut(BaseModel):
    component: str
    component_instance: str
    evse_id: int = Field(description="-1: the component names no EVSE")
    connector_id: int
    variable: str
    variable_instance: str
    attribute_type: str
    value: str | None
    mutability: str | None


class NoticeOut(BaseModel):
    action: str
    received_at: datetime
    summary: str
    payload: dict[str, Any] | list[Any] | str


def _out(record: object, model: type[BaseModel]) -> Any:
    return model.model_validate(record, from_attributes=True)


async def _token(request: Request, id_token: str) -> Any:
    tokens = get_services(request).gateway.id_tokens
    try:
        return await asyncio.to_thread(tokens.get, id_token)
    except ValidationError:
        raise HTTPException(404, f"no id token {id_token!r}") from None


async def _station(request: Request, station_id: str) -> Any:
    reports = get_services(request).gateway.reports
    if not await asyncio.to_thread(reports.known, station_id):
        raise HTTPException(404, f"no station {station_id!r}")
    return reports


# ---- id tokens ----------------------------------------------------------------------------------


@router.get("/id-tokens", response_model=list[IdTokenOut], dependencies=READ)
async def list_id_tokens(request: Request) -> list[IdTokenOut]:
    """Every id token the CEM knows; a token not listed is Unknown and never starts charging."""
    records = await asyncio.to_thread(get_services(request).gateway.id_tokens.all)
    return [_out(r, IdTokenOut) for r in records]


@router.post("/id-tokens", response_model=IdTokenOut, status_code=201, dependencies=CHANGE)
async def add_id_token(body: IdTokenIn, request: Request) -> IdTokenOut:
    tokens = get_services(request).gateway.id_tokens
    record = await asyncio.to_thread(
        tokens.add, body.id_token, body.status, body.token_type, body.expires_at, body.group_id_token
    )
    return _out(record, IdTokenOut)  # type: ignore[no-any-return]


@router.get("/id-tokens/{id_token}", response_model=IdTokenOut, dependencies=READ)
async def get_id_token(id_token: TokenId, request: Request) -> IdTokenOut:
    return _out(await _token(request, id_token), IdTokenOut)  # type: ignore[no-any-return]


@router.patch("/id-tokens/{id_token}", response_model=IdTokenOut, dependencies=CHANGE)
async def update_id_token(id_token: TokenId, body: IdTokenPatch, request: Request) -> IdTokenOut:
    """Change status (e.g. Blocked), expiry or group; takes effect at the next Authorize."""
    tokens = get_services(request).gateway.id_tokens
    await _token(request, id_token)
    record = await asyncio.to_thread(
        tokens.update, id_token, body.status, body.expires_at, body.group_id_token, body.clear_expiry
    )
    return _out(record, IdTokenOut)  # type: ignore[no-any-return]


@router.delete("/id-tokens/{id_token}", status_code=204, dependencies=CHANGE)
async def remove_id_token(id_token: TokenId, request: Request) -> Response:
    tokens = get_services(request).gateway.id_tokens
    await _token(request, id_token)
    await asyncio.to_thread(tokens.remove, id_token)
    return Response(status_code=204)


# ---- per station ------------------------------------------------------------------------------


@router.get("/stations/{station_id}/boot-status", response_model=BootStatus, dependencies=READ)
async def get_boot_status(station_id: StationId, request: Request) -> BootStatus:
    reports = await _station(request, station_id)
    return BootStatus(status=await asyncio.to_thread(reports.boot_status, station_id))


@router.put("/stations/{station_id}/boot-status", response_model=BootStatus, dependencies=CHANGE)
async def set_boot_status(station_id: StationId, body: BootStatus, request: Request) -> BootStatus:
    """Accepted, Pending or Rejected from the station's next BootNotification on (B01-B03)."""
    reports = await _station(request, station_id)
    await asyncio.to_thread(reports.set_boot_status, station_id, body.status)
    return BootStatus(status=body.status)


@router.get("/stations/{station_id}/ocpp-status", response_model=StationStatusOut, dependencies=READ)
async def station_status(station_id: StationId, request: Request) -> StationStatusOut:
    """Connection, boot answer, running transaction and the status of each connector (G01)."""
    reports = await _station(request, station_id)
    state = get_services(request).gateway.stations.get(station_id)
    connectors = await asyncio.to_thread(reports.connectors, station_id)
    return StationStatusOut(
        station_id=station_id,
        connected=state is not None and state.link is not None,
        boot_status=await asyncio.to_thread(reports.boot_status, station_id),
        last_boot_answer=None if state is None else state.boot_status,
        transaction_id=None if state is None else state.transaction_id,
        connectors=[_out(c, ConnectorOut) for c in connectors],
        reservations=[_out(r, ReservationOut) for r in await _reservations(reports, station_id)],
    )


async def _reservations(reports: Any, station_id: str) -> list[Any]:
    records = await asyncio.to_thread(reports.reservations, station_id)
    return reservation_book.as_of(records, datetime.now(UTC))


@router.get("/stations/{station_id}/device-model", response_model=list[VariableOut], dependencies=READ)
async def device_model(station_id: StationId, request: Request) -> list[VariableOut]:
    """The variables the station reported in NotifyReport (after GetBaseReport / GetReport)."""
    reports = await _station(request, station_id)
    return [_out(v, VariableOut) for v in await asyncio.to_thread(reports.device_model, station_id)]


@router.get("/stations/{station_id}/reservations", response_model=list[ReservationOut], dependencies=READ)
async def reservations(station_id: StationId, request: Request) -> list[ReservationOut]:
    """Reservations made through the operator API (ReserveNow, CancelReservation) and what the
    station reported of them (ReservationStatusUpdate); kept across restarts."""
    reports = await _station(request, station_id)
    return [_out(r, ReservationOut) for r in await _reservations(reports, station_id)]


class CustomerInformationIn(BaseModel):
    id_tokens: list[Annotated[str, Field(min_length=1, max_length=ID_TOKEN_MAX)]] = Field(
        min_length=1, max_length=100, description="The customer's id tokens"
    )
    report: bool = Field(False, description="Ask what each station holds (NotifyCustomerInformation)")
    clear: bool = Field(False, description="Have each station clear it")
    timeout_s: float | None = Field(None, gt=0, le=300)


class CustomerAnswerOut(BaseModel):
    station_id: str
    id_token: str
    status: str = Field(description="Accepted, Rejected, Invalid, a CALLERROR code, or NoReport")
    lines: list[str] = Field(description="What the station reported it holds (report=true)")


class UploadLocationIn(BaseModel):
    request_id: int = Field(ge=0, le=2_147_483_647, description="The requestId of the GetLog to send")


class UploadLocationOut(BaseModel):
    location: str = Field(description="Single-use HTTPS upload location on the CEM's file endpoint")


@router.post("/customer-information", response_model=list[CustomerAnswerOut], dependencies=CHANGE)
async def customer_information(body: CustomerInformationIn, request: Request) -> list[CustomerAnswerOut]:
    """CustomerInformation for each token at every connected OCPP 2.0.1 station (N09 report, N10
    clear; PRIV-6): what ``cem erase`` asks of the running CEM after erasing a station's sessions."""
    if not (body.report or body.clear):
        raise ValidationError("report", False, "ask for report, clear or both")
    services = get_services(request)
    security = services.gateway.security
    if security is None:
        raise ValidationError("id_tokens", None, "this CEM has no security service")
    timeout = services.default_call_timeout_s if body.timeout_s is None else body.timeout_s
    answers = await security.customer_information_everywhere(
        body.id_tokens, report=body.report, clear=body.clear, timeout_s=timeout
    )
    statuses = sorted({a.status for a in answers})
    request.state.audit_detail = (
        f"CustomerInformation report={body.report} clear={body.clear} for {len(body.id_tokens)} token(s) "
        f"at {len({a.station_id for a in answers})} station(s): {statuses}"
    )
    return [CustomerAnswerOut(**vars(a)) for a in answers]


@router.post(
    "/stations/{station_id}/upload-location",
    response_model=UploadLocationOut,
    dependencies=CHANGE,
    responses={404: {"description": "Unknown station"}},
)
async def upload_location(
    station_id: StationId, body: UploadLocationIn, request: Request
) -> UploadLocationOut:
    """A location for ``GetLog.log.remoteLocation`` (or 1.6 ``GetDiagnostics.location``): the
    operator API sends those messages only to a location handed out here for that station (N01)."""
    await _station(request, station_id)
    security = get_services(request).gateway.security
    if security is None:
        raise ValidationError("remoteLocation", None, "the CEM's upload endpoint is not running")
    location = security.upload_location(station_id, body.request_id)
    request.state.audit_detail = f"upload location for {station_id} request {body.request_id}"
    return UploadLocationOut(location=location)


@router.post(
    "/stations/{station_id}/local-list",
    response_model=LocalListOut,
    dependencies=CHANGE,
    responses={
        404: {"description": "Unknown station"},
        409: {"description": "Not connected"},
        502: {"description": "The station's answer broke its schema"},
        504: {"description": "No answer within the timeout"},
    },
)
async def send_local_list(station_id: StationId, body: LocalListIn, request: Request) -> LocalListOut:
    """SendLocalList built from the id-token store (D01; 1.6 section 5.15), with the version after
    the station's own (GetLocalListVersion first)."""
    await _station(request, station_id)
    services = get_services(request)
    session = services.ocpp.sessions.get(station_id)
    if not isinstance(session, CsmsBase):
        raise HTTPException(409, f"station {station_id!r} is not connected; nothing was sent")
    timeout = services.default_call_timeout_s if body.timeout_s is None else body.timeout_s
    try:
        result = await local_list.send_from_store(
            session, services.gateway.id_tokens, body.update_type, body.id_tokens, timeout
        )
    except TimeoutError:
        raise HTTPException(504, f"station {station_id!r} did not answer within {timeout} s") from None
    except OCPPError as error:  # an answer that breaks its schema: the station's fault
        raise HTTPException(502, f"station {station_id!r} answered out of schema: {error}") from None
    request.state.audit_detail = (
        f"local list v{result.version} {result.update_type} to {station_id}: {result.status}"
    )
    return LocalListOut(**vars(result))


@router.get("/stations/{station_id}/notices", response_model=list[NoticeOut], dependencies=READ)
async def notices(
    station_id: StationId,
    request: Request,
    action: str | None = Query(None, max_length=50, description="e.g. NotifyEvent"),
) -> list[NoticeOut]:
    """Messages stored and acknowledged: NotifyEvent, DataTransfer, firmware status, ..."""
    reports = await _station(request, station_id)
    records = await asyncio.to_thread(reports.notices, station_id, action)
    return [
        NoticeOut(
            action=r.action, received_at=r.received_at, summary=r.summary, payload=json.loads(r.payload)
        )
        for r in records
    ]
