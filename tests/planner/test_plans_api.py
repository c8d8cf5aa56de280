"""Ready-by plans through the web API against a real CEM and an emulated station over OCPP
(issue 12 items 1 and 4): create, change, delete, recurring, the result, the TxProfile it drives,
and bad input refused naming the field and the rule with nothing changed."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from web.support import WebCem, login, start_web_cem

from interface_b_harness import register, start_station, wait_for
from smartcharge.ocpp.domain import ProfilePurpose
from smartcharge.station.device import EV
from smartcharge.web.auth import CSRF_HEADER, Role

PASSWORDS: dict[str, str] = {}


@pytest.fixture
async def owner_web(sqlite_url: str) -> AsyncIterator[WebCem]:
    """A real CEM with its API; the first owner ("owner") owns cp-home, bob owns cp-other."""
    web = await start_web_cem(sqlite_url)
    assert web.services.plans is not None
    assert web.services.owners is not None
    for station_id, owner in (("cp-home", "owner"), ("cp-other", "bob")):
        PASSWORDS[station_id] = register(web.services.store, station_id)
        web.services.owners.assign(station_id, owner)  # the owner register the plans ask
    yield web
    await web.close()


@contextlib.asynccontextmanager
async def _owner_client(web: WebCem) -> AsyncIterator[httpx.AsyncClient]:
    """A client logged in as the first owner, carrying the session's CSRF token."""
    async with web.client() as client:
        assert web.owner_password is not None
        answer = await login(client, "owner", web.owner_password)
        assert answer.status_code == 200
        client.headers[CSRF_HEADER] = answer.json()["csrf_token"]
        yield client


def _iso(delta_h: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=delta_h)).isoformat()


@pytest.mark.integration
async def test_owner_plans_and_the_plan_drives_the_charge_point(owner_web: WebCem) -> None:
    web = owner_web
    password = PASSWORDS["cp-home"]
    station = start_station("cp-home", web.ocpp_url, password=password, start_s=time.time())
    try:
        await wait_for(
            lambda: (
                web.services.gateway.stations.get("cp-home") is not None
                and web.services.gateway.stations["cp-home"].link is not None
            ),
            15,
            "boot",
        )
        station.device.plug_in(EV(soc=0.2))
        await wait_for(
            lambda: web.services.gateway.stations["cp-home"].transaction_id is not None, 15, "session"
        )
        async with _owner_client(web) as client:
            recurring = await client.post(
                "/api/v1/charge-points/cp-home/plans",
                json={
                    "kind": "recurring",
                    "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                    "ready_by_local": "07:30",
                    "target_soc": 0.8,
                    "battery_kwh": 60,
                    "soc_now": 0.2,
                },
            )
            assert recurring.status_code == 201, recurring.text
            one_off = await client.post(
                "/api/v1/charge-points/cp-home/plans",
                json={"kind": "one_off", "ready_by": _iso(3), "target_kwh": 10},
            )
            assert one_off.status_code == 201, one_off.text
            listed = await client.get("/api/v1/charge-points/cp-home/plans")
            assert {p["kind"] for p in listed.json()} == {
                "recurring",
                "one_off",
            }  # the one-off did not replace it
            result = (await client.get("/api/v1/charge-points/cp-home/plan")).json()
            assert result["plan_id"] == one_off.json()["plan_id"]  # the earlier departure leads
            assert result["will_meet"] is True and result["shortfall_kwh"] == 0
            assert sum(s["energy_kwh"] for s in result["slots"]) == pytest.approx(10.0, rel=1e-6)
            assert all({"price_p_per_kwh", "carbon_g_per_kwh", "power_w"} <= set(s) for s in result["slots"])
            # Too much for three hours at 7.4 kW: said at once, with the shortfall.
            changed = await client.patch(
                f"/api/v1/plans/{one_off.json()['plan_id']}", json={"target_kwh": 40}
            )
            assert changed.status_code == 200
            tight = (await client.get("/api/v1/charge-points/cp-home/plan")).json()
            assert tight["will_meet"] is False
            assert tight["shortfall_kwh"] == pytest.approx(40 - tight["planned_kwh"], abs=1e-6)
            assert tight["planned_kwh"] == pytest.approx(7.4 * 3, rel=0.1)
            # The plan drives the station: a TxProfile for its transaction with the slot's power.
            await web.services.plans.drive()  # type: ignore[union-attr]
            await wait_for(
                lambda: any(p.purpose is ProfilePurpose.TX for p in station.device.charging_profiles()),
                10,
                "TxProfile",
            )
            deleted = await client.delete(f"/api/v1/plans/{one_off.json()['plan_id']}")
            assert deleted.status_code == 204
            after = (await client.get("/api/v1/charge-points/cp-home/plan")).json()
            assert after["plan_id"] == recurring.json()["plan_id"]  # the recurring plan is still there
    finally:
        await station.close()


@pytest.mark.parametrize(
    ("path", "body", "field", "rule"),
    [
        (
            "/api/v1/charge-points/cp-home/plans",
            {"kind": "one_off", "ready_by": "2020-01-01T07:00:00Z", "target_kwh": 5},
            "ready_by",
            "is in the past",
        ),
        (
            "/api/v1/charge-points/cp-home/plans",
            {"kind": "one_off", "ready_by": "+3h", "target_kwh": 70, "battery_kwh": 60},
            "target_kwh",
            "above the battery",
        ),
        (
            "/api/v1/charge-points/cp-other/plans",
            {"kind": "one_off", "ready_by": "+3h", "target_kwh": 5},
            "station_id",
            "no charge point of yours",
        ),
        (
            "/api/v1/charge-points/cp-home/plans",
            {"kind": "recurring", "weekdays": [], "ready_by_local": "07:30", "target_kwh": 5},
            "weekdays",
            "at least one",
        ),
    ],
)
async def test_bad_plan_is_refused_naming_the_field_and_nothing_changes(
    owner_web: WebCem, path: str, body: dict[str, object], field: str, rule: str
) -> None:
    if body.get("ready_by") == "+3h":
        body = {**body, "ready_by": _iso(3)}
    async with _owner_client(owner_web) as client:
        answer = await client.post(path, json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == field
        assert rule in answer.json()["errors"][0]["rule"]
        assert (await client.get("/api/v1/charge-points/cp-home/plans")).json() == []
    assert owner_web.services.plans.plans == {}  # type: ignore[union-attr]


async def test_plans_are_for_owners_only(owner_web: WebCem) -> None:
    token = await owner_web.token(Role.SITE_MANAGER)
    async with owner_web.client(token) as client:
        answer = await client.get("/api/v1/charge-points/cp-home/plans")
    assert answer.status_code == 403
