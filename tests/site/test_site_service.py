"""The live site service over real OCPP: meter -> allocation -> profiles, fail-safe, roles
(issue 12 item 3; SCN-WRK after ENA G100, report 7.21; ARB-3, ARB-5 layer 2; SEC-D-9)."""

from __future__ import annotations

import asyncio

import pytest

from interface_b_harness import CemHandle, register, start_station, wait_for
from smartcharge.cem.meter import EmulatedMeter
from smartcharge.cem.site import (
    Actor,
    Circuit,
    SiteAccessError,
    SiteChargePoint,
    SiteConfig,
    SiteService,
)
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.domain import ProfilePurpose

MANAGER = Actor("sam", "site-manager")
OWNER = Actor("olive", "owner")


class Clock:
    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def _config(ids: list[str], site_a: float = 40.0) -> SiteConfig:
    return SiteConfig(
        circuits=(
            Circuit("site", None, phase_limit_a=site_a),
            Circuit("car-park", "site", power_limit_w=22_000),
        ),
        charge_points=tuple(SiteChargePoint(sid, "car-park", "L1", 32.0) for sid in ids),
    )


def _station_max_w(handle: object) -> float | None:
    for p in handle.device.charging_profiles():  # type: ignore[attr-defined]
        if p.purpose is ProfilePurpose.STATION_MAX:
            return float(p.limit_w)
    return None


async def _stations(cem: CemHandle, ids: list[str]) -> list[object]:
    handles = []
    for sid in ids:
        password = register(cem.store, sid)
        handles.append(start_station(sid, f"ws://127.0.0.1:{cem.port}", password=password))
    await wait_for(
        lambda: all(sid in cem.gateway.stations and cem.gateway.stations[sid].link for sid in ids), 15, "boot"
    )
    return handles


@pytest.mark.integration
async def test_meter_reading_reaches_every_charge_point_profile(cem: CemHandle) -> None:
    """A new site meter reading changes each charge point's ChargingStationMaxProfile (site
    layer) over real OCPP: more load elsewhere on the site, less for the cars."""
    ids = ["site-a", "site-b", "site-c"]
    handles = await _stations(cem, ids)
    clock = Clock(1_764_650_000.0)
    meter = EmulatedMeter(clock)
    site = SiteService(cem.gateway, _config(ids), meter, clock)
    try:
        await meter.publish(0.0, (0.0, 0.0, 0.0))
        # Idle charge points keep their 6 A minimum ready: 6 A x 230 V each.
        await wait_for(
            lambda: all(_station_max_w(h) == pytest.approx(1380.0) for h in handles), 10, "6 A each"
        )
        assert {s.binding for s in site.state.shares.values()} == {"request"}
        # 22 A of other load on L1 leaves 18 A: three minimums of 6 A still fit, nothing more.
        await meter.publish(22 * 230.0, (22.0, 0.0, 0.0))
        shares = site.state.shares
        assert sum(s.current_a for s in shares.values()) == pytest.approx(18.0)
        # 30 A of other load leaves 10 A: one car keeps its minimum, two are paused (starved).
        await meter.publish(30 * 230.0, (30.0, 0.0, 0.0))
        await wait_for(lambda: sorted(_station_max_w(h) for h in handles) == [0.0, 0.0, 1380.0], 10, "cut")
        assert sorted(s.binding for s in site.state.shares.values()) == ["request", "starved", "starved"]
    finally:
        for h in handles:
            await h.close()  # type: ignore[attr-defined]


