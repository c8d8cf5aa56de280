"""Charging schedules on the emulated station over real websockets, OCPP 2.0.1 and 1.6J (K01, K08;
1.6 sections 3.13 and 5.16): several periods, Recurring Daily, Relative from the transaction's
start, validTo expiry, two stack levels under a station maximum, A against W; the limit in force
follows the schedule as the station's clock runs, and GetCompositeSchedule gives the composite.
Then the profile-id rules: same id replaces (K01.FR.05), same purpose and stack level with
overlapping validity is Rejected in 2.0.1 (K01.FR.39), a TxProfile needs its transaction
(K01.FR.09, K01.FR.16).

The station clock runs 30 times real time. Expected composites are written out by hand as
(absolute time, limit) steps and cut at the scheduleStart the station answers with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from core_harness import connected, send

from interface_b_harness import CemHandle, StationHandle, wait_for
from smartcharge.ocpp.domain import OcppVersion, parse_time
from smartcharge.ocpp.domain import format_time as fmt
from smartcharge.station.ev import EV

pytestmark = pytest.mark.integration
V16, V201 = OcppVersion.V16, OcppVersion.V201
SPEED = 30.0
RATED_W = 7_400.0
BOTH = pytest.mark.parametrize("version", [V201, V16], ids=lambda v: v.value)
_PURPOSE_16 = {"ChargingStationMaxProfile": "ChargePointMaxProfile"}


def _t(s: float) -> str:
    return fmt(datetime.fromtimestamp(int(s), UTC))


def _profile(
    pid: int,
    stack: int,
    purpose: str,
    periods: list[tuple[int, float]],
    unit: str = "W",
    kind: str = "Absolute",
    start_s: float | None = None,
    duration_s: int | None = None,
    phases: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A 2.0.1 ChargingProfileType (camelCase)."""
    schedule: dict[str, Any] = {
        "id": pid,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": t, "limit": limit, **({"numberPhases": phases} if phases else {})}
            for t, limit in periods
        ],
    }
    if start_s is not None:
        schedule["startSchedule"] = _t(start_s)
    if duration_s is not None:
        schedule["duration"] = duration_s
    return {
        "id": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule],
        **extra,
    }


async def _set(link: Any, version: OcppVersion, profile: dict[str, Any], evse_id: int = 0) -> Any:
    if version is V201:
        return await send(link, "SetChargingProfile", evseId=evse_id, chargingProfile=profile)
    wire = {k: v for k, v in profile.items() if k not in ("id", "chargingSchedule")}
    wire["chargingProfileId"] = profile["id"]
    wire["chargingProfilePurpose"] = _PURPOSE_16.get(
        profile["chargingProfilePurpose"], wire["chargingProfilePurpose"]
    )
    wire["chargingSchedule"] = {k: v for k, v in profile["chargingSchedule"][0].items() if k != "id"}
    return await send(link, "SetChargingProfile", V16, connectorId=evse_id, csChargingProfiles=wire)


async def _composite(
    link: Any, version: OcppVersion, duration_s: int, unit: str = "W", evse_id: int = 0
) -> tuple[float, list[tuple[float, float]]]:
    """GetCompositeSchedule as (scheduleStart, [(absolute start s, limit)])."""
    if version is V201:
        answer = await send(
            link, "GetCompositeSchedule", duration=duration_s, evseId=evse_id, chargingRateUnit=unit
        )
        assert answer.status == "Accepted"
        schedule = answer.schedule
        start = parse_time(schedule["schedule_start"]).timestamp()
    else:
        answer = await send(
            link, "GetCompositeSchedule", V16, connectorId=evse_id, duration=duration_s, chargingRateUnit=unit
        )
        assert answer.status == "Accepted"
        schedule = answer.charging_schedule
        start = parse_time(answer.schedule_start).timestamp()
    assert schedule["charging_rate_unit"] == unit and schedule["duration"] == duration_s
    return start, [
        (start + p["start_period"], float(p["limit"])) for p in schedule["charging_schedule_period"]
    ]


