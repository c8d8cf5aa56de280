"""The owner's sessions (reg 9: 12 months, energy, cost, carbon, rate changes, monthly totals,
CSV), consent per DSR provider, export and erasure (PRIV-3, PRIV-6), on a real SQLite store."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smartcharge.cem.consent import ConsentLedger
from smartcharge.cem.owner import ActionRefusedError, NotYoursError, OwnerService
from smartcharge.cem.owner_data import OwnerData
from smartcharge.cem.owner_sessions import CSV_COLUMNS, sessions_csv, sessions_report
from smartcharge.cem.service import Store, open_store
from smartcharge.core.carbon import carbon_g_per_kwh
from smartcharge.core.errors import ValidationError
from smartcharge.store.consent import ConsentStore
from smartcharge.store.owner_repo import OwnerRepository
from smartcharge.store.session_repo import MeterSample, TransactionRecord

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
REG = "Energy.Active.Import.Register"


@pytest.fixture
def store(sqlite_url: str) -> Store:
    s = open_store(sqlite_url)
    for sid in ("CP-A", "CP-B"):
        s.stations.add(sid, 1, None, NOW)
    return s


def _service(store: Store) -> OwnerService:
    service = OwnerService(OwnerRepository(store.engine), None, clock=lambda: NOW.timestamp())
    service.assign("CP-A", "alice", "octopus_go")
    service.assign("CP-B", "bob")
    return service


def _session(store: Store, sid: str, tx: str, start: datetime, hours: int, kw: float) -> None:
    """A session of ``hours`` hours at ``kw`` kW with hourly register samples and one rate change."""
    for seq in range(hours + 1):
        at = start + timedelta(hours=seq)
        kind = "Started" if seq == 0 else "Ended" if seq == hours else "Updated"
        store.sessions.record_event(
            TransactionRecord(
                sid,
                tx,
                seq,
                kind,
                "ChargingRateChanged" if seq == 0 else "MeterValuePeriodic",
                at,
                samples=(MeterSample(at, REG, 1000.0 * kw * seq, "Wh"),),
                rate_power_w=kw * 1000 if seq == 0 else None,
                stop_reason="EVDisconnected" if kind == "Ended" else None,
            )
        )


def test_sessions_priced_by_tariff_and_carbon_with_monthly_totals(store: Store) -> None:
    """Energy between register samples is priced at its time: Octopus Go's 00:30-05:30 window at
    8.5 p/kWh, its peak at 28 p/kWh; carbon from the reference year; months on the GB calendar."""
    service = _service(store)
    # 01:00-04:00 GMT on 10 Nov: inside the cheap window, 3 x 7 kWh.
    _session(store, "CP-A", "T-NIGHT", datetime(2026, 11, 10, 1, 0, tzinfo=UTC), 3, 7.0)
    # 18:00-20:00 GMT on 2 Oct (19:00-21:00 BST): peak, 2 x 3.5 kWh.
    _session(store, "CP-A", "T-EVE", datetime(2026, 10, 2, 18, 0, tzinfo=UTC), 2, 3.5)
    # More than 12 months ago: not shown (reg 9 asks for the previous 12 months).
    _session(store, "CP-A", "T-OLD", datetime(2025, 10, 1, 1, 0, tzinfo=UTC), 1, 7.0)
    _session(store, "CP-B", "T-BOB", datetime(2026, 11, 11, 1, 0, tzinfo=UTC), 1, 7.0)

    report = sessions_report(service, "alice")
    assert [s.transaction_id for s in report.sessions] == ["T-NIGHT", "T-EVE"]  # newest first
    night, eve = report.sessions
    assert night.energy_kwh == pytest.approx(21.0) and night.cost_p == pytest.approx(21.0 * 8.5)
    assert eve.energy_kwh == pytest.approx(7.0) and eve.cost_p == pytest.approx(7.0 * 28.0)
    mids = np.array(
        [datetime(2026, 11, 10, h, 30, tzinfo=UTC).timestamp() for h in (1, 2, 3)], dtype=np.int64
    )
    assert night.carbon_g == pytest.approx(float(np.sum(carbon_g_per_kwh(mids) * 7.0)))
    assert night.duration_s == 3 * 3600 and len(night.rate_changes) == 1
    assert night.rate_changes[0].power_w == 7000.0
    assert [(m.month, m.sessions) for m in report.months] == [("2026-11", 1), ("2026-10", 1)]
    assert report.cost_p == pytest.approx(21.0 * 8.5 + 7.0 * 28.0)

    october = sessions_report(service, "alice", month="2026-10")
    assert [s.transaction_id for s in october.sessions] == ["T-EVE"] and len(october.months) == 2
    with pytest.raises(ValidationError, match="month"):
        sessions_report(service, "alice", month="October")
    with pytest.raises(NotYoursError):
        sessions_report(service, "alice", station_id="CP-B")

    rows = list(csv.DictReader(io.StringIO(sessions_csv(report))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["transaction_id"] for r in rows] == ["T-EVE", "T-NIGHT"]  # oldest first
    assert rows[1]["energy_kwh"] == "21.000" and rows[1]["cost_gbp"] == f"{21.0 * 8.5 / 100:.2f}"
    assert rows[1]["rate_changes"] == "1" and rows[1]["rate_change_times_and_power_w"].endswith("=7000")


def test_export_and_erase_only_the_owners_data(store: Store) -> None:
    """Export holds the owner's charge points, settings and sessions only; erasure deletes his
    sessions and leaves the other owner's, and is written to the security log (PRIV-6, SEC-D-9)."""
    service = _service(store)
    _session(store, "CP-A", "T-1", datetime(2026, 11, 10, 1, 0, tzinfo=UTC), 2, 7.0)
    _session(store, "CP-B", "T-2", datetime(2026, 11, 10, 1, 0, tzinfo=UTC), 2, 7.0)
    data = OwnerData(service, store.sessions, store.security, None)
    exported = data.export("alice")
    assert [c["station_id"] for c in exported["charge_points"]] == ["CP-A"]
    assert [s["transaction_id"] for s in exported["charge_points"][0]["sessions"]] == ["T-1"]
    assert exported["charge_points"][0]["tariff_id"] == "octopus_go"

    counts = data.erase("alice")
    assert counts["CP-A"] > 0
    assert store.sessions.count_rows("CP-A")["sessions"] == 0
    assert store.sessions.count_rows("CP-B")["sessions"] == 1
    assert [e.event_type for e in data.security_log()][:1] == ["PersonalDataErased"]
    with pytest.raises(ValidationError, match="limit"):
        data.security_log(limit=0)


