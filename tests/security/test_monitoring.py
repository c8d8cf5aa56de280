"""Variable monitoring over real TLS websockets (OCPP 2.0.1 N02-N08; SEC-S-7): monitors set,
reported, cleared, filtered by level and base; a tripped monitor reaches the operator as a
NotifyEvent alert."""

from __future__ import annotations

import pytest
from security.conftest import Rig

from interface_b_harness import wait_for
from smartcharge.ocpp.security_ports import MonitorSetting

pytestmark = pytest.mark.integration


async def test_monitor_trips_and_alert_reaches_the_cem(rig: Rig) -> None:
    link = rig.cem.gateway.stations["P3"].link
    results = await link.set_variable_monitoring(  # type: ignore[union-attr]
        [
            MonitorSetting("EVSE", "Power", "LowerThreshold", 1.0, 4),  # idle charger: trips at once
            MonitorSetting("EVSE", "Voltage", "UpperThreshold", 260.0, 4),  # not measured here
            MonitorSetting("Meter", "Power", "UpperThreshold", 1.0, 4),
            MonitorSetting("EVSE", "Power", "Periodic", 0.0, 4),  # N08: a period of 1 s at least
        ]
    )
    assert [r.status for r in results] == [
        "Accepted",
        "UnknownVariable",
        "UnknownComponent",
        "Rejected",
    ]
    await wait_for(lambda: len(rig.cem.gateway.security.alerts) >= 1, what="NotifyEvent alert")
    station, alert = rig.cem.gateway.security.alerts[0]
    assert (station, alert.component, alert.variable, alert.actual_value) == ("P3", "EVSE", "Power", "0")
    assert len(rig.cem.gateway.security.alerts) == 1  # once per crossing, not every second

    assert await link.get_monitoring_report(7) == "Accepted"  # type: ignore[union-attr]
    await wait_for(lambda: ("P3", 7) in rig.cem.gateway.security.monitoring_reports, what="report")
    assert rig.cem.gateway.security.monitoring_reports[("P3", 7)] == [
        f"EVSE.Power #{results[0].monitor_id} LowerThreshold 1 sev 4"
    ]
    assert await link.clear_variable_monitoring([results[0].monitor_id, 999]) == [  # type: ignore[union-attr]
        (results[0].monitor_id, "Accepted"),
        (999, "NotFound"),
    ]
    assert await link.get_monitoring_report(8) == "EmptyResultSet"  # type: ignore[union-attr]


async def test_level_and_base_filter_monitors(rig: Rig) -> None:
    link = rig.cem.gateway.stations["P3"].link
    assert await link.set_monitoring_level(2) == "Accepted"  # type: ignore[union-attr]
    assert await link.set_monitoring_level(12) == "Rejected"  # type: ignore[union-attr]
    (result,) = await link.set_variable_monitoring(
        [MonitorSetting("EVSE", "Power", "LowerThreshold", 1.0, 5)]
    )  # type: ignore[union-attr]
    assert result.status == "Accepted"
    ticked_from = rig.station.device.now_s
    await wait_for(lambda: rig.station.device.now_s >= ticked_from + 2, what="two ticks evaluated")
    assert rig.cem.gateway.security.alerts == []  # severity 5 is above level 2: never reported
    assert await link.set_monitoring_base("HardWiredOnly") == "Accepted"  # type: ignore[union-attr]
    assert await link.get_monitoring_report(9) == "EmptyResultSet"  # type: ignore[union-attr]


def test_periodic_monitors_report_on_their_period_and_on_the_clock() -> None:
    """N08 at the monitor itself, on given times: Periodic every 10 s from its first evaluation;
    PeriodicClockAligned at each whole 15 s of the clock, not in the slot it was set in."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from smartcharge.station.monitoring import StationMonitoring

    monitoring = StationMonitoring()
    periodic = monitoring.set(MonitorSetting("EVSE", "Power", "Periodic", 10.0, 3))
    aligned = monitoring.set(MonitorSetting("ChargingStation", "Power", "PeriodicClockAligned", 15.0, 3))
    assert (periodic.status, aligned.status) == ("Accepted", "Accepted")
    device = SimpleNamespace(power_w=1234.0)
    reported: list[tuple[int, str, str]] = []
    for second in range(1_000_007, 1_000_038):  # 31 s from 2 s after a 15 s boundary (1,000,005)
        at = datetime.fromtimestamp(second, UTC)
        reported += [(second, a.component, a.trigger) for a in monitoring.evaluate(device, at)]
    assert [s for s, c, _ in reported if c == "EVSE"] == [1_000_007, 1_000_017, 1_000_027, 1_000_037]
    assert [s for s, c, _ in reported if c == "ChargingStation"] == [1_000_020, 1_000_035]
    assert {t for _, _, t in reported} == {"Periodic"}
    assert monitoring.set_level(2) == "Accepted"  # severity 3 is above the level: no more reports
    assert monitoring.evaluate(device, datetime.fromtimestamp(1_000_100, UTC)) == []


async def test_a_plug_in_notification_is_stored_but_is_not_an_alert(rig: Rig) -> None:
    """G05/N07: the HardWiredNotification a station sends at every plug-in (connector Occupied) is a
    state change, kept as a notice; only a tripped monitor is an alert for the operator (it used to
    be counted and logged at WARNING as an alert on every plug-in)."""
    from smartcharge.station.ev import EV

    rig.station.device.plug_in(EV(soc=0.5, capacity_kwh=60.0))
    await wait_for(
        lambda: bool(rig.cem.store.details.notices("P3", "NotifyEvent")),
        what="the plug-in's NotifyEvent stored",
    )
    notice = rig.cem.store.details.notices("P3", "NotifyEvent")[0]
    assert "HardWiredNotification" in notice.summary
    assert rig.cem.gateway.security.alerts == []
