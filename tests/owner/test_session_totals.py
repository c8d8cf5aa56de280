"""The sessions page's totals, read in SQL from stored prices, equal an independent sum over the
stored rows (reg 9, SCP-MS-3), on SQLite and PostgreSQL, and stay equal when a session grows, the
tariff changes or sessions are erased after the totals were first read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from smartcharge.cem.owner import NotYoursError, OwnerService
from smartcharge.cem.owner_sessions import sessions_csv, sessions_csv_chunks, sessions_page, sessions_report
from smartcharge.cem.service import Store, open_store
from smartcharge.core.carbon import carbon_g_per_kwh
from smartcharge.core.localtime import GB_TZ
from smartcharge.core.tariff import get_tariff
from smartcharge.store.models import ChargingSession, MeterValueRow, OwnedChargePoint
from smartcharge.store.owner_repo import OwnerRepository
from smartcharge.store.session_repo import MeterSample, TransactionRecord

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
REG = "Energy.Active.Import.Register"
WINDOW_START = NOW + timedelta(seconds=1) - timedelta(days=366)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    opened = open_store(url)
    for sid in ("CP-A", "CP-B", "CP-C"):
        opened.stations.add(sid, 1, None, NOW)
    yield opened
    opened.engine.dispose()


def _event(
    sid: str, tx: str, seq: int, kind: str, at: datetime, wh: float, rate_w: float | None
) -> TransactionRecord:
    return TransactionRecord(
        sid,
        tx,
        seq,
        kind,
        "ChargingRateChanged" if rate_w is not None else "MeterValuePeriodic",
        at,
        samples=(MeterSample(at, REG, wh, "Wh"),),
        rate_power_w=rate_w,
        stop_reason="EVDisconnected" if kind == "Ended" else None,
    )


def _session(
    store: Store, sid: str, tx: str, start: datetime, hours: int, kw: float, end: bool = True
) -> None:
    for seq in range(hours + 1):
        kind = "Started" if seq == 0 else "Ended" if seq == hours and end else "Updated"
        rate = kw * 1000 if seq in (0, 1) else None
        store.sessions.record_event(
            _event(sid, tx, seq, kind, start + timedelta(hours=seq), 1000.0 * kw * seq, rate)
        )


def _independent(store: Store, owner: str) -> dict[str, tuple[int, float, float, float]]:
    """Sessions, kWh, p and g per GB month, from the stored rows with plain SQL: each increase
    of the register priced at the middle of its interval by the owner's present tariff."""
    owned, cs, mv = OwnedChargePoint.__table__, ChargingSession.__table__, MeterValueRow.__table__
    with store.engine.connect() as conn:
        tariff = dict(
            conn.execute(select(owned.c.station_id, owned.c.tariff_id).where(owned.c.owner == owner)).all()
        )
        sessions = conn.execute(
            select(
                cs.c.station_id, cs.c.transaction_id, cs.c.started_at, cs.c.meter_start_wh, cs.c.meter_last_wh
            )
        ).all()
        samples = defaultdict(list)
        query = select(mv.c.station_id, mv.c.transaction_id, mv.c.measured_at, mv.c.value).where(
            mv.c.measurand == REG
        )
        for sid, tx, at, wh in conn.execute(query):
            samples[(sid, tx)].append((at.replace(tzinfo=UTC) if at.tzinfo is None else at, wh))
    out: dict[str, list[float]] = {}
    for sid, tx, started, start_wh, last_wh in sessions:
        started = started.replace(tzinfo=UTC) if started.tzinfo is None else started
        if sid not in tariff or not WINDOW_START <= started < NOW + timedelta(seconds=1):
            continue
        cost = carbon = 0.0
        points = sorted(samples[(sid, tx)])
        for (t0, wh0), (t1, wh1) in zip(points, points[1:], strict=False):
            mid = np.array([int((t0.timestamp() + t1.timestamp()) / 2)], dtype=np.int64)
            kwh = (wh1 - wh0) / 1000.0
            cost += float(get_tariff(tariff[sid]).price_p_per_kwh(mid)[0]) * kwh
            carbon += float(carbon_g_per_kwh(mid)[0]) * kwh
        month = started.astimezone(GB_TZ).strftime("%Y-%m")
        row = out.setdefault(month, [0, 0.0, 0.0, 0.0])
        row[0] += 1
        row[1] += ((last_wh or 0.0) - (start_wh or 0.0)) / 1000.0
        row[2] += cost
        row[3] += carbon
    return {m: (int(v[0]), v[1], v[2], v[3]) for m, v in out.items()}


def _shown(service: OwnerService, owner: str) -> dict[str, tuple[int, float, float, float]]:
    page = sessions_page(service, owner, None)
    report = sessions_report(service, owner)
    from_page = {m.month: (m.sessions, m.energy_kwh, m.cost_p, m.carbon_g) for m in page.months}
    assert from_page == {m.month: (m.sessions, m.energy_kwh, m.cost_p, m.carbon_g) for m in report.months}
    assert len(report.sessions) == sum(m.sessions for m in page.months)
    assert page.cost_p == pytest.approx(sum(s.cost_p for s in report.sessions))
    return from_page


def _assert_equal(
    shown: dict[str, tuple[int, float, float, float]], expected: dict[str, tuple[int, float, float, float]]
) -> None:
    assert sorted(shown) == sorted(expected)
    for month, (n, kwh, cost, carbon) in expected.items():
        assert shown[month][0] == n, month
        assert shown[month][1:] == pytest.approx((kwh, cost, carbon), rel=1e-9), month


