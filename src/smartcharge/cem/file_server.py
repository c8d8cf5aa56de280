"""The CEM's HTTPS file endpoint (OCPP 2.0.1 L01 firmware download, N01 GetLog upload; SEC-D-5).

* ``GET /firmware/{name}``: a published, signed image (see :mod:`smartcharge.cem.firmware`).
* ``PUT /logs/{token}/{filename}``: a station's log upload. The CEM hands out one location per
  GetLog request, with a random single-use token bound to the station and request id; any other
  location is refused (HTTP 403) and logged as a security event, nothing is stored. Uploads are
  capped in size and written 0600 in the data directory.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, PlainTextResponse

from smartcharge.cem.firmware import IMAGE_NAME
from smartcharge.store.private_files import ensure_private_dir, write_private

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_TOKEN_TTL_S = 3600.0
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
#: A refused upload's body is never read: close its connection rather than keep it alive.
_CLOSE = {"Connection": "close"}
Refusal = Callable[[str | None, str, str], Awaitable[None]]


@dataclass
class UploadSlot:
    station_id: str
    request_id: int
    expires_at: float
    received: Path | None = None


class FileServer:
    """Serves firmware and takes log uploads; runs uvicorn in the CEM's event loop."""

    def __init__(self, firmware_dir: Path, upload_dir: Path, on_refused: Refusal) -> None:
        self.firmware_dir = firmware_dir
        self.upload_dir = ensure_private_dir(upload_dir)
        self._on_refused = on_refused
        self.slots: dict[str, UploadSlot] = {}
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.app = self._make_app()

    def upload_location(self, station_id: str, request_id: int) -> str:
        """A fresh single-use upload location for one GetLog request."""
        token = secrets.token_urlsafe(24)
        self.slots[token] = UploadSlot(station_id, request_id, time.monotonic() + UPLOAD_TOKEN_TTL_S)
        return f"{self.base_url}/logs/{token}/"

    def is_own_location(self, location: str, station_id: str | None = None) -> bool:
        """A location this CEM handed out (for ``station_id``, when given) and not yet used."""
        prefix = f"{self.base_url}/logs/"
        if not self.base_url or not location.startswith(prefix):
            return False
        slot = self.slots.get(location[len(prefix) :].rstrip("/"))
        return slot is not None and slot.received is None and station_id in (None, slot.station_id)

    def _make_app(self) -> FastAPI:
        app = FastAPI(title="smartcharge CEM files", docs_url=None, redoc_url=None, openapi_url=None)

        @app.get("/firmware/{name}")
        async def firmware(name: str) -> FileResponse:
            path = self.firmware_dir / name
            if not IMAGE_NAME.match(name) or name.endswith(".json") or not path.is_file():
                raise HTTPException(404, "no such firmware image")
            return FileResponse(path, media_type="application/octet-stream")

        @app.put("/logs/{token}/{filename}")
        async def upload(token: str, filename: str, request: Request) -> PlainTextResponse:
            remote = request.client.host if request.client else "?"
            slot = self.slots.get(token)
            if slot is None or slot.expires_at < time.monotonic() or slot.received is not None:
                await self._on_refused(None, "log upload to a location this CEM did not hand out", remote)
                raise HTTPException(403, "upload location not allowed", headers=_CLOSE)
            if not _FILENAME.match(filename):
                await self._on_refused(
                    slot.station_id, f"log upload file name {filename[:60]!r} refused", remote
                )
                raise HTTPException(400, "filename: letters, digits, . _ - only", headers=_CLOSE)
            body = bytearray()
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > MAX_UPLOAD_BYTES:
                    await self._on_refused(
                        slot.station_id, f"log upload larger than {MAX_UPLOAD_BYTES} bytes", remote
                    )
                    raise HTTPException(413, "upload too large", headers=_CLOSE)
            directory = ensure_private_dir(self.upload_dir / slot.station_id)
            slot.received = write_private(directory / f"{slot.request_id}-{filename}", bytes(body))
            return PlainTextResponse("stored\n", status_code=201)

        return app

    async def start(self, host: str, port: int, certfile: Path, keyfile: Path) -> None:
        config = uvicorn.Config(
            self.app,
            host=host,
            port=port,
            ssl_certfile=str(certfile),
            ssl_keyfile=str(keyfile),
            ssl_version=ssl.PROTOCOL_TLS_SERVER,
            log_level="warning",
            lifespan="off",
            # A refused upload may leave its connection half-read: never let it hold up shutdown.
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.get_running_loop().create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        bound = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"https://localhost:{bound}"

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task


__all__ = ["MAX_UPLOAD_BYTES", "FileServer", "UploadSlot"]
