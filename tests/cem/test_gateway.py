"""The CEM's ChargerGateway over real OCPP: limits become the right profiles, a site limit is
shared with the policy's tree allocation, telemetry names the binding source (ARB-3, ARB-5)."""

from __future__ import annotations

import time

import pytest

from interface_b_harness import CemHandle, register, start_station, wait_for
from smartcharge.core.errors import ValidationError
from smartcharge.core.limit import Limit, LimitSource
from smartcharge.ocpp.domain import ProfilePurpose


async def _stations(cem: CemHandle, ids: list[str]):
    handles = []
    for sid in ids:
        handles.append(
            start_station(sid, f"ws://127.0.0.1:{cem.port}/ocpp", password=register(cem.store, sid))
        )
    for sid, handle in zip(ids, handles, strict=True):
        await wait_for(lambda h=handle: h.runner.connected.is_set(), what=f"{sid} boot")
        await wait_for(lambda s=sid: cem.gateway.stations.get(s) and cem.gateway.stations[s].link)
    return handles


def _profiles(handle) -> dict[ProfilePurpose, float]:
    return {p.purpose: p.limit_w for p in handle.device.charging_profiles()}


@pytest.mark.integration
async def test_site_limit_is_shared_between_stations(cem: CemHandle) -> None:
    """A site limit of 6 kW over two 7.4 kW charge points gives each 3 kW as its station maximum
    (allocate_tree, ARB-3), and telemetry reports the site as the binding source (ARB-6)."""
    a, b = await _stations(cem, ["SITE-A", "SITE-B"])
    await cem.gateway.apply_limit(None, Limit(6000.0, LimitSource.SITE), None, False)
    assert _profiles(a) == {ProfilePurpose.STATION_MAX: 3000.0}
    assert _profiles(b) == {ProfilePurpose.STATION_MAX: 3000.0}
    composite = await cem.gateway.stations["SITE-A"].link.get_composite_schedule(60)
    assert composite.limit_w == pytest.approx(3000.0)
    telemetry = {t.station_id: t for t in cem.gateway.telemetry()}
    assert telemetry["SITE-A"].limit_w == pytest.approx(3000.0)
    assert telemetry["SITE-A"].binding_source is LimitSource.SITE
    await cem.gateway.clear_limit(None, LimitSource.SITE)
    assert _profiles(a) == {} and _profiles(b) == {}
    for h in (a, b):
        await h.close()


@pytest.mark.integration
async def test_each_source_becomes_its_profile_purpose(cem: CemHandle) -> None:
    """Response DSR -> ChargingStationExternalConstraints, routine DSR -> TxDefaultProfile (K01),
    with the lapse time as validTo and the upstream randomisation carried along (SCP-RD-4)."""
    (a,) = await _stations(cem, ["SRC-A"])
    until_s = int(time.time()) + 3600
    await cem.gateway.apply_limit("SRC-A", Limit(2000.0, LimitSource.RESPONSE_DSR), None, False)
    await cem.gateway.apply_limit("SRC-A", Limit(4000.0, LimitSource.ROUTINE_DSR), until_s, True)
    profiles = {p.purpose: p for p in a.device.charging_profiles()}
    assert profiles[ProfilePurpose.EXTERNAL_CONSTRAINTS].limit_w == 2000.0
    routine = profiles[ProfilePurpose.TX_DEFAULT]
    assert routine.limit_w == 4000.0 and routine.randomised_upstream
    assert routine.valid_to is not None and int(routine.valid_to.timestamp()) == until_s
    await a.close()


@pytest.mark.integration
async def test_limits_reach_a_station_that_connects_later(cem: CemHandle) -> None:
    """A limit set while a station is offline is sent after its BootNotification, from a task,
    never from inside its own handler (the OCPP handler trap)."""
    (b,) = await _stations(cem, ["LATE-B"])
    await b.close()
    await wait_for(lambda: cem.gateway.stations["LATE-B"].link is None, what="offline")
    await cem.gateway.apply_limit("LATE-B", Limit(1500.0, LimitSource.SITE), None, False)
    assert _profiles(b) == {}
    c = start_station("LATE-B", f"ws://127.0.0.1:{cem.port}/ocpp", password=b.runner.link.password)
    await wait_for(lambda: _profiles(c) == {ProfilePurpose.STATION_MAX: 1500.0}, what="profile after boot")
    await c.close()


async def test_unsupported_sources_are_refused(cem: CemHandle) -> None:
    """Device defaults are the charge point's own (reg 10/11): the CEM refuses to send them as a
    limit, naming the field (no silent clamping)."""
    with pytest.raises(ValidationError, match="source"):
        await cem.gateway.apply_limit("X", Limit(10.0, LimitSource.DEVICE_DEFAULT), None, False)
