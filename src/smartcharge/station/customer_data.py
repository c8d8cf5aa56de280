"""What the emulated station holds about one customer, and its erasure (OCPP 2.0.1 N09 Get
Customer Information, N10 Clear Customer Information; PRIV-6).

A customer is known here only by id token: in the local authorization list, in the
authorization cache, in a reservation, and in session messages still queued for the CSMS (an
offline session). Clearing removes the list and cache entries and the reservation, and takes the
token out of the queued session messages: the sessions themselves still reach the CSMS (reg 9
records), without the token.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from smartcharge.ocpp.domain import TransactionMessage, format_time


def _same(a: str | None, b: str) -> bool:
    return a is not None and a.lower() == b.lower()  # idToken is case insensitive


def held_for(device: Any, id_token: str) -> list[str]:
    """One line per thing held about ``id_token``."""
    lines: list[str] = device.auth.held_for(id_token) + device.reservations.held_for(id_token)
    lines += [
        f"session {m.transaction_id} {m.event_type} {format_time(m.occurred_at)} (queued for the CSMS)"
        for m in device.outbox
        if isinstance(m, TransactionMessage) and _same(m.id_token, id_token)
    ]
    return lines


def forget(device: Any, id_token: str) -> int:
    """Clear what :func:`held_for` lists; returns how many items were cleared."""
    cleared: int = device.auth.forget(id_token) + len(device.reservations.forget(id_token))
    outbox = device.outbox
    for i, m in enumerate(outbox):
        if isinstance(m, TransactionMessage) and _same(m.id_token, id_token):
            outbox[i] = replace(m, id_token=None)
            cleared += 1
    return cleared


__all__ = ["forget", "held_for"]
