"""Support for the web tests: a real CEM with its web API on loopback (uvicorn, free port,
same event loop) on SQLite or PostgreSQL, and real HTTP clients (httpx)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from interface_b_harness import free_port, wait_for
from smartcharge.cem.service import CemConfig
from smartcharge.web.auth import Role
from smartcharge.web.serve import ApiConfig, serve_cem_with_api
from smartcharge.web.services import WebServices


@dataclass
class WebCem:
    database_url: str
    base_url: str
    ocpp_url: str
    services: WebServices
    owner_password: str | None
    stop: asyncio.Event
    task: asyncio.Task[None]

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=20.0, **kwargs)

    async def token(self, role: Role | str) -> str:
        _, token = await asyncio.to_thread(self.services.auth.create_token, Role(role), "test")
        return token

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 15)


async def start_web_cem(database_url: str, api: ApiConfig | None = None, **cem_options: Any) -> WebCem:
    port = free_port()
    config = CemConfig(database_url, port=port, **cem_options)
    stop = asyncio.Event()
    ready: dict[str, Any] = {}
    owner: dict[str, str] = {}
    api = api or ApiConfig(0)
    task = asyncio.create_task(
        serve_cem_with_api(
            config,
            api,
            stop,
            on_ready=lambda services, bound: ready.update(services=services, port=bound),
            on_first_owner=lambda user, password: owner.update({user: password}),
        )
    )
    await wait_for(lambda: "services" in ready or task.done(), 20, "the CEM and its API to listen")
    if task.done():
        task.result()
    scheme = "https" if api.tls else "http"
    return WebCem(
        database_url,
        f"{scheme}://127.0.0.1:{ready['port']}",
        f"ws://127.0.0.1:{port}/ocpp",
        ready["services"],
        owner.get("owner"),
        stop,
        task,
    )


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"username": username, "password": password})
