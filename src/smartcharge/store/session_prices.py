"""An owner's priced sessions read in SQL: which sessions need pricing, their register samples,
the stored prices, totals per GB month (GROUP BY) and the newest rows of one month (LIMIT), for
the owner's sessions page, API and CSV (reg 9, SCP-MS-1..3).

A session's price (cost, carbon, GB month) is derived from its energy register samples and the
owner's tariff by :mod:`smartcharge.cem.owner_sessions` and kept in the session's row with the
inputs it was priced from (revision 0015_session_indexes). A row whose start, stop, register
readings or tariff no longer match those inputs is *unpriced* and is priced again before it is read,
so a page never shows a stale price and never re-reads a year of samples to show a month.

Every query is scoped to one owner through ``owned_charge_point``: an owner reads only the
sessions of his own charge points.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.engine import Engine

from smartcharge.store.models import ChargingSession, MeterValueRow, OwnedChargePoint, RateChange
from smartcharge.store.session_repo import ENERGY_REGISTER

#: Sessions per query when reading by key (bound parameters stay well under SQLite's limit).
KEY_CHUNK = 400

CS = ChargingSession
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")
#: Energy of a session in kWh from its registers, as the session repository computes it.
ENERGY_KWH = (func.coalesce(CS.meter_last_wh, 0.0) - func.coalesce(CS.meter_start_wh, 0.0)) / 1000.0


@dataclass(frozen=True, slots=True)
class Unpriced:
    """A session to price: its inputs as stored (``stored`` is written back verbatim with the price,
    so the freshness test compares like with like) and the owner's tariff."""

    session_id: int
    station_id: str
    transaction_id: str
    started_at: datetime  # UTC
    energy_kwh: float
    tariff_id: str
    stored: tuple[Any, Any, Any, Any]  # started_at, stopped_at, meter_start_wh, meter_last_wh as read
    previous_month: str | None = None  # the GB month of its last price, if it had one


