"""Kill the CEM process mid-session with SIGKILL, start it again: nothing is lost (reg 9).

The CEM runs as a real subprocess (the ``smartcharge`` console script) on SQLite and on
PostgreSQL. The station keeps charging while the CEM is gone (reg 7), queues what it cannot send,
reconnects with randomised back-off and replays; the store's unique keys absorb the messages the
CEM had committed but not yet answered when it died.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from interface_b_harness import SATURDAY_10, free_port, register, start_station, wait_for
from smartcharge.cem.service import open_store
from smartcharge.station.device import StationConfig
from smartcharge.station.ev import EV

CLI = Path(sys.executable).with_name("smartcharge")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


async def _start_cem(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(CLI), "cem", "serve", "--db", url, "--port", str(port), "--log-level", "WARNING"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    await wait_for(lambda: _listening(port) or proc.poll() is not None, 30, "the CEM process to listen")
    assert proc.poll() is None, log.read_text()
    return proc


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_kill_and_restart_loses_nothing(
    request: pytest.FixtureRequest, database: str, tmp_path: Path
) -> None:
    """SIGKILL the CEM while a session streams meter values; a rate change and meter values happen
    while it is down; after restart every transaction event, meter value and rate change the
    station produced is stored exactly once (reg 9, SCP-MS-1/2, SCP-FS-5)."""
    url = request.getfixturevalue("sqlite_url" if database == "sqlite" else "pg_url")
    store = open_store(url)
    password = register(store, "KILL1")
    port = free_port()
    log = tmp_path / "cem.log"
    cem = await _start_cem(url, port, log)
    config = StationConfig(max_delay_s=0, meter_interval_s=5)
    station = start_station(
        "KILL1",
        f"ws://127.0.0.1:{port}/ocpp",
        password=password,
        speed=30.0,
        start_s=SATURDAY_10,
        config=config,
    )
    try:
        await wait_for(lambda: station.runner.connected.is_set(), 10, "boot")
        station.device.plug_in(EV(soc=0.3))
        await wait_for(lambda: len(station.device.produced) >= 6, 10, "a few meter values")
        station.device.apply_local_limit(5000.0)
        await wait_for(lambda: len(station.device.produced) >= 9, 10, "more traffic")
        cem.send_signal(signal.SIGKILL)  # mid-session, while the station streams
        cem.wait(10)
        await wait_for(lambda: not station.runner.connected.is_set(), 10, "link down")
        station.device.apply_local_limit(3000.0)  # a rate change while the CEM is dead
        produced_offline = len(station.device.produced)
        await asyncio.sleep(0.5)  # ~15 emulated seconds of queued meter values
        assert len(station.device.outbox) >= 2
        cem = await _start_cem(url, port, log)
        await wait_for(lambda: station.runner.connected.is_set(), 15, "reconnect")
        station.device.unplug()
        await wait_for(lambda: not station.device.outbox, 15, "queue replayed")
        assert len(station.device.produced) > produced_offline
    finally:
        await station.close()
        cem.send_signal(signal.SIGTERM)
        cem.wait(10)

    produced = station.device.produced
    tx = produced[0].transaction_id
    with store.engine.connect() as conn:
        seqs = sorted(
            r[0]
            for r in conn.execute(
                text("SELECT seq_no FROM transaction_event WHERE station_id='KILL1' AND transaction_id=:tx"),
                {"tx": tx},
            )
        )
    assert seqs == [m.seq_no for m in produced], "every transaction event stored exactly once"
    # The meter key holds phase, location and context too (0005_meter_key).
    expected_meter = {
        (r.measured_at, r.measurand, r.phase, r.location, r.context) for m in produced for r in m.readings
    }
    counts = store.sessions.count_rows("KILL1")
    assert counts["meter_values"] == len(expected_meter)
    expected_rates = [m.occurred_at for m in produced if m.trigger_reason == "ChargingRateChanged"]
    view = store.sessions.sessions("KILL1", EPOCH)[0]
    assert [r.changed_at for r in view.rate_changes] == expected_rates
    powers = [r.power_w for r in view.rate_changes]
    assert 5000.0 in powers and 3000.0 in powers
    assert view.stopped_at == produced[-1].occurred_at
    energy = [r.value for m in produced for r in m.readings if r.measurand == "Energy.Active.Import.Register"]
    assert view.energy_kwh == pytest.approx((max(energy) - min(energy)) / 1000.0)
    assert any(m.offline for m in produced)
    store.engine.dispose()
