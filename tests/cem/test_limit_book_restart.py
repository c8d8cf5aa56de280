"""The CEM's limit book survives a restart through the store, on SQLite and PostgreSQL (ARB-5,
SCP-FS-4).

The first CEM is closed and a second one is started on the same database, in the same process:
a new gateway with an empty book, so whatever it re-applies was read back from the database. The
station reconnecting is a fresh device (it lost its installed profiles), so every profile it holds
afterwards was sent by the restarted CEM.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select

from interface_b_harness import CemHandle, register, start_cem, start_station, wait_for
from smartcharge.core.limit import Limit, LimitSource
from smartcharge.ocpp.domain import ProfilePurpose
from smartcharge.store.models import LimitBookEntry


def _profiles(handle) -> dict[ProfilePurpose, float]:
    return {p.purpose: p.limit_w for p in handle.device.charging_profiles()}


def _rows(cem: CemHandle) -> int:
    with cem.store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(LimitBookEntry)) or 0)


async def _connect(cem: CemHandle, station_id: str, password: str):
    handle = start_station(station_id, f"ws://127.0.0.1:{cem.port}/ocpp", password=password)
    await wait_for(lambda: handle.runner.connected.is_set(), what=f"{station_id} boot")
    return handle


@pytest.mark.integration
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_limit_book_restored_after_restart_expired_limit_not_resumed(
    request: pytest.FixtureRequest, database: str
) -> None:
    """A site limit and a routine DSR limit still in force come back after a CEM restart and are
    sent to the station when it reconnects; a response DSR limit that ended while the CEM was down
    is deleted from the store and never re-applied (SCP-FS-4). A cleared limit stays cleared."""
    url = request.getfixturevalue("sqlite_url" if database == "sqlite" else "pg_url")
    first = await start_cem(url)
    password = register(first.store, "BOOK-A")
    station = await _connect(first, "BOOK-A", password)
    ends_soon_s = int(time.time()) + 4  # long enough to apply three limits on a loaded machine
    lasts_s = int(time.time()) + 3600
    gateway = first.gateway
    await gateway.apply_limit(None, Limit(1500.0, LimitSource.SITE, "G100"), None, False)
    await gateway.apply_limit("BOOK-A", Limit(2000.0, LimitSource.RESPONSE_DSR), ends_soon_s, False)
    await gateway.apply_limit("BOOK-A", Limit(2500.0, LimitSource.ROUTINE_DSR), lasts_s, True)
    assert _profiles(station) == {
        ProfilePurpose.STATION_MAX: 1500.0,
        ProfilePurpose.EXTERNAL_CONSTRAINTS: 2000.0,
        ProfilePurpose.TX_DEFAULT: 2500.0,
    }
    assert _rows(first) == 3
    await station.close()
    await first.close()
    while int(time.time()) < ends_soon_s:  # the response DSR event ends while the CEM is down
        await asyncio.sleep(0.05)

    second = await start_cem(url)
    try:
        assert second.gateway is not gateway
        assert second.gateway.book.site == {
            LimitSource.SITE: (Limit(1500.0, LimitSource.SITE, "G100"), None, False)
        }
        assert second.gateway.book.station == {
            "BOOK-A": {LimitSource.ROUTINE_DSR: (Limit(2500.0, LimitSource.ROUTINE_DSR), lasts_s, True)}
        }
        assert _rows(second) == 2, "the expired limit is deleted from the store on load"
        fresh = await _connect(second, "BOOK-A", password)
        want = {ProfilePurpose.STATION_MAX: 1500.0, ProfilePurpose.TX_DEFAULT: 2500.0}
        await wait_for(lambda: _profiles(fresh) == want, what="profiles re-sent after reconnect")
        routine = next(p for p in fresh.device.charging_profiles() if p.purpose is ProfilePurpose.TX_DEFAULT)
        assert routine.valid_to is not None and int(routine.valid_to.timestamp()) == lasts_s
        assert routine.randomised_upstream
        await second.gateway.clear_limit(None, LimitSource.SITE)
        assert _profiles(fresh) == {ProfilePurpose.TX_DEFAULT: 2500.0}
        await fresh.close()
    finally:
        await second.close()

    third = await start_cem(url)
    try:
        assert third.gateway.book.site == {}
        assert set(third.gateway.book.station["BOOK-A"]) == {LimitSource.ROUTINE_DSR}
    finally:
        await third.close()
    for handle in (first, second, third):
        handle.store.engine.dispose()
