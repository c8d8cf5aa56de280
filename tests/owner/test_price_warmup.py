"""Sessions stored without a price (after an upgrade, or written while the web app was not running)
are priced when ``cem serve --api-port`` starts, so the first sessions page does not price a year
while the owner waits (issue 13 speed: every page <= 200 ms; reg 9 sessions of 12 months)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from web.support import start_web_cem

from smartcharge.cem.owner import OwnerService
from smartcharge.cem.owner_sessions import sessions_report
from smartcharge.cem.service import open_store
from smartcharge.store.owner_repo import OwnerRepository
from smartcharge.store.session_repo import MeterSample, TransactionRecord

REG = "Energy.Active.Import.Register"


def _store_sessions(url: str, now: datetime) -> None:
    store = open_store(url)
    try:
        owners = OwnerService(OwnerRepository(store.engine), None)
        for sid, owner in (("CP-W1", "alice"), ("CP-W2", "bob"), ("CP-W3", "bob")):
            store.stations.add(sid, 1, None, now)
            owners.assign(sid, owner, "octopus_go")
            for day in range(1, 30):
                start = now - timedelta(days=day, hours=3)
                for seq in range(3):
                    kind = ("Started", "Updated", "Ended")[seq]
                    at = start + timedelta(hours=seq)
                    store.sessions.record_event(
                        TransactionRecord(
                            sid,
                            f"{sid}-{day}",
                            seq,
                            kind,
                            "MeterValuePeriodic",
                            at,
                            samples=(MeterSample(at, REG, 7000.0 * seq, "Wh"),),
                            stop_reason="EVDisconnected" if kind == "Ended" else None,
                        )
                    )
    finally:
        store.engine.dispose()


def _unpriced(url: str, owner: str, now: datetime) -> int:
    store = open_store(url)
    try:
        repo = OwnerRepository(store.engine)
        return len(repo.priced.unpriced(owner, None, now - timedelta(days=366), now + timedelta(days=1)))
    finally:
        store.engine.dispose()


async def test_sessions_stored_without_a_price_are_priced_when_the_web_app_starts(sqlite_url: str) -> None:
    now = datetime.now(UTC)
    _store_sessions(sqlite_url, now)
    assert _unpriced(sqlite_url, "alice", now) == 29
    assert _unpriced(sqlite_url, "bob", now) == 58
    web = await start_web_cem(sqlite_url)
    try:
        warm = await asyncio.to_thread(web.services.prices_warm.wait, 30)
        assert warm, "the start-up pricing did not finish"
        assert _unpriced(sqlite_url, "alice", now) == 0
        assert _unpriced(sqlite_url, "bob", now) == 0
        assert web.services.owners is not None
        report = sessions_report(web.services.owners, "bob")
        assert len(report.sessions) == 58
        assert report.energy_kwh == 58 * 14.0
        assert report.cost_p > 0 and all(s.cost_p > 0 for s in report.sessions)
    finally:
        await web.close()
