"""OCPP 2.0.1 block B over real websockets, CEM and emulated station: boot Accepted / Pending /
Rejected per station (B01-B03), TriggerMessage BootNotification (F06), Get/SetVariables within
ItemsPerMessage (B05/B06), GetBaseReport / GetReport stored as the device model (B07/B08),
SetNetworkProfile (B09), Reset OnIdle / Immediate for the station and one EVSE (B11/B12)."""

from __future__ import annotations

import pytest
from core_harness import connected, send
from ocpp.exceptions import OccurrenceConstraintViolationError, SecurityError

from interface_b_harness import CemHandle, register, start_station, wait_for
from smartcharge.ocpp.domain import VariableRef
from smartcharge.station.ev import EV

pytestmark = pytest.mark.integration


async def test_pending_station_is_refused_calls_and_boots_again_when_triggered(cem: CemHandle) -> None:
    """B02: Pending; the station's other calls get SecurityError; TriggerMessage BootNotification
    makes it boot again (F06); once Accepted a second trigger is Rejected (F06.FR.17)."""
    cem.gateway.reports.boot_retry_interval_s = 600  # only the trigger may bring the next boot
    password = register(cem.store, "PEND")
    cem.gateway.reports.set_boot_status("PEND", "Pending")
    station = start_station("PEND", f"ws://127.0.0.1:{cem.port}/ocpp", password=password)
    await wait_for(lambda: station.runner.boot_status == "Pending", what="pending boot")
    with pytest.raises(SecurityError):
        await station.runner.session.heartbeat()
    link = cem.gateway.stations["PEND"].link
    assert link.refused_before_accepted == 1
    assert cem.store.security.count("InvalidMessages") == 0  # a policy refusal, not a violation
    # A Pending station can be configured: the CSMS's own calls are answered (B02).
    got = await link.get_variables([VariableRef("RandomisedDelay", "MaxDelaySeconds")])
    assert got[0].status == "Accepted"
    cem.gateway.reports.set_boot_status("PEND", "Accepted")
    answer = await send(link, "TriggerMessage", requestedMessage="BootNotification")
    assert answer.status == "Accepted"
    await wait_for(lambda: station.runner.connected.is_set(), what="accepted after the trigger")
    again = await send(link, "TriggerMessage", requestedMessage="BootNotification")
    assert again.status == "Rejected"
    await station.close()


async def test_rejected_station_boots_again_after_the_interval(cem: CemHandle) -> None:
    """B03: Rejected with an interval; the station sends nothing else and boots again after it."""
    cem.gateway.reports.boot_retry_interval_s = 1
    password = register(cem.store, "REJ")
    cem.gateway.reports.set_boot_status("REJ", "Rejected")
    station = start_station("REJ", f"ws://127.0.0.1:{cem.port}/ocpp", password=password)
    await wait_for(lambda: station.runner.boot_status == "Rejected", what="rejected boot")
    assert not station.runner.connected.is_set()
    cem.gateway.reports.set_boot_status("REJ", "Accepted")
    await wait_for(lambda: station.runner.connected.is_set(), what="accepted on the retry")
    assert cem.gateway.stations["REJ"].boot_status == "Accepted"
    await station.close()


async def test_base_report_and_report_become_the_device_model(cem: CemHandle) -> None:
    """B07 GetBaseReport FullInventory in several NotifyReport parts, stored; B08 GetReport by
    component; criteria matching nothing: EmptyResultSet; SummaryInventory: NotSupported."""
    station, link = await connected(cem)
    assert (await send(link, "GetBaseReport", requestId=11, reportBase="FullInventory")).status == "Accepted"
    await wait_for(lambda: ("CP1", 11) in {(p[0], p[1]) for p in cem.gateway.report_parts if not p[3]})
    parts = [p for p in cem.gateway.report_parts if p[1] == 11]
    assert len(parts) >= 2 and [p[2] for p in parts] == list(range(len(parts)))
    model = {
        (v.component, v.variable, v.variable_instance): v for v in cem.gateway.reports.device_model("CP1")
    }
    assert model[("RandomisedDelay", "MaxDelaySeconds", "")].value == "0"
    assert model[("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables")].value == "8"
    answer = await send(
        link, "GetReport", requestId=12, componentVariable=[{"component": {"name": "DefaultHours"}}]
    )
    assert answer.status == "Accepted"
    await wait_for(lambda: any(p[1] == 12 and not p[3] for p in cem.gateway.report_parts))
    nothing = await send(link, "GetReport", requestId=13, componentCriteria=["Problem"])
    assert nothing.status == "EmptyResultSet"
    summary = await send(link, "GetBaseReport", requestId=14, reportBase="SummaryInventory")
    assert summary.status == "NotSupported"
    await station.close()


async def test_get_variables_are_split_by_items_per_message(cem: CemHandle) -> None:
    """B06: the station refuses more than ItemsPerMessage items (OccurrenceConstraintViolation);
    the CEM, having read the limit from the device model, splits a longer request."""
    station, link = await connected(cem)
    refs = [VariableRef("RandomisedDelay", "MaxDelaySeconds")] * 10
    data = [{"component": {"name": r.component}, "variable": {"name": r.variable}} for r in refs]
    with pytest.raises(OccurrenceConstraintViolationError):
        await send(link, "GetVariables", getVariableData=data)
    await send(link, "GetBaseReport", requestId=1, reportBase="FullInventory")
    await wait_for(lambda: link.items_per_message.get("GetVariables") == 8, what="limit learnt")
    results = await link.get_variables(refs)
    assert len(results) == 10 and {r.status for r in results} == {"Accepted"}
    await station.close()


async def test_set_network_profile_is_kept(cem: CemHandle) -> None:
    station, link = await connected(cem)
    data = {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": "wss://cem.example/ocpp",
        "messageTimeout": 30,
        "securityProfile": 2,
        "ocppInterface": "Wired0",
    }
    answer = await send(link, "SetNetworkProfile", configurationSlot=1, connectionData=data)
    assert answer.status == "Accepted"
    assert station.device.network_profiles[1]["security_profile"] == 2
    await station.close()


async def test_reset_on_idle_waits_for_the_session_and_evse_reset_keeps_the_link(cem: CemHandle) -> None:
    """B11 OnIdle with a session: Scheduled, done when it ends; B12 Immediate on EVSE 1: the
    session ends, the station stays connected."""
    station, link = await connected(cem)
    station.device.plug_in(EV(soc=0.5))
    await wait_for(lambda: cem.gateway.stations["CP1"].transaction_id is not None, what="session")
    assert (await send(link, "Reset", type="Immediate", evseId=1)).status == "Accepted"
    await wait_for(lambda: station.device.transaction_id is None, what="EVSE reset ends the session")
    assert station.runner.boots == 1
    station.device.plug_in(EV(soc=0.5))
    assert (await send(link, "Reset", type="OnIdle")).status == "Scheduled"
    assert station.runner.boots == 1
    station.device.unplug()
    await wait_for(lambda: station.runner.boots == 2, what="reboot after the session")
    await station.close()
