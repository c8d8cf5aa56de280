"""Revision 0012_plans_site: the site and plan tables come and go with it on SQLite and PostgreSQL,
the models match the migrations there, and a stored site and plan read back as saved."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from smartcharge.store.base import Base, make_engine
from smartcharge.store.migrate import alembic_config, upgrade
from smartcharge.store.plan_repo import PlanRepository, StoredPlan
from smartcharge.store.site_repo import SiteRepository, StoredCircuit, StoredSite, StoredSiteChargePoint

TABLES = {"site_circuit", "site_charge_point", "site_token_priority", "site_setting", "charge_plan"}


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "pg_url"])
def test_migration_0012_matches_the_models_downgrades_and_upgrades(
    request: pytest.FixtureRequest, url_fixture: str
) -> None:
    engine = make_engine(request.getfixturevalue(url_fixture))
    try:
        upgrade(engine)
        import smartcharge.store.consent  # noqa: F401  (all tables in Base.metadata)

        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert TABLES <= set(inspect(engine).get_table_names())
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0011_consent_chain")
        tables = set(inspect(engine).get_table_names())
        assert not TABLES & tables and {"station", "owned_charge_point"} <= tables
        upgrade(engine)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "pg_url"])
def test_site_and_plans_read_back_as_saved(request: pytest.FixtureRequest, url_fixture: str) -> None:
    engine = make_engine(request.getfixturevalue(url_fixture))
    try:
        upgrade(engine)
        sites = SiteRepository(engine)
        assert sites.load() is None
        at = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
        site = StoredSite(
            (StoredCircuit("site", None, 100.0, None), StoredCircuit("vans", "site", None, 44_000.0)),
            (
                StoredSiteChargePoint("van-2", "vans", "L1L2L3", 32.0, 6.0, 10),
                StoredSiteChargePoint("van-1", "vans", "L2", 16.0, 8.0, 0),
            ),
            {"FLEET-1": 50},
            8.0,
            230.0,
            at,
            "user:sam",
        )
        sites.save(site)
        sites.save(site)  # a second save replaces, never duplicates
        assert sites.load() == site
        plans = PlanRepository(engine)
        weekly = StoredPlan("a1", "van-1", "olive", True, (0, 1, 2, 3, 4), 450, None, None, 0.8, 60.0, 0.2)
        once = StoredPlan("b2", "van-1", "olive", False, (), None, 1_800_000_000, 12.5, None, None, 0.0)
        plans.save(weekly)
        plans.save(once)
        assert sorted(plans.load(), key=lambda p: p.plan_id) == [weekly, once]
        plans.delete("a1")
        assert plans.load() == [once]
    finally:
        engine.dispose()
