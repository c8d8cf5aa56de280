"""A storm of refused handshakes at a CEM on SQLite: every refusal is logged, nothing fails
(SEC-D-9, SEC-S-6), because the security log is written through the CEM's single store writer."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from interface_b_harness import CemHandle, register, wait_for
from smartcharge.ocpp.server import basic_auth_header
from smartcharge.store.security_log import SecurityEventRecord, SecurityLog

STORM = 200


async def _status_of_wrong_password(port: int, station_id: str, password: str) -> int:
    headers = {"Authorization": basic_auth_header(station_id, password)}
    try:
        ws = await connect(
            f"ws://127.0.0.1:{port}/ocpp/{station_id}",
            subprotocols=["ocpp2.0.1"],
            additional_headers=headers,
            open_timeout=60,
        )
    except InvalidStatus as refused:
        return refused.response.status_code
    await ws.close()
    return 101


@pytest.mark.integration
async def test_refusal_storm_every_refusal_logged_through_the_writer(
    cem: CemHandle, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 concurrent handshakes with a wrong password: 200 HTTP 401 answers, 200 StationRefused
    events counted in SQLite in far fewer rows, each recorded on the CEM's store-writer thread, no
    error logged (SEC-D-9)."""
    writer_threads: list[str] = []
    real_record = SecurityLog.record

    def record(self: SecurityLog, event: SecurityEventRecord) -> None:
        writer_threads.append(threading.current_thread().name)
        real_record(self, event)

    monkeypatch.setattr(SecurityLog, "record", record)
    password = register(cem.store, "STORM1", profile=1)
    wrong = password[::-1] if password[::-1] != password else password + "x"
    caplog.set_level(logging.WARNING)
    statuses = await asyncio.gather(
        *(_status_of_wrong_password(cem.port, "STORM1", wrong) for _ in range(STORM))
    )
    assert statuses == [401] * STORM
    # Identical refusals are aggregated (issue 15): the first at once, the repeats as counted rows
    # written by the CEM's flush timer within about a second.
    await wait_for(lambda: cem.store.security.count("StationRefused") == STORM, what="all refusals counted")
    events = cem.store.security.recent(STORM, station_id="STORM1")
    assert sum(e.count for e in events) == STORM and {e.detail for e in events} == {"wrong password"}
    assert len(events) < STORM // 4, len(events)
    assert all(e.remote_address and e.remote_address.startswith("127.0.0.1") for e in events)
    assert len(writer_threads) == STORM
    assert all(name.startswith("store-writer") for name in writer_threads), set(writer_threads)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
