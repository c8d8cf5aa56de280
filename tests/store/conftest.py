"""Interface B fixtures: the loopback harness is shared with tests/ocpp."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocpp"))

from interface_b_harness import CemHandle, isolated_postgres, start_cem  # noqa: E402


@pytest.fixture
async def cem(sqlite_url: str) -> AsyncIterator[CemHandle]:
    handle = await start_cem(sqlite_url)
    yield handle
    await handle.close()


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """PostgreSQL in a schema of its own, dropped afterwards."""
    url, drop = isolated_postgres(postgres_url)
    yield url
    drop()
