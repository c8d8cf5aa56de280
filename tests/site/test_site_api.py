"""The site through the web API (issue 12 items 3 and 4): read as site manager or viewer, change as
site manager only; bad settings refused with 422 naming the field and the rule, nothing changed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from web.support import WebCem, start_web_cem

from smartcharge.cem.meter import EmulatedMeter
from smartcharge.cem.site import Circuit, SiteChargePoint, SiteConfig, SiteService
from smartcharge.web.auth import Role


class Clock:
    now_s = 1_764_650_000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
async def site_web(sqlite_url: str) -> AsyncIterator[tuple[WebCem, SiteService, EmulatedMeter, Clock]]:
    web = await start_web_cem(sqlite_url)
    clock = Clock()
    meter = EmulatedMeter(clock)
    config = SiteConfig(
        circuits=(Circuit("site", None, phase_limit_a=100.0), Circuit("vans", "site", power_limit_w=44_000)),
        charge_points=(SiteChargePoint("van-1", "vans", "L1L2L3"), SiteChargePoint("staff-1", "site", "L2")),
    )
    web.services.site = SiteService(web.services.gateway, config, meter, clock)
    yield web, web.services.site, meter, clock
    await web.close()


async def test_site_manager_reads_and_changes_the_site(
    site_web: tuple[WebCem, SiteService, EmulatedMeter, Clock],
) -> None:
    web, site, meter, clock = site_web
    token = await web.token(Role.SITE_MANAGER)
    async with web.client(token) as client:
        await meter.publish(12_000.0, (20.0, 18.0, 15.0))
        clock.now_s += 4
        state = (await client.get("/api/v1/site/meter")).json()
        assert state["meter"]["age_s"] == pytest.approx(4.0)
        assert state["meter"]["stale"] is False and state["failsafe_active"] is False
        got = (await client.get("/api/v1/site")).json()
        assert [c["circuit_id"] for c in got["circuits"]] == ["site", "vans"]
        assert {s["station_id"] for s in got["shares"]} == {"van-1", "staff-1"}
        answer = await client.put("/api/v1/site/priorities", json={"priorities": {"van-1": 10}})
        assert answer.status_code == 200, answer.text
        assert (
            next(cp for cp in answer.json()["charge_points"] if cp["station_id"] == "van-1")["priority"] == 10
        )
        answer = await client.put("/api/v1/site/failsafe", json={"failsafe_current_a": 0})
        assert answer.status_code == 200 and answer.json()["failsafe_current_a"] == 0
        clock.now_s += 20  # the meter has fallen silent
        await site.reallocate()
        state = (await client.get("/api/v1/site/meter")).json()
        assert state["meter"]["stale"] is True and state["failsafe_active"] is True


@pytest.mark.parametrize(
    ("path", "body", "field", "rule"),
    [
        (
            "/api/v1/site/circuits",
            {
                "circuits": [
                    {"circuit_id": "site", "phase_limit_a": 100},
                    {"circuit_id": "vans", "parent": "site", "phase_limit_a": 5},
                ]
            },
            "circuits[1].phase_limit_a",
            "below the minimum charging current",
        ),
        (
            "/api/v1/site/priorities",
            {"priorities": {"nobody": 3}},
            "priorities['nobody']",
            "names no charge point",
        ),
        (
            "/api/v1/site/charge-points",
            {"charge_points": [{"station_id": "van-1", "circuit_id": "garage"}]},
            "charge_points[0].circuit_id",
            "names no circuit",
        ),
    ],
)
async def test_bad_site_settings_are_refused_and_nothing_changes(
    site_web: tuple[WebCem, SiteService, EmulatedMeter, Clock],
    path: str,
    body: dict[str, object],
    field: str,
    rule: str,
) -> None:
    web, site, _, _ = site_web
    before = site.config
    token = await web.token(Role.SITE_MANAGER)
    async with web.client(token) as client:
        answer = await client.put(path, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == field
    assert rule in answer.json()["errors"][0]["rule"]
    assert site.config is before


async def test_only_the_site_manager_may_change_the_site(
    site_web: tuple[WebCem, SiteService, EmulatedMeter, Clock],
) -> None:
    web, site, _, _ = site_web
    before = site.config
    for role, read, write in ((Role.OWNER, 403, 403), (Role.VIEWER, 200, 403), (Role.OPERATOR, 200, 403)):
        token = await web.token(role)
        async with web.client(token) as client:
            assert (await client.get("/api/v1/site")).status_code == read
            assert (
                await client.put("/api/v1/site/failsafe", json={"failsafe_current_a": 0})
            ).status_code == write
    assert site.config is before
