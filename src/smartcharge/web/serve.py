"""Serve the web app from the CEM process: uvicorn in the same event loop as the OCPP server.

Loopback by default; with a certificate and key the API speaks HTTPS only, TLS 1.2 or newer
(SEC-S-1). The CEM's stop event stops both; uvicorn does not install signal handlers of its own
(the CLI's handler sets the stop event).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from smartcharge.cem.service import CemConfig, open_store, serve_cem
from smartcharge.core.errors import ValidationError
from smartcharge.store.web_access import WebAccessRepository
from smartcharge.web.app import create_app
from smartcharge.web.auth import AuthService
from smartcharge.web.services import WebServices

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ApiConfig:
    port: int
    host: str = "127.0.0.1"
    cert: Path | None = None
    key: Path | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValidationError("api_port", self.port, "a TCP port 0-65535 (0: any free port)")
        if (self.cert is None) != (self.key is None):
            raise ValidationError("api_cert", self.cert, "HTTPS needs both --api-cert and --api-key")

    @property
    def tls(self) -> bool:
        return self.cert is not None


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the CEM owns the signals
        yield


class ApiServer:
    """One uvicorn server for ``app`` on ``config``'s address, in the running event loop."""

    def __init__(self, app: FastAPI, config: ApiConfig) -> None:
        self._config = config
        uv = uvicorn.Config(
            app,
            ssl_certfile=None if config.cert is None else str(config.cert),
            ssl_keyfile=None if config.key is None else str(config.key),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
            server_header=False,
        )
        uv.load()
        if uv.ssl is not None:
            uv.ssl.minimum_version = ssl.TLSVersion.TLSv1_2
        self._server = _EmbeddedServer(uv)
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    async def start(self) -> int:
        """Listen and serve; returns the bound port (useful with port 0)."""
        family = socket.AF_INET6 if ":" in self._config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self._config.host, self._config.port))
        except OSError as error:
            sock.close()
            where = f"{self._config.host}:{self._config.port}"
            raise ValidationError(
                "api_port", self._config.port, f"cannot listen on {where}: {error.strerror}"
            ) from None
        sock.set_inheritable(True)
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the API server stopped while starting")
            await asyncio.sleep(0.01)
        scheme = "https" if self._config.tls else "http"
        logger.info("API on %s://%s:%d", scheme, self._config.host, self.port)
        return self.port

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        if self._socket is not None:
            self._socket.close()


async def serve_cem_with_api(
    config: CemConfig,
    api: ApiConfig,
    stop: asyncio.Event,
    on_ready: Callable[[WebServices, int], None] | None = None,
    on_first_owner: Callable[[str, str], None] | None = None,
) -> None:
    """Run the CEM and its web API until ``stop`` is set. On an empty user table the first owner
    is created with a random password, handed once to ``on_first_owner(username, password)``."""
    store = await asyncio.to_thread(open_store, config.database_url)
    try:
        password = await asyncio.to_thread(AuthService(WebAccessRepository(store.engine)).ensure_first_owner)
        if password is not None and on_first_owner is not None:
            on_first_owner("owner", password)
        ready: dict[str, object] = {}
        cem_task = asyncio.create_task(
            serve_cem(config, stop, lambda g, s: ready.update(gateway=g, server=s))
        )
        while "server" not in ready:
            if cem_task.done():
                cem_task.result()
                return
            await asyncio.sleep(0.01)
        services = WebServices.build(store, ready["gateway"], ready["server"], tls=api.tls)  # type: ignore[arg-type]
        server = ApiServer(create_app(services), api)
        warming: asyncio.Task[None] | None = None
        try:
            port = await server.start()
            warming = asyncio.create_task(_warm_prices(services, stop))
            if on_ready is not None:
                on_ready(services, port)
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({cem_task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
        finally:
            services.events.close()  # ends the live streams, so uvicorn can shut down
            stop.set()
            if warming is not None:
                await warming  # its thread stops between owners once ``stop`` is set
            await server.stop()
            services.close()
            stop.set()
            await cem_task
    finally:
        store.engine.dispose()


async def _warm_prices(services: WebServices, stop: asyncio.Event) -> None:
    """Price the sessions that have no stored price yet (after an upgrade, or stored while the web
    app was not running) in a worker thread, so that no page has to (reg 9 sessions page)."""
    if services.owners is None:
        services.prices_warm.set()
        return
    from smartcharge.cem.owner_sessions import warm_prices

    started = time.perf_counter()
    try:
        owners = await asyncio.to_thread(warm_prices, services.owners, stop.is_set)
    except Exception:  # a failed warm-up costs only speed: the pages price what they read
        logger.exception("pricing the stored sessions at start failed; pages will price as they read")
        return
    finally:
        services.prices_warm.set()
    logger.info("sessions of %d owners priced in %.1f s", owners, time.perf_counter() - started)


__all__ = ["ApiConfig", "ApiServer", "serve_cem_with_api"]
