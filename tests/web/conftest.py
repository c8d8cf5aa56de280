"""Fixtures of the web API tests (see ``support``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .support import WebCem, start_web_cem


@pytest.fixture
async def web(sqlite_url: str) -> AsyncIterator[WebCem]:
    handle = await start_web_cem(sqlite_url)
    yield handle
    await handle.close()


@pytest.fixture(params=["sqlite_url", "pg_url"])
async def web_db(request: pytest.FixtureRequest) -> AsyncIterator[WebCem]:
    """The same, once on SQLite and once on PostgreSQL."""
    handle = await start_web_cem(request.getfixturevalue(request.param))
    yield handle
    await handle.close()
