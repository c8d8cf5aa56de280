"""Drills: the CEM killed (SIGKILL) and restarted, on PostgreSQL, and 1,000 stations reconnecting
at once to a restarted CEM on SQLite (issue 15; reg 9, SCP-FS-5, SCP-MS-1/2).

The CEM runs as a real process (``smartcharge cem serve``); the stations are real emulated
charge points in the test process. While the CEM is dead the stations keep charging and queue
their meter values; when it is back they reconnect with randomised back-off and replay. Counted
per station: sessions, transaction events, meter values and rate changes produced = stored; no
car stopped by the reconnection.

On main, 1,000 stations on SQLite had 855 of 2,538 transaction messages time out (a commit per
message behind the single writer) and ~1,200 reconnects followed; the group-committing writer
removes that ceiling, and a transaction message that still gets no answer in time is resent on
the same link (MessageAttempts) instead of dropping it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drills.ledger import compare, never_cut
from interface_b_harness import StationHandle, free_port, start_station, wait_for
from smartcharge.cem.credentials import hash_password
from smartcharge.cem.service import open_store
from smartcharge.ocpp.domain import OcppVersion
from smartcharge.station.device import StationConfig
from smartcharge.station.ev import EV

CLI = Path(sys.executable).with_name("smartcharge")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


async def _start_cem(url: str, port: int, log: Path, spool: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                str(CLI),
                "cem",
                "serve",
                "--db",
                url,
                "--port",
                str(port),
                "--log-level",
                "WARNING",
                "--data-dir",
                str(spool),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    await wait_for(lambda: _listening(port) or proc.poll() is not None, 60, "the CEM process to listen")
    assert proc.poll() is None, log.read_text()[-2000:]
    return proc


async def _kill_restart_drill(
    url: str, tmp_path: Path, count: int, speed: float, down_s: float, prefix: str, meter_interval_s: int = 5
) -> tuple[list[StationHandle], float]:
    store = open_store(url)
    password = "drill-password-0123456789abcdefgh"  # one hash for all: registering 1,000 stays quick
    digest = hash_password(password)
    from datetime import UTC, datetime

    for i in range(count):
        store.stations.add(f"{prefix}{i:04d}", 1, digest, datetime.now(UTC))
    port = free_port()
    log = tmp_path / "cem.log"
    cem = await _start_cem(url, port, log, tmp_path)
    stations: list[StationHandle] = []
    try:
        for i in range(count):
            stations.append(
                start_station(
                    f"{prefix}{i:04d}",
                    f"ws://127.0.0.1:{port}/ocpp",
                    OcppVersion.V201 if i % 2 == 0 else OcppVersion.V16,
                    password,
                    speed=speed,
                    seed=i,
                    config=StationConfig(max_delay_s=0, meter_interval_s=meter_interval_s),
                )
            )
        await wait_for(lambda: all(s.runner.connected.is_set() for s in stations), 300, "every boot")
        for s in stations:
            s.device.plug_in(EV(soc=0.2, capacity_kwh=200.0))
        await wait_for(lambda: all(s.device.power_w > 0 for s in stations), 60, "every car charging")
        await wait_for(lambda: all(not s.device.outbox for s in stations), 120, "the starts stored")
        cem.send_signal(signal.SIGKILL)
        cem.wait(10)
        await asyncio.sleep(down_s)  # meter values queue offline meanwhile
        cem = await _start_cem(url, port, log, tmp_path)
        started = time.monotonic()
        await wait_for(lambda: all(s.runner.boots >= 2 for s in stations), 180, "every station back")
        await wait_for(lambda: all(not s.device.outbox for s in stations), 180, "every queue replayed")
        reconnect_s = time.monotonic() - started
        for s in stations:
            s.device.unplug()
        await wait_for(lambda: all(not s.device.outbox for s in stations), 120, "the ends stored")
        made, kept = compare(store, stations)
        assert made == kept and made.sessions == count
        assert all(never_cut(s) for s in stations), "a car was stopped by the reconnection"
        assert all(s.runner.refused_messages == 0 for s in stations)
        return stations, reconnect_s
    finally:
        for s in stations:
            await s.close()
        cem.send_signal(signal.SIGTERM)
        cem.wait(20)
        store.engine.dispose()


@pytest.mark.integration
@pytest.mark.slow
async def test_cem_killed_and_restarted_on_postgres_loses_nothing(pg_url: str, tmp_path: Path) -> None:
    stations, reconnect_s = await _kill_restart_drill(pg_url, tmp_path, 6, 30.0, 1.0, "KPG")
    print(f"drill cem-kill (PostgreSQL, 6 stations): back and replayed in {reconnect_s:.1f} s")


@pytest.mark.integration
@pytest.mark.slow
async def test_1000_stations_reconnecting_at_once_on_sqlite(sqlite_url: str, tmp_path: Path) -> None:
    n = 1000
    stations, reconnect_s = await _kill_restart_drill(
        sqlite_url, tmp_path, n, 1.0, 10.0, "K", meter_interval_s=20
    )
    extra_boots = sum(s.runner.boots for s in stations) - 2 * n
    retried = sum(s.runner.retried_messages for s in stations)
    produced = sum(len(s.device.produced) for s in stations)
    print(
        f"drill 1000-reconnect (SQLite): {produced} transaction messages, all stored once; "
        f"back and replayed in {reconnect_s:.1f} s; {extra_boots} extra reconnects, {retried} resent messages"
    )
    # main: ~1,200 extra reconnects. How many BootNotifications time out in a storm depends on the
    # machine's load (359-415 when two test runs shared the 2 cores, a few when alone): a speed
    # figure, reported here and in docs/reliability.md, not asserted (no timed assertions in tests).
    # What must hold whatever the load is asserted in the drill: nothing lost, nothing doubled,
    # no car stopped, no message refused.
