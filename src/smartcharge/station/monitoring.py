"""The emulated station's variable monitors (OCPP 2.0.1 N02-N08): thresholds and deltas on the
values it measures, a monitoring base and level, reports, NotifyEvent alerts when a monitor
trips (SEC-S-7 anomaly detection at the device; ETSI EN 303 645 5.10), and periodic reports of a
value (N08): ``Periodic`` every ``value`` seconds from when it was set, ``PeriodicClockAligned``
at every whole multiple of ``value`` seconds of the clock (a 900 s monitor reports at :00, :15,
:30 and :45).

Monitored values: ``EVSE.Power`` (W, what the charger delivers) and ``EVSE.Current`` is not
measured by this emulator, so only variables in :data:`MEASURED` can be monitored; any other is
answered UnknownVariable / UnknownComponent, never silently accepted.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from smartcharge.ocpp.security_ports import AlertEvent, MonitorResult, MonitorSetting

#: (component, variable) -> how to read it from the device.
MEASURED: dict[tuple[str, str], Callable[[Any], float]] = {
    ("EVSE", "Power"): lambda device: float(device.power_w),
    ("ChargingStation", "Power"): lambda device: float(device.power_w),
}
KINDS = frozenset({"UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned"})
PERIODIC = frozenset({"Periodic", "PeriodicClockAligned"})
#: Shortest period of a periodic monitor (N08): one report a second is the tick of the station.
MIN_PERIOD_S = 1.0
MAX_MONITORS = 32  # MonitoringCtrlr ItemsPerMessage-like bound: memory stays bounded


@dataclass
class _Monitor:
    setting: MonitorSetting
    tripped: bool = False
    reference: float | None = None
    #: Periodic monitors: when it last reported (epoch s), or the clock slot it last reported in.
    last_s: float | None = None


class StationMonitoring:
    """Monitors of one station; ``evaluate`` turns crossings into alerts."""

    def __init__(self) -> None:
        self.monitors: dict[int, _Monitor] = {}
        self.level = 9  # report every severity until SetMonitoringLevel (N05)
        self.base = "All"
        self._ids = itertools.count(1)
        self._events = itertools.count(1)

    def set(self, setting: MonitorSetting) -> MonitorResult:
        components = {c for c, _ in MEASURED}
        if setting.component not in components:
            return MonitorResult("UnknownComponent", setting)
        if (setting.component, setting.variable) not in MEASURED:
            return MonitorResult("UnknownVariable", setting)
        if setting.kind not in KINDS:
            return MonitorResult("UnsupportedMonitorType", setting)
        if not 0 <= setting.severity <= 9 or setting.value != setting.value:
            return MonitorResult("Rejected", setting)
        if setting.kind in PERIODIC and not MIN_PERIOD_S <= setting.value <= 86_400:
            return MonitorResult("Rejected", setting)  # a period of 1 s to a day
        if setting.monitor_id is not None and setting.monitor_id in self.monitors:
            monitor_id = setting.monitor_id
        elif setting.monitor_id is not None:
            return MonitorResult("Rejected", setting)  # N04.FR.?: an unknown id cannot be replaced
        else:
            if len(self.monitors) >= MAX_MONITORS:
                return MonitorResult("Rejected", setting)
            monitor_id = next(self._ids)
        self.monitors[monitor_id] = _Monitor(replace(setting, monitor_id=monitor_id))
        return MonitorResult("Accepted", setting, monitor_id)

    def clear(self, monitor_id: int) -> str:
        return "Accepted" if self.monitors.pop(monitor_id, None) is not None else "NotFound"

    def set_level(self, severity: int) -> str:
        if not 0 <= severity <= 9:
            return "Rejected"
        self.level = severity
        return "Accepted"

    def set_base(self, base: str) -> str:
        if base not in ("All", "FactoryDefault", "HardWiredOnly"):
            return "Rejected"
        self.base = base
        if base != "All":
            self.monitors.clear()  # N03: only pre-configured (none here) monitors remain
        return "Accepted"

    def report(self) -> list[MonitorSetting]:
        return [m.setting for _, m in sorted(self.monitors.items())]

    def evaluate(self, device: Any, now: datetime) -> list[AlertEvent]:
        """Alerts for monitors that trip now (once per crossing; reset when back in range)."""
        alerts = []
        for monitor in self.monitors.values():
            s = monitor.setting
            value = MEASURED[(s.component, s.variable)](device)
            if s.kind in PERIODIC:
                if self._due(monitor, now.timestamp()) and s.severity <= self.level:
                    alerts.append(
                        AlertEvent(
                            next(self._events),
                            now,
                            "Periodic",
                            s.component,
                            s.variable,
                            f"{value:g}",
                            s.severity,
                            f"monitor {s.monitor_id} {s.kind} {s.value:g} s",
                        )
                    )
                continue
            if s.kind == "UpperThreshold":
                out = value > s.value
            elif s.kind == "LowerThreshold":
                out = value < s.value
            else:
                if monitor.reference is None:
                    monitor.reference = value
                out = abs(value - monitor.reference) >= s.value
                if out:
                    monitor.reference = value
            if out and not monitor.tripped and s.severity <= self.level:
                alerts.append(
                    AlertEvent(
                        next(self._events),
                        now,
                        "Alerting" if s.kind != "Delta" else "Delta",
                        s.component,
                        s.variable,
                        f"{value:g}",
                        s.severity,
                        f"monitor {s.monitor_id} {s.kind} {s.value:g}",
                    )
                )
            monitor.tripped = out if s.kind != "Delta" else False
        return alerts

    @staticmethod
    def _due(monitor: _Monitor, now_s: float) -> bool:
        """N08: Periodic from its first evaluation on; clock-aligned once per slot of the clock."""
        period = monitor.setting.value
        if monitor.setting.kind == "PeriodicClockAligned":
            slot = float(int(now_s // period))
            if monitor.last_s is None:  # the slot it was set in has begun already: wait for the next
                monitor.last_s = slot
                return False
            due = slot > monitor.last_s
            if due:
                monitor.last_s = slot
            return due
        if monitor.last_s is None or now_s - monitor.last_s >= period:
            monitor.last_s = now_s
            return True
        return False


__all__ = ["KINDS", "MEASURED", "PERIODIC", "StationMonitoring"]
