"""Many emulated charge points in one process (``smartcharge station run --count N``), for load tests.

Each station is a full :class:`~smartcharge.station.device.EmulatedChargePoint` with its own
policy state, random stream (spawned from one seed, so runs repeat) and connection.
"""

from __future__ import annotations

import asyncio
import dataclasses

import numpy as np

from smartcharge.station.clock import Clock
from smartcharge.station.device import EmulatedChargePoint, StationConfig
from smartcharge.station.ev import EV
from smartcharge.station.runner import LinkConfig, StationRunner


def station_ids(prefix: str, count: int) -> list[str]:
    """``prefix`` alone for one station, else ``prefix-00001`` ... for ``count`` stations."""
    if count == 1:
        return [prefix]
    return [f"{prefix}-{i:05d}" for i in range(1, count + 1)]


def build_fleet(
    ids: list[str],
    passwords: dict[str, str],
    link: LinkConfig,
    config: StationConfig,
    clock: Clock,
    seed: int,
    plug_in_soc: float | None = None,
) -> list[StationRunner]:
    streams = np.random.default_rng(seed).spawn(2 * len(ids))
    runners = []
    for i, sid in enumerate(ids):
        device = EmulatedChargePoint(sid, streams[2 * i], config)
        if plug_in_soc is not None:
            device.plug_in(EV(soc=plug_in_soc))
        station_link = dataclasses.replace(link, password=passwords.get(sid, link.password))
        runners.append(StationRunner(device, station_link, clock, streams[2 * i + 1]))
    return runners


async def run_fleet(runners: list[StationRunner], stop: asyncio.Event, ramp_s: float = 0.0) -> None:
    """Run every station until ``stop``; connections start spread over ``ramp_s`` seconds."""

    async def one(index: int, runner: StationRunner) -> None:
        if ramp_s > 0:
            await asyncio.sleep(ramp_s * index / max(len(runners), 1))
        await runner.run(stop)

    async with asyncio.TaskGroup() as group:
        for index, runner in enumerate(runners):
            group.create_task(one(index, runner))


__all__ = ["build_fleet", "run_fleet", "station_ids"]
