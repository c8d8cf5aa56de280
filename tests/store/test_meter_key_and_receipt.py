"""Issue 15, data lost or hidden, at the store (reg 9, SCP-MS-1..3, PRIV-6), on SQLite and
PostgreSQL:

* L1, L2 and L3 of one measurand at one time are three meter values (main kept one: the key was
  (station, transaction, time, measurand));
* revision 0005_meter_key keeps the rows stored before it, and downgrades and upgrades again;
* a session whose station stamped 1970 (clock not yet set) is still listed, by the CEM's receipt
  time, and flagged (main hid it from ``cem sessions``);
* export is valid JSON even when an old row holds NaN; only finite values are accepted now;
* erasing a running session is refused with the reason (main erased it, and the next message
  stored it again).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import DateTime, bindparam, text

from smartcharge.cem.recorder import transaction_record
from smartcharge.cem.service import Store, open_store
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.domain import MeterReading, TransactionMessage
from smartcharge.store.base import make_engine
from smartcharge.store.migrate import alembic_config, upgrade
from smartcharge.store.session_repo import MeterSample, TransactionRecord

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
_AT = bindparam("at", NOW, type_=DateTime(timezone=True))


@pytest.fixture(params=["sqlite_url", "pg_url"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(request.getfixturevalue(request.param))
    opened.stations.add("S1", 1, "hash", NOW)
    yield opened
    opened.engine.dispose()


def _started(samples: tuple[MeterSample, ...] = ()) -> TransactionRecord:
    return TransactionRecord("S1", "T1", 0, "Started", "Authorized", NOW, samples=samples)


def test_three_phases_of_one_measurand_are_three_rows(store: Store) -> None:
    phases = tuple(
        MeterSample(NOW, "Current.Import", 16.0 + i, "A", phase) for i, phase in enumerate(["L1", "L2", "L3"])
    )
    assert store.sessions.record_event(_started(phases)) is True
    assert store.sessions.record_meter_values("S1", "T1", phases) == 0  # a replay: nothing new
    other_context = tuple(MeterSample(NOW, "Current.Import", 9.0, "A", "L1", context="Trigger") for _ in [0])
    assert store.sessions.record_meter_values("S1", "T1", other_context) == 1
    values = store.sessions.export("S1")["meter_values"]
    assert sorted((v["phase"], v["context"], v["value"]) for v in values) == [
        ("L1", "Sample.Periodic", 16.0),
        ("L1", "Trigger", 9.0),
        ("L2", "Sample.Periodic", 17.0),
        ("L3", "Sample.Periodic", 18.0),
    ]


def test_implausible_station_time_is_flagged_and_the_session_still_listed(store: Store) -> None:
    message = TransactionMessage("T1", 0, "Started", "Authorized", datetime(1970, 1, 1, tzinfo=UTC))
    record = transaction_record("S1", message, received_at=NOW)
    assert record.time_suspect and record.received_at == NOW
    store.sessions.record_event(record)
    fine = transaction_record("S1", TransactionMessage("T2", 0, "Started", "Authorized", NOW), NOW)
    assert not fine.time_suspect
    store.sessions.record_event(fine)
    listed = store.sessions.sessions_last_12_months("S1", NOW + timedelta(hours=1))
    assert [(v.transaction_id, v.time_suspect) for v in listed] == [("T1", True), ("T2", False)]
    assert listed[0].started_at.year == 1970 and listed[0].received_at == NOW  # both times kept


def test_only_finite_values_and_export_is_always_valid_json(store: Store) -> None:
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValidationError, match="sampledValue.value"):
            MeterSample(NOW, "Energy.Active.Import.Register", bad, "Wh")
        with pytest.raises(ValidationError, match="sampledValue.value"):
            MeterReading(NOW, "Energy.Active.Import.Register", bad, "Wh")
    store.sessions.record_event(_started((MeterSample(NOW, "Energy.Active.Import.Register", 10.0, "Wh"),)))
    inf = {"inf": float("inf")}
    with store.engine.begin() as conn:  # rows as main let them in: the energy is inf - inf = NaN
        conn.execute(text("UPDATE meter_value SET value = :inf"), inf)
        conn.execute(text("UPDATE charging_session SET meter_last_wh = :inf, meter_start_wh = :inf"), inf)
    exported = store.sessions.export("S1")
    assert exported["sessions"][0]["energy_kwh"] is None
    text_out = json.dumps(exported, allow_nan=False)  # raises on NaN / Infinity
    assert json.loads(text_out)["meter_values"][0]["value"] is None


def test_erasing_a_running_session_is_refused_with_the_reason(store: Store) -> None:
    store.sessions.record_event(_started())
    with pytest.raises(ValidationError, match="still running"):
        store.sessions.erase("S1")
    with pytest.raises(ValidationError, match="still running"):
        store.sessions.erase("S1", "T1")
    assert store.sessions.count_rows("S1")["sessions"] == 1
    ended = TransactionRecord("S1", "T1", 1, "Ended", "EVCommunicationLost", NOW + timedelta(hours=1))
    store.sessions.record_event(ended)
    assert store.sessions.erase("S1") > 0
    assert store.sessions.count_rows("S1") == {
        "transaction_events": 0,
        "meter_values": 0,
        "rate_changes": 0,
        "sessions": 0,
    }


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "pg_url"])
def test_migration_0005_keeps_rows_and_downgrades(request: pytest.FixtureRequest, url_fixture: str) -> None:
    engine = make_engine(request.getfixturevalue(url_fixture))
    try:
        upgrade(engine, "0004_rate_change_seq")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO station (station_id, security_profile, created_at) VALUES ('S1', 1, :at)"
                ).bindparams(_AT)
            )
            conn.execute(
                text(
                    "INSERT INTO meter_value (station_id, transaction_id, measured_at, measurand, "
                    "value, unit) "
                    "VALUES ('S1', 'T1', :at, 'Energy.Active.Import.Register', 42.0, 'Wh')"
                ).bindparams(_AT)
            )
            conn.execute(
                text(
                    "INSERT INTO transaction_event (station_id, transaction_id, seq_no, event_type, "
                    "trigger_reason, occurred_at, offline) "
                    "VALUES ('S1', 'T1', 0, 'Started', 'Authorized', :at, false)"
                ).bindparams(_AT)
            )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT value, phase, location, context FROM meter_value")).all()
            assert [tuple(r) for r in rows] == [(42.0, "", "Outlet", "Sample.Periodic")]
            event = conn.execute(text("SELECT received_at, time_suspect FROM transaction_event")).one()
            assert event[0] is None and not event[1]
        with engine.begin() as conn:  # the new key admits a second phase at the same time
            conn.execute(
                text(
                    "INSERT INTO meter_value (station_id, transaction_id, measured_at, measurand, "
                    "value, unit, "
                    "phase) VALUES ('S1', 'T1', :at, 'Energy.Active.Import.Register', 43.0, 'Wh', 'L2')"
                ).bindparams(_AT)
            )
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0004_rate_change_seq")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT value FROM meter_value")).scalars().all() == [42.0]
        upgrade(engine)
    finally:
        engine.dispose()
