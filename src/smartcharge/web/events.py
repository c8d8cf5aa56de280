"""Every OCPP frame of every station, both ways, for the operator's live stream (``GET /api/v1/events``).

The OCPP server's tap calls :meth:`EventBus.on_frame` synchronously; the bus labels the frame
(message type, unique id, action: a CALLRESULT gets the action of the CALL it answers) and offers
it to every subscriber whose filter matches. Each subscriber has a bounded queue: when a slow
client's queue is full, new events for it are dropped and counted (it is told how many), so one
slow reader can neither grow the CEM's memory nor slow the stations.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import OrderedDict, deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

#: Events a subscriber may fall behind before further events for it are dropped.
DEFAULT_QUEUE_SIZE = 1000
#: Newest events kept for inspection (``EventBus.recent``).
HISTORY_SIZE = 1000
#: Calls whose answers are still awaited, per bus (their action labels the answer); oldest dropped.
MAX_OPEN_CALLS = 20_000
_TYPES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR"}
#: The tap's directions as the operator reads them.
DIRECTIONS = {"received": "station_to_cem", "sent": "cem_to_station"}


@dataclass(frozen=True, slots=True)
class FrameEvent:
    seq: int
    at: str
    station_id: str
    direction: str
    message_type: str
    unique_id: str | None
    action: str | None
    payload: Any

    def as_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


@dataclass
class Subscription:
    stations: frozenset[str] | None
    actions: frozenset[str] | None
    queue: asyncio.Queue[FrameEvent | None]
    dropped: int = 0
    closed: bool = False

    def matches(self, event: FrameEvent) -> bool:
        return (self.stations is None or event.station_id in self.stations) and (
            self.actions is None or event.action in self.actions
        )

    def offer(self, event: FrameEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1


def _parse(raw: str) -> tuple[str, str | None, str | None, Any]:
    """(message type, unique id, action of a CALL, payload); a frame that is not OCPP-J is 'malformed'."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return "malformed", None, None, raw[:1000]
    if not isinstance(frame, list) or len(frame) < 3 or frame[0] not in _TYPES:
        return "malformed", None, None, frame
    unique_id = str(frame[1])
    if frame[0] == 2:
        return "CALL", unique_id, str(frame[2]), frame[3] if len(frame) > 3 else None
    if frame[0] == 3:
        return "CALLRESULT", unique_id, None, frame[2]
    return "CALLERROR", unique_id, None, {"errorCode": frame[2], "detail": frame[3:]}


class EventBus:
    """Fan OCPP frames out to subscribers with bounded queues."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self._seq = itertools.count(1)
        self._open_calls: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self.recent: deque[FrameEvent] = deque(maxlen=HISTORY_SIZE)

    def on_frame(self, station_id: str, direction: str, raw: str) -> None:
        """The OCPP server's tap: label one frame and offer it to the matching subscribers."""
        message_type, unique_id, action, payload = _parse(raw)
        way = DIRECTIONS.get(direction, direction)
        if message_type == "CALL" and unique_id is not None and action is not None:
            self._open_calls[(station_id, way, unique_id)] = action
            while len(self._open_calls) > MAX_OPEN_CALLS:
                self._open_calls.popitem(last=False)
        elif unique_id is not None and message_type in ("CALLRESULT", "CALLERROR"):
            # An answer travels the other way from its call.
            other = "cem_to_station" if way == "station_to_cem" else "station_to_cem"
            action = self._open_calls.pop((station_id, other, unique_id), None)
        event = FrameEvent(
            next(self._seq),
            datetime.now(UTC).isoformat(timespec="milliseconds"),
            station_id,
            way,
            message_type,
            unique_id,
            action,
            payload,
        )
        self.recent.append(event)
        for subscriber in self._subscribers:
            if subscriber.matches(event):
                subscriber.offer(event)

    def subscribe(
        self, stations: frozenset[str] | None = None, actions: frozenset[str] | None = None
    ) -> Subscription:
        subscription = Subscription(stations, actions, asyncio.Queue(self._queue_size))
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def close(self) -> None:
        """End every stream (the CEM is stopping)."""
        for subscriber in list(self._subscribers):
            subscriber.closed = True
            try:
                subscriber.queue.put_nowait(None)
            except asyncio.QueueFull:
                pass
        self._subscribers.clear()


__all__ = ["DEFAULT_QUEUE_SIZE", "DIRECTIONS", "EventBus", "FrameEvent", "Subscription"]
