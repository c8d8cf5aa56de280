"""OCPP 1.6J Core, Local Auth List Management, Reservation and Remote Trigger profiles on the
emulated station, driven by the CEM over real websockets: ChangeAvailability, UnlockConnector,
TriggerMessage, SendLocalList / GetLocalListVersion, ClearCache, ReserveNow / CancelReservation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from core_harness import connected, send

from interface_b_harness import CemHandle, wait_for
from smartcharge.ocpp.domain import OcppVersion
from smartcharge.ocpp.domain import format_time as fmt
from smartcharge.station.ev import EV

pytestmark = pytest.mark.integration
V16 = OcppVersion.V16


async def test_16_station_answers_the_core_commands(cem: CemHandle) -> None:
    cem.gateway.id_tokens.add("TAG-1")
    station, link = await connected(cem, version=V16)
    assert (
        await send(link, "ChangeAvailability", V16, connectorId=1, type="Inoperative")
    ).status == "Accepted"
    await wait_for(lambda: cem.gateway.stations["CP1"].connectors.get((1, 1)) == "Unavailable")
    assert (await send(link, "ChangeAvailability", V16, connectorId=0, type="Operative")).status == "Accepted"
    assert (await send(link, "UnlockConnector", V16, connectorId=1)).status == "Unlocked"
    assert (await send(link, "UnlockConnector", V16, connectorId=2)).status == "NotSupported"
    for message in ("Heartbeat", "StatusNotification", "MeterValues"):
        assert (await send(link, "TriggerMessage", V16, requestedMessage=message)).status == "Accepted"
    assert (await send(link, "TriggerMessage", V16, requestedMessage="BootNotification")).status == "Rejected"
    entries = [{"idTag": "LOCAL-1", "idTagInfo": {"status": "Accepted"}}]
    sent = await send(
        link, "SendLocalList", V16, listVersion=3, updateType="Full", localAuthorizationList=entries
    )
    assert sent.status == "Accepted"
    assert (await send(link, "GetLocalListVersion", V16)).list_version == 3
    await station.runner.authorize("TAG-1")
    assert (await send(link, "ClearCache", V16)).status == "Accepted" and station.device.auth.cache == {}
    expiry = fmt(datetime.fromtimestamp(station.clock.now_s(), UTC) + timedelta(hours=1))
    reserved = await send(
        link, "ReserveNow", V16, connectorId=1, expiryDate=expiry, idTag="TAG-1", reservationId=7
    )
    assert reserved.status == "Accepted"
    assert (await send(link, "CancelReservation", V16, reservationId=7)).status == "Accepted"
    station.device.plug_in(EV(soc=0.5))
    busy = await send(
        link, "ReserveNow", V16, connectorId=1, expiryDate=expiry, idTag="TAG-1", reservationId=8
    )
    assert busy.status == "Occupied"
    await station.close()
