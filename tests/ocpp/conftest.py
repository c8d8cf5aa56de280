"""Fixtures for the Interface B loopback tests (the harness lives in interface_b_harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from interface_b_harness import CemHandle, start_cem


@pytest.fixture
async def cem(sqlite_url: str) -> AsyncIterator[CemHandle]:
    handle = await start_cem(sqlite_url)
    yield handle
    await handle.close()
