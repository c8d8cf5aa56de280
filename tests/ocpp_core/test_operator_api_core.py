"""The operator API for the OCPP core over real HTTP, with a real station over real websockets:
id tokens (CRUD; operator changes, viewer reads), boot status per station, the connector status,
device model, reservations and NotifyEvents the station reported. Bad input: 422 naming the
field; unknown station or token: 404; a viewer cannot change anything: 403."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from core_harness import send
from web.support import WebCem, start_web_cem

from interface_b_harness import register, start_station, wait_for
from smartcharge.station.ev import EV

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite_url", "pg_url"])
async def web_cem(request: pytest.FixtureRequest) -> AsyncIterator[WebCem]:
    handle = await start_web_cem(request.getfixturevalue(request.param))
    yield handle
    await handle.close()


async def test_id_tokens_through_http(web_cem: WebCem) -> None:
    operator, viewer = await web_cem.token("operator"), await web_cem.token("viewer")
    async with web_cem.client(operator) as op, web_cem.client(viewer) as view:
        created = await op.post("/api/v1/id-tokens", json={"id_token": "CARD-1", "group_id_token": "FLEET"})
        assert created.status_code == 201 and created.json()["status"] == "Accepted"
        bad = await op.post("/api/v1/id-tokens", json={"id_token": "CARD-2", "status": "Maybe"})
        assert bad.status_code == 422 and "status" in bad.text
        offset_less = await op.post(
            "/api/v1/id-tokens", json={"id_token": "CARD-3", "expires_at": "2027-01-01T00:00:00"}
        )
        assert offset_less.status_code == 422 and "expires_at" in offset_less.text
        assert (await view.post("/api/v1/id-tokens", json={"id_token": "X"})).status_code == 403
        assert [t["id_token"] for t in (await view.get("/api/v1/id-tokens")).json()] == ["CARD-1"]
        blocked = await op.patch("/api/v1/id-tokens/CARD-1", json={"status": "Blocked"})
        assert blocked.json()["status"] == "Blocked"
        assert web_cem.services.gateway.id_tokens.check("CARD-1").status == "Blocked"
        assert (await op.get("/api/v1/id-tokens/NOPE")).status_code == 404
        assert (await op.delete("/api/v1/id-tokens/CARD-1")).status_code == 204
        assert (await op.delete("/api/v1/id-tokens/CARD-1")).status_code == 404
    async with web_cem.client() as anonymous:
        assert (await anonymous.get("/api/v1/id-tokens")).status_code == 401


async def test_boot_status_and_station_reports_through_http(web_cem: WebCem) -> None:
    store = web_cem.services.store
    password = register(store, "API1")  # type: ignore[arg-type]
    operator, viewer = await web_cem.token("operator"), await web_cem.token("viewer")
    async with web_cem.client(operator) as op, web_cem.client(viewer) as view:
        assert (await view.get("/api/v1/stations/API1/boot-status")).json() == {"status": "Accepted"}
        assert (await op.put("/api/v1/stations/API1/boot-status", json={"status": "Hold"})).status_code == 422
        assert (
            await op.put("/api/v1/stations/NOPE/boot-status", json={"status": "Pending"})
        ).status_code == 404
        assert (
            await view.put("/api/v1/stations/API1/boot-status", json={"status": "Pending"})
        ).status_code == 403
        station = start_station("API1", web_cem.ocpp_url, password=password)
        await wait_for(lambda: station.runner.connected.is_set(), what="boot")
        link = web_cem.services.gateway.stations["API1"].link
        await send(link, "GetBaseReport", requestId=3, reportBase="FullInventory")
        station.device.plug_in(EV(soc=0.5))
        await wait_for(lambda: web_cem.services.gateway.reports.notices("API1", "NotifyEvent"), what="event")
        await wait_for(lambda: web_cem.services.gateway.reports.connectors("API1"), what="connector")
        status = (await view.get("/api/v1/stations/API1/ocpp-status")).json()
        assert status["connected"] is True and status["last_boot_answer"] == "Accepted"
        assert status["connectors"][0]["status"] in ("Available", "Occupied")
        await wait_for(lambda: len(web_cem.services.gateway.reports.device_model("API1")) > 10, what="model")
        model = (await view.get("/api/v1/stations/API1/device-model")).json()
        assert any(v["component"] == "RandomisedDelay" for v in model)
        events = (await view.get("/api/v1/stations/API1/notices", params={"action": "NotifyEvent"})).json()
        assert events[-1]["payload"]["actualValue"] == "Occupied"
        assert (await view.get("/api/v1/stations/API1/reservations")).json() == []
        put = await op.put("/api/v1/stations/API1/boot-status", json={"status": "Pending"})
        assert put.json() == {"status": "Pending"}
        assert web_cem.services.gateway.reports.boot_status("API1") == "Pending"
        await station.close()
