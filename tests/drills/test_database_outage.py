"""Drill: PostgreSQL restarted, then stopped for 60 s, under load (issue 15, reg 9, SCP-MS-1/2).

A throwaway cluster (``pg_cluster.ThrowawayCluster``, shared by the drills) holds two
databases, each behind its own real CEM with six emulated stations (three OCPP 2.0.1, three
1.6J) charging and streaming meter values at 30x speed:

* CEM "spool" keeps what the database cannot take in its local spool and replays it;
* CEM "retry" has no spool: it answers InternalError and the stations resend per their
  message-attempt settings (2.0.1 MessageAttemptsTransactionEvent / 1.6 TransactionMessageAttempts).

On main 16 of 69 transaction events were lost in a 15 s outage. Here every session, transaction
event, meter value and rate change produced is stored exactly once, no message is dropped and no
station lost its link or its charge.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest

from drills.ledger import compare, never_cut
from drills.pg_cluster import ThrowawayCluster, create_database
from interface_b_harness import CemHandle, StationHandle, register, start_cem, start_station, wait_for
from smartcharge.ocpp.domain import OcppVersion
from smartcharge.station.device import StationConfig
from smartcharge.station.ev import EV

OUTAGE_S = 60.0
STATIONS_PER_CEM = 6


async def _fleet(cem: CemHandle, prefix: str) -> list[StationHandle]:
    stations = []
    for i in range(STATIONS_PER_CEM):
        sid = f"{prefix}{i}"
        version = OcppVersion.V201 if i % 2 == 0 else OcppVersion.V16
        handle = start_station(
            sid,
            f"ws://127.0.0.1:{cem.port}/ocpp",
            version,
            register(cem.store, sid),
            speed=30.0,
            seed=i,
            config=StationConfig(max_delay_s=0, meter_interval_s=5),
        )
        # Retries spaced 1, 2, 3 ... s: twelve attempts (78 s) outlast the 60 s outage, and the
        # first retry after it comes within 12 s (spaced 5 s, eight attempts, it waited up to 40 s).
        handle.runner.link = dataclasses.replace(
            handle.runner.link, message_attempts=12, message_attempt_interval_s=1.0
        )
        stations.append(handle)
    for s in stations:
        await wait_for(lambda s=s: s.runner.connected.is_set(), 20, f"{s.device.station_id} boot")
        s.device.plug_in(EV(soc=0.2, capacity_kwh=200.0))
    return stations


@pytest.mark.integration
@pytest.mark.slow
async def test_postgres_restart_and_60s_stop_under_load_lose_nothing(
    cluster: ThrowawayCluster, tmp_path: Path
) -> None:
    cems: list[CemHandle] = []
    stations: dict[str, list[StationHandle]] = {}
    try:
        urls = {n: create_database(cluster, n) for n in ("spool", "retry")}
        spool_cem = await start_cem(urls["spool"], spool_path=tmp_path / "cem.spool")
        retry_cem = await start_cem(urls["retry"])  # no spool: InternalError, the stations retry
        cems = [spool_cem, retry_cem]
        stations = {"spool": await _fleet(spool_cem, "SP"), "retry": await _fleet(retry_cem, "RT")}
        everyone = stations["spool"] + stations["retry"]
        await asyncio.sleep(3)
        cluster.stop("fast")  # a restart under load
        cluster.start()
        await asyncio.sleep(3)
        cluster.stop("fast")
        stopped_at = time.monotonic()
        await asyncio.sleep(OUTAGE_S / 2)
        for s in everyone:
            s.device.apply_local_limit(3000.0)  # a rate change while the database is down
        await asyncio.sleep(OUTAGE_S - (time.monotonic() - stopped_at))
        writer = spool_cem.gateway.recorder.writer
        spooled_during_outage = writer.spooled
        retried_during_outage = sum(s.runner.retried_messages for s in stations["retry"])
        cluster.start()
        await asyncio.sleep(3)
        for s in everyone:
            s.device.unplug()
        await wait_for(lambda: all(not s.device.outbox for s in everyone), 150, "every outbox drained")
        await wait_for(lambda: len(writer.spool or []) == 0, 30, "the spool replayed")
        assert spooled_during_outage > 0 and writer.replayed >= spooled_during_outage
        assert retried_during_outage > 0
        for s in everyone:
            assert s.runner.refused_messages == 0, s.device.station_id  # nothing dropped
            assert never_cut(s), s.device.station_id  # no car stopped
        for name, cem in (("spool", spool_cem), ("retry", retry_cem)):
            made, kept = compare(cem.store, stations[name])
            assert (
                made == kept
                and made.sessions == STATIONS_PER_CEM
                and made.rate_changes >= 2 * STATIONS_PER_CEM
            )
            print(f"drill pg-outage [{name}]: produced {made}, stored {kept}")
        boots = sum(s.runner.boots for s in everyone)
        print(
            f"drill pg-outage: spooled {spooled_during_outage}, station retries {retried_during_outage}, "
            f"boots {boots} for {len(everyone)} stations"
        )
    finally:
        for group in stations.values():
            for s in group:
                await s.close()
        for cem in cems:
            await cem.close()
            cem.store.engine.dispose()
        cluster.start_if_stopped()  # the shared cluster stays up for the next drill
