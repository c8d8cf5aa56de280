"""The owner's sessions of the last 12 months with energy, cost, carbon and rate changes, totals per
month, and the same as CSV (reg 9, SCP-MS-1..3, PRIV-4, PRIV-6 portability).

Energy is attributed in time from the session's energy register samples: each increase between
two samples counts at the middle of that interval (what a session records before its first sample
counts at its start). Each piece is priced by the charge point's tariff at that time (packaged GB
tariffs, :mod:`smartcharge.core.tariff`) and weighted by GB grid carbon intensity at the same
half-hour of the packaged reference year (NESO national series 2023, see the data's PROVENANCE).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from smartcharge.cem.owner import OwnerService
from smartcharge.core.carbon import carbon_g_per_kwh
from smartcharge.core.errors import ValidationError
from smartcharge.core.localtime import GB_TZ
from smartcharge.core.tariff import get_tariff
from smartcharge.store.owner_repo import SessionRow
from smartcharge.store.session_repo import RETENTION


@dataclass(frozen=True, slots=True)
class RateChangeItem:
    changed_at: datetime
    power_w: float
    limit_w: float | None


@dataclass(frozen=True, slots=True)
class SessionItem:
    station_id: str
    transaction_id: str
    started_at: datetime
    stopped_at: datetime | None
    duration_s: int
    energy_kwh: float
    cost_p: float
    carbon_g: float
    tariff_id: str
    rate_changes: tuple[RateChangeItem, ...]
    month: str  # YYYY-MM of the start on the GB local calendar


@dataclass(frozen=True, slots=True)
class MonthTotal:
    month: str  # YYYY-MM on the GB local calendar
    sessions: int
    energy_kwh: float
    cost_p: float
    carbon_g: float


@dataclass(frozen=True, slots=True)
class SessionsReport:
    since: datetime
    until: datetime
    sessions: tuple[SessionItem, ...]
    months: tuple[MonthTotal, ...]
    energy_kwh: float
    cost_p: float
    carbon_g: float


def _pieces(row: SessionRow) -> tuple[list[int], list[float]]:
    """(epoch s, kWh) pieces of one session's energy, from its register samples."""
    times, kwh = [], []
    samples = row.register_wh
    counted = 0.0
    for (t0, wh0), (t1, wh1) in zip(samples, samples[1:], strict=False):
        if wh1 > wh0:
            times.append(int((t0.timestamp() + t1.timestamp()) / 2))
            kwh.append((wh1 - wh0) / 1000.0)
            counted += (wh1 - wh0) / 1000.0
    rest = row.energy_kwh - counted
    if rest > 1e-9:
        times.append(int(row.started_at.timestamp()))
        kwh.append(rest)
    return times, kwh


def price_sessions(rows: list[SessionRow], tariff_of: dict[str, str]) -> list[SessionItem]:
    """Cost (p) and carbon (g) of each session, all pieces priced in one vectorised pass."""
    owner_of_piece: list[int] = []
    times: list[int] = []
    kwh: list[float] = []
    for i, row in enumerate(rows):
        t, k = _pieces(row)
        owner_of_piece += [i] * len(t)
        times += t
        kwh += k
    t_arr = np.array(times, dtype=np.int64)
    k_arr = np.array(kwh, dtype=np.float64)
    idx = np.array(owner_of_piece, dtype=np.int64)
    cost = np.zeros(len(rows))
    carbon = np.zeros(len(rows))
    if t_arr.size:
        price = np.zeros(t_arr.size)
        tariffs = np.array([tariff_of[rows[i].station_id] for i in owner_of_piece])
        for tariff_id in set(tariffs.tolist()):
            sel = tariffs == tariff_id
            price[sel] = get_tariff(tariff_id).price_p_per_kwh(t_arr[sel])
        np.add.at(cost, idx, price * k_arr)
        np.add.at(carbon, idx, carbon_g_per_kwh(t_arr) * k_arr)
    items = []
    for i, row in enumerate(rows):
        end = row.stopped_at
        duration = 0 if end is None else int((end - row.started_at).total_seconds())
        items.append(
            SessionItem(
                row.station_id,
                row.transaction_id,
                row.started_at,
                end,
                duration,
                row.energy_kwh,
                float(cost[i]),
                float(carbon[i]),
                tariff_of[row.station_id],
                tuple(RateChangeItem(*r) for r in row.rate_changes),
                row.started_at.astimezone(GB_TZ).strftime("%Y-%m"),
            )
        )
    return items


