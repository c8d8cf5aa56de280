"""Drill: stations (re)connecting while PostgreSQL is stopped (issue 15, SEC-S-1..3, SEC-D-9, reg 9).

On main the credential check read the database on every handshake, so while it was down every
station that reconnected got HTTP 500 (a traceback logged each time) and stayed off line; boot
details, connector status and security events were written by nothing. Here:

* a station the CEM already knows reconnects during the outage (its credentials are checked
  against the copy in memory) and its boot details, status and a security event it sends are
  spooled, then replayed into the database when it is back;
* a station the CEM does not know gets HTTP 503 with Retry-After, one log line and no traceback.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from websockets.exceptions import InvalidStatus

from drills.pg_cluster import ThrowawayCluster, create_database
from interface_b_harness import StationHandle, register, start_cem, start_station, wait_for
from smartcharge.ocpp.domain import OcppVersion
from smartcharge.ocpp.server import open_station_connection
from smartcharge.station.device import StationConfig
from smartcharge.store.models import SecurityEvent, Station


@pytest.mark.integration
@pytest.mark.slow
async def test_known_station_reconnects_and_unknown_gets_503_while_the_database_is_down(
    cluster: ThrowawayCluster, tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    url = create_database(cluster, "handshake")
    cem = await start_cem(url, spool_path=tmp_path / "cem.spool")  # type: ignore[operator]
    stations: list[StationHandle] = []
    try:
        for i, version in enumerate((OcppVersion.V201, OcppVersion.V16)):
            sid = f"HS{i}"
            stations.append(
                start_station(
                    sid,
                    f"ws://127.0.0.1:{cem.port}/ocpp",
                    version,
                    register(cem.store, sid),
                    seed=i,
                    config=StationConfig(max_delay_s=0),
                )
            )
        await wait_for(lambda: all(s.runner.connected.is_set() for s in stations), 30, "first boots")
        cluster.stop("fast")
        stopped = datetime.now(UTC)
        caplog.clear()
        caplog.set_level(logging.WARNING)
        for s in stations:  # a new firmware shows the boot details are the reconnect's
            s.runner.link = dataclasses.replace(s.runner.link, firmware="outage-1")
            await cem.server.sessions[s.device.station_id]._connection.close(1001, "drill")
        await wait_for(
            lambda: all(s.runner.boots >= 2 for s in stations), 60, "reconnect while the database is down"
        )
        await wait_for(lambda: all(s.runner.connected.is_set() for s in stations), 30, "status sent")
        for s in stations:
            s.device.record_security_event("SettingSystemTime", "drill: sent while the database is down")
        await wait_for(lambda: all(not s.device.outbox for s in stations), 30, "security events answered")

        with pytest.raises(InvalidStatus) as refused:
            await open_station_connection(
                f"ws://127.0.0.1:{cem.port}/ocpp/NEW0", "NEW0", OcppVersion.V201, "x" * 20
            )
        assert refused.value.response.status_code == 503
        assert int(refused.value.response.headers["Retry-After"]) > 0
        about_new = [r for r in caplog.records if "NEW0" in r.getMessage()]
        assert len(about_new) == 1 and "retry" in about_new[0].getMessage(), [
            r.getMessage() for r in about_new
        ]
        tracebacks = [r for r in caplog.records if r.exc_info]
        assert not tracebacks, [f"{r.name}: {r.getMessage()}" for r in tracebacks]
        writer = cem.gateway.recorder.writer
        assert all(s.runner.refused_messages == 0 for s in stations)
        assert writer.spool is not None and len(writer.spool) >= 2 * 3  # boot, status, security each

        cluster.start()
        started = time.monotonic()
        await wait_for(lambda: len(writer.spool or []) == 0, 60, "the spool replayed")
        print(
            f"drill handshake-outage: {writer.replayed} spooled write(s) replayed "
            f"in {time.monotonic() - started:.1f} s"
        )
        assert writer.replay_failed == 0
        with Session(cem.store.engine) as db:
            for s in stations:
                sid = s.device.station_id
                row = db.get(Station, sid)
                assert row is not None and row.firmware_version == "outage-1", sid
                booted = row.last_boot_at
                assert booted is not None
                assert (booted if booted.tzinfo else booted.replace(tzinfo=UTC)) >= stopped, sid
                events = db.scalars(
                    select(SecurityEvent).where(
                        SecurityEvent.station_id == sid, SecurityEvent.event_type == "SettingSystemTime"
                    )
                ).all()
                assert len(events) == 1, sid
                assert [c.status for c in cem.gateway.reports.connectors(sid)] == ["Available"], sid
    finally:
        for s in stations:
            await s.close()
        await cem.close()
        cem.store.engine.dispose()
        cluster.start_if_stopped()
