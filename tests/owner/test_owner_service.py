"""The owner's service over a real CEM and real emulated stations (OCPP 2.0.1 and 1.6J over
websockets, SQLite store): reg 10 first-use choice and later changes, reg 11 maximum and "start
now", the limit in force in plain words, and refusals that change nothing."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from interface_b_harness import CemHandle, register, start_station, wait_for
from smartcharge.cem.owner import (
    ActionRefusedError,
    NotYoursError,
    OwnerService,
    hours_allow,
)
from smartcharge.core.errors import ValidationError
from smartcharge.core.limit import Limit, LimitSource
from smartcharge.core.localtime import GB_TZ
from smartcharge.ocpp.domain import OcppVersion, VariableRef
from smartcharge.policy.default_hours import FirstUseChoice
from smartcharge.station.device import StationConfig
from smartcharge.station.ev import EV
from smartcharge.store.owner_repo import OwnerRepository

OWN_HOURS = "Mon-Fri 00:30-05:30; Sat-Sun 00:00-24:00"


def _service(cem: CemHandle) -> OwnerService:
    return OwnerService(OwnerRepository(cem.store.engine), cem.gateway)


async def _station(cem: CemHandle, sid: str, owner: str = "alice", **kwargs: object):
    url = f"ws://127.0.0.1:{cem.port}/ocpp"
    handle = start_station(sid, url, password=register(cem.store, sid), **kwargs)
    await wait_for(lambda: handle.runner.connected.is_set(), what=f"{sid} boot")
    await wait_for(lambda: cem.gateway.stations.get(sid) and cem.gateway.stations[sid].link, what="link")
    _service(cem).assign(sid, owner)
    return handle


@pytest.mark.integration
@pytest.mark.parametrize("version", [OcppVersion.V201, OcppVersion.V16])
async def test_first_use_choice_reaches_the_charge_point(cem: CemHandle, version: OcppVersion) -> None:
    """A new charge point is Pending (the wizard shows first, SCP-OP-2); accept, change and remove
    each set the charge point's own variables, and the CEM keeps a copy (SCP-OP-3)."""
    h = await _station(cem, "FU-1", version=version)
    service = _service(cem)
    view = await service.charge_point("alice", "FU-1")
    assert view.live and view.hours.first_use_pending and view.hours.choice == "Pending"

    view = await service.choose_default_hours("alice", "FU-1", "accept")
    assert FirstUseChoice(int(h.device._state.hours.choice[0])) is FirstUseChoice.ACCEPTED
    assert not view.hours.first_use_pending and view.hours.choice == "Accepted"

    view = await service.choose_default_hours("alice", "FU-1", "change", OWN_HOURS)
    assert FirstUseChoice(int(h.device._state.hours.choice[0])) is FirstUseChoice.CHANGED
    assert h.device.get_variable(_ref("DefaultHours", "Schedule")).value == OWN_HOURS
    assert view.hours.schedule == OWN_HOURS
    assert service.repo.get("FU-1").hours_choice == "Changed"

    view = await service.choose_default_hours("alice", "FU-1", "remove")
    assert FirstUseChoice(int(h.device._state.hours.choice[0])) is FirstUseChoice.REMOVED
    assert view.hours.allowed_now and service.repo.get("FU-1").hours_choice == "Removed"
    await h.close()


def _ref(component: str, variable: str) -> VariableRef:
    return VariableRef(component, variable)


@pytest.mark.integration
async def test_bad_input_names_the_field_and_changes_nothing(cem: CemHandle) -> None:
    """A malformed schedule, an unknown choice, a delay maximum outside 0-1800 s and someone
    else's charge point are each refused naming the field; the charge point keeps its settings."""
    h = await _station(cem, "BAD-1")
    await _station(cem, "BOB-1", owner="bob")
    service = _service(cem)
    with pytest.raises(ValidationError, match="schedule"):
        await service.choose_default_hours("alice", "BAD-1", "change", "Mon 25:00-26:00")
    with pytest.raises(ValidationError, match="schedule"):
        await service.choose_default_hours("alice", "BAD-1", "change", "")
    with pytest.raises(ValidationError, match="choice"):
        await service.choose_default_hours("alice", "BAD-1", "maybe")
    with pytest.raises(ValidationError, match="max_delay_s.*0..1800"):
        await service.set_max_delay("alice", "BAD-1", 1801)
    with pytest.raises(ValidationError, match="max_delay_s"):
        await service.set_max_delay("alice", "BAD-1", -1)
    with pytest.raises(NotYoursError, match="station_id"):
        await service.set_max_delay("alice", "BOB-1", 60)
    with pytest.raises(NotYoursError, match="station_id"):
        await service.charge_point("alice", "NOBODY")
    assert FirstUseChoice(int(h.device._state.hours.choice[0])) is FirstUseChoice.PENDING
    assert int(h.device._state.delay.max_delay_s[0]) == 0
    assert [r.station_id for r in service.owned("alice")] == ["BAD-1"]
    await h.close()


@pytest.mark.integration
async def test_max_delay_is_set_on_the_charge_point(cem: CemHandle) -> None:
    """The reg 11 maximum is the charge point's own variable, settable 0-1800 s (SCP-RD-3)."""
    h = await _station(cem, "MD-1")
    service = _service(cem)
    view = await service.set_max_delay("alice", "MD-1", 1800)
    assert int(h.device._state.delay.max_delay_s[0]) == 1800
    assert view.delay.max_delay_s == 1800 and service.repo.get("MD-1").max_delay_s == 1800
    view = await service.set_max_delay("alice", "MD-1", 0)
    assert int(h.device._state.delay.max_delay_s[0]) == 0 and view.delay.max_delay_s == 0
    await h.close()


