"""OCPP 1.6J Local Auth List Management on both ends, through the operator API over real HTTP and
a real 1.6 station over real websockets (1.6 sections 5.15 SendLocalList, 5.10
GetLocalListVersion; 2.0.1 D01/D02 for the same store-built list).

The CEM builds the list from its id-token store (``POST /api/v1/stations/{id}/local-list``) or an
operator sends it as given (``POST /api/v1/stations/{id}/ocpp/SendLocalList``); the station keeps
it and authorizes from it, and from its cache, while offline. Every refusal is shown: Failed,
VersionMismatch, NotSupported at the station; 404, 409, 422 at the API, nothing sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from web.support import WebCem, start_web_cem

from interface_b_harness import StationHandle, register, start_station, wait_for
from smartcharge.ocpp.domain import OcppVersion

pytestmark = pytest.mark.integration
LONG = "TOKEN-LONGER-THAN-20-CHARS"


@pytest.fixture
async def web(sqlite_url: str) -> AsyncIterator[WebCem]:
    handle = await start_web_cem(sqlite_url)
    yield handle
    await handle.close()


async def _station(web: WebCem, station_id: str, version: OcppVersion) -> StationHandle:
    password = register(web.services.store, station_id)  # type: ignore[arg-type]
    station = start_station(station_id, web.ocpp_url, version, password)
    await wait_for(lambda: station.runner.connected.is_set(), what=f"{station_id} connected")
    await wait_for(lambda: station_id in web.services.ocpp.sessions, what="CEM link")
    return station


async def test_full_and_differential_lists_from_the_store_and_offline_use(web: WebCem) -> None:
    station = await _station(web, "L16", OcppVersion.V16)
    operator = await web.token("operator")
    async with web.client(operator) as op:
        for body in (
            {"id_token": "CARD-1"},
            {"id_token": "CARD-2", "status": "Blocked"},
            {"id_token": "CACHED-1"},
            {"id_token": LONG},
        ):
            assert (await op.post("/api/v1/id-tokens", json=body)).status_code == 201
        full = await op.post("/api/v1/stations/L16/local-list", json={"update_type": "Full"})
        assert full.status_code == 200, full.text
        assert full.json() == {
            "version": 1,
            "update_type": "Full",
            "status": "Accepted",
            "entries": 3,
            "left_out": [LONG],  # a 1.6 idTag is at most 20 characters: never cut to another token
        }
        held = station.device.auth.local_list
        assert {k: v.status for k, v in held.items()} == {
            "card-1": "Accepted",
            "card-2": "Blocked",
            "cached-1": "Accepted",
        }
        raw = await op.post("/api/v1/stations/L16/ocpp/GetLocalListVersion", json={})
        assert raw.json()["payload"] == {"listVersion": 1}

        # Differential: CARD-2 leaves the store (removed from the list), CARD-3 joins it.
        assert (await op.delete("/api/v1/id-tokens/CARD-2")).status_code == 204
        assert (await op.post("/api/v1/id-tokens", json={"id_token": "CARD-3"})).status_code == 201
        assert (await op.delete("/api/v1/id-tokens/CACHED-1")).status_code == 204
        diff = await op.post(
            "/api/v1/stations/L16/local-list",
            json={"update_type": "Differential", "id_tokens": ["CARD-2", "CARD-3", "CACHED-1"]},
        )
        assert diff.json()["status"] == "Accepted" and diff.json()["version"] == 2
        assert sorted(station.device.auth.local_list) == ["card-1", "card-3"]
        # CACHED-1 is back in the store, but only in the station's cache (an online Authorize).
        assert (await op.post("/api/v1/id-tokens", json={"id_token": "CACHED-1"})).status_code == 201
    assert (await station.runner.authorize("CACHED-1")).status == "Accepted"

    await web.close()  # the CEM goes away: the station decides alone
    await wait_for(lambda: not station.runner.connected.is_set(), what="link down")
    assert (await station.runner.authorize("CARD-1")).status == "Accepted"  # local list
    assert (await station.runner.authorize("CARD-3")).status == "Accepted"
    assert (await station.runner.authorize("CACHED-1")).status == "Accepted"  # cache
    assert not (await station.runner.authorize("CARD-2")).accepted  # removed by the differential
    assert not (await station.runner.authorize("NOBODY")).accepted
    await station.close()


async def test_station_refusals_of_a_local_list(web: WebCem) -> None:
    station = await _station(web, "R16", OcppVersion.V16)
    operator = await web.token("operator")
    entry = {"idTag": "CARD-9", "idTagInfo": {"status": "Accepted"}}

    async def send(action: str, payload: dict[str, object]) -> dict[str, object]:
        answer = await op.post(f"/api/v1/stations/R16/ocpp/{action}", json=payload)
        assert answer.status_code == 200, answer.text
        return answer.json()["payload"]  # type: ignore[no-any-return]

    async with web.client(operator) as op:
        full = {"listVersion": 5, "updateType": "Full", "localAuthorizationList": [entry]}
        assert await send("SendLocalList", full) == {"status": "Accepted"}
        stale = {"listVersion": 5, "updateType": "Differential", "localAuthorizationList": [entry]}
        assert await send("SendLocalList", stale) == {"status": "VersionMismatch"}
        no_info = {"listVersion": 6, "updateType": "Full", "localAuthorizationList": [{"idTag": "X-1"}]}
        assert await send("SendLocalList", no_info) == {"status": "Failed"}
        twice = {"listVersion": 6, "updateType": "Differential", "localAuthorizationList": [entry, entry]}
        assert await send("SendLocalList", twice) == {"status": "Failed"}
        assert sorted(station.device.auth.local_list) == ["card-9"]  # nothing changed by a refusal
        assert await send("GetLocalListVersion", {}) == {"listVersion": 5}

        disable = {"key": "LocalAuthListCtrlr.Enabled", "value": "false"}
        assert await send("ChangeConfiguration", disable) == {"status": "Accepted"}
        assert await send("GetLocalListVersion", {}) == {"listVersion": -1}
        again = {"listVersion": 7, "updateType": "Full", "localAuthorizationList": [entry]}
        assert await send("SendLocalList", again) == {"status": "NotSupported"}
        from_store = await op.post("/api/v1/stations/R16/local-list", json={"update_type": "Full"})
        assert from_store.json()["status"] == "NotSupported" and from_store.json()["version"] == -1

        # API refusals: nothing sent.
        bad = await op.post("/api/v1/stations/R16/local-list", json={"update_type": "Partial"})
        assert bad.status_code == 422 and "update_type" in bad.text
        no_names = await op.post("/api/v1/stations/R16/local-list", json={"update_type": "Differential"})
        assert no_names.status_code == 422 and "id_tokens" in no_names.text
        assert (await op.post("/api/v1/stations/NOPE/local-list", json={})).status_code == 404
        register(web.services.store, "OFF1")  # type: ignore[arg-type]
        offline = await op.post("/api/v1/stations/OFF1/local-list", json={})
        assert offline.status_code == 409 and "not connected" in offline.text
        negative = {"listVersion": 0, "updateType": "Full"}
        enable = {"key": "LocalAuthListEnabled", "value": "true"}  # the 1.6 standard key (9.2)
        assert await send("ChangeConfiguration", enable) == {"status": "Accepted"}
        config = await send("GetConfiguration", {"key": ["LocalAuthListEnabled", "SendLocalListMaxLength"]})
        assert [(k["key"], k["value"]) for k in config["configurationKey"]] == [
            ("LocalAuthListEnabled", "true"),
            ("SendLocalListMaxLength", "250"),
        ]
        bad_value = {"key": "LocalAuthListEnabled", "value": "maybe"}
        assert await send("ChangeConfiguration", bad_value) == {"status": "Rejected"}
        assert await send("SendLocalList", negative) == {"status": "Failed"}  # versions start at 1
    viewer = await web.token("viewer")
    async with web.client(viewer) as view:
        assert (await view.post("/api/v1/stations/R16/local-list", json={})).status_code == 403
    await station.close()


async def test_the_same_store_built_list_at_201(web: WebCem) -> None:
    station = await _station(web, "L201", OcppVersion.V201)
    web.services.gateway.id_tokens.add("CARD-1", group_id_token="FLEET")
    web.services.gateway.id_tokens.add("FLEET")
    web.services.gateway.id_tokens.add(LONG)  # fits a 2.0.1 idToken (36)
    operator = await web.token("operator")
    async with web.client(operator) as op:
        full = await op.post("/api/v1/stations/L201/local-list", json={"update_type": "Full"})
        assert full.json()["status"] == "Accepted" and full.json()["entries"] == 3
        assert full.json()["left_out"] == []
    assert station.device.auth.local_list["card-1"].group_id_token == "FLEET"
    assert station.device.auth.version == 1
    await station.close()
