"""The Interface B store on SQLite and on PostgreSQL: migrations, idempotent writes, reg 9 queries,
export and erasure (SCP-MS-1..3, PRIV-4, PRIV-6)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from smartcharge.cem.service import Store, open_store
from smartcharge.core.errors import ValidationError
from smartcharge.store.base import Base
from smartcharge.store.security_log import SecurityEventRecord
from smartcharge.store.session_repo import MeterSample, TransactionRecord

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    opened = open_store(url)
    opened.stations.add("S1", 2, "hash", NOW)
    yield opened
    opened.engine.dispose()


def _event(
    seq: int, kind: str, at: datetime, energy_wh: float, rate_w: float | None = None
) -> TransactionRecord:
    return TransactionRecord(
        station_id="S1",
        transaction_id="T1",
        seq_no=seq,
        event_type=kind,
        trigger_reason="ChargingRateChanged" if rate_w is not None else "MeterValuePeriodic",
        occurred_at=at,
        samples=(MeterSample(at, "Energy.Active.Import.Register", energy_wh, "Wh"),),
        rate_power_w=rate_w,
        stop_reason="EVDisconnected" if kind == "Ended" else None,
    )


def test_migration_0001_matches_the_models(store: Store) -> None:
    """The packaged migrations build exactly the tables the models declare (no drift)."""
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert {"station", "charging_session", "meter_value", "rate_change", "security_event"} <= set(
        inspect(store.engine).get_table_names()
    )


def test_replayed_events_are_stored_once(store: Store) -> None:
    """A replayed transaction event (offline queue, CEM crash) changes nothing (reg 9)."""
    events = [
        _event(0, "Started", NOW, 1000.0),
        _event(1, "Updated", NOW + timedelta(seconds=30), 1050.0, rate_w=7400.0),
        _event(2, "Ended", NOW + timedelta(hours=1), 8400.0),
    ]
    assert [store.sessions.record_event(e) for e in events] == [True, True, True]
    assert [store.sessions.record_event(e) for e in events] == [False, False, False]
    assert store.sessions.record_meter_values("S1", "T1", events[1].samples) == 0
    (view,) = store.sessions.sessions("S1", NOW - timedelta(days=1))
    assert view.started_at == NOW and view.stopped_at == NOW + timedelta(hours=1)
    assert view.energy_kwh == pytest.approx(7.4)
    assert [(r.changed_at, r.power_w) for r in view.rate_changes] == [(NOW + timedelta(seconds=30), 7400.0)]
    assert store.sessions.count_rows("S1") == {
        "transaction_events": 3,
        "meter_values": 3,
        "rate_changes": 1,
        "sessions": 1,
    }


def test_sessions_of_last_12_months_are_queryable(store: Store) -> None:
    """Every session of the previous 12 months is returned, older ones are not (SCP-MS-3, PRIV-4)."""
    for i, age in enumerate([timedelta(days=10), timedelta(days=360), timedelta(days=400)]):
        store.sessions.record_event(_with_tx(_event(0, "Started", NOW - age, 0.0), f"T{i}"))
    ids = [v.transaction_id for v in store.sessions.sessions_last_12_months("S1", NOW)]
    assert ids == ["T1", "T0"]


def _with_tx(rec: TransactionRecord, tx: str) -> TransactionRecord:
    return replace(rec, transaction_id=tx)


def test_export_and_erase_personal_data(store: Store) -> None:
    """A station's sessions export to JSON-ready data and can be erased, per session or all (PRIV-6)."""
    store.sessions.record_event(_event(0, "Started", NOW, 0.0))
    store.sessions.record_event(_with_tx(_event(0, "Started", NOW + timedelta(days=1), 0.0), "T2"))
    exported = store.sessions.export("S1")
    assert [s["transaction_id"] for s in exported["sessions"]] == ["T1", "T2"]
    assert exported["meter_values"][0]["measurand"] == "Energy.Active.Import.Register"
    # Running sessions cannot be erased (their next messages would store them again): end them.
    store.sessions.record_event(_event(1, "Ended", NOW + timedelta(hours=1), 100.0))
    store.sessions.record_event(_with_tx(_event(1, "Ended", NOW + timedelta(days=1, hours=1), 100.0), "T2"))
    assert store.sessions.erase("S1", "T1") == 5  # 2 events, 2 meter values, the session
    assert [s["transaction_id"] for s in store.sessions.export("S1")["sessions"]] == ["T2"]
    store.sessions.erase("S1")
    assert store.sessions.export("S1") == {"station_id": "S1", "sessions": [], "meter_values": []}


def test_station_registered_twice_is_refused(store: Store) -> None:
    """A station id is registered once; a second registration is an error, never an overwrite."""
    with pytest.raises(ValidationError, match="station_id"):
        store.stations.add("S1", 1, "other", NOW)
    assert store.stations.get("S1").security_profile == 2


def test_security_log_keeps_events_in_order(store: Store) -> None:
    """Security events are time-stamped and read back newest first (SEC-D-9)."""
    for i in range(3):
        store.security.record(
            SecurityEventRecord(NOW + timedelta(seconds=i), "S1", f"E{i}", "d", "127.0.0.1")
        )
    assert [e.event_type for e in store.security.recent(2)] == ["E2", "E1"]
    assert store.security.count("E0") == 1