def test_consent_shown_and_revoked_by_the_owner(store: Store) -> None:
    """The ledger's providers with what each may do; the owner revokes one and it no longer may
    control or read (PRIV-3); revoking again, or revoking by someone who owns nothing, is refused."""
    service = _service(store)
    clock = [NOW.timestamp()]
    ledger = ConsentLedger(ConsentStore(store.engine), clock=lambda: clock[0])
    ledger.grant("FLEXCO", "https://vtn.example/OpenADR2/Simple/2.0b", "aa:bb")
    data = OwnerData(service, store.sessions, store.security, ledger)
    (view,) = data.consents()
    assert view.in_force and view.may_control and "telemetry" in view.may_read
    clock[0] += 60
    with pytest.raises(ActionRefusedError, match="only the owner"):
        data.revoke("mallory", "FLEXCO")
    view = data.revoke("alice", "FLEXCO", "moving provider")
    assert not view.in_force and not view.may_control and view.may_read == ()
    assert not ledger.may_control("FLEXCO")
    clock[0] += 60
    with pytest.raises(ValidationError, match="no consent to revoke"):
        data.revoke("alice", "FLEXCO")
    assert [e.event_type for e in data.security_log()][0] == "ConsentRevoked"
    assert data.export("alice")["consent"][0]["dsrsp_id"] == "FLEXCO"
