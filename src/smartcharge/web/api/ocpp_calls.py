"""Send any CSMS-initiated OCPP message to a station, or to many (issue 10 item 2).

``POST /api/v1/stations/{id}/ocpp/{Action}``: the body is the OCPP payload itself (camelCase, as
on the wire). It is checked against the station's version's official JSON schema before anything
is sent (``smartcharge.ocpp.schemas``). Answers: 200 with the station's CALLRESULT or CALLERROR;
404 unknown station; 409 not connected; 422 an action not in the version's CSMS->CS set or a
payload that breaks its schema (naming the field and the rule); 504 no answer in ``timeout_s``.

``POST /api/v1/ocpp/{Action}/fan-out``: one payload to many stations at once (one task each; one
call in flight per connection). Every target's version is checked first: if the payload is
invalid for any of them, nothing is sent to any.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.csms_base import CallOutcome, CsmsBase
from smartcharge.ocpp.schemas import validate_request
from smartcharge.web.api.stations import StationPath
from smartcharge.web.auth import Role, get_services, require_role
from smartcharge.web.services import WebServices

router = APIRouter(prefix="/api/v1", tags=["ocpp"], dependencies=[Depends(require_role(Role.OPERATOR))])
ActionPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]{1,64}$")]
TimeoutQuery = Annotated[
    float | None, Query(gt=0, le=300, description="Seconds to wait for the answer (default 30)")
]
PAYLOAD = Body(
    description="The OCPP payload, camelCase as on the wire",
    openapi_examples={"Reset": {"value": {"type": "Immediate"}}},
)


class CallErrorBody(BaseModel):
    code: str
    description: str
    details: dict[str, Any] | None


class OcppAnswer(BaseModel):
    station_id: str
    action: str
    ocpp_version: str
    unique_id: str
    outcome: Literal["CallResult", "CallError"]
    payload: dict[str, Any] | None = Field(None, description="The CALLRESULT payload as the station sent it")
    error: CallErrorBody | None = None
    elapsed_ms: float


class FanOutRequest(BaseModel):
    station_ids: list[Annotated[str, Field(max_length=48)]] | None = Field(
        None, max_length=100_000, description="Targets; omitted: every connected station"
    )
    payload: dict[str, Any]
    timeout_s: float | None = Field(None, gt=0, le=300)


class FanOutItem(BaseModel):
    station_id: str
    outcome: Literal["CallResult", "CallError", "NotConnected", "Timeout", "Refused"] = Field(
        description="Refused: the CEM's own rules kept it from this station (e.g. a GetLog location "
        "not handed out for it); nothing was sent to it"
    )
    payload: dict[str, Any] | None = None
    error: CallErrorBody | None = None


class FanOutAnswer(BaseModel):
    action: str
    sent: int
    results: list[FanOutItem]
    elapsed_ms: float


def _answer(station_id: str, action: str, version: str, outcome: CallOutcome, started: float) -> OcppAnswer:
    error = None
    if outcome.error_code is not None:
        error = CallErrorBody(
            code=outcome.error_code, description=outcome.error_description, details=outcome.error_details
        )
    return OcppAnswer(
        station_id=station_id,
        action=action,
        ocpp_version=version,
        unique_id=outcome.unique_id,
        outcome="CallError" if error else "CallResult",
        payload=outcome.result,
        error=error,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
    )


def _link(services: WebServices, station_id: str) -> CsmsBase | None:
    session = services.ocpp.sessions.get(station_id)
    return session if isinstance(session, CsmsBase) else None


def _summary(outcome: CallOutcome) -> str:
    if outcome.error_code is not None:
        return f"CallError {outcome.error_code}: {outcome.error_description}"[:500]
    return f"CallResult {json.dumps(outcome.result, separators=(',', ':'))}"[:500]


@router.post(
    "/stations/{station_id}/ocpp/{action}",
    response_model=OcppAnswer,
    responses={
        404: {"description": "Unknown station"},
        409: {"description": "Station not connected"},
        422: {"description": "Action not in the station's OCPP version, or payload breaks its schema"},
        504: {"description": "No answer within the timeout"},
    },
)
async def send_ocpp(
    request: Request,
    station_id: StationPath,
    action: ActionPath,
    payload: Annotated[dict[str, Any], PAYLOAD],
    timeout_s: TimeoutQuery = None,
) -> OcppAnswer:
    """Send one CSMS-initiated message of the station's OCPP version and return its answer."""
    services = get_services(request)
    request.state.audit_detail = f"{action} to {station_id}"
    link = _link(services, station_id)
    if link is None:
        if await asyncio.to_thread(services.stations.details, station_id) is None:
            raise HTTPException(404, f"station {station_id!r} is not registered")
        raise HTTPException(409, f"station {station_id!r} is not connected; nothing was sent")
    timeout = services.default_call_timeout_s if timeout_s is None else timeout_s
    started = time.perf_counter()
    try:
        outcome = await link.call_action(action, payload, timeout)
    except TimeoutError:
        request.state.audit_detail = f"{action} to {station_id}: no answer in {timeout} s"
        raise HTTPException(
            504, f"station {station_id!r} did not answer {action} within {timeout} s"
        ) from None
    request.state.audit_detail = f"{action} to {station_id}: {_summary(outcome)}"
    return _answer(station_id, action, link._ocpp_version, outcome, started)


