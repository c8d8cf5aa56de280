"""Migration 0006_ocpp_core on SQLite and PostgreSQL: it upgrades and downgrades cleanly, and
removing a station erases what it reported (PRIV-6) while id tokens, which are not per station,
stay."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect

from smartcharge.cem.service import open_store
from smartcharge.store.migrate import alembic_config, upgrade
from smartcharge.store.station_detail_repo import ConnectorRecord, NoticeRecord, VariableRecord

CORE_TABLES = {
    "id_token",
    "station_boot_policy",
    "connector_status",
    "device_variable",
    "station_notice",
    "reservation",
}
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("url", ["sqlite_url", "pg_url"])
def test_migration_down_and_up_and_station_erasure(url: str, request: pytest.FixtureRequest) -> None:
    database_url = request.getfixturevalue(url)
    store = open_store(database_url)
    assert CORE_TABLES <= set(inspect(store.engine).get_table_names())
    store.stations.add("ERASE-1", 1, None, NOW)
    store.details.set_boot_status("ERASE-1", "Pending", NOW)
    store.details.record_connector("ERASE-1", ConnectorRecord(1, 1, "Available", NOW))
    store.details.record_variables("ERASE-1", [VariableRecord("EVSE", "Power", value="7400")], NOW)
    store.details.record_notice("ERASE-1", NoticeRecord("NotifyEvent", NOW, "x", "{}"))
    assert store.stations.remove("ERASE-1")
    assert store.details.connectors("ERASE-1") == [] and store.details.device_model("ERASE-1") == []
    assert store.details.notices("ERASE-1") == [] and store.details.boot_status("ERASE-1") == "Accepted"
    config = alembic_config(store.engine)
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005_meter_key")
    assert not CORE_TABLES & set(inspect(store.engine).get_table_names())
    upgrade(store.engine)
    assert CORE_TABLES <= set(inspect(store.engine).get_table_names())
    store.engine.dispose()
