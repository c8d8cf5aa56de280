"""The CEM's record of reservations (OCPP 2.0.1 H01-H04; 1.6 Reservation profile): one row per
station and reservation id, with the EVSE (2.0.1) or connector (1.6), the token, the expiry and
the status, kept in the store so it survives a restart (table ``reservation``).

A reservation is recorded from what the operator sent and what the station answered, however
it was sent (``POST /api/v1/stations/{id}/ocpp/ReserveNow``, ``cem send``, a fan-out): the
answer of ReserveNow is its status (Accepted, Faulted, Occupied, Rejected, Unavailable), an
accepted CancelReservation makes it ``Cancelled``, and a 2.0.1 ReservationStatusUpdate makes it
``Expired`` or ``Removed``. 1.6 has no ReservationStatusUpdate, so an Accepted reservation whose
expiry has passed is shown ``Expired`` when read (:func:`as_of`).

The official schemas do not check a date-time's format, so a ReserveNow whose expiry is not an
ISO 8601 time with an offset is refused before it is sent (422 naming ``expiryDate`` /
``expiryDateTime``): the station could not honour it and the CEM could not record it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.domain import parse_time
from smartcharge.store.station_detail_repo import ReservationRecord

#: Status of a reservation the station accepted and the operator then cancelled (H02).
CANCELLED = "Cancelled"


def from_reserve_now(version: str, payload: dict[str, Any], status: str) -> ReservationRecord:
    """The record of one ReserveNow (payload camelCase, as sent) and the station's answer."""
    try:
        if version == "1.6":
            return ReservationRecord(
                int(payload["reservationId"]),
                status,
                parse_time(payload["expiryDate"], "expiryDate"),
                str(payload["idTag"]),
                int(payload["connectorId"]),
            )
        evse = payload.get("evseId")
        return ReservationRecord(
            int(payload["id"]),
            status,
            parse_time(payload["expiryDateTime"], "expiryDateTime"),
            str(payload["idToken"]["idToken"]),
            None if evse is None else int(evse),
        )
    except (KeyError, TypeError) as error:  # the schema check before sending makes this unreachable
        raise ValidationError("ReserveNow", payload, f"missing {error}") from None


def from_answer(
    version: str, action: str, payload: dict[str, Any], answer: dict[str, Any]
) -> ReservationRecord | None:
    """What an answered call changes in the reservation record, or None."""
    status = str(answer.get("status"))
    if action == "ReserveNow":
        return from_reserve_now(version, payload, status)
    if action == "CancelReservation" and status == "Accepted":
        return ReservationRecord(int(payload["reservationId"]), CANCELLED)
    return None


def as_of(records: list[ReservationRecord], now: datetime) -> list[ReservationRecord]:
    """The records as they stand at ``now``: an Accepted one past its expiry is Expired."""
    return [
        replace(r, status="Expired")
        if r.status == "Accepted" and r.expires_at is not None and r.expires_at <= now
        else r
        for r in records
    ]


__all__ = ["CANCELLED", "as_of", "from_answer", "from_reserve_now"]
