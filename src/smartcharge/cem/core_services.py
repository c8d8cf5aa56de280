"""The CEM's OCPP-core services (id tokens, boot policy and station reports) opened on a
database without running the CEM: for the command line and the operator API's tests."""

from __future__ import annotations

import asyncio
from typing import Any

from smartcharge.cem.id_tokens import IdTokenService
from smartcharge.cem.service import open_store
from smartcharge.cem.station_reports import StationReports


async def _direct(fn: Any, *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args)


def open_core(database_url: str) -> tuple[IdTokenService, StationReports]:
    store = open_store(database_url)
    return IdTokenService(store.id_tokens), StationReports(store.details, _direct)


__all__ = ["open_core"]
