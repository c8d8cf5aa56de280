"""Charging sessions and everything in them, kept for reg 9 (SCP-MS-1..3, PRIV-4, PRIV-6).

Writes are idempotent: a transaction event is keyed by (station, transaction, seq_no), a meter
value by (station, transaction, time, measurand, phase, location, context), a rate change by
(station, transaction, seq_no) of the event that reported it (two changes within one second are
two rows).
A station that replays its offline queue, or resends a message the CEM committed just before it
crashed, changes nothing the second time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from smartcharge.core.errors import ValidationError
from smartcharge.store.models import (
    NO_TRANSACTION,
    ChargingSession,
    MeterValueRow,
    RateChange,
    TransactionEventRow,
)
from smartcharge.store.upsert import insert_ignoring_duplicates

#: Measurand of the cumulative import register (OCPP), from which session energy follows.
ENERGY_REGISTER = "Energy.Active.Import.Register"
#: How far back the owner can always look (reg 9, SCP-MS-3: the previous 12 months).
RETENTION = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One sampled value; ``phase`` "" when not per phase. Only finite values are kept."""

    measured_at: datetime
    measurand: str
    value: float
    unit: str
    phase: str = ""
    location: str = "Outlet"
    context: str = "Sample.Periodic"

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValidationError("sampledValue.value", self.value, "must be a finite number")


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """One transaction message, already converted from the wire by the OCPP adapter."""

    station_id: str
    transaction_id: str
    seq_no: int
    event_type: str  # Started | Updated | Ended
    trigger_reason: str
    occurred_at: datetime
    offline: bool = False
    samples: tuple[MeterSample, ...] = ()
    rate_power_w: float | None = None  # set when this event reports a change of rate
    rate_limit_w: float | None = None
    stop_reason: str | None = None
    id_token: str | None = None
    received_at: datetime | None = None  # the CEM's clock on arrival
    time_suspect: bool = False  # ``occurred_at`` is implausible next to ``received_at``


