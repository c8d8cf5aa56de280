"""Revision 0003_limit_book: the CEM's limit book table comes and goes with it, on SQLite and
PostgreSQL, leaving the earlier revisions intact; expired limits are dropped on load (SCP-FS-4)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from smartcharge.core.limit import Limit, LimitSource
from smartcharge.store.base import make_engine
from smartcharge.store.limit_book_repo import LimitBookRepository, StoredLimit
from smartcharge.store.migrate import alembic_config, upgrade

NOW_S = 1_795_600_000


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "pg_url"])
def test_migration_0003_downgrades_and_upgrades_again(
    request: pytest.FixtureRequest, url_fixture: str
) -> None:
    """``limit_book_entry`` is created by 0003_limit_book and dropped on downgrade to 0002_openadr."""
    engine = make_engine(request.getfixturevalue(url_fixture))
    try:
        upgrade(engine)
        assert "limit_book_entry" in inspect(engine).get_table_names()
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0002_openadr")
        tables = set(inspect(engine).get_table_names())
        assert "limit_book_entry" not in tables and {"station", "consent_record"} <= tables
        upgrade(engine)
        assert "limit_book_entry" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "pg_url"])
def test_limit_book_keeps_latest_per_source_and_drops_expired(
    request: pytest.FixtureRequest, url_fixture: str
) -> None:
    """One row per (scope, source), the latest wins; an ended limit is deleted on load and a
    cleared one is gone (ARB-5, SCP-FS-4)."""
    engine = make_engine(request.getfixturevalue(url_fixture))
    try:
        upgrade(engine)
        repo = LimitBookRepository(engine)
        repo.save(StoredLimit(None, Limit(6000.0, LimitSource.SITE), None, False))
        repo.save(StoredLimit(None, Limit(4000.0, LimitSource.SITE, "lowered"), None, False))
        repo.save(StoredLimit("S1", Limit(1000.0, LimitSource.RESPONSE_DSR), NOW_S, False))
        repo.save(StoredLimit("S1", Limit(2000.0, LimitSource.ROUTINE_DSR), NOW_S + 1, True))
        repo.save(StoredLimit("S2", Limit(3000.0, LimitSource.SAFETY), None, False))
        repo.clear("S2", LimitSource.SAFETY)
        assert repo.load(NOW_S) == [
            StoredLimit(None, Limit(4000.0, LimitSource.SITE, "lowered"), None, False),
            StoredLimit("S1", Limit(2000.0, LimitSource.ROUTINE_DSR), NOW_S + 1, True),
        ]
        assert repo.load(NOW_S + 1) == [
            StoredLimit(None, Limit(4000.0, LimitSource.SITE, "lowered"), None, False)
        ]
    finally:
        engine.dispose()
