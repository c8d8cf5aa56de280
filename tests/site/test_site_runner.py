"""``run_site`` (what ``cem serve --site-meter`` runs): a meter transport that dies does not take
the watchdog with it, so a silent meter still puts the charge points on their fail-safe limit
(report 7.21, SCN-WRK)."""

from __future__ import annotations

import asyncio

from interface_b_harness import CemHandle, wait_for
from smartcharge.cem.meter import MeterReading, MqttMeter, MqttMeterConfig
from smartcharge.cem.site import Circuit, SiteChargePoint, SiteConfig, SiteService, run_site


class Clock:
    now_s = 1_764_650_000.0

    def __call__(self) -> float:
        return self.now_s


class BrokenTransport(MqttMeter):
    """An MQTT meter whose transport fails with an error it does not handle, after one reading."""

    async def run(self, stop: asyncio.Event) -> None:
        await self._deliver(MeterReading(0.0, self.clock()))
        raise RuntimeError("transport bug")


async def test_the_watchdog_outlives_a_dead_meter_transport(cem: CemHandle) -> None:
    clock = Clock()
    meter = BrokenTransport(MqttMeterConfig(topic="unused"), clock)
    config = SiteConfig(
        circuits=(Circuit("site", None, phase_limit_a=40.0),), charge_points=(SiteChargePoint("x", "site"),)
    )
    site = SiteService(cem.gateway, config, meter, clock, stale_s=15.0)
    stop = asyncio.Event()
    task = asyncio.create_task(run_site(site, stop, period_s=0.05))
    try:
        await wait_for(lambda: site.state.shares and not site.state.failsafe, 10, "the first reading")
        clock.now_s += 16  # the transport is dead: no more readings
        await wait_for(lambda: site.state.failsafe, 10, "the fail-safe")
        assert site.state.shares["x"].binding == "failsafe"
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