def test_totals_equal_an_independent_sum_and_follow_every_change(store: Store) -> None:
    service = OwnerService(OwnerRepository(store.engine), None, clock=lambda: NOW.timestamp())
    service.assign("CP-A", "alice", "octopus_go")
    service.assign("CP-B", "alice")
    service.assign("CP-C", "bob")
    starts = [
        datetime(2025, 11, 20, 1, 0, tzinfo=UTC),  # before the 12 months: not counted
        datetime(2025, 11, 30, 1, 0, tzinfo=UTC),  # the first, partial month
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # the day GB clocks go forward
        datetime(2026, 8, 31, 23, 30, tzinfo=UTC),  # 00:30 BST on 1 September: a September session
        datetime(2026, 10, 2, 18, 0, tzinfo=UTC),  # peak hours
        datetime(2026, 11, 10, 1, 0, tzinfo=UTC),
    ]
    for i, start in enumerate(starts):
        _session(store, "CP-A", f"A-{i}", start, 3, 7.0)
        _session(store, "CP-B", f"B-{i}", start + timedelta(hours=5), 2, 3.5)
        _session(store, "CP-C", f"C-{i}", start, 1, 7.0)
    _session(store, "CP-A", "A-RUN", datetime(2026, 11, 30, 9, 0, tzinfo=UTC), 2, 7.0, end=False)

    first = _shown(service, "alice")
    _assert_equal(first, _independent(store, "alice"))
    assert "2025-11" in first and "2026-09" in first and first["2026-09"][0] == 2
    _assert_equal(_shown(service, "bob"), _independent(store, "bob"))

    # The running session grows after the totals were read: its month follows.
    store.sessions.record_event(
        _event("CP-A", "A-RUN", 3, "Updated", NOW - timedelta(minutes=30), 21_000.0, None)
    )
    grown = _shown(service, "alice")
    assert grown["2026-11"][1] == pytest.approx(first["2026-11"][1] + 7.0)
    _assert_equal(grown, _independent(store, "alice"))

    # A new tariff prices every session again.
    service.set_tariff("alice", "CP-B", "octopus_go")
    repriced = _shown(service, "alice")
    assert repriced["2026-10"][2] != pytest.approx(grown["2026-10"][2])
    _assert_equal(repriced, _independent(store, "alice"))

    # Erasing one charge point's sessions (nothing left to price) drops them from every month.
    store.sessions.erase("CP-B")
    erased = _shown(service, "alice")
    assert erased["2026-10"][0] == grown["2026-10"][0] - 1
    _assert_equal(erased, _independent(store, "alice"))
    _assert_equal(_shown(service, "bob"), _independent(store, "bob"))


def test_the_page_lists_the_newest_rows_of_one_month_with_the_months_count(store: Store) -> None:
    service = OwnerService(OwnerRepository(store.engine), None, clock=lambda: NOW.timestamp())
    service.assign("CP-A", "alice", "octopus_go")
    for day in range(12):
        _session(store, "CP-A", f"N-{day:02d}", datetime(2026, 11, 1 + day, 1, 0, tzinfo=UTC), 2, 7.0)
    _session(store, "CP-A", "O-1", datetime(2026, 10, 5, 1, 0, tzinfo=UTC), 2, 7.0)

    page = sessions_page(service, "alice", None, limit=5)
    assert page.month == "2026-11" and page.month_sessions == 12
    assert [s.transaction_id for s in page.sessions] == [f"N-{d:02d}" for d in range(11, 6, -1)]
    assert all([r.power_w for r in s.rate_changes] == [7000.0, 7000.0] for s in page.sessions)
    full = sessions_report(service, "alice", month="2026-11")
    assert [s.cost_p for s in page.sessions] == [s.cost_p for s in full.sessions[:5]]

    october = sessions_page(service, "alice", "2026-10")
    assert [s.transaction_id for s in october.sessions] == ["O-1"] and october.month_sessions == 1
    assert sessions_page(service, "alice", "2026-01").sessions == ()


def test_the_csv_written_in_chunks_is_the_whole_report(store: Store) -> None:
    """Chunks of 2 rows, read oldest first from the row after the last one, make the same CSV as
    the report: no row lost or repeated at a chunk's edge (two sessions share a start time)."""
    service = OwnerService(OwnerRepository(store.engine), None, clock=lambda: NOW.timestamp())
    service.assign("CP-A", "alice", "octopus_go")
    service.assign("CP-B", "alice")
    for day in range(5):
        start = datetime(2026, 11, 1 + day, 1, 0, tzinfo=UTC)
        _session(store, "CP-A", f"A-{day}", start, 2, 7.0)
        _session(store, "CP-B", f"B-{day}", start, 1, 3.5)
    whole = sessions_csv(sessions_report(service, "alice"))
    chunks = list(sessions_csv_chunks(service, "alice", rows_per_chunk=2))
    assert len(chunks) == 6 and "".join(chunks) == whole
    assert len(whole.splitlines()) == 1 + 10
    one = "".join(sessions_csv_chunks(service, "alice", "CP-B", rows_per_chunk=2))
    assert one == sessions_csv(sessions_report(service, "alice", "CP-B")) and one.count("B-") == 5
    with pytest.raises(NotYoursError):
        sessions_csv_chunks(service, "bob", "CP-B")
