"""Per-token site priorities over real OCPP (issue 12 item 3): the gateway records each session's
id token (2.0.1 TransactionEvent idToken, 1.6 StartTransaction idTag, or a token authorized while
the session had none), and "token X first" changes how the site is shared."""

from __future__ import annotations

import asyncio

import pytest

from interface_b_harness import CemHandle, register, start_station, wait_for
from smartcharge.cem.id_tokens import IdTokenService
from smartcharge.cem.meter import EmulatedMeter
from smartcharge.cem.site import Actor, Circuit, SiteChargePoint, SiteConfig, SiteService
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.domain import OcppVersion, ProfilePurpose
from smartcharge.station.ev import EV

MANAGER = Actor("sam", "site-manager")
VOLTS = 230.0


class Clock:
    now_s = 1_764_650_000.0

    def __call__(self) -> float:
        return self.now_s


def _station_max_w(handle: object) -> float | None:
    for p in handle.device.charging_profiles():  # type: ignore[attr-defined]
        if p.purpose is ProfilePurpose.STATION_MAX:
            return float(p.limit_w)
    return None


@pytest.mark.integration
async def test_token_first_priority_changes_the_allocation(cem: CemHandle) -> None:
    """Two cars share a 22 A connection (16 A each wanted): 11 A each; "VAN-1 first" gives the
    van's charge point its 16 A and the other its 6 A minimum; "STAFF-1 first" turns it round.
    One station speaks OCPP 2.0.1 (idToken in TransactionEvent), the other 1.6J (StartTransaction
    idTag)."""
    tokens = IdTokenService(cem.store.id_tokens)
    tokens.add("VAN-1")
    tokens.add("STAFF-1")
    stations = {
        "tok-201": start_station(
            "tok-201", f"ws://127.0.0.1:{cem.port}", password=register(cem.store, "tok-201")
        ),
        "tok-16": start_station(
            "tok-16",
            f"ws://127.0.0.1:{cem.port}",
            OcppVersion.V16,
            password=register(cem.store, "tok-16"),
        ),
    }
    clock = Clock()
    meter = EmulatedMeter(clock)
    config = SiteConfig(
        circuits=(Circuit("site", None, phase_limit_a=22.0),),
        charge_points=(
            SiteChargePoint("tok-201", "site", "L1", 16.0),
            SiteChargePoint("tok-16", "site", "L1", 16.0),
        ),
    )
    site = SiteService(cem.gateway, config, meter, clock)
    stop = asyncio.Event()
    watch = asyncio.create_task(site.watch(stop, period_s=0.05))
    gateway = cem.gateway
    try:
        await wait_for(lambda: all(s.runner.connected.is_set() for s in stations.values()), 15, "boot")
        await meter.publish(0.0)
        assert (await stations["tok-201"].runner.present_token("STAFF-1", EV(soc=0.2))).accepted
        assert (await stations["tok-16"].runner.present_token("VAN-1", EV(soc=0.2))).accepted
        await wait_for(
            lambda: (
                gateway.stations["tok-201"].id_token == "STAFF-1"
                and gateway.stations["tok-16"].id_token == "VAN-1"
            ),
            15,
            "both sessions' tokens recorded",
        )
        shares = lambda: {sid: s.current_a for sid, s in site.state.shares.items()}  # noqa: E731
        await wait_for(lambda: shares() == {"tok-201": 11.0, "tok-16": 11.0}, 15, "a fair share")

        await site.set_priorities(MANAGER, {}, {"VAN-1": 10})
        assert shares() == {"tok-201": 6.0, "tok-16": 16.0}
        await wait_for(
            lambda: (
                (_station_max_w(stations["tok-201"]), _station_max_w(stations["tok-16"]))
                == (6 * VOLTS, 16 * VOLTS)
            ),
            15,
            "the van first, on the stations",
        )
        assert site.state.shares["tok-16"].priority == 10

        await site.set_priorities(MANAGER, {}, {"STAFF-1": 10})
        assert shares() == {"tok-201": 16.0, "tok-16": 6.0}
        await wait_for(
            lambda: (
                (_station_max_w(stations["tok-201"]), _station_max_w(stations["tok-16"]))
                == (16 * VOLTS, 6 * VOLTS)
            ),
            15,
            "the staff car first, on the stations",
        )

        # The session ends: its token is forgotten, the priority no longer applies there.
        stations["tok-16"].device.unplug()
        await wait_for(lambda: gateway.stations["tok-16"].transaction_id is None, 15, "session end")
        assert gateway.stations["tok-16"].id_token is None
    finally:
        stop.set()
        await watch
        for s in stations.values():
            await s.close()


@pytest.mark.integration
async def test_a_token_authorized_during_a_session_without_one_becomes_its_token(cem: CemHandle) -> None:
    """A session started on plug-in (no token, the GB home default) that is then authorized
    (Authorize over OCPP) carries that token for the site's priorities."""
    IdTokenService(cem.store.id_tokens).add("LATE-1")
    station = start_station(
        "tok-late", f"ws://127.0.0.1:{cem.port}", password=register(cem.store, "tok-late")
    )
    try:
        await wait_for(lambda: station.runner.connected.is_set(), 15, "boot")
        station.device.plug_in(EV(soc=0.5))
        await wait_for(lambda: cem.gateway.stations["tok-late"].transaction_id is not None, 15, "session")
        assert cem.gateway.stations["tok-late"].id_token is None
        assert (await station.runner.authorize("LATE-1")).accepted
        assert cem.gateway.stations["tok-late"].id_token == "LATE-1"
    finally:
        await station.close()


async def test_a_token_priority_naming_no_known_token_is_refused(cem: CemHandle) -> None:
    IdTokenService(cem.store.id_tokens).add("VAN-1")
    meter = EmulatedMeter(Clock())
    config = SiteConfig(
        circuits=(Circuit("site", None, phase_limit_a=40.0),), charge_points=(SiteChargePoint("a", "site"),)
    )
    site = SiteService(cem.gateway, config, meter, meter.clock)
    with pytest.raises(ValidationError) as info:
        await site.set_priorities(MANAGER, {"a": 3}, {"VAN-1": 5, "GHOST": 1})
    assert info.value.field == "token_priority['GHOST']"
    assert "names no id token" in info.value.rule
    assert site.config is config  # nothing changed, not even the charge point's priority
