"""CustomerInformation / NotifyCustomerInformation (OCPP 2.0.1 N09, N10) tied to the owner's data
export and erasure (PRIV-6), over real HTTP (the owner API) and real websockets (real stations):
the export includes what every connected 2.0.1 station holds about the id tokens of the owner's
sessions (report=true, parts assembled); erasure has every such station clear it (clear=true),
also a station that is not the owner's but cached his token. A 1.6 station is not asked (1.6 has
no CustomerInformation). A request naming no customer is Invalid.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from web.support import WebCem, login, start_web_cem

from interface_b_harness import StationHandle, register, start_station, wait_for
from smartcharge.ocpp.domain import OcppVersion, format_time
from smartcharge.station.ev import EV

pytestmark = pytest.mark.integration
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
async def web(sqlite_url: str) -> AsyncIterator[WebCem]:
    handle = await start_web_cem(sqlite_url)
    yield handle
    await handle.close()


async def _station(web: WebCem, station_id: str, version: OcppVersion = OcppVersion.V201) -> StationHandle:
    password = register(web.services.store, station_id)  # type: ignore[arg-type]
    station = start_station(station_id, web.ocpp_url, version, password)
    await wait_for(lambda: station.runner.connected.is_set(), what=f"{station_id} connected")
    await wait_for(lambda: station_id in web.services.ocpp.sessions, what="CEM link")
    return station


async def test_export_reports_and_erase_clears_what_stations_hold(web: WebCem) -> None:
    web.services.gateway.id_tokens.add("CARD-O")
    own, other = await _station(web, "OWN-1"), await _station(web, "OTHER-1")
    old = await _station(web, "OLD-16", OcppVersion.V16)
    await asyncio.to_thread(web.services.owners.assign, "OWN-1", "owner")  # type: ignore[union-attr]

    # The owner charges at his own station with his card: a stored session with his token.
    assert (await own.runner.present_token("CARD-O", EV(soc=0.5))).accepted
    await wait_for(lambda: web.services.store.sessions.sessions("OWN-1", EPOCH), what="session stored")
    own.device.unplug()
    await wait_for(
        lambda: web.services.store.sessions.sessions("OWN-1", EPOCH)[0].stopped_at is not None, what="ended"
    )
    # Another station knows his card too: cache, local list, a reservation.
    assert (await other.runner.authorize("CARD-O")).accepted
    operator = await web.token("operator")
    async with web.client(operator) as op:
        entry = {"idToken": {"idToken": "CARD-O", "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}}
        sent = await op.post(
            "/api/v1/stations/OTHER-1/ocpp/SendLocalList",
            json={"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [entry]},
        )
        assert sent.json()["payload"]["status"] == "Accepted"
        station_now = datetime.fromtimestamp(other.clock.now_s(), UTC)
        reserve = {
            "id": 5,
            "expiryDateTime": format_time(station_now + timedelta(hours=1)),
            "idToken": {"idToken": "CARD-O", "type": "ISO14443"},
        }
        assert (await op.post("/api/v1/stations/OTHER-1/ocpp/ReserveNow", json=reserve)).json()[
            "payload"
        ] == {"status": "Accepted"}
        # Refusals: a request naming no customer, or asking for nothing, is Invalid.
        nameless = {"requestId": 90, "report": True, "clear": False}
        answer = await op.post("/api/v1/stations/OTHER-1/ocpp/CustomerInformation", json=nameless)
        assert answer.json()["payload"]["status"] == "Invalid"
        idle = {**nameless, "report": False, "idToken": {"idToken": "CARD-O", "type": "ISO14443"}}
        answer = await op.post("/api/v1/stations/OTHER-1/ocpp/CustomerInformation", json=idle)
        assert answer.json()["payload"]["status"] == "Invalid"
        assert other.device.auth.local_list  # nothing cleared by a refused request

    async with web.client() as owner:
        logged = await login(owner, "owner", web.owner_password or "")
        owner.headers["X-CSRF-Token"] = logged.json()["csrf_token"]
        exported = (await owner.get("/api/v1/owner/data/export")).json()
        by_station = {s["station_id"]: s for s in exported["stations"]}
        assert sorted(by_station) == ["OTHER-1", "OWN-1"]  # the 1.6 station is not asked
        assert by_station["OWN-1"]["status"] == "Accepted" and by_station["OWN-1"]["id_token"] == "CARD-O"
        assert by_station["OWN-1"]["lines"] == ["authorization cache: CARD-O Accepted"]
        other_lines = by_station["OTHER-1"]["lines"]
        assert other_lines[:2] == ["local list: CARD-O Accepted", "authorization cache: CARD-O Accepted"]
        assert other_lines[2].startswith("reservation 5: CARD-O until ")
        assert other.device.auth.local_list  # a report clears nothing

        erased = await owner.post("/api/v1/owner/data/erase", json={"confirm": True})
        assert erased.status_code == 200, erased.text
        assert erased.json()["rows_deleted"]["OWN-1"] > 0
        assert sorted((s["station_id"], s["status"]) for s in erased.json()["stations"]) == [
            ("OTHER-1", "Accepted"),
            ("OWN-1", "Accepted"),
        ]
        await wait_for(lambda: not other.device.auth.local_list, what="OTHER-1 cleared")
        await wait_for(lambda: not own.device.auth.cache, what="OWN-1 cleared")
        assert other.device.auth.cache == {} and other.device.reservations == {}
        assert (await owner.get("/api/v1/owner/data/export")).json()["stations"] == []  # nothing left
    cleared = [
        e for e in web.services.store.security.recent(50, None) if e.event_type == "CustomerDataCleared"
    ]
    assert sorted(e.station_id for e in cleared) == ["OTHER-1", "OWN-1"]
    for station in (own, other, old):
        await station.close()


async def test_cli_erase_has_the_running_cem_clear_the_stations(web: WebCem) -> None:
    """``smartcharge cem erase --station S --token T``: the sessions go from the store, then the
    running CEM has every connected 2.0.1 station clear their id tokens; bad input refused."""
    from typer.testing import CliRunner

    from smartcharge.cli.main import app

    web.services.gateway.id_tokens.add("CARD-C")
    home, away = await _station(web, "HOME-1"), await _station(web, "AWAY-1")
    assert (await home.runner.present_token("CARD-C", EV(soc=0.5))).accepted
    await wait_for(lambda: web.services.store.sessions.sessions("HOME-1", EPOCH), what="session stored")
    home.device.unplug()
    await wait_for(lambda: web.services.store.sessions.sessions("HOME-1", EPOCH)[0].stopped_at, what="ended")
    assert (await away.runner.authorize("CARD-C")).accepted
    token = await web.token("operator")
    args = ["cem", "erase", "--station", "HOME-1", "--db", web.database_url, "--api", web.base_url]
    result = await asyncio.to_thread(CliRunner().invoke, app, [*args, "--token", token])
    assert result.exit_code == 0, result.output
    assert "clear CARD-C at AWAY-1: Accepted" in result.output
    assert "clear CARD-C at HOME-1: Accepted" in result.output
    await wait_for(lambda: not away.device.auth.cache and not home.device.auth.cache, what="caches cleared")
    assert web.services.store.sessions.sessions("HOME-1", EPOCH) == []

    viewer = await web.token("viewer")
    async with web.client(token) as op, web.client(viewer) as view:
        nothing = await op.post("/api/v1/customer-information", json={"id_tokens": ["CARD-C"]})
        assert nothing.status_code == 422 and "report" in nothing.text
        empty = await op.post("/api/v1/customer-information", json={"id_tokens": [], "clear": True})
        assert empty.status_code == 422 and "id_tokens" in empty.text
        denied = await view.post("/api/v1/customer-information", json={"id_tokens": ["X"], "clear": True})
        assert denied.status_code == 403
        reported = await op.post(
            "/api/v1/customer-information", json={"id_tokens": ["CARD-C"], "report": True}
        )
        assert {(a["station_id"], tuple(a["lines"])) for a in reported.json()} == {
            ("AWAY-1", ("no data held for this customer",)),
            ("HOME-1", ("no data held for this customer",)),
        }
    # A wrong operator token: erased here, the CEM refuses the clearing, one line, exit 2.
    assert (await home.runner.present_token("CARD-C", EV(soc=0.5))).accepted
    await wait_for(lambda: web.services.store.sessions.sessions("HOME-1", EPOCH), what="second session")
    home.device.unplug()
    await wait_for(lambda: web.services.store.sessions.sessions("HOME-1", EPOCH)[0].stopped_at, what="ended")
    refused = await asyncio.to_thread(CliRunner().invoke, app, [*args, "--token", "sct_wrong_token"])
    assert refused.exit_code == 2 and "refused (401)" in refused.output
    assert "rows erased" in refused.output and "Traceback" not in refused.output
    assert home.device.auth.cache  # not cleared: the CEM refused the call
    for station in (home, away):
        await station.close()


async def test_the_cem_assembles_parts_from_an_independent_station(web: WebCem) -> None:
    """NotifyCustomerInformation in three parts, split mid-line, from a charge point scripted on
    plain websockets: the CEM joins them in order; parts that never finish are NoReport."""
    import json

    from web.support import RawStation

    password = register(web.services.store, "RAW1")  # type: ignore[arg-type]
    raw = RawStation(web.ocpp_url, "RAW1", password)
    await raw.start()
    await wait_for(lambda: "RAW1" in web.services.ocpp.sessions, what="raw link")
    security = web.services.gateway.security

    async def ask(timeout_s: float) -> asyncio.Task[object]:
        task = asyncio.create_task(
            security.customer_information("RAW1", "CARD-R", report=True, clear=False, timeout_s=timeout_s)
        )
        before = len(raw.calls())
        await wait_for(lambda: len(raw.calls()) > before, what="CustomerInformation at the station")
        return task

    async def part(request_id: int, seq_no: int, data: str, tbc: bool) -> None:
        payload = {
            "data": data,
            "seqNo": seq_no,
            "generatedAt": format_time(datetime.now(UTC)),
            "requestId": request_id,
            "tbc": tbc,
        }
        await raw._connection.send(
            json.dumps([2, f"p{request_id}-{seq_no}", "NotifyCustomerInformation", payload])
        )

    task = await ask(10.0)
    action, payload = raw.calls()[-1][2], raw.calls()[-1][3]
    assert action == "CustomerInformation" and payload["idToken"]["idToken"] == "CARD-R"
    request_id = payload["requestId"]
    await part(request_id, 0, "local list: CARD-R Acc", True)
    await part(request_id, 1, "epted\nauthorization cache: CA", True)
    await part(request_id, 2, "RD-R Accepted", False)
    answer = await task
    assert answer.status == "Accepted"  # type: ignore[attr-defined]
    assert answer.lines == ["local list: CARD-R Accepted", "authorization cache: CARD-R Accepted"]  # type: ignore[attr-defined]

    unfinished = await ask(2.0)
    await part(raw.calls()[-1][3]["requestId"], 0, "local list: CARD-R", True)  # no last part follows
    answer = await unfinished
    assert answer.status == "NoReport"  # type: ignore[attr-defined]
    assert answer.lines in ([], ["local list: CARD-R"])  # type: ignore[attr-defined]  # what came in time
    await raw.close()