@pytest.mark.integration
async def test_start_now_cancels_the_randomised_delay(cem: CemHandle) -> None:
    """A session starting under a 1800 s maximum waits its random delay (reg 11); "start now" is
    refused while nothing runs, allowed during the countdown, and the charge point then starts
    at once (SCP-RD-4 owner override, SCP-RD-6); the override ends with the session (SCP-OP-3)."""
    h = await _station(cem, "SN-1", config=StationConfig(max_delay_s=1800), seed=3)
    service = _service(cem)
    with pytest.raises(ActionRefusedError, match="no charging session"):
        await service.start_now("alice", "SN-1")
    h.device.plug_in(EV(soc=0.3))
    await wait_for(lambda: h.device.countdown_s > 0 or h.device.power_w > 0, what="session start")
    assert h.device.countdown_s > 0, "seed 3 draws a delay above 0 s"
    await wait_for(lambda: cem.gateway.stations["SN-1"].transaction_id is not None, what="tx at the CEM")
    view = await service.charge_point("alice", "SN-1")
    assert view.delay.countdown_s > 0 and view.delay.can_start_now
    assert "randomised delay" in view.limit.words and view.power_w == 0.0

    view = await service.start_now("alice", "SN-1")
    assert view.override_active
    await wait_for(lambda: h.device.power_w > 0, what="charging after start now")
    await wait_for(lambda: cem.gateway.stations["SN-1"].power_w > 0, what="power reported to the CEM")
    view = await service.charge_point("alice", "SN-1")
    assert view.charging and view.delay.countdown_s == 0 and view.mode == "CONSUMER_OVERRIDE"
    assert view.limit.words.startswith("Charging now: you overrode")

    h.device.unplug()
    await wait_for(lambda: cem.gateway.stations["SN-1"].transaction_id is None, what="session end")
    assert "SN-1" not in cem.gateway.book.override
    assert not h.device._override
    await h.close()


@pytest.mark.integration
async def test_binding_limit_in_plain_words(cem: CemHandle) -> None:
    """The limit in force names its source and its end on the GB clock (ARB-5, ARB-6)."""
    h = await _station(cem, "PW-1")
    service = _service(cem)
    view = await service.charge_point("alice", "PW-1")
    # Runs on the wall clock: outside the shipped default hours (e.g. 08:00-11:00) they bind.
    free = "No limit" if view.hours.allowed_now else "Not charging: outside your default charging hours"
    assert view.limit.words.startswith(free)
    until_s = int(time.time()) + 2 * 3600
    await cem.gateway.apply_limit("PW-1", Limit(2000.0, LimitSource.RESPONSE_DSR, "event E1"), until_s, True)
    view = await service.charge_point("alice", "PW-1")
    hhmm = datetime.fromtimestamp(until_s, GB_TZ).strftime("%H:%M")
    assert view.limit.words == f"Limited to 2 kW by your DSR provider's response event until {hhmm}."
    assert view.limit.source == "response_dsr" and view.limit.limit_w == pytest.approx(2000.0)
    view = await service.set_override("alice", "PW-1", True)  # never lifts response DSR (ARB-5)
    assert view.limit.words == (
        "Charging now: you overrode the default hours and the randomised delay for this session; "
        f"still limited to 2 kW by your DSR provider's response event until {hhmm}."
    )
    await service.set_override("alice", "PW-1", False)
    await cem.gateway.apply_limit(None, Limit(1500.0, LimitSource.SITE), None, False)
    view = await service.charge_point("alice", "PW-1")
    assert view.limit.words == "Limited to 1.5 kW by your site's supply limit."
    await h.close()


@pytest.mark.integration
async def test_offline_charge_point_refuses_changes(cem: CemHandle) -> None:
    """Offline, the settings cannot reach the charge point: refused, the CEM's copy unchanged."""
    h = await _station(cem, "OFF-1")
    await h.close()
    await wait_for(lambda: cem.gateway.stations["OFF-1"].link is None, what="offline")
    service = _service(cem)
    with pytest.raises(ActionRefusedError, match="offline"):
        await service.choose_default_hours("alice", "OFF-1", "accept")
    view = await service.charge_point("alice", "OFF-1")
    assert not view.connected and not view.live and view.status == "Offline"
    assert view.hours.choice == "Pending" and service.repo.get("OFF-1").hours_choice == "Pending"


def test_hours_allow_names_the_next_window() -> None:
    """Outside the default hours the next allowed minute is found on the GB clock (SCP-OP-5)."""
    tuesday_2100 = int(datetime(2026, 11, 24, 21, 0, tzinfo=GB_TZ).timestamp())
    allowed, at = hours_allow("Mon-Fri 22:00-24:00; Sat-Sun 00:00-24:00", "Accepted", tuesday_2100)
    assert not allowed and at is not None and at.astimezone(GB_TZ).strftime("%a %H:%M") == "Tue 22:00"
    assert hours_allow("Mon-Fri 22:00-24:00", "Removed", tuesday_2100) == (True, None)
