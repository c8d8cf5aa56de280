"""``GET /api/v1/events``: every OCPP message in both directions, live, as server-sent events.

Filter with ``station`` and ``action`` (each repeatable). Each event is ``event: ocpp`` with the
frame as JSON (``seq``, ``at``, ``station_id``, ``direction`` station_to_cem / cem_to_station,
``message_type``, ``unique_id``, ``action``, ``payload``); answers carry the action of their call.
A client too slow for its bounded queue gets ``event: dropped`` with how many it missed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from smartcharge.web.auth import Role, get_services, require_role
from smartcharge.web.events import EventBus

router = APIRouter(prefix="/api/v1", tags=["events"], dependencies=[Depends(require_role(Role.VIEWER))])
#: A comment line this often keeps proxies from closing an idle stream.
KEEPALIVE_S = 15.0


async def _stream(
    bus: EventBus, stations: frozenset[str] | None, actions: frozenset[str] | None
) -> AsyncIterator[str]:
    # Subscribed here, not in the route: a client gone before the first byte leaves nothing behind.
    subscription = bus.subscribe(stations, actions)
    try:
        yield ": connected\n\n"
        while not subscription.closed:
            try:
                event = await asyncio.wait_for(subscription.queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if event is None:
                return
            if subscription.dropped:
                missed, subscription.dropped = subscription.dropped, 0
                yield f"event: dropped\ndata: {json.dumps({'dropped': missed})}\n\n"
            yield f"id: {event.seq}\nevent: ocpp\ndata: {event.as_json()}\n\n"
    finally:
        bus.unsubscribe(subscription)


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "A stream of OCPP frames"}},
)
async def events(
    request: Request,
    station: Annotated[list[str] | None, Query(max_length=1000, description="Only these stations")] = None,
    action: Annotated[list[str] | None, Query(max_length=200, description="Only these actions")] = None,
) -> StreamingResponse:
    """Live OCPP frames of every (or the chosen) station, both directions."""
    bus = get_services(request).events
    stations = None if not station else frozenset(station)
    actions = None if not action else frozenset(action)
    return StreamingResponse(
        _stream(bus, stations, actions),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