@pytest.mark.integration
async def test_stale_meter_puts_every_charge_point_on_its_failsafe(cem: CemHandle) -> None:
    """Meter data older than 15 s: every charge point falls back to the fail-safe limit at the
    next watchdog check (well within the further 15 s); a fresh reading lifts it (report 7.21)."""
    ids = ["fs-a", "fs-b"]
    handles = await _stations(cem, ids)
    clock = Clock(1_764_650_000.0)
    meter = EmulatedMeter(clock)
    config = SiteConfig(
        circuits=(Circuit("site", None, phase_limit_a=100.0),),
        charge_points=tuple(SiteChargePoint(sid, "site", "L1L2L3", 32.0) for sid in ids),
        failsafe_current_a=8.0,
    )
    site = SiteService(cem.gateway, config, meter, clock)
    stop = asyncio.Event()
    watch = asyncio.create_task(site.watch(stop, period_s=0.05))
    try:
        await meter.publish(0.0)
        await wait_for(lambda: not site.state.failsafe and site.state.shares, 5, "allocation")
        clock.now_s += 15.5  # the meter falls silent
        await wait_for(lambda: site.state.failsafe, 5, "fail-safe")
        await wait_for(
            lambda: all(_station_max_w(h) == pytest.approx(8 * 230 * 3) for h in handles), 10, "8 A"
        )
        assert site.describe()["failsafe"]["active"] is True
        assert site.describe()["meter"]["stale"] is True
        await meter.publish(0.0)
        await wait_for(lambda: not site.state.failsafe, 5, "recovery")
        assert site.describe()["meter"]["age_s"] == 0.0
    finally:
        stop.set()
        await watch
        for h in handles:
            await h.close()  # type: ignore[attr-defined]


async def test_only_the_site_manager_changes_the_site_and_every_change_is_logged(cem: CemHandle) -> None:
    """An owner is refused (and the refusal logged); a site manager's change is applied and
    logged with who made it (SEC-D-9)."""
    meter = EmulatedMeter(Clock(1_764_650_000.0))
    site = SiteService(cem.gateway, _config(["x"]), meter, meter.clock)
    before = site.config
    with pytest.raises(SiteAccessError) as refused:
        await site.change(OWNER, failsafe_current_a=0.0)
    assert refused.value.field == "role"
    assert site.config is before
    await site.change(MANAGER, failsafe_current_a=0.0)
    assert site.config.failsafe_current_a == 0.0
    events = {e.event_type: e.detail for e in cem.store.security.recent(10)}
    assert "olive (owner) may not change the site" in events["SiteSettingsRefused"]
    assert events["SiteSettingsChanged"] == "sam (site-manager) changed failsafe_current_a"


@pytest.mark.parametrize(
    ("build", "field", "rule"),
    [
        (
            lambda: SiteConfig(
                circuits=(Circuit("site", None, phase_limit_a=4.0),),
                charge_points=(SiteChargePoint("a", "site"),),
            ),
            "circuits[0].phase_limit_a",
            "below the minimum charging current",
        ),
        (
            lambda: SiteConfig(circuits=(Circuit("site"),), charge_points=(SiteChargePoint("a", "nowhere"),)),
            "charge_points[0].circuit_id",
            "names no circuit",
        ),
        (
            lambda: SiteConfig(circuits=(Circuit("site"), Circuit("b", "c"))),
            "circuits[1].parent",
            "names a circuit listed before it",
        ),
        (
            lambda: SiteConfig(
                circuits=(Circuit("site"),), charge_points=(SiteChargePoint("a", "site", "L4"),)
            ),
            "charge_points[0].phases",
            "one of",
        ),
    ],
)
def test_bad_site_settings_are_refused_naming_the_field_and_rule(
    build: object, field: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as info:
        build()  # type: ignore[operator]
    assert info.value.field == field
    assert rule in info.value.rule


async def test_a_priority_naming_no_charge_point_is_refused_and_nothing_changes(cem: CemHandle) -> None:
    meter = EmulatedMeter(Clock(1_764_650_000.0))
    site = SiteService(cem.gateway, _config(["van-1"]), meter, meter.clock)
    before = site.config
    with pytest.raises(ValidationError) as info:
        await site.set_priorities(MANAGER, {"van-1": 5, "ghost": 1})
    assert info.value.field == "priorities['ghost']"
    assert site.config is before
    await site.set_priorities(MANAGER, {"van-1": 5})
    assert site.config.charge_points[0].priority == 5
