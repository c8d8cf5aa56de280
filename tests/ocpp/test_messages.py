"""Every Interface B message, end to end over real websockets, in OCPP 2.0.1 and 1.6J.

The CEM runs with its real store (SQLite); the station is the emulated GB charge point.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from interface_b_harness import CemHandle, register, start_station, wait_for
from smartcharge.ocpp.domain import ChargingProfile, OcppVersion, ProfilePurpose, SecurityNotice, VariableRef
from smartcharge.station.device import MAX_DELAY
from smartcharge.station.ev import EV

VERSIONS = [OcppVersion.V201, OcppVersion.V16]
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


async def _connected(cem: CemHandle, version: OcppVersion, station_id: str = "CP1"):
    password = register(cem.store, station_id)
    station = start_station(station_id, f"ws://127.0.0.1:{cem.port}/ocpp", version, password)
    await wait_for(lambda: station.runner.connected.is_set(), what="boot")
    await wait_for(lambda: cem.gateway.stations.get(station_id) and cem.gateway.stations[station_id].link)
    return station, cem.gateway.stations[station_id].link


@pytest.mark.integration
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.value)
async def test_boot_heartbeat_status_authorize_round_trip(cem: CemHandle, version: OcppVersion) -> None:
    """BootNotification is recorded with the version; Heartbeat, StatusNotification and Authorize
    are answered (OCPP 2.0.1 B01, G02, G01, C01; 1.6 equivalents)."""
    station, _ = await _connected(cem, version)
    await wait_for(lambda: cem.store.stations.get("CP1").last_boot_at is not None, what="boot recorded")
    record = cem.store.stations.get("CP1")
    assert record is not None and record.ocpp_version == version.value
    await station.runner.session.heartbeat()
    await wait_for(lambda: cem.gateway.stations["CP1"].status == "Available", what="status")
    assert await station.runner.session.authorize("04A1B2C3") is False  # unknown to the CEM
    cem.gateway.id_tokens.add("04A1B2C3")
    assert await station.runner.session.authorize("04A1B2C3") is True
    await station.close()


@pytest.mark.integration
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.value)
async def test_transaction_and_meter_values_are_kept(cem: CemHandle, version: OcppVersion) -> None:
    """A session's start, stop, energy, meter values and rate changes reach the store (reg 9,
    SCP-MS-1, SCP-MS-2): TransactionEvent (2.0.1) / Start-, StopTransaction and MeterValues (1.6)."""
    station, _ = await _connected(cem, version)
    station.device.plug_in(EV(soc=0.5))
    await wait_for(lambda: cem.store.sessions.sessions("CP1", EPOCH), what="session start")
    await wait_for(lambda: cem.store.sessions.count_rows("CP1")["rate_changes"] >= 1, what="rate change")
    await station.runner.session.meter_values(station.device._readings("Sample.Periodic"))
    await wait_for(lambda: len(station.device.outbox) == 0)
    station.device.unplug()
    await wait_for(lambda: cem.store.sessions.sessions("CP1", EPOCH)[0].stopped_at is not None, what="stop")
    view = cem.store.sessions.sessions("CP1", EPOCH)[0]
    assert view.rate_changes[0].power_w == pytest.approx(7400.0)
    assert view.energy_kwh >= 0.0
    counts = cem.store.sessions.count_rows("CP1")
    assert counts["sessions"] == 1 and counts["meter_values"] >= 4
    await station.close()


@pytest.mark.integration
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.value)
@pytest.mark.parametrize("purpose", list(ProfilePurpose), ids=lambda p: p.value)
async def test_set_and_clear_charging_profile_every_purpose(
    cem: CemHandle, version: OcppVersion, purpose: ProfilePurpose
) -> None:
    """SetChargingProfile of each purpose is accepted and shows in GetCompositeSchedule;
    ClearChargingProfile removes it (OCPP 2.0.1 K01, K10, K08; ARB-2/3)."""
    station, link = await _connected(cem, version)
    tx = station.device.plug_in(EV(soc=0.5)) if purpose is ProfilePurpose.TX else None
    await wait_for(lambda: len(station.device.outbox) == 0)
    if tx is not None and version is OcppVersion.V16:
        tx = str(station.runner.session._remote_tx[tx])
    profile = ChargingProfile(7, 1, purpose, 2300.0, transaction_id=tx)
    assert await link.set_charging_profile(profile) == "Accepted"
    composite = await link.get_composite_schedule(300)
    assert composite.status == "Accepted" and composite.limit_w == pytest.approx(2300.0)
    assert await link.clear_charging_profile(7, None) == "Accepted"
    assert (await link.get_composite_schedule(300)).limit_w == pytest.approx(7400.0)
    assert await link.clear_charging_profile(7, None) == "Unknown"
    await station.close()


@pytest.mark.integration
async def test_get_charging_profiles_reports_installed_profiles(cem: CemHandle) -> None:
    """GetChargingProfiles is answered, then ReportChargingProfiles arrives from a separate task
    (OCPP 2.0.1 K09); 1.6 has no such message and says so."""
    station, link = await _connected(cem, OcppVersion.V201)
    await link.set_charging_profile(ChargingProfile(5, 0, ProfilePurpose.TX_DEFAULT, 4000.0))
    assert await link.get_charging_profiles(request_id=11) == "Accepted"
    await wait_for(lambda: cem.gateway.profile_reports, what="ReportChargingProfiles")
    station_id, report = cem.gateway.profile_reports[0]
    assert station_id == "CP1" and report.request_id == 11 and report.profiles[0].limit_w == 4000.0
    await station.close()


@pytest.mark.integration
async def test_notify_charging_limit_reaches_cem(cem: CemHandle) -> None:
    """A limit set by the station's local EMS is reported with its source (OCPP 2.0.1 K12, ARB-4)."""
    station, _ = await _connected(cem, OcppVersion.V201)
    station.device.apply_local_limit(3500.0, "EMS")
    await wait_for(lambda: cem.gateway.stations["CP1"].external_limit is not None, what="NotifyChargingLimit")
    notice = cem.gateway.stations["CP1"].external_limit
    assert notice.source == "EMS" and notice.limit_w == 3500.0
    await station.close()


