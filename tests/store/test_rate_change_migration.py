"""Revision 0004_rate_change_seq on SQLite and PostgreSQL: rate changes stored before it get the
seq_no of the event that reported them, the new key admits two changes in one second, and the
revision downgrades and upgrades again (reg 9, SCP-MS-2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import DateTime, bindparam, text

from smartcharge.store.base import make_engine
from smartcharge.store.migrate import alembic_config, upgrade
from smartcharge.store.session_repo import SessionRepository, TransactionRecord

AT = datetime(2026, 11, 25, 10, 0, 5, tzinfo=UTC)
# Bound as the models bind it, so SQLite stores the same text as the repositories write.
_AT = bindparam("at", AT, type_=DateTime(timezone=True))


def _rate_event(seq_no: int, power_w: float) -> TransactionRecord:
    return TransactionRecord("S1", "T1", seq_no, "Updated", "ChargingRateChanged", AT, rate_power_w=power_w)


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "pg_url"])
def test_migration_0004_backfills_seq_no_and_downgrades(
    request: pytest.FixtureRequest, url_fixture: str
) -> None:
    """A rate change written under 0003 takes its event's seq_no; afterwards a second change in the
    same second is a second row; downgrade keeps the first of each second, upgrade restores the key."""
    engine = make_engine(request.getfixturevalue(url_fixture))
    try:
        upgrade(engine, "0003_limit_book")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO station (station_id, security_profile, created_at) VALUES ('S1', 1, :at)"
                ).bindparams(_AT)
            )
            conn.execute(
                text(
                    "INSERT INTO transaction_event (station_id, transaction_id, seq_no, event_type, "
                    "trigger_reason, occurred_at, offline) "
                    "VALUES ('S1', 'T1', 7, 'Updated', 'ChargingRateChanged', :at, false)"
                ).bindparams(_AT)
            )
            conn.execute(
                text(
                    "INSERT INTO rate_change (station_id, transaction_id, changed_at, power_w) "
                    "VALUES ('S1', 'T1', :at, 7400.0)"
                ).bindparams(_AT)
            )
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT seq_no, power_w FROM rate_change")).all() == [(7, 7400.0)]
        sessions = SessionRepository(engine)
        assert sessions.record_event(_rate_event(8, 3000.0)) is True
        assert sessions.record_event(_rate_event(8, 3000.0)) is False  # a replay
        assert sessions.count_rows("S1")["rate_changes"] == 2
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0003_limit_book")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT power_w FROM rate_change")).scalars().all() == [7400.0]
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT seq_no FROM rate_change")).scalars().all() == [7]
    finally:
        engine.dispose()