#: Priced sessions per (owner's charge points, tariffs), reused while the store's fingerprint of
#: those sessions is unchanged: pricing a fleet's year of sessions takes seconds, a check milliseconds.
_CACHE: dict[tuple[tuple[str, str], ...], tuple[tuple[object, ...], datetime, list[SessionItem]]] = {}
_CACHE_MAX = 64


def _priced(service: OwnerService, records: list[Any], since: datetime, until: datetime) -> list[SessionItem]:
    ids = [r.station_id for r in records]
    key = tuple(sorted((r.station_id, r.tariff_id) for r in records))
    # Day granularity: the window's start moves, so re-read once a day at most and trim meanwhile.
    day_since = since.replace(hour=0, minute=0, second=0, microsecond=0)
    fingerprint = service.repo.sessions_fingerprint(ids, day_since)
    cached = _CACHE.get(key)
    if cached is None or cached[0] != fingerprint or cached[1] != day_since:
        rows = service.repo.session_rows(ids, day_since, until + timedelta(days=1))
        cached = (fingerprint, day_since, price_sessions(rows, {r.station_id: r.tariff_id for r in records}))
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = cached
    return [s for s in cached[2] if since <= s.started_at < until]


def month_totals(items: list[SessionItem]) -> tuple[MonthTotal, ...]:
    """Totals per GB local calendar month, newest first."""
    totals: dict[str, list[float]] = {}
    for s in items:
        t = totals.setdefault(s.month, [0, 0.0, 0.0, 0.0])
        t[0] += 1
        t[1] += s.energy_kwh
        t[2] += s.cost_p
        t[3] += s.carbon_g
    return tuple(MonthTotal(k, int(v[0]), v[1], v[2], v[3]) for k, v in sorted(totals.items(), reverse=True))


def sessions_report(
    service: OwnerService, owner: str, station_id: str | None = None, month: str | None = None
) -> SessionsReport:
    """The owner's sessions of the last 12 months (reg 9, SCP-MS-3), optionally of one charge point;
    ``month`` (YYYY-MM) narrows the listed sessions, never the monthly totals."""
    records = service.owned(owner) if station_id is None else [service.record_of(owner, station_id)]
    until = service.now() + timedelta(seconds=1)
    since = until - RETENTION
    items = _priced(service, records, since, until)
    months = month_totals(items)
    if month is not None:
        _check_month(month)
        items = [s for s in items if _month_of(s) == month]
    return SessionsReport(
        since,
        until,
        tuple(reversed(items)),
        months,
        sum(m.energy_kwh for m in months),
        sum(m.cost_p for m in months),
        sum(m.carbon_g for m in months),
    )


def _month_of(item: SessionItem) -> str:
    return item.month


def only_month(report: SessionsReport, month: str) -> SessionsReport:
    """The same report listing only ``month``'s sessions (the totals stay whole)."""
    _check_month(month)
    return replace(report, sessions=tuple(s for s in report.sessions if _month_of(s) == month))


def _check_month(month: str) -> None:
    try:
        datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise ValidationError("month", month, "a month is written YYYY-MM") from None


CSV_COLUMNS = (
    "station_id",
    "transaction_id",
    "started_at",
    "stopped_at",
    "duration_min",
    "energy_kwh",
    "cost_gbp",
    "carbon_kg",
    "tariff_id",
    "rate_changes",
    "rate_change_times_and_power_w",
)


def sessions_csv(report: SessionsReport) -> str:
    """One row per session, oldest first; times in UTC (ISO 8601); rate changes as time=W;..."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in reversed(report.sessions):
        writer.writerow(
            [
                s.station_id,
                s.transaction_id,
                s.started_at.isoformat(),
                "" if s.stopped_at is None else s.stopped_at.isoformat(),
                f"{s.duration_s / 60:.1f}",
                f"{s.energy_kwh:.3f}",
                f"{s.cost_p / 100:.2f}",
                f"{s.carbon_g / 1000:.3f}",
                s.tariff_id,
                len(s.rate_changes),
                ";".join(f"{r.changed_at.isoformat()}={r.power_w:.0f}" for r in s.rate_changes),
            ]
        )
    return out.getvalue()


__all__ = [
    "CSV_COLUMNS",
    "MonthTotal",
    "RateChangeItem",
    "SessionItem",
    "SessionsReport",
    "month_totals",
    "only_month",
    "price_sessions",
    "sessions_csv",
    "sessions_report",
]