@dataclass(frozen=True, slots=True)
class RateChangeView:
    changed_at: datetime
    power_w: float
    limit_w: float | None


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session as the owner sees it (reg 9): start, stop, energy and every rate change."""

    station_id: str
    transaction_id: str
    started_at: datetime
    stopped_at: datetime | None
    energy_kwh: float
    rate_changes: tuple[RateChangeView, ...]
    time_suspect: bool = False  # the station's start time was implausible; listed by receipt time
    received_at: datetime | None = None


def _utc(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _meter_rows(
    station_id: str, transaction_id: str, samples: tuple[MeterSample, ...]
) -> list[dict[str, Any]]:
    return [
        {
            "station_id": station_id,
            "transaction_id": transaction_id,
            "measured_at": s.measured_at,
            "measurand": s.measurand,
            "value": s.value,
            "unit": s.unit,
            "phase": s.phase,
            "location": s.location,
            "context": s.context,
        }
        for s in samples
    ]


def _finite_or_none(value: float | None) -> float | None:
    # Rows stored before only finite values were accepted may hold NaN or infinity: JSON has neither.
    return value if value is not None and math.isfinite(value) else None


class SessionRepository:
    """Record transaction events and meter values; query, export and erase sessions."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def record_event(self, event: TransactionRecord) -> bool:
        """Store one transaction event atomically; False if it had been stored before (a replay)."""
        with self._sessions.begin() as session:
            return self._event_in(session, event)

    def record_batch(self, writes: list[tuple[str, Any]]) -> list[Any]:
        """Store many writes in ONE transaction (one commit, one fsync): ``("event", record)`` or
        ``("meter", (station_id, transaction_id, samples))``. Returns each write's result.

        A commit per message capped SQLite at a few hundred messages a second; 1,000 stations
        reconnecting queued more than that behind the single writer and their calls timed out
        (issue 15: 855 of 2,538 transaction messages). Group commit removes that ceiling."""
        with self._sessions.begin() as session:
            return [
                self._event_in(session, item) if kind == "event" else self._meter_in(session, *item)
                for kind, item in writes
            ]

    def _event_in(self, session: Session, event: TransactionRecord) -> bool:
        inserted = insert_ignoring_duplicates(
            session,
            TransactionEventRow.__table__,  # type: ignore[arg-type]
            [
                {
                    "station_id": event.station_id,
                    "transaction_id": event.transaction_id,
                    "seq_no": event.seq_no,
                    "event_type": event.event_type,
                    "trigger_reason": event.trigger_reason,
                    "occurred_at": event.occurred_at,
                    "offline": event.offline,
                    "received_at": event.received_at,
                    "time_suspect": event.time_suspect,
                }
            ],
        )
        if not inserted:
            return False
        self._update_session(session, event)
        rows = _meter_rows(event.station_id, event.transaction_id, event.samples)
        insert_ignoring_duplicates(session, MeterValueRow.__table__, rows)  # type: ignore[arg-type]
        if event.rate_power_w is not None:
            rate = {
                "station_id": event.station_id,
                "transaction_id": event.transaction_id,
                "seq_no": event.seq_no,
                "changed_at": event.occurred_at,
                "power_w": event.rate_power_w,
                "limit_w": event.rate_limit_w,
            }
            insert_ignoring_duplicates(session, RateChange.__table__, [rate])  # type: ignore[arg-type]
        return True

    def _update_session(self, session: Session, event: TransactionRecord) -> None:
        row = session.scalar(
            select(ChargingSession).where(
                ChargingSession.station_id == event.station_id,
                ChargingSession.transaction_id == event.transaction_id,
            )
        )
        if row is None:
            row = ChargingSession(
                station_id=event.station_id,
                transaction_id=event.transaction_id,
                started_at=event.occurred_at,
                id_token=event.id_token,
                received_at=event.received_at,
                time_suspect=event.time_suspect,
            )
            session.add(row)
        elif event.event_type == "Started" or _utc(event.occurred_at) < _utc(row.started_at):
            row.started_at = event.occurred_at
            if event.event_type == "Started":
                row.time_suspect, row.received_at = event.time_suspect, event.received_at
        for sample in sorted(event.samples, key=lambda s: s.measured_at):
            if sample.measurand != ENERGY_REGISTER:
                continue
            wh = sample.value * 1000.0 if sample.unit == "kWh" else sample.value
            if row.meter_start_wh is None or event.event_type == "Started":
                row.meter_start_wh = wh if row.meter_start_wh is None else min(row.meter_start_wh, wh)
            row.meter_last_wh = wh if row.meter_last_wh is None else max(row.meter_last_wh, wh)
        if event.event_type == "Ended":
            row.stopped_at = event.occurred_at
            row.stop_reason = event.stop_reason

    def record_meter_values(
        self, station_id: str, transaction_id: str | None, samples: tuple[MeterSample, ...]
    ) -> int:
        """Store meter values sent outside a transaction event; returns how many were new."""
        with self._sessions.begin() as session:
            return self._meter_in(session, station_id, transaction_id, samples)

    def _meter_in(
        self, session: Session, station_id: str, transaction_id: str | None, samples: tuple[MeterSample, ...]
    ) -> int:
        tx = NO_TRANSACTION if transaction_id is None else transaction_id
        inserted = insert_ignoring_duplicates(
            session,
            MeterValueRow.__table__,  # type: ignore[arg-type]
            _meter_rows(station_id, tx, samples),
        )
        if transaction_id is not None:
            row = session.scalar(
                select(ChargingSession).where(
                    ChargingSession.station_id == station_id, ChargingSession.transaction_id == tx
                )
            )
            for sample in samples:
                if row is not None and sample.measurand == ENERGY_REGISTER:
                    wh = sample.value * 1000.0 if sample.unit == "kWh" else sample.value
                    row.meter_last_wh = wh if row.meter_last_wh is None else max(row.meter_last_wh, wh)
        return inserted

    def sessions(
        self, station_id: str | None, since: datetime, until: datetime | None = None
    ) -> list[SessionView]:
        """Sessions started in [since, until), oldest first, each with its rate changes (reg 9)."""
        with self._sessions() as session:
            # A session whose station time was implausible (e.g. 1970 before the clock was set) is
            # listed by the CEM's receipt time, so it is never hidden from the owner (reg 9).
            by_receipt = and_(ChargingSession.time_suspect, ChargingSession.received_at.is_not(None))
            listed_at = [
                ChargingSession.started_at >= since,
                and_(by_receipt, ChargingSession.received_at >= since),
            ]
            query = select(ChargingSession).where(or_(*listed_at))
            if until is not None:
                query = query.where(
                    or_(
                        and_(~by_receipt, ChargingSession.started_at < until),
                        and_(by_receipt, ChargingSession.received_at < until),
                    )
                )
            if station_id is not None:
                query = query.where(ChargingSession.station_id == station_id)
            views = []
            for row in session.scalars(query.order_by(ChargingSession.started_at, ChargingSession.id)):
                rates = session.scalars(
                    select(RateChange)
                    .where(
                        RateChange.station_id == row.station_id,
                        RateChange.transaction_id == row.transaction_id,
                    )
                    .order_by(RateChange.changed_at, RateChange.id)
                )
                energy_wh = (row.meter_last_wh or 0.0) - (row.meter_start_wh or 0.0)
                views.append(
                    SessionView(
                        row.station_id,
                        row.transaction_id,
                        _utc(row.started_at),
                        None if row.stopped_at is None else _utc(row.stopped_at),
                        energy_wh / 1000.0,
                        tuple(RateChangeView(_utc(r.changed_at), r.power_w, r.limit_w) for r in rates),
                        bool(row.time_suspect),
                        None if row.received_at is None else _utc(row.received_at),
                    )
                )
            return views

    def sessions_last_12_months(self, station_id: str | None, now: datetime) -> list[SessionView]:
        """Every session of the previous 12 months (reg 9, SCP-MS-3)."""
        return self.sessions(station_id, now - RETENTION)

    def count_rows(self, station_id: str) -> dict[str, int]:
        """How many events, meter values and rate changes are stored for a station (for checks)."""
        counts = {}
        with self._sessions() as session:
            for name, model in (
                ("transaction_events", TransactionEventRow),
                ("meter_values", MeterValueRow),
                ("rate_changes", RateChange),
                ("sessions", ChargingSession),
            ):
                rows = session.scalars(select(model.id).where(model.station_id == station_id)).all()
                counts[name] = len(rows)
        return counts

    def export(self, station_id: str) -> dict[str, Any]:
        """Everything stored about a station's sessions, as JSON-ready data (PRIV-6 access/portability)."""
        with self._sessions() as session:
            meter = session.scalars(
                select(MeterValueRow)
                .where(MeterValueRow.station_id == station_id)
                .order_by(MeterValueRow.measured_at)
            )
            meter_values = [
                {
                    "transaction_id": m.transaction_id or None,
                    "measured_at": _utc(m.measured_at).isoformat(),
                    "measurand": m.measurand,
                    "value": _finite_or_none(m.value),
                    "unit": m.unit,
                    "phase": m.phase or None,
                    "location": m.location,
                    "context": m.context,
                }
                for m in meter
            ]
        sessions = [
            {
                "transaction_id": v.transaction_id,
                "started_at": v.started_at.isoformat(),
                "stopped_at": None if v.stopped_at is None else v.stopped_at.isoformat(),
                "energy_kwh": _finite_or_none(v.energy_kwh),
                "station_time_suspect": v.time_suspect,
                "rate_changes": [
                    {
                        "changed_at": r.changed_at.isoformat(),
                        "power_w": _finite_or_none(r.power_w),
                        "limit_w": _finite_or_none(r.limit_w),
                    }
                    for r in v.rate_changes
                ],
            }
            for v in self.sessions(station_id, datetime(1970, 1, 1, tzinfo=UTC))
        ]
        return {"station_id": station_id, "sessions": sessions, "meter_values": meter_values}

    def id_tokens(self, station_id: str) -> list[str]:
        """The id tokens the station's stored sessions were started with (PRIV-6: what the
        charge points may also hold about their owner, asked for with CustomerInformation)."""
        with self._sessions() as session:
            query = (
                select(ChargingSession.id_token)
                .where(ChargingSession.station_id == station_id, ChargingSession.id_token.is_not(None))
                .distinct()
            )
            return sorted(str(t) for t in session.scalars(query))

    def erase(self, station_id: str, transaction_id: str | None = None) -> int:
        """Erase a station's session data, or one session (PRIV-6 erasure); returns rows deleted.

        A session still running is refused (``ValidationError`` naming it): its next messages
        would store it again, so the erasure would not hold. Erase it after it has ended."""
        deleted = 0
        with self._sessions.begin() as session:
            running = select(ChargingSession.transaction_id).where(
                ChargingSession.station_id == station_id, ChargingSession.stopped_at.is_(None)
            )
            if transaction_id is not None:
                running = running.where(ChargingSession.transaction_id == transaction_id)
            still_running = session.scalars(running.limit(1)).first()
            if still_running is not None:
                raise ValidationError(
                    "transaction",
                    still_running,
                    "this session is still running; its next messages would store it again: "
                    "erase it after it has ended",
                )
            for model in (RateChange, MeterValueRow, TransactionEventRow, ChargingSession):
                stmt = delete(model).where(model.station_id == station_id)
                if transaction_id is not None:
                    stmt = stmt.where(model.transaction_id == transaction_id)
                deleted += int(getattr(session.execute(stmt), "rowcount", 0) or 0)
        return deleted


__all__ = [
    "ENERGY_REGISTER",
    "RETENTION",
    "MeterSample",
    "RateChangeView",
    "SessionRepository",
    "SessionView",
    "TransactionRecord",
]