@dataclass(frozen=True, slots=True)
class Price:
    session_id: int
    month: str
    cost_p: float
    carbon_g: float
    tariff_id: str
    stored: tuple[Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class PricedRow:
    """One priced session with its rate changes (time, power W, limit W)."""

    station_id: str
    transaction_id: str
    started_at: datetime
    stopped_at: datetime | None
    energy_kwh: float
    cost_p: float
    carbon_g: float
    tariff_id: str
    month: str
    rate_changes: tuple[tuple[datetime, float, float | None], ...]
    session_id: int = 0


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: str
    sessions: int
    energy_kwh: float
    cost_p: float
    carbon_g: float


def _utc(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _chunks(items: Sequence[Any], size: int = KEY_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_STALE = or_(
    CS.priced_tariff_id.is_(None),
    CS.priced_tariff_id != OwnedChargePoint.tariff_id,
    CS.priced_started_at.is_distinct_from(CS.started_at),
    CS.priced_stopped_at.is_distinct_from(CS.stopped_at),
    CS.priced_meter_start_wh.is_distinct_from(CS.meter_start_wh),
    CS.priced_meter_last_wh.is_distinct_from(CS.meter_last_wh),
)


class PricedSessionRepository:
    """The owner's sessions with their stored prices; see the module docstring."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @staticmethod
    def _scoped(query: Q, owner: str, station_id: str | None, since: datetime, until: datetime) -> Q:
        query = query.join(OwnedChargePoint, OwnedChargePoint.station_id == CS.station_id).where(
            OwnedChargePoint.owner == owner, CS.started_at >= since, CS.started_at < until
        )
        return query if station_id is None else query.where(CS.station_id == station_id)

    def unpriced(
        self, owner: str, station_id: str | None, since: datetime, until: datetime
    ) -> list[Unpriced]:
        """The owner's sessions started in [since, until) that have no price for their present inputs."""
        query = self._scoped(
            select(
                CS.id,
                CS.station_id,
                CS.transaction_id,
                CS.started_at,
                CS.stopped_at,
                CS.meter_start_wh,
                CS.meter_last_wh,
                OwnedChargePoint.tariff_id,
                CS.priced_month,
            ),
            owner,
            station_id,
            since,
            until,
        ).where(_STALE)
        with self._engine.connect() as conn:
            return [
                Unpriced(
                    r[0],
                    r[1],
                    r[2],
                    _utc(r[3]),
                    ((r[6] or 0.0) - (r[5] or 0.0)) / 1000.0,
                    r[7],
                    (r[3], r[4], r[5], r[6]),
                    r[8],
                )
                for r in conn.execute(query)
            ]

    def register_samples(self, session_ids: Sequence[int]) -> dict[int, list[tuple[datetime, float]]]:
        """The energy register samples (time, Wh) of each session, oldest first: the sessions are
        found by id and their samples through the meter-value key, so no scan of the samples."""
        out: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
        with self._engine.connect() as conn:
            for chunk in _chunks(session_ids):
                query = (
                    select(CS.id, MeterValueRow.measured_at, MeterValueRow.value, MeterValueRow.unit)
                    .join(
                        MeterValueRow,
                        (MeterValueRow.station_id == CS.station_id)
                        & (MeterValueRow.transaction_id == CS.transaction_id),
                    )
                    .where(CS.id.in_(list(chunk)), MeterValueRow.measurand == ENERGY_REGISTER)
                    .order_by(CS.id, MeterValueRow.measured_at, MeterValueRow.id)
                )
                for m in conn.execute(query):
                    out[m[0]].append((_utc(m[1]), m[2] * 1000.0 if m[3] == "kWh" else m[2]))
        return out

    def save(self, prices: Sequence[Price]) -> None:
        """Keep each price with the inputs it came from (one transaction per chunk, so the CEM's
        own writes wait at most one chunk)."""
        stmt = (
            update(CS.__table__)  # type: ignore[arg-type]
            .where(CS.__table__.c.id == bindparam("p_session_id"))
            .values(
                priced_month=bindparam("p_month"),
                priced_cost_p=bindparam("p_cost_p"),
                priced_carbon_g=bindparam("p_carbon_g"),
                priced_tariff_id=bindparam("p_tariff_id"),
                priced_started_at=bindparam("p_started_at"),
                priced_stopped_at=bindparam("p_stopped_at"),
                priced_meter_start_wh=bindparam("p_meter_start_wh"),
                priced_meter_last_wh=bindparam("p_meter_last_wh"),
            )
        )
        for chunk in _chunks(prices, 2000):
            params = [
                {
                    "p_session_id": p.session_id,
                    "p_month": p.month,
                    "p_cost_p": p.cost_p,
                    "p_carbon_g": p.carbon_g,
                    "p_tariff_id": p.tariff_id,
                    "p_started_at": p.stored[0],
                    "p_stopped_at": p.stored[1],
                    "p_meter_start_wh": p.stored[2],
                    "p_meter_last_wh": p.stored[3],
                }
                for p in chunk
            ]
            with self._engine.begin() as conn:
                conn.execute(stmt, params)

    def month_totals(
        self, owner: str, station_id: str | None, since: datetime, until: datetime
    ) -> list[MonthRow]:
        """Sessions, kWh, p and g per GB month of the owner's sessions in [since, until), newest first."""
        query = self._scoped(
            select(
                CS.priced_month,
                func.count(CS.id),
                func.sum(ENERGY_KWH),
                func.sum(CS.priced_cost_p),
                func.sum(CS.priced_carbon_g),
            ),
            owner,
            station_id,
            since,
            until,
        )
        query = query.group_by(CS.priced_month).order_by(CS.priced_month.desc())
        with self._engine.connect() as conn:
            return [
                MonthRow(r[0] or "", int(r[1]), float(r[2] or 0.0), float(r[3] or 0.0), float(r[4] or 0.0))
                for r in conn.execute(query)
            ]

    def count(self, owner: str, station_id: str | None, since: datetime, until: datetime) -> int:
        """How many of the owner's sessions started in [since, until) (read from the index alone)."""
        query = self._scoped(select(func.count(CS.id)), owner, station_id, since, until)
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def rows(
        self,
        owner: str,
        station_id: str | None,
        since: datetime,
        until: datetime,
        month: str | None = None,
        limit: int | None = None,
        after: tuple[datetime, int] | None = None,
    ) -> list[PricedRow]:
        """The owner's priced sessions started in [since, until) (of ``month`` only, if given),
        newest first, at most ``limit``, each with its rate changes. With ``after`` (a row's start
        and id) they are listed oldest first from the row after it: pages of a long list."""
        query = self._scoped(
            select(
                CS.station_id,
                CS.transaction_id,
                CS.started_at,
                CS.stopped_at,
                ENERGY_KWH,
                CS.priced_cost_p,
                CS.priced_carbon_g,
                CS.priced_tariff_id,
                CS.priced_month,
                CS.id,
            ),
            owner,
            station_id,
            since,
            until,
        )
        if after is None:
            query = query.order_by(CS.started_at.desc(), CS.id.desc())
        else:
            query = query.where(
                or_(CS.started_at > after[0], (CS.started_at == after[0]) & (CS.id > after[1]))
            ).order_by(CS.started_at, CS.id)
        if month is not None:
            query = query.where(CS.priced_month == month)
        if limit is not None:
            query = query.limit(limit)
        columns = (
            RateChange.station_id,
            RateChange.transaction_id,
            RateChange.changed_at,
            RateChange.power_w,
            RateChange.limit_w,
        )
        if limit is None:
            # The whole window (CSV, API): one pass over the owner's rate changes since ``since``.
            rates_query = (
                select(*columns)
                .join(OwnedChargePoint, OwnedChargePoint.station_id == RateChange.station_id)
                .where(OwnedChargePoint.owner == owner, RateChange.changed_at >= since)
            )
            if station_id is not None:
                rates_query = rates_query.where(RateChange.station_id == station_id)
        else:
            # A page of rows: the listed sessions' rate changes through the rate-change key.
            listed = query.with_only_columns(CS.station_id, CS.transaction_id).subquery()
            rates_query = select(*columns).join(
                listed,
                (RateChange.station_id == listed.c.station_id)
                & (RateChange.transaction_id == listed.c.transaction_id),
            )
        rates: dict[tuple[str, str], list[tuple[datetime, float, float | None]]] = defaultdict(list)
        with self._engine.connect() as conn:
            found = list(conn.execute(query))
            wanted = {(r[0], r[1]) for r in found}
            for r in conn.execute(rates_query.order_by(RateChange.changed_at, RateChange.id)):
                if (r[0], r[1]) in wanted:
                    rates[(r[0], r[1])].append((_utc(r[2]), r[3], r[4]))
        return [
            PricedRow(
                r[0],
                r[1],
                _utc(r[2]),
                None if r[3] is None else _utc(r[3]),
                float(r[4]),
                float(r[5] or 0.0),
                float(r[6] or 0.0),
                r[7] or "",
                r[8] or "",
                tuple(rates.get((r[0], r[1]), ())),
                r[9],
            )
            for r in found
        ]


__all__ = ["MonthRow", "Price", "PricedRow", "PricedSessionRepository", "Unpriced"]
