"""OCPP 2.0.1 block K beyond the limit book, over real websockets: operator profiles of any
purpose, EVSE, unit A or W, kind and validity beside the CEM's own (K01), replace by id, clear
by id or by purpose and stack level (K10), GetChargingProfiles by criteria (K09),
ClearedChargingLimit (K13), NotifyEVChargingNeeds answered with a TxProfile inside the limit
book (K15), NotifyEVChargingSchedule stored (K17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from core_harness import connected, send

from interface_b_harness import CemHandle, wait_for
from smartcharge.cem.gateway import NEEDS_PROFILE_ID
from smartcharge.cem.limits import PROFILE_ID
from smartcharge.core.limit import Limit, LimitSource
from smartcharge.ocpp.domain import ProfilePurpose, StationMessage
from smartcharge.ocpp.domain import format_time as fmt
from smartcharge.station.ev import EV

pytestmark = pytest.mark.integration


def _profile(pid: int, stack: int, purpose: str, limit: float, unit: str = "W", **extra: object) -> dict:
    schedule = {
        "id": pid,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
    }
    schedule.update(extra.pop("schedule", {}))  # type: ignore[call-overload]
    return {
        "id": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": extra.pop("kind", "Absolute"),
        "chargingSchedule": [schedule],
        **extra,
    }


async def test_operator_profiles_live_beside_the_limit_book(cem: CemHandle) -> None:
    station, link = await connected(cem)
    await cem.gateway.apply_limit("CP1", Limit(3000.0, LimitSource.ROUTINE_DSR), None, False)
    await wait_for(
        lambda: (
            PROFILE_ID[ProfilePurpose.TX_DEFAULT]
            in {p.profile_id for p in station.device.charging_profiles()}
        )
    )
    now = datetime.fromtimestamp(station.clock.now_s(), UTC)
    recurring = _profile(
        7,
        1,
        "TxDefaultProfile",
        16,
        "A",
        kind="Recurring",
        recurrencyKind="Daily",
        validFrom=fmt(now - timedelta(hours=1)),
        validTo=fmt(now + timedelta(days=1)),
        schedule={"startSchedule": fmt(now - timedelta(hours=1))},
    )
    assert (await send(link, "SetChargingProfile", evseId=1, chargingProfile=recurring)).status == "Accepted"
    held = {p.profile_id: p for p in station.device.charging_profiles()}
    assert (
        held[7].limit_w == pytest.approx(16 * 230.0)
        and held[PROFILE_ID[ProfilePurpose.TX_DEFAULT]].limit_w == 3000.0
    )
    replaced = _profile(7, 1, "TxDefaultProfile", 4000)
    assert (await send(link, "SetChargingProfile", evseId=0, chargingProfile=replaced)).status == "Accepted"
    assert {p.profile_id: p.limit_w for p in station.device.charging_profiles()}[7] == 4000.0
    wrong_evse = await send(link, "SetChargingProfile", evseId=3, chargingProfile=replaced)
    assert wrong_evse.status == "Rejected"
    # K09 by criteria: only the operator's stack level 1
    criteria = {"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1}
    got = await send(link, "GetChargingProfiles", requestId=5, chargingProfile=criteria)
    assert got.status == "Accepted"
    await wait_for(lambda: any(r.request_id == 5 for _, r in cem.gateway.profile_reports), what="report")
    report = next(r for _, r in cem.gateway.profile_reports if r.request_id == 5)
    assert [p.profile_id for p in report.profiles] == [7]
    none = await send(link, "GetChargingProfiles", requestId=6, chargingProfile={"stackLevel": 9})
    assert none.status == "NoProfiles"
    # K10 by purpose and stack level: the CEM's own profile (stack level 0) stays
    cleared = await send(
        link,
        "ClearChargingProfile",
        chargingProfileCriteria={"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1},
    )
    assert cleared.status == "Accepted"
    assert {p.profile_id for p in station.device.charging_profiles()} == {
        PROFILE_ID[ProfilePurpose.TX_DEFAULT]
    }
    station_max = _profile(8, 0, "ChargingStationMaxProfile", 6000)
    await send(link, "SetChargingProfile", evseId=0, chargingProfile=station_max)
    assert (await send(link, "ClearChargingProfile", chargingProfileId=8)).status == "Accepted"
    assert (await send(link, "ClearChargingProfile", chargingProfileId=8)).status == "Unknown"
    await station.close()


async def test_valid_from_and_duration_bound_a_profile(cem: CemHandle) -> None:
    station, link = await connected(cem)
    now = datetime.fromtimestamp(station.clock.now_s(), UTC)
    later = _profile(20, 5, "ChargingStationMaxProfile", 1000, validFrom=fmt(now + timedelta(days=1)))
    ended = _profile(
        21,
        6,
        "ChargingStationMaxProfile",
        1500,
        schedule={"startSchedule": fmt(now - timedelta(hours=2)), "duration": 3600},
    )
    for profile in (later, ended):
        assert (
            await send(link, "SetChargingProfile", evseId=0, chargingProfile=profile)
        ).status == "Accepted"
    assert station.device.composite_limit_w() == station.device.config.rated_power_w
    now_profile = _profile(
        22, 7, "ChargingStationMaxProfile", 2000, validFrom=fmt(now - timedelta(minutes=1))
    )
    await send(link, "SetChargingProfile", evseId=0, chargingProfile=now_profile)
    assert station.device.composite_limit_w() == 2000.0
    await station.close()


async def test_charging_needs_get_a_profile_within_the_limit_book(cem: CemHandle) -> None:
    station, link = await connected(cem)
    station.device.plug_in(EV(soc=0.5))
    await wait_for(lambda: cem.gateway.stations["CP1"].transaction_id is not None, what="session")
    await cem.gateway.apply_limit("CP1", Limit(2500.0, LimitSource.ROUTINE_DSR), None, False)
    needs = {
        "requestedEnergyTransfer": "AC_single_phase",
        "acChargingParameters": {
            "energyAmount": 10000,
            "evMinCurrent": 6,
            "evMaxCurrent": 32,
            "evMaxVoltage": 250,
        },
    }
    answer = await station.runner.session.call_prepared(
        "NotifyEVChargingNeeds", {"chargingNeeds": needs, "evseId": 1}
    )
    assert answer["status"] == "Accepted"
    await wait_for(lambda: cem.gateway.needs_answers, what="profile sent for the needs")
    assert cem.gateway.needs_answers[0][1:] == (2500.0, "Accepted")
    held = {p.profile_id: p for p in station.device.charging_profiles()}
    assert held[NEEDS_PROFILE_ID].purpose is ProfilePurpose.TX and held[NEEDS_PROFILE_ID].limit_w == 2500.0
    schedule = {
        "id": 1,
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 2400}],
    }
    await station.runner.session.send_message(
        StationMessage(
            "NotifyEVChargingSchedule",
            {"timeBase": fmt(datetime.now(UTC)), "chargingSchedule": schedule, "evseId": 1},
        )
    )
    assert cem.gateway.reports.notices("CP1", "NotifyEVChargingSchedule")
    station.device.apply_local_limit(1800.0)
    await wait_for(lambda: cem.gateway.stations["CP1"].external_limit is not None, what="external limit")
    await station.runner.session.send_message(
        StationMessage("ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": 1})
    )
    assert cem.gateway.stations["CP1"].external_limit is None
    await station.close()


async def test_charging_needs_without_a_session_are_rejected(cem: CemHandle) -> None:
    station, _ = await connected(cem)
    needs = {
        "requestedEnergyTransfer": "DC",
        "dcChargingParameters": {"evMaxCurrent": 100, "evMaxVoltage": 400},
    }
    answer = await station.runner.session.call_prepared(
        "NotifyEVChargingNeeds", {"chargingNeeds": needs, "evseId": 1}
    )
    assert answer["status"] == "Rejected" and not cem.gateway.needs_answers
    await station.close()
