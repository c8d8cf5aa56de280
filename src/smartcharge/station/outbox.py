"""The station's queue to the CSMS (its offline queue while the link is down), bounded for every
kind of message (issue 15: bounded memory; OCPP 2.0.1 E04 and the OfflineTxForwarding rules).

While the link is down every message waits here and is replayed in order after reconnecting
(SCP-FS-5). A station off line for long, or a CSMS that never answers, must not grow it without
end: on main a queue of session messages only went past its cap and kept growing. When the
queue is full, room for a tenth of it is made in one pass (so a full queue costs one pass per
``max_items // 10`` messages, not one per message), taking in this order:

1. status notifications superseded by a later one in the queue;
2. periodic meter values (1.6 MeterValues, 2.0.1 Updated/MeterValuePeriodic), thinned: every
   other one, oldest first, so what remains is the same session at a coarser interval (2.0.1
   E04: intermediate meter values may be dropped when the queue is full);
3. station notices (NotifyEvent alerts, reservation updates, charging-limit notices);
4. security notices;
5. other intermediate transaction events (e.g. ChargingRateChanged), thinned likewise.

A transaction's Started and Ended events are kept, so each session and its energy register at
both ends survive (Energy.Active.Import.Register is cumulative: the session's energy is the
difference, whatever was thinned between). Only if the queue holds nothing but starts and ends
(``max_items / 2`` sessions off line) do the oldest go, logged as an error. Every pass logs what
it dropped and the totals; :attr:`Outbox.dropped` counts them by kind. The head is never taken:
it may be in flight.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from smartcharge.ocpp.domain import ChargingLimitNotice, SecurityNotice, StationMessage, TransactionMessage

if TYPE_CHECKING:
    from smartcharge.station.device import Uplink

logger = logging.getLogger(__name__)

#: Most messages the station holds for the CSMS; at 1 message a minute about a week off line.
OUTBOX_MAX = 10_000

PERIODIC = "periodic meter values"
STATUS = "superseded status notifications"
NOTICES = "station notices"
SECURITY = "security notices"
INTERMEDIATE = "intermediate transaction events"
SESSION_ENDS = "transaction starts and ends"
OTHER = "other messages"


def _periodic(item: object) -> bool:
    return isinstance(item, tuple) or (
        isinstance(item, TransactionMessage)
        and item.event_type == "Updated"
        and item.trigger_reason == "MeterValuePeriodic"
    )


def _intermediate(item: object) -> bool:
    return isinstance(item, TransactionMessage) and item.event_type == "Updated"


def _notice(item: object) -> bool:
    return isinstance(item, StationMessage | ChargingLimitNotice)


def _security(item: object) -> bool:
    return isinstance(item, SecurityNotice)


def _session_end(item: object) -> bool:
    return isinstance(item, TransactionMessage)


#: (kind, which items, thinned every other one rather than oldest first).
_TIERS: tuple[tuple[str, Callable[[object], bool], bool], ...] = (
    (PERIODIC, _periodic, True),
    (NOTICES, _notice, False),
    (SECURITY, _security, False),
    (INTERMEDIATE, _intermediate, True),
    (SESSION_ENDS, _session_end, False),
    (OTHER, lambda item: True, False),  # only the latest status can be left: a queue of 2 or 3
)


class Outbox(deque["Uplink"]):
    """A deque of at most ``max_items`` messages; see the module docstring for what goes first."""

    def __init__(self, max_items: int = OUTBOX_MAX) -> None:
        if max_items < 2:
            raise ValueError("an outbox holds at least 2 messages (its head may be in flight)")
        super().__init__()
        self.max_items = max_items
        #: Messages dropped to keep the bound, by kind (the module's constants).
        self.dropped: Counter[str] = Counter()

    @property
    def dropped_periodic(self) -> int:
        return self.dropped[PERIODIC]

    def append(self, item: Uplink) -> None:
        if len(self) >= self.max_items:
            self._make_room()
        super().append(item)

    def extend(self, items: Iterable[Uplink]) -> None:
        for item in items:
            self.append(item)

    def __iadd__(self, items: Iterable[Uplink]) -> Outbox:
        self.extend(items)
        return self

    def _make_room(self) -> None:
        items = list(self)
        need = len(items) - self.max_items + max(1, self.max_items // 10)
        keep = [True] * len(items)
        removed: Counter[str] = Counter()
        statuses = [i for i, item in enumerate(items) if isinstance(item, str) and i > 0]
        for i in statuses[:-1][:need]:  # a later status notification supersedes an older one
            keep[i] = False
            removed[STATUS] += 1
        need -= removed[STATUS]
        for kind, which, thinned in _TIERS:
            if need <= 0:
                break
            candidates = [i for i in range(1, len(items)) if keep[i] and which(items[i])]
            while need > 0 and candidates:
                chosen = (candidates[::2] if thinned and len(candidates) > 1 else candidates)[:need]
                for i in chosen:
                    keep[i] = False
                removed[kind] += len(chosen)
                need -= len(chosen)
                candidates = [i for i in candidates if keep[i]]
        self.clear()
        super().extend(item for item, kept in zip(items, keep, strict=True) if kept)
        self.dropped.update(removed)
        dropped = ", ".join(f"{n} {kind}" for kind, n in removed.items())
        totals = ", ".join(f"{n} {kind}" for kind, n in self.dropped.items())
        log = logger.error if removed[SESSION_ENDS] or removed[OTHER] else logger.warning
        log("offline queue full (%d messages): dropped %s (so far: %s)", self.max_items, dropped, totals)


__all__ = ["OUTBOX_MAX", "Outbox"]