def _cut(steps: list[tuple[float, float]], start: float, duration_s: int) -> list[tuple[float, float]]:
    """The expected composite from ``start``: the step in force then, and the later ones."""
    in_force = [limit for t, limit in steps if t <= start][-1]
    return [(start, in_force)] + [(t, limit) for t, limit in steps if start < t < start + duration_s]


async def _station(cem: CemHandle, version: OcppVersion) -> tuple[StationHandle, Any]:
    return await connected(cem, version=version, speed=SPEED)


def _now(station: StationHandle) -> float:
    """The station's time at its last tick, whole seconds (what its scheduleStart is taken from)."""
    return float(int(station.device.now_s))


@BOTH
async def test_three_periods_are_followed_as_time_passes(cem: CemHandle, version: OcppVersion) -> None:
    station, link = await _station(cem, version)
    station.device.plug_in(EV(soc=0.2))
    t0 = _now(station) + 30
    profile = _profile(11, 1, "TxDefaultProfile", [(0, 1000), (60, 2000), (120, 3000)], start_s=t0)
    assert (await _set(link, version, profile)).status == "Accepted"
    start, got = await _composite(link, version, 600)
    steps = [(start, RATED_W), (t0, 1000.0), (t0 + 60, 2000.0), (t0 + 120, 3000.0)]
    assert got == _cut(steps, start, 600)
    # The station's tick applies each period in turn (no randomised delay: max 0 s here).
    for expected_w in (1000.0, 2000.0, 3000.0):
        await wait_for(lambda w=expected_w: station.device.output_w == w, what=f"output {expected_w} W")
        assert station.clock.now_s() >= t0 + {1000.0: 0, 2000.0: 60, 3000.0: 120}[expected_w]
    await station.close()


@BOTH
async def test_recurring_daily_repeats_each_day(cem: CemHandle, version: OcppVersion) -> None:
    station, link = await _station(cem, version)
    now = _now(station)
    day_start = now - 86_400 * 3 - 100  # three days and 100 s ago: offset 100 s in today's cycle
    profile = _profile(
        12,
        1,
        "ChargingStationMaxProfile",
        [(0, 1500), (300, 2500), (600, 1800)],
        kind="Recurring",
        start_s=day_start,
        recurrencyKind="Daily",
    )
    assert (await _set(link, version, profile)).status == "Accepted"
    base = day_start + 3 * 86_400
    start, got = await _composite(link, version, 86_400)
    steps = [(base, 1500.0), (base + 300, 2500.0), (base + 600, 1800.0), (base + 86_400, 1500.0)]
    assert got == _cut(steps, start, 86_400)
    assert station.device.composite_limit_w() == 1500.0
    await station.close()


@BOTH
async def test_relative_tx_profile_runs_from_the_transaction_start(
    cem: CemHandle, version: OcppVersion
) -> None:
    station, link = await _station(cem, version)
    refused = _profile(13, 1, "TxProfile", [(0, 1200)], kind="Relative", transactionId="none")
    if version is V16:
        refused.pop("transactionId")
    answer = await _set(link, version, refused, evse_id=1)
    assert answer.status == "Rejected"  # no transaction (K01.FR.09; 1.6 section 5.16)
    if version is V201:
        assert answer.status_info["reason_code"] == "TxNotFound"
    station.device.plug_in(EV(soc=0.2))
    await wait_for(lambda: cem.gateway.stations["CP1"].transaction_id is not None, what="session")
    tx_start = station.device._tx_started_s
    assert tx_start is not None
    profile = _profile(13, 1, "TxProfile", [(0, 1200), (200, 2400)], kind="Relative", duration_s=400)
    if version is V201:
        profile["transactionId"] = station.device.transaction_id
    assert (await _set(link, version, profile, evse_id=1)).status == "Accepted"
    start, got = await _composite(link, version, 1000, evse_id=1)
    steps = [(tx_start, 1200.0), (tx_start + 200, 2400.0), (tx_start + 400, RATED_W)]
    expected = _cut(steps, start, 1000)
    assert [limit for _, limit in got] == [limit for _, limit in expected]
    # Offsets are whole seconds from scheduleStart: the transaction began mid-second.
    assert all(abs(a - b) < 1 for (a, _), (b, _) in zip(got, expected, strict=True))
    await wait_for(lambda: station.device.output_w == 1200.0, what="1200 W")
    await station.close()


