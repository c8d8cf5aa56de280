"""What a drill compares: everything each emulated station produced against what the CEM stored."""

from __future__ import annotations

from dataclasses import dataclass

from interface_b_harness import StationHandle
from smartcharge.cem.service import Store
from smartcharge.ocpp.domain import OcppVersion
from smartcharge.store.session_repo import ENERGY_REGISTER


@dataclass(frozen=True)
class Tally:
    sessions: int
    transaction_events: int
    meter_values: int
    rate_changes: int


def produced(station: StationHandle) -> Tally:
    """What the station produced, as its OCPP version carries it: in 1.6J a periodic sample is a
    MeterValues (meter rows, no transaction event), and Start/StopTransaction carry only the
    energy register (meterStart/meterStop)."""
    messages = station.device.produced
    v16 = station.runner.link.version is OcppVersion.V16
    meter_keys = {
        (m.transaction_id, r.measured_at, r.measurand, r.phase, r.location, r.context)
        for m in messages
        for r in m.readings
        if not (v16 and m.event_type != "Updated" and r.measurand != ENERGY_REGISTER)
    }
    events = [m for m in messages if not (v16 and m.trigger_reason == "MeterValuePeriodic")]
    return Tally(
        sessions=len({m.transaction_id for m in messages}),
        transaction_events=len(events),
        meter_values=len(meter_keys),
        rate_changes=sum(1 for m in messages if m.trigger_reason == "ChargingRateChanged"),
    )


def stored(store: Store, station_id: str) -> Tally:
    counts = store.sessions.count_rows(station_id)
    return Tally(
        counts["sessions"], counts["transaction_events"], counts["meter_values"], counts["rate_changes"]
    )


def compare(store: Store, stations: list[StationHandle]) -> tuple[Tally, Tally]:
    """Totals (produced, stored) over ``stations``; the drill asserts them equal."""
    made = [produced(s) for s in stations]
    kept = [stored(store, s.device.station_id) for s in stations]
    for s, m, k in zip(stations, made, kept, strict=True):
        assert m == k, (s.device.station_id, m, k)
    total = lambda rows: Tally(*(sum(getattr(r, f) for r in rows) for f in Tally.__dataclass_fields__))  # noqa: E731
    return total(made), total(kept)


def never_cut(station: StationHandle) -> bool:
    """No car stopped: once charging, every power reading up to the unplug is above 0 W."""
    powers = [
        r.value
        for m in station.device.produced
        if m.event_type != "Ended"
        for r in m.readings
        if r.measurand == "Power.Active.Import"
    ]
    charging = powers[next((i for i, p in enumerate(powers) if p > 0), len(powers)) :]
    return bool(charging) and min(charging) > 0.0
