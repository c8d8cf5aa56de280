"""A real CEM with its web API (uvicorn on loopback) for the owner's API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from web.support import WebCem, start_web_cem


@pytest.fixture
async def web(sqlite_url: str) -> AsyncIterator[WebCem]:
    handle = await start_web_cem(sqlite_url)
    yield handle
    await handle.close()
