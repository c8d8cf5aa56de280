"""The audit log of the web API: every request that may change something (any method but GET, HEAD
and OPTIONS) is recorded with who, what, when and the answer, and the record is committed before
the caller sees the answer (so nothing is done unrecorded when the CEM crashes mid-call).

Routes may add a short ``request.state.audit_detail`` (e.g. the station's OCPP answer); the caller
is ``request.state.principal`` as set by :func:`smartcharge.web.auth.current_principal`, or
``request.state.audit_actor`` where no one is authenticated yet (a login attempt names the user).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartcharge.store.audit_log import AuditLogRepository, AuditRecord
from smartcharge.web.auth import SAFE_METHODS

logger = logging.getLogger(__name__)

#: Most entries written in one transaction.
MAX_BATCH = 500


class AuditWriter:
    """Writes audit records in batches through one thread: a burst of calls costs one commit.

    ``record`` returns when the record is committed; a failed write raises to the caller.
    """

    def __init__(self, repo: AuditLogRepository) -> None:
        self._repo = repo
        self._pending: list[tuple[AuditRecord, asyncio.Future[None]]] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-writer")
        self._flushing: asyncio.Task[None] | None = None

    async def record(self, record: AuditRecord) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                await loop.run_in_executor(self._executor, self._repo.record_many, [r for r, _ in batch])
            except Exception as error:  # the callers get the failure; none is lost silently
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def _actor(state: dict[str, Any]) -> tuple[str, str | None]:
    principal = state.get("principal")
    if principal is not None:
        return principal.actor, principal.role.value
    return str(state.get("audit_actor", "anonymous")), None


class AuditMiddleware:
    """Pure ASGI middleware: holds the answer to a changing request until its record is committed."""

    def __init__(self, app: ASGIApp, writer: Callable[[], AuditWriter | None]) -> None:
        self.app = app
        self._writer = writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        writer = self._writer()
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or writer is None:
            await self.app(scope, receive, send)
            return
        held: list[Message] = []
        status = 500

        async def hold(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            held.append(message)

        try:
            await self.app(scope, receive, hold)
        finally:
            state: dict[str, Any] = scope.get("state", {})
            actor, role = _actor(state)
            client = scope.get("client")
            path = scope["path"] + (f"?{scope['query_string'].decode()}" if scope.get("query_string") else "")
            await writer.record(
                AuditRecord(
                    datetime.now(UTC),
                    actor,
                    role,
                    scope["method"],
                    path,
                    status,
                    str(state.get("audit_detail", "")),
                    None if client is None else str(client[0]),
                )
            )
        for message in held:
            await send(message)


__all__ = ["MAX_BATCH", "AuditMiddleware", "AuditWriter"]
