"""Revision 0007_web_auth on SQLite and PostgreSQL: the web access tables come and go with it,
leaving the earlier revisions intact; the OpenAPI document checked in equals the app's."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from smartcharge.store.base import make_engine
from smartcharge.store.migrate import alembic_config, upgrade
from smartcharge.web.openapi import render

WEB_TABLES = {"web_user", "api_token", "login_session", "audit_log"}
OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "pg_url"])
def test_migration_0007_downgrades_and_upgrades_again(
    request: pytest.FixtureRequest, url_fixture: str
) -> None:
    engine = make_engine(request.getfixturevalue(url_fixture))
    try:
        upgrade(engine)
        assert WEB_TABLES <= set(inspect(engine).get_table_names())
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0004_rate_change_seq")
        tables = set(inspect(engine).get_table_names())
        assert not WEB_TABLES & tables and {"station", "limit_book_entry"} <= tables
        upgrade(engine)
        assert WEB_TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_checked_in_openapi_document_is_the_apps() -> None:
    """docs/openapi.json is regenerated with ``python -m smartcharge.web.openapi > docs/openapi.json``."""
    assert OPENAPI.read_text(encoding="utf-8") == render(), (
        "docs/openapi.json is stale: run python -m smartcharge.web.openapi > docs/openapi.json"
    )
    assert render().startswith('{\n  "openapi": "3.1')