@pytest.mark.integration
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.value)
async def test_get_and_set_variables_including_max_delay(cem: CemHandle, version: OcppVersion) -> None:
    """The randomised-delay maximum is settable over the network within 0-1800 s and refused
    outside it (SCP-RD-3); unknown variables are reported (OCPP 2.0.1 B05/B06; 1.6 configuration keys)."""
    station, link = await _connected(cem, version)
    assert (await link.set_variables([(MAX_DELAY, "5")]))[0].status == "Accepted"
    assert (await link.get_variables([MAX_DELAY]))[0].value == "5"
    assert (await link.set_variables([(MAX_DELAY, "1801")]))[0].status == "Rejected"
    assert (await link.set_variables([(MAX_DELAY, "ten")]))[0].status == "Rejected"
    assert (await link.get_variables([MAX_DELAY]))[0].value == "5"
    unknown = VariableRef("Nope", "Nothing")
    assert (await link.get_variables([unknown]))[0].status == "UnknownVariable"
    await station.close()


@pytest.mark.integration
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.value)
async def test_request_start_and_stop_transaction(cem: CemHandle, version: OcppVersion) -> None:
    """RequestStart/StopTransaction (1.6 RemoteStart/Stop) open and close a recorded session (F01, F03)."""
    station, link = await _connected(cem, version)
    cem.gateway.id_tokens.add("APP-USER")  # an unknown token would never start (issue 10)
    assert await link.request_start("APP-USER", remote_start_id=1) == "Accepted"
    await wait_for(lambda: cem.gateway.stations["CP1"].transaction_id is not None, what="start")
    assert await link.request_start("APP-USER", remote_start_id=2) == "Rejected"
    tx = cem.gateway.stations["CP1"].transaction_id
    assert await link.request_stop(tx) == "Accepted"
    await wait_for(lambda: cem.store.sessions.sessions("CP1", EPOCH)[0].stopped_at is not None, what="stop")
    await station.close()


@pytest.mark.integration
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.value)
async def test_reset_reboots_and_reports_security_event(cem: CemHandle, version: OcppVersion) -> None:
    """Reset: the station reboots (boots again) and reports ResetOrReboot via SecurityEventNotification
    (OCPP 2.0.1 B11/B12, A04; SEC-S-6), which the CEM keeps in its security log (SEC-D-9)."""
    station, link = await _connected(cem, version)
    assert await link.reset() == "Accepted"
    await wait_for(lambda: station.runner.boots >= 2, what="second boot")
    await wait_for(lambda: cem.store.security.count("ResetOrReboot") == 1, what="security event")
    await station.close()


@pytest.mark.integration
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.value)
async def test_get_log_uploads_security_log(cem: CemHandle, version: OcppVersion, tmp_path: Path) -> None:
    """GetLog: the station uploads its security log and reports Uploading then Uploaded (N01, SEC-S-6);
    an unsupported location is reported as UploadFailure, not faked."""
    station, link = await _connected(cem, version)
    await station.runner.session.security_event(
        SecurityNotice("TamperDetectionActivated", datetime.now(UTC), "lid")
    )
    assert await link.get_log(tmp_path.as_uri(), request_id=3) == "Accepted"
    await wait_for(lambda: ("CP1", "Uploaded", 3) in cem.gateway.log_status, what="upload")
    assert "TamperDetectionActivated" in (tmp_path / "CP1-security.log").read_text()
    assert await link.get_log("ftp://example.invalid/logs", request_id=4) == "Accepted"
    await wait_for(lambda: ("CP1", "UploadFailure", 4) in cem.gateway.log_status, what="failure report")
    await station.close()


@pytest.mark.integration
async def test_get_charging_profiles_is_not_supported_in_16(cem: CemHandle) -> None:
    """OCPP 1.6 has no GetChargingProfiles: the CEM says NotSupported instead of sending a frame
    the station could not understand; the composite schedule remains available (K08)."""
    station, link = await _connected(cem, OcppVersion.V16)
    assert await link.get_charging_profiles(request_id=1) == "NotSupported"
    assert (await link.get_composite_schedule(60)).status == "Accepted"
    await station.close()