async def _fan_one(link: CsmsBase, action: str, payload: dict[str, Any], timeout_s: float) -> FanOutItem:
    try:
        outcome = await link.call_action(action, payload, timeout_s, checked=True)
    except TimeoutError:
        return FanOutItem(station_id=link.station_id, outcome="Timeout")
    except ConnectionError:
        return FanOutItem(station_id=link.station_id, outcome="NotConnected")
    except ValidationError as refusal:  # the CEM's rules for this station (check_call): not sent
        body = CallErrorBody(code="Refused", description=str(refusal), details=None)
        return FanOutItem(station_id=link.station_id, outcome="Refused", error=body)
    if outcome.error_code is not None:
        error = CallErrorBody(
            code=outcome.error_code, description=outcome.error_description, details=outcome.error_details
        )
        return FanOutItem(station_id=link.station_id, outcome="CallError", error=error)
    return FanOutItem(station_id=link.station_id, outcome="CallResult", payload=outcome.result)


@router.post(
    "/ocpp/{action}/fan-out",
    response_model=FanOutAnswer,
    responses={422: {"description": "Payload invalid for one of the targets' versions: nothing sent"}},
)
async def fan_out(request: Request, action: ActionPath, body: FanOutRequest) -> FanOutAnswer:
    """Send one payload to many stations concurrently; each target's answer (or why none came)."""
    services = get_services(request)
    started = time.perf_counter()
    ids = (
        sorted(services.ocpp.sessions) if body.station_ids is None else list(dict.fromkeys(body.station_ids))
    )
    links = {sid: _link(services, sid) for sid in ids}
    for version in sorted({link._ocpp_version for link in links.values() if link is not None}):
        try:
            validate_request(version, action, body.payload)
        except ValidationError as error:
            raise ValidationError(error.field, error.value, f"{error.rule} (OCPP {version})") from None
    timeout = services.default_call_timeout_s if body.timeout_s is None else body.timeout_s
    live = [link for link in links.values() if link is not None]
    answers = await asyncio.gather(*(_fan_one(link, action, body.payload, timeout) for link in live))
    by_id = {a.station_id: a for a in answers}
    results = [by_id.get(sid) or FanOutItem(station_id=sid, outcome="NotConnected") for sid in ids]
    counts: dict[str, int] = {}
    for item in results:
        counts[item.outcome] = counts.get(item.outcome, 0) + 1
    request.state.audit_detail = f"{action} fan-out to {len(ids)}: {counts}"[:500]
    return FanOutAnswer(
        action=action,
        sent=len(live),
        results=results,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
    )