@BOTH
async def test_valid_to_ends_a_profile(cem: CemHandle, version: OcppVersion) -> None:
    station, link = await _station(cem, version)
    now = _now(station)
    profile = _profile(14, 1, "ChargingStationMaxProfile", [(0, 2000)], start_s=now, validTo=_t(now + 90))
    assert (await _set(link, version, profile)).status == "Accepted"
    start, got = await _composite(link, version, 300)
    assert got == _cut([(now, 2000.0), (now + 90, RATED_W)], start, 300)
    assert station.device.composite_limit_w() == 2000.0
    await wait_for(lambda: station.device.composite_limit_w() == RATED_W, what="expiry at validTo")
    assert station.clock.now_s() >= now + 90
    await station.close()


@BOTH
async def test_higher_stack_level_leads_and_the_minimum_across_purposes_counts(
    cem: CemHandle, version: OcppVersion
) -> None:
    station, link = await _station(cem, version)
    now = _now(station)
    low = _profile(15, 1, "TxDefaultProfile", [(0, 3000)], start_s=now)
    high = _profile(16, 2, "TxDefaultProfile", [(0, 1000)], start_s=now, duration_s=120)
    station_max = _profile(17, 0, "ChargingStationMaxProfile", [(0, 2000)], start_s=now)
    for profile in (low, high, station_max):
        assert (await _set(link, version, profile)).status == "Accepted"
    start, got = await _composite(link, version, 600)
    # level 2 (1000 W) while its duration runs, then level 1 (3000 W) capped at 2000 W.
    assert got == _cut([(now, 1000.0), (now + 120, 2000.0)], start, 600)
    await station.close()


@BOTH
async def test_amperes_and_watts(cem: CemHandle, version: OcppVersion) -> None:
    station, link = await _station(cem, version)
    now = _now(station)
    # 3 phases named, but this GB charge point has one: 10 A is 10 A x 230 V x 1.
    profile = _profile(18, 1, "TxDefaultProfile", [(0, 10), (60, 16)], unit="A", start_s=now, phases=3)
    assert (await _set(link, version, profile)).status == "Accepted"
    start, in_w = await _composite(link, version, 300, "W")
    assert in_w == _cut([(now, 2300.0), (now + 60, 3680.0)], start, 300)
    start, in_a = await _composite(link, version, 300, "A")
    assert in_a == _cut([(now, 10.0), (now + 60, 16.0)], start, 300)
    await station.close()


