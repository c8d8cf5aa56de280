"""Reservations on both ends, both versions, through the operator API over real HTTP and a real
station over real websockets: OCPP 1.6 Reservation profile (ReserveNow with connectorId,
expiryDate, idTag, parentIdTag, reservationId; CancelReservation; the five ReservationStatus
answers) and 2.0.1 H01-H04 (ReserveNow, CancelReservation, ReservationStatusUpdate Expired and
Removed). The CEM records each reservation from the raw call's answer, shows it in the station's
read endpoint, and keeps it across a restart. The reserved connector refuses other tokens and
admits the reserving token and its group.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from web.support import WebCem, start_web_cem

from interface_b_harness import StationHandle, register, start_station, wait_for
from smartcharge.ocpp.domain import OcppVersion, format_time
from smartcharge.station.ev import EV

pytestmark = pytest.mark.integration


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


@pytest.fixture(params=["sqlite_url", "pg_url"])
async def web_db(request: pytest.FixtureRequest) -> AsyncIterator[WebCem]:
    """The same CEM on SQLite and on PostgreSQL (the reservation record is in the store)."""
    handle = await start_web_cem(request.getfixturevalue(request.param))
    yield handle
    await handle.close()


def _tokens(web: WebCem) -> None:
    tokens = web.services.gateway.id_tokens
    tokens.add("FLEET")
    tokens.add("RES-1", group_id_token="FLEET")
    tokens.add("MEMBER-1", group_id_token="FLEET")
    tokens.add("OTHER-1")


def _later(hours: float = 1.0) -> str:
    return format_time(datetime.now(UTC) + timedelta(hours=hours))


async def test_16_reservation_profile(web: WebCem, sqlite_url: str) -> None:
    _tokens(web)
    station = await _station(web, "R16", OcppVersion.V16)
    operator, viewer = await web.token("operator"), await web.token("viewer")

    async def reserve(**payload: Any) -> str:
        answer = await op.post("/api/v1/stations/R16/ocpp/ReserveNow", json=payload)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["payload"]["status"])

    base = {"connectorId": 1, "expiryDate": _later(), "idTag": "RES-1", "parentIdTag": "FLEET"}
    async with web.client(operator) as op, web.client(viewer) as view:
        assert await reserve(**base, reservationId=11) == "Accepted"
        assert await reserve(**base, reservationId=12) == "Occupied"  # one connector, one reservation
        assert await reserve(**{**base, "connectorId": 2}, reservationId=13) == "Rejected"
        status = (await view.get("/api/v1/stations/R16/ocpp-status")).json()
        by_id = {r["reservation_id"]: r for r in status["reservations"]}
        assert by_id[11]["status"] == "Accepted" and by_id[11]["id_token"] == "RES-1"
        assert by_id[11]["evse_id"] == 1 and by_id[12]["status"] == "Occupied"
        assert by_id[13]["status"] == "Rejected"

        # The reserved connector: another token is refused, one of the reserving group admitted.
        assert not (await station.runner.present_token("OTHER-1", EV(soc=0.5))).accepted
        assert station.device.transaction_id is None
        assert (await station.runner.present_token("MEMBER-1", EV(soc=0.5))).accepted
        assert station.device.reservations == {}  # used up by the session it admitted
        assert await reserve(**base, reservationId=14) == "Occupied"  # a session is running
        station.device.unplug()
        assert await reserve(**base, reservationId=21) == "Accepted"
        assert await reserve(**{**base, "connectorId": 2}, reservationId=21) == "Rejected"
        kept = {r.reservation_id: r.status for r in web.services.gateway.reports.reservations("R16")}
        assert kept[21] == "Accepted" and 21 in station.device.reservations  # the refusal changed nothing
        assert (
            await op.post("/api/v1/stations/R16/ocpp/CancelReservation", json={"reservationId": 21})
        ).json()["payload"] == {"status": "Accepted"}

        inoperative = {"connectorId": 0, "type": "Inoperative"}
        await op.post("/api/v1/stations/R16/ocpp/ChangeAvailability", json=inoperative)
        assert await reserve(**base, reservationId=15) == "Unavailable"
        operative = {"connectorId": 0, "type": "Operative"}
        await op.post("/api/v1/stations/R16/ocpp/ChangeAvailability", json=operative)
        station.device.faulted = True
        assert await reserve(**base, reservationId=16) == "Faulted"
        station.device.faulted = False

        assert await reserve(**base, reservationId=17) == "Accepted"
        cancel = await op.post("/api/v1/stations/R16/ocpp/CancelReservation", json={"reservationId": 17})
        assert cancel.json()["payload"] == {"status": "Accepted"}
        again = await op.post("/api/v1/stations/R16/ocpp/CancelReservation", json={"reservationId": 17})
        assert again.json()["payload"] == {"status": "Rejected"}  # no such reservation held

        # 1.6 has no ReservationStatusUpdate: the station drops it at its expiry, the CEM shows it
        # Expired once the expiry has passed.
        station_now = datetime.fromtimestamp(station.clock.now_s(), UTC)
        soon = format_time(station_now + timedelta(seconds=2))
        assert await reserve(**{**base, "expiryDate": soon}, reservationId=18) == "Accepted"
        await wait_for(lambda: station.device.reservations == {}, what="expired at the station")
        garbled = await op.post(
            "/api/v1/stations/R16/ocpp/ReserveNow",
            json={**base, "expiryDate": "tomorrow", "reservationId": 20},
        )
        assert garbled.status_code == 422 and "expiryDate" in garbled.text  # refused before sending
        gone = format_time(station_now - timedelta(seconds=1))
        assert await reserve(**{**base, "expiryDate": gone}, reservationId=19) == "Rejected"
        listed = {
            r["reservation_id"]: r["status"]
            for r in (await view.get("/api/v1/stations/R16/reservations")).json()
        }
        assert listed[17] == "Cancelled" and listed[18] == "Expired"
        assert (listed[14], listed[15], listed[16], listed[19]) == (
            "Occupied",
            "Unavailable",
            "Faulted",
            "Rejected",
        )

    await station.close()
    await web.close()
    restarted = await start_web_cem(sqlite_url)  # the record is in the store, not in memory
    try:
        async with restarted.client(await restarted.token("viewer")) as view:
            kept = (await view.get("/api/v1/stations/R16/reservations")).json()
        assert {r["reservation_id"]: r["status"] for r in kept}[11] == "Accepted"
        assert {r["reservation_id"]: r["status"] for r in kept}[17] == "Cancelled"
    finally:
        await restarted.close()


async def test_201_reservations_expire_and_are_removed(web_db: WebCem) -> None:
    web = web_db
    _tokens(web)
    station = await _station(web, "R201", OcppVersion.V201)
    operator = await web.token("operator")
    station_now = datetime.fromtimestamp(station.clock.now_s(), UTC)
    token = {"idToken": "RES-1", "type": "ISO14443"}
    group = {"idToken": "FLEET", "type": "Central"}

    async def call(action: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = await op.post(f"/api/v1/stations/R201/ocpp/{action}", json=payload)
        assert answer.status_code == 200, answer.text
        return answer.json()["payload"]  # type: ignore[no-any-return]

    def recorded() -> dict[int, str]:
        return {r.reservation_id: r.status for r in web.services.gateway.reports.reservations("R201")}

    async with web.client(operator) as op:
        soon = format_time(station_now + timedelta(seconds=2))
        reserve = {"id": 1, "expiryDateTime": soon, "idToken": token, "groupIdToken": group, "evseId": 1}
        assert await call("ReserveNow", reserve) == {"status": "Accepted"}
        await wait_for(lambda: recorded().get(1) == "Expired", what="ReservationStatusUpdate Expired")

        far = format_time(station_now + timedelta(hours=1))
        assert await call("ReserveNow", {**reserve, "id": 2, "expiryDateTime": far}) == {"status": "Accepted"}
        assert not (await station.runner.present_token("OTHER-1", EV(soc=0.5))).accepted
        await call("ChangeAvailability", {"operationalStatus": "Inoperative"})
        await wait_for(lambda: recorded().get(2) == "Removed", what="ReservationStatusUpdate Removed")
        assert station.device.reservations == {}
        await call("ChangeAvailability", {"operationalStatus": "Operative"})

        assert await call("ReserveNow", {**reserve, "id": 3, "expiryDateTime": far}) == {"status": "Accepted"}
        assert await call("ReserveNow", {**reserve, "id": 4, "evseId": 2}) == {"status": "Rejected"}
        assert (await station.runner.present_token("MEMBER-1", EV(soc=0.5))).accepted  # its group
        assert recorded()[3] == "Accepted" and recorded()[4] == "Rejected"
        station.device.unplug()
        assert await call("CancelReservation", {"reservationId": 3}) == {"status": "Rejected"}  # used
    await station.close()
