"""The emulated station's reservations (OCPP 2.0.1 H01-H04; 1.6 Reservation profile, sections
5.13 ReserveNow and 5.3 CancelReservation).

The station has one EVSE with one connector, so it holds at most one reservation at a time; a
ReserveNow with the id of the one held replaces it (H01.FR.02, 1.6: "the reservation is
replaced"). While it is held, only the reserving token, or a token of the same group
(``groupIdToken`` in 2.0.1, ``parentIdTag`` in 1.6), may start a session there (H03); the
session that starts uses the reservation up. At its expiry it is removed and reported
(ReservationStatusUpdate Expired, H04); when the EVSE is made Inoperative it is removed and
reported Removed (H04).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: ReserveNow answers, 1.6 ReservationStatus (2.0.1 ReserveNowStatusEnumType has the same five).
STATUSES = ("Accepted", "Faulted", "Occupied", "Rejected", "Unavailable")


@dataclass(frozen=True, slots=True)
class Reservation:
    reservation_id: int
    expires_at: datetime
    id_token: str
    #: The EVSE (2.0.1) or connector (1.6) reserved; None: any (1.6 connector 0, 2.0.1 no evseId).
    evse_id: int | None = None
    group_id_token: str | None = None

    def admits(self, id_token: str, group_id_token: str | None) -> bool:
        """H03.FR.?: the reserving token, or one whose group is the reservation's group."""
        if id_token.lower() == self.id_token.lower():
            return True
        group = self.group_id_token
        return group is not None and group_id_token is not None and group.lower() == group_id_token.lower()


class Reservations(dict[int, Reservation]):
    """Reservations held, by reservation id."""

    def reserve(
        self, reservation: Reservation, now: datetime, *, operative: bool, occupied: bool, faulted: bool
    ) -> str:
        """The ReserveNow answer; the reservation is held only when it is Accepted."""
        if reservation.evse_id not in (None, 0, 1) or reservation.expires_at <= now:
            return "Rejected"  # no such connector, or an expiry already past
        if faulted:
            return "Faulted"
        if not operative:
            return "Unavailable"
        if occupied or any(k != reservation.reservation_id for k in self):
            return "Occupied"
        self[reservation.reservation_id] = reservation
        return "Accepted"

    def cancel(self, reservation_id: int) -> bool:
        return self.pop(reservation_id, None) is not None

    def admits(self, id_token: str | None, group_id_token: str | None = None) -> bool:
        """Whether a session may start for ``id_token`` (None: a plug-in without a token)."""
        return all(id_token is not None and r.admits(id_token, group_id_token) for r in self.values())

    def use(self, id_token: str | None, group_id_token: str | None = None) -> list[int]:
        """A session started for ``id_token``: the reservations it was admitted by end."""
        used = [k for k, r in self.items() if id_token is not None and r.admits(id_token, group_id_token)]
        for k in used:
            del self[k]
        return used

    def expire(self, now: datetime) -> list[int]:
        gone = [k for k, r in self.items() if r.expires_at <= now]
        for k in gone:
            del self[k]
        return gone

    def remove_all(self) -> list[int]:
        gone = list(self)
        self.clear()
        return gone

    # ---- what the station holds about one customer (N09/N10, PRIV-6) ------------------------

    def held_for(self, id_token: str) -> list[str]:
        return [
            f"reservation {r.reservation_id}: {r.id_token} until {r.expires_at.isoformat()}"
            for r in self.values()
            if r.id_token.lower() == id_token.lower()
        ]

    def forget(self, id_token: str) -> list[int]:
        gone = [k for k, r in self.items() if r.id_token.lower() == id_token.lower()]
        for k in gone:
            del self[k]
        return gone


__all__ = ["STATUSES", "Reservation", "Reservations"]
