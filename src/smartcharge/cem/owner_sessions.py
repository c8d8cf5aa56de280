"""The owner's sessions of the last 12 months with energy, cost, carbon and rate changes, totals per
month, and the same as CSV (reg 9, SCP-MS-1..3, PRIV-4, PRIV-6 portability).

Energy is attributed in time from the session's energy register samples: each increase between
two samples counts at the middle of that interval (what a session records before its first sample
counts at its start). Each piece is priced by the charge point's tariff at that time (packaged GB
tariffs, :mod:`smartcharge.core.tariff`) and weighted by GB grid carbon intensity at the same
half-hour of the packaged reference year (NESO national series 2023, see the data's PROVENANCE).

A session is priced once and its price kept in the store with the inputs it came from
(:mod:`smartcharge.store.session_prices`); it is priced again when those change (a running session
grows, the owner changes tariff). Totals per month are then a GROUP BY and the page's rows a LIMIT
in SQL, so a fleet's year of sessions is never loaded to show one month.
"""

from __future__ import annotations

import csv
import io
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from smartcharge.cem.owner import OwnerService
from smartcharge.core.carbon import carbon_g_per_kwh
from smartcharge.core.errors import ValidationError
from smartcharge.core.localtime import GB_TZ
from smartcharge.core.tariff import get_tariff
from smartcharge.store.session_prices import Price, PricedRow, PricedSessionRepository, Unpriced
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


@dataclass(frozen=True, slots=True)
class SessionsPage:
    """What the sessions page shows: the 12 months' totals and the newest ``limit`` sessions of
    ``month`` (``month_sessions`` of them in all)."""

    since: datetime
    until: datetime
    months: tuple[MonthTotal, ...]
    energy_kwh: float
    cost_p: float
    carbon_g: float
    month: str | None
    month_sessions: int
    sessions: tuple[SessionItem, ...]


#: Sessions priced per batch: their register samples are read in one pass and held meanwhile.
PRICE_BATCH = 5000
#: Owners whose whole months' totals are kept (the oldest is dropped beyond this).
MEMO_OWNERS = 256


def _pieces(
    samples: Sequence[tuple[datetime, float]], energy_kwh: float, started_at: datetime
) -> tuple[list[int], list[float]]:
    """(epoch s, kWh) pieces of one session's energy, from its register samples."""
    times, kwh = [], []
    counted = 0.0
    for (t0, wh0), (t1, wh1) in zip(samples, samples[1:], strict=False):
        if wh1 > wh0:
            times.append(int((t0.timestamp() + t1.timestamp()) / 2))
            kwh.append((wh1 - wh0) / 1000.0)
            counted += (wh1 - wh0) / 1000.0
    rest = energy_kwh - counted
    if rest > 1e-9:
        times.append(int(started_at.timestamp()))
        kwh.append(rest)
    return times, kwh


def price_sessions(
    sessions: Sequence[Unpriced], registers: dict[int, list[tuple[datetime, float]]]
) -> list[Price]:
    """Cost (p), carbon (g) and GB month of each session, all pieces priced in one vectorised pass."""
    owner_of_piece: list[int] = []
    times: list[int] = []
    kwh: list[float] = []
    for i, row in enumerate(sessions):
        t, k = _pieces(registers.get(row.session_id, ()), row.energy_kwh, row.started_at)
        owner_of_piece += [i] * len(t)
        times += t
        kwh += k
    t_arr = np.array(times, dtype=np.int64)
    k_arr = np.array(kwh, dtype=np.float64)
    idx = np.array(owner_of_piece, dtype=np.int64)
    cost = np.zeros(len(sessions))
    carbon = np.zeros(len(sessions))
    if t_arr.size:
        tariff_ids = sorted({row.tariff_id for row in sessions})
        tariff_of_session = np.array([tariff_ids.index(row.tariff_id) for row in sessions], dtype=np.int64)
        tariff_of_piece = tariff_of_session[idx]
        price = np.zeros(t_arr.size)
        for n, tariff_id in enumerate(tariff_ids):
            sel = tariff_of_piece == n
            price[sel] = get_tariff(tariff_id).price_p_per_kwh(t_arr[sel])
        np.add.at(cost, idx, price * k_arr)
        np.add.at(carbon, idx, carbon_g_per_kwh(t_arr) * k_arr)
    return [
        Price(
            row.session_id,
            row.started_at.astimezone(GB_TZ).strftime("%Y-%m"),
            float(cost[i]),
            float(carbon[i]),
            row.tariff_id,
            row.stored,
        )
        for i, row in enumerate(sessions)
    ]


def refresh_prices(
    service: OwnerService, owner: str, station_id: str | None, since: datetime, until: datetime
) -> set[str]:
    """Price the owner's sessions in [since, until) whose stored price does not match their present
    inputs (new, running, changed, or the tariff changed); returns the GB months whose totals
    that changed (each priced session's month, and the month of its previous price)."""
    store = service.repo.priced
    unpriced = store.unpriced(owner, station_id, since, until)
    months: set[str] = set()
    for start in range(0, len(unpriced), PRICE_BATCH):
        batch = unpriced[start : start + PRICE_BATCH]
        registers = store.register_samples([u.session_id for u in batch])
        prices = price_sessions(batch, registers)
        store.save(prices)
        months.update(p.month for p in prices)
        months.update(u.previous_month for u in batch if u.previous_month is not None)
    return months