@BOTH
async def test_same_id_replaces(cem: CemHandle, version: OcppVersion) -> None:
    station, link = await _station(cem, version)
    now = _now(station)
    assert (
        await _set(link, version, _profile(19, 3, "TxDefaultProfile", [(0, 1000)], start_s=now))
    ).status == ("Accepted")
    assert (
        await _set(link, version, _profile(19, 4, "TxDefaultProfile", [(0, 2500)], start_s=now))
    ).status == ("Accepted")
    held = [p for p in station.device.charging_profiles() if p.profile_id == 19]
    assert [(p.stack_level, p.limit_w) for p in held] == [(4, 2500.0)]
    assert station.device.composite_limit_w() == 2500.0
    # K10 / 1.6 section 5.5: cleared by purpose and stack level
    if version is V201:
        criteria = {"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 3}
        assert (
            await send(link, "ClearChargingProfile", chargingProfileCriteria=criteria)
        ).status == "Unknown"
        criteria["stackLevel"] = 4
        cleared = await send(link, "ClearChargingProfile", chargingProfileCriteria=criteria)
    else:
        wrong = await send(
            link, "ClearChargingProfile", V16, chargingProfilePurpose="TxDefaultProfile", stackLevel=3
        )
        assert wrong.status == "Unknown"
        cleared = await send(
            link, "ClearChargingProfile", V16, chargingProfilePurpose="TxDefaultProfile", stackLevel=4
        )
    assert cleared.status == "Accepted" and not station.device.charging_profiles()
    await station.close()


async def test_same_level_with_overlapping_validity_is_rejected_in_201(cem: CemHandle) -> None:
    station, link = await _station(cem, V201)
    now = _now(station)
    first = _profile(20, 3, "TxDefaultProfile", [(0, 1000)], start_s=now, validTo=_t(now + 3600))
    assert (await _set(link, V201, first)).status == "Accepted"
    clash = _profile(21, 3, "TxDefaultProfile", [(0, 2000)], start_s=now)
    answer = await _set(link, V201, clash)
    assert answer.status == "Rejected" and answer.status_info["reason_code"] == "DuplicateProfile"
    assert "K01.FR.39" in answer.status_info["additional_info"]
    on_other_evse = await _set(link, V201, clash, evse_id=1)  # another EVSE id: no clash
    assert on_other_evse.status == "Accepted"
    after = _profile(22, 3, "TxDefaultProfile", [(0, 2000)], start_s=now, validFrom=_t(now + 3600))
    assert (await _set(link, V201, after)).status == "Accepted"  # validity does not overlap
    assert {p.profile_id for p in station.device.charging_profiles()} >= {20, 21, 22}
    station_max_on_evse = _profile(23, 0, "ChargingStationMaxProfile", [(0, 5000)], start_s=now)
    assert (await _set(link, V201, station_max_on_evse, evse_id=1)).status == "Rejected"  # K01.FR.03
    relative_max = _profile(24, 0, "ChargingStationMaxProfile", [(0, 5000)], kind="Relative")
    assert (await _set(link, V201, relative_max)).status == "Rejected"  # K01.FR.38
    station.device.plug_in(EV(soc=0.2))
    tx = _profile(
        25, 1, "TxProfile", [(0, 1000)], kind="Relative", transactionId=station.device.transaction_id
    )
    on_station = await _set(link, V201, tx, evse_id=0)
    assert on_station.status == "Rejected" and on_station.status_info["reason_code"] == "InvalidValue"
    other_tx = await _set(link, V201, {**tx, "transactionId": "not-this-one"}, evse_id=1)
    assert other_tx.status == "Rejected" and other_tx.status_info["reason_code"] == "TxNotFound"
    assert not any(p.profile_id in (23, 24, 25) for p in station.device.charging_profiles())
    await station.close()


async def test_bad_schedules_are_rejected_naming_the_rule(cem: CemHandle) -> None:
    station, link = await _station(cem, V201)
    now = _now(station)
    late_first = _profile(26, 1, "TxDefaultProfile", [(10, 1000)], start_s=now)
    answer = await _set(link, V201, late_first)
    assert answer.status == "Rejected" and "K01.FR.31" in answer.status_info["additional_info"]
    unordered = _profile(27, 1, "TxDefaultProfile", [(0, 1000), (60, 2000), (30, 3000)], start_s=now)
    answer = await _set(link, V201, unordered)
    assert answer.status == "Rejected" and "K01.FR.35" in answer.status_info["additional_info"]
    no_kind = _profile(28, 1, "TxDefaultProfile", [(0, 1000)], kind="Recurring", start_s=now)
    answer = await _set(link, V201, no_kind)
    assert answer.status == "Rejected" and "recurrencyKind" in answer.status_info["additional_info"]
    relative_start = _profile(29, 1, "TxDefaultProfile", [(0, 1000)], kind="Relative", start_s=now)
    answer = await _set(link, V201, relative_start)
    assert answer.status == "Rejected" and "K01.FR.41" in answer.status_info["additional_info"]
    assert not station.device.charging_profiles()
    await station.close()
