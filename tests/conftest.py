"""Shared fixtures: database URLs for SQLite (always) and PostgreSQL (real server), and a CEM.

PostgreSQL tests use ``SMARTCHARGE_TEST_POSTGRES_URL`` or the local server on 127.0.0.1:5432,
database ``test``. If it cannot be reached they are skipped on a developer's machine, but fail
in CI (``CI=true``), where ``.ci/run`` starts the server.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from interface_b_harness import CemHandle, isolated_postgres, start_cem

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True, scope="session")
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Key files and default databases go to a folder of this run, never the user's own data
    directory (``SMARTCHARGE_DATA_DIR``; the consent ledger's key file lives there for PostgreSQL)."""
    previous = os.environ.get("SMARTCHARGE_DATA_DIR")
    os.environ["SMARTCHARGE_DATA_DIR"] = str(tmp_path_factory.mktemp("data-dir"))
    yield
    if previous is None:
        os.environ.pop("SMARTCHARGE_DATA_DIR", None)
    else:
        os.environ["SMARTCHARGE_DATA_DIR"] = previous


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("SMARTCHARGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    if not _reachable("127.0.0.1", 5432) and url == DEFAULT_POSTGRES_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 in CI")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'smartcharge.db'}"


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """PostgreSQL in a schema of its own, dropped afterwards (concurrent runs do not clash)."""
    url, drop = isolated_postgres(postgres_url)
    yield url
    drop()


@pytest.fixture
async def cem(sqlite_url: str) -> AsyncIterator[CemHandle]:
    """A real CEM (OCPP server on loopback, SQLite store) for the Interface B tests."""
    handle = await start_cem(sqlite_url)
    yield handle
    await handle.close()


@pytest.fixture
def private_postgres_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of its own, dropped afterwards: for tests that need database-wide
    objects (triggers, migrations down and up) rather than one schema."""
    name = f"oadr_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
