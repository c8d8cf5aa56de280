"""A real CEM with its web API and pages, and real emulated stations, in a background thread with
its own event loop, so Playwright's synchronous API can drive Chromium from the test thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from interface_b_harness import StationHandle, free_port, register, start_station, wait_for
from smartcharge.cem.service import CemConfig
from smartcharge.station.device import StationConfig
from smartcharge.web.serve import ApiConfig, serve_cem_with_api
from smartcharge.web.services import WebServices

T = TypeVar("T")


class LiveCem:
    """``start()`` serves; ``call(coro)`` runs a coroutine in the server's loop; ``close()`` stops."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.ocpp_port = free_port()
        self.loop = asyncio.new_event_loop()
        self.services: WebServices | None = None
        self.base_url = ""
        self.owner_password = ""
        self.stations: dict[str, StationHandle] = {}
        self._stop: asyncio.Event | None = None
        self._done: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, name="live-cem", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
            self._done.set_result(None)
        except BaseException as error:  # handed to the test thread by close()/start()
            self._done.set_exception(error)
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()

        def on_ready(services: WebServices, port: int) -> None:
            self.services, self.base_url = services, f"http://127.0.0.1:{port}"

        def on_owner(_: str, password: str) -> None:
            self.owner_password = password

        await serve_cem_with_api(
            CemConfig(self.database_url, port=self.ocpp_port),
            ApiConfig(0),
            self._stop,
            on_ready=on_ready,
            on_first_owner=on_owner,
        )

    def start(self, timeout_s: float = 30.0) -> LiveCem:
        self._thread.start()
        self._done_or(lambda: self.services is not None, timeout_s)
        return self

    def _done_or(self, predicate: Callable[[], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if self._done.done():
                self._done.result()
                raise RuntimeError("the CEM stopped while starting")
            if time.monotonic() > deadline:
                raise AssertionError("the CEM did not start in time")
            time.sleep(0.05)

    def call(self, work: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout_s)

    def run(self, fn: Callable[[], T], timeout_s: float = 30.0) -> T:
        """Run a plain function in the server's loop (the emulated devices are not thread-safe)."""

        async def wrapper() -> T:
            return fn()

        return self.call(wrapper(), timeout_s)

    def add_station(self, station_id: str, owner: str = "owner", **options: Any) -> StationHandle:
        """Register, connect and assign a real emulated station (OCPP 2.0.1 over websockets)."""
        assert self.services is not None
        services = self.services
        password = register(services.store, station_id)

        async def connect() -> StationHandle:
            handle = start_station(
                station_id,
                f"ws://127.0.0.1:{self.ocpp_port}/ocpp",
                password=password,
                config=options.pop("config", StationConfig(max_delay_s=0)),
                **options,
            )
            await wait_for(lambda: handle.runner.connected.is_set(), 15, f"{station_id} boot")
            gw = services.gateway
            await wait_for(lambda: gw.stations.get(station_id) and gw.stations[station_id].link, 15, "link")
            return handle

        handle = self.call(connect())
        assert services.owners is not None
        services.owners.assign(station_id, owner)
        self.stations[station_id] = handle
        return handle

    def close(self) -> None:
        async def stop_all() -> None:
            for handle in self.stations.values():
                await handle.close()
            assert self._stop is not None
            self._stop.set()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(stop_all(), self.loop).result(30)
            self._thread.join(30)
        self._done.result(5)


__all__ = ["LiveCem"]