def _window(service: OwnerService) -> tuple[datetime, datetime]:
    until = service.now() + timedelta(seconds=1)
    return until - RETENTION, until


def _item(row: PricedRow) -> SessionItem:
    end = row.stopped_at
    return SessionItem(
        row.station_id,
        row.transaction_id,
        row.started_at,
        end,
        0 if end is None else int((end - row.started_at).total_seconds()),
        row.energy_kwh,
        row.cost_p,
        row.carbon_g,
        row.tariff_id,
        tuple(RateChangeItem(*r) for r in row.rate_changes),
        row.month,
    )


class _TotalsMemo:
    """The whole months' totals of each owner, kept while they are provably unchanged.

    A month's totals change only if one of the owner's sessions in it is added, changes or is
    erased, or his tariff changes. The first two and a tariff change leave the session unpriced,
    which :func:`refresh_prices` finds and prices on every read: the months it names are summed
    again (a running session costs its month, not the year). An erasure leaves nothing to price
    but lowers the count of the owner's sessions in those months, which every read compares with
    the kept totals: any difference sums every month again. So a kept total is never stale.
    The web app runs in the CEM's process, the only writer of prices; the lock keeps pricing and
    keeping in order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # (owner, station or None) -> (whole months from, totals by month)
        self.kept: dict[tuple[str, str | None], tuple[datetime, dict[str, MonthTotal]]] = {}


_MEMOS: weakref.WeakKeyDictionary[PricedSessionRepository, _TotalsMemo] = weakref.WeakKeyDictionary()
_MEMOS_LOCK = threading.Lock()


def _memo(store: PricedSessionRepository) -> _TotalsMemo:
    with _MEMOS_LOCK:
        memo = _MEMOS.get(store)
        if memo is None:
            memo = _MEMOS[store] = _TotalsMemo()
        return memo


def _totals(
    store: PricedSessionRepository, owner: str, station_id: str | None, since: datetime, until: datetime
) -> dict[str, MonthTotal]:
    return {
        m.month: MonthTotal(m.month, m.sessions, m.energy_kwh, m.cost_p, m.carbon_g)
        for m in store.month_totals(owner, station_id, since, until)
        if m.sessions
    }


def _refresh_locked(
    memo: _TotalsMemo,
    service: OwnerService,
    owner: str,
    station_id: str | None,
    since: datetime,
    until: datetime,
) -> set[str]:
    """Price what is unpriced and drop the kept totals of the months that changed (memo.lock held)."""
    changed = refresh_prices(service, owner, station_id, since, until)
    for (kept_owner, _), (_, kept_months) in memo.kept.items():
        if kept_owner == owner:  # all his charge points, or one of them: the same sessions
            for month in changed:
                kept_months.pop(month, None)
    return changed


def warm_prices(service: OwnerService, stopping: Callable[[], bool] = lambda: False) -> int:
    """Price every owner's unpriced sessions of the last 12 months (reg 9), owner by owner; returns
    how many owners were looked at.

    Run once when the CEM's web app starts, so that the first sessions page after an upgrade (the
    year's sessions have no stored price yet) or after sessions were stored by another process does
    not price a year while a person waits for it. Each owner is priced under the same lock as a
    page read, so a page asked for meanwhile waits for that owner only and then finds its prices.
    """
    since, until = _window(service)
    memo = _memo(service.repo.priced)
    owners = sorted({record.owner for record in service.repo.all()})
    for done, owner in enumerate(owners):
        if stopping():
            return done
        with memo.lock:
            _refresh_locked(memo, service, owner, None, since, until)
    return len(owners)


def _months(
    service: OwnerService, owner: str, station_id: str | None, since: datetime, until: datetime
) -> tuple[MonthTotal, ...]:
    """Totals per GB month of the owner's sessions in [since, until), newest first: the first,
    partial month summed from its rows, the whole months after it kept (see _TotalsMemo)."""
    store = service.repo.priced
    memo = _memo(store)
    whole_from = min(_month_bounds(since.astimezone(GB_TZ).strftime("%Y-%m"))[1], until)
    with memo.lock:
        changed = _refresh_locked(memo, service, owner, station_id, since, until)
        kept = memo.kept.get((owner, station_id))
        if kept is None or kept[0] != whole_from:
            kept = (whole_from, _totals(store, owner, station_id, whole_from, until))
        else:
            for month in changed:
                low, high = _month_bounds(month)
                if high > whole_from and low < until:
                    kept[1].update(_totals(store, owner, station_id, max(low, whole_from), min(high, until)))
            if sum(m.sessions for m in kept[1].values()) != store.count(owner, station_id, whole_from, until):
                kept = (whole_from, _totals(store, owner, station_id, whole_from, until))  # erased
        if (owner, station_id) not in memo.kept and len(memo.kept) >= MEMO_OWNERS:
            memo.kept.pop(next(iter(memo.kept)))
        memo.kept[(owner, station_id)] = kept
        whole = dict(kept[1])
    whole.update(_totals(store, owner, station_id, since, whole_from))
    return tuple(whole[m] for m in sorted(whole, reverse=True))


def sessions_report(
    service: OwnerService, owner: str, station_id: str | None = None, month: str | None = None
) -> SessionsReport:
    """The owner's sessions of the last 12 months (reg 9, SCP-MS-3), optionally of one charge point;
    ``month`` (YYYY-MM) narrows the listed sessions, never the monthly totals."""
    if station_id is not None:
        service.record_of(owner, station_id)
    if month is not None:
        _check_month(month)
    since, until = _window(service)
    months = _months(service, owner, station_id, since, until)
    rows = service.repo.priced.rows(owner, station_id, since, until, month)
    return SessionsReport(
        since,
        until,
        tuple(_item(r) for r in rows),
        months,
        sum(m.energy_kwh for m in months),
        sum(m.cost_p for m in months),
        sum(m.carbon_g for m in months),
    )


def sessions_page(service: OwnerService, owner: str, month: str | None, limit: int = 500) -> SessionsPage:
    """The 12 months' totals per month and the newest ``limit`` sessions of ``month`` (default:
    the newest month with sessions), read in SQL: totals by GROUP BY, the rows by LIMIT (reg 9)."""
    if month is not None:
        _check_month(month)
    since, until = _window(service)
    months = _months(service, owner, None, since, until)
    shown = month or (months[0].month if months else service.now().astimezone(GB_TZ).strftime("%Y-%m"))
    low, high = _month_bounds(shown)
    rows = service.repo.priced.rows(owner, None, max(since, low), min(until, high), shown, limit)
    return SessionsPage(
        since,
        until,
        months,
        sum(m.energy_kwh for m in months),
        sum(m.cost_p for m in months),
        sum(m.carbon_g for m in months),
        shown,
        next((m.sessions for m in months if m.month == shown), 0),
        tuple(_item(r) for r in rows),
    )


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    """The UTC instants a GB local calendar month starts and ends (a session's month is that of
    its start on the GB calendar)."""
    first = datetime.strptime(month, "%Y-%m")
    year, number = (first.year + 1, 1) if first.month == 12 else (first.year, first.month + 1)
    low = datetime(first.year, first.month, 1, tzinfo=GB_TZ)
    return low.astimezone(UTC), datetime(year, number, 1, tzinfo=GB_TZ).astimezone(UTC)


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


def _csv_line(writer: Any, s: SessionItem | PricedRow) -> None:
    duration_s = 0 if s.stopped_at is None else int((s.stopped_at - s.started_at).total_seconds())
    changes = [
        (r.changed_at, r.power_w) if isinstance(r, RateChangeItem) else (r[0], r[1]) for r in s.rate_changes
    ]
    writer.writerow(
        [
            s.station_id,
            s.transaction_id,
            s.started_at.isoformat(),
            "" if s.stopped_at is None else s.stopped_at.isoformat(),
            f"{duration_s / 60:.1f}",
            f"{s.energy_kwh:.3f}",
            f"{s.cost_p / 100:.2f}",
            f"{s.carbon_g / 1000:.3f}",
            s.tariff_id,
            len(changes),
            ";".join(f"{at.isoformat()}={power_w:.0f}" for at, power_w in changes),
        ]
    )


def sessions_csv_chunks(
    service: OwnerService, owner: str, station_id: str | None = None, rows_per_chunk: int = 5000
) -> Iterator[str]:
    """The same CSV as :func:`sessions_csv`, written as it is read: ownership is checked and the
    sessions priced before the first chunk (so a refusal comes before any byte), then they are
    read ``rows_per_chunk`` at a time, oldest first, and never held all at once."""
    if station_id is not None:
        service.record_of(owner, station_id)
    since, until = _window(service)
    _months(service, owner, station_id, since, until)
    return _csv_chunks(service, owner, station_id, since, until, rows_per_chunk)


def _csv_chunks(
    service: OwnerService,
    owner: str,
    station_id: str | None,
    since: datetime,
    until: datetime,
    rows_per_chunk: int,
) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    after = (since - timedelta(seconds=1), 0)
    while True:
        rows = service.repo.priced.rows(owner, station_id, since, until, limit=rows_per_chunk, after=after)
        for row in rows:
            _csv_line(writer, row)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(rows) < rows_per_chunk:
            return
        after = (rows[-1].started_at, rows[-1].session_id)


def sessions_csv(report: SessionsReport) -> str:
    """One row per session, oldest first; times in UTC (ISO 8601); rate changes as time=W;..."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in reversed(report.sessions):
        _csv_line(writer, item)
    return out.getvalue()


__all__ = [
    "CSV_COLUMNS",
    "MonthTotal",
    "RateChangeItem",
    "SessionItem",
    "SessionsPage",
    "SessionsReport",
    "price_sessions",
    "refresh_prices",
    "warm_prices",
    "sessions_csv",
    "sessions_csv_chunks",
    "sessions_page",
    "sessions_report",
]
