"""Loopback harness for Interface B tests: a real CEM (websockets, SQLite/PostgreSQL) and real
emulated stations in the same event loop, with a scaled clock so minutes pass in seconds."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import make_url

from smartcharge.cem.credentials import hash_password, new_password
from smartcharge.cem.gateway import CemGateway
from smartcharge.cem.service import CemConfig, Store, open_store, serve_cem
from smartcharge.ocpp.domain import OcppVersion, TransactionMessage
from smartcharge.ocpp.server import OcppServer
from smartcharge.station.clock import ScaledClock
from smartcharge.station.device import EmulatedChargePoint, StationConfig
from smartcharge.station.runner import LinkConfig, StationRunner
from smartcharge.store.base import make_engine

#: Saturday 28 November 2026 10:00 UTC (GMT): inside the shipped default hours all day.
SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC).timestamp()
#: Tuesday 24 November 2026 21:58 UTC (GMT): two minutes before the weekday peak ends (reg 10).
TUESDAY_2158 = datetime(2026, 11, 24, 21, 58, tzinfo=UTC).timestamp()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for(predicate: Callable[[], object], timeout_s: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class CemHandle:
    store: Store
    gateway: CemGateway
    server: OcppServer
    port: int
    tls_port: int | None
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 10)


async def start_cem(
    database_url: str, tls: tuple[object, object, object] | None = None, **options: object
) -> CemHandle:
    store = open_store(database_url)
    port = free_port()
    tls_port = free_port() if tls else None
    ready: dict[str, object] = {}
    stop = asyncio.Event()
    config = CemConfig(
        database_url,
        port=port,
        tls_port=tls_port,
        cert=tls[0] if tls else None,  # type: ignore[arg-type]
        key=tls[1] if tls else None,  # type: ignore[arg-type]
        client_ca=tls[2] if tls else None,  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )
    task = asyncio.create_task(serve_cem(config, stop, lambda g, s: ready.update(gateway=g, server=s)))
    await wait_for(lambda: "gateway" in ready or task.done(), 15, "the CEM to listen")
    if task.done():
        task.result()
    return CemHandle(store, ready["gateway"], ready["server"], port, tls_port, stop, task)  # type: ignore[arg-type]


def register(store: Store, station_id: str, profile: int = 1) -> str:
    password = new_password()
    store.stations.add(station_id, profile, hash_password(password), datetime.now(UTC))
    return password


class RecordingChargePoint(EmulatedChargePoint):
    """The real emulated station, also keeping every transaction message it produced."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.produced: list[TransactionMessage] = []

    def _queue_tx(self, *args: object, **kwargs: object) -> None:
        super()._queue_tx(*args, **kwargs)  # type: ignore[arg-type]
        self.produced.append(self.outbox[-1])  # type: ignore[arg-type]


@dataclass
class StationHandle:
    device: RecordingChargePoint
    runner: StationRunner
    clock: ScaledClock
    stop: asyncio.Event
    task: asyncio.Task[None]
    rate_changes: list[TransactionMessage] = field(default_factory=list)

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 10)


def start_station(
    station_id: str,
    url: str,
    version: OcppVersion = OcppVersion.V201,
    password: str | None = None,
    start_s: float = SATURDAY_10,
    speed: float = 1.0,
    seed: int = 7,
    config: StationConfig | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> StationHandle:
    clock = ScaledClock(start_s, speed)
    rngs = np.random.default_rng(seed).spawn(2)
    device = RecordingChargePoint(station_id, rngs[0], config or StationConfig(max_delay_s=0))
    link = LinkConfig(
        url,
        version,
        password,
        ssl_context,
        retry_min_s=0.1,
        retry_random_range_s=0.2,
        retry_repeat=2,
        response_timeout_s=5.0,
    )
    runner = StationRunner(device, link, clock, rngs[1])
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    return StationHandle(device, runner, clock, stop, task)


def isolated_postgres(base_url: str) -> tuple[str, Callable[[], None]]:
    """A URL whose search_path is a fresh schema, and a function that drops it (concurrent runs)."""
    schema = f"sc_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


__all__ = [
    "SATURDAY_10",
    "TUESDAY_2158",
    "CemHandle",
    "RecordingChargePoint",
    "StationHandle",
    "free_port",
    "isolated_postgres",
    "register",
    "start_cem",
    "start_station",
    "wait_for",
]
