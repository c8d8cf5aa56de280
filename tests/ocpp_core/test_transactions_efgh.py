"""OCPP 2.0.1 blocks E, F, G, H over real websockets: GetTransactionStatus (E14),
RequestStartTransaction with a charging profile (F01/F02) and RequestStopTransaction (F03),
TriggerMessage for every trigger the station supports (F06), UnlockConnector (F05),
ChangeAvailability for the station and one EVSE (G03/G04), connector status (G01) and
NotifyEvent (G05, N07) kept, ReserveNow / CancelReservation / ReservationStatusUpdate (H01, H02, H04)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from core_harness import connected, send

from interface_b_harness import CemHandle, wait_for
from smartcharge.ocpp.domain import OcppVersion, ProfilePurpose
from smartcharge.ocpp.domain import format_time as fmt
from smartcharge.ocpp.v201 import TRIGGERS
from smartcharge.station.ev import EV

pytestmark = pytest.mark.integration


async def test_remote_start_with_profile_status_and_stop(cem: CemHandle) -> None:
    cem.gateway.id_tokens.add("APP-1")
    station, link = await connected(cem)
    profile = {
        "id": 55,
        "stackLevel": 2,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}]}
        ],
    }
    answer = await send(
        link,
        "RequestStartTransaction",
        idToken={"idToken": "APP-1", "type": "Central"},
        remoteStartId=9,
        chargingProfile=profile,
    )
    assert answer.status == "Accepted"
    await wait_for(lambda: station.device.transaction_id is not None, what="remote start")
    tx = station.device.transaction_id
    held = {p.profile_id: p for p in station.device.charging_profiles()}
    assert held[55].purpose is ProfilePurpose.TX and held[55].transaction_id == tx
    assert held[55].limit_w == pytest.approx(2300.0)  # 10 A on one phase at 230 V
    status = await send(link, "GetTransactionStatus", transactionId=tx)
    assert status.ongoing_indicator is True
    assert (await send(link, "RequestStopTransaction", transactionId=tx)).status == "Accepted"
    await wait_for(lambda: station.device.transaction_id is None, what="remote stop")
    await wait_for(lambda: not station.device.outbox)
    after = await send(link, "GetTransactionStatus", transactionId=tx)
    assert after.ongoing_indicator is False and after.messages_in_queue is False
    await station.close()


async def test_remote_start_with_a_blocked_token_does_not_charge(cem: CemHandle) -> None:
    cem.gateway.id_tokens.add("APP-X", status="Blocked")
    station, link = await connected(cem)
    answer = await send(
        link, "RequestStartTransaction", idToken={"idToken": "APP-X", "type": "Central"}, remoteStartId=1
    )
    assert answer.status == "Accepted"  # F01: the station then authorizes the token
    await wait_for(lambda: "app-x" in station.device.auth.cache, what="authorized")
    assert station.device.auth.cache["app-x"].status == "Blocked"
    assert station.device.transaction_id is None
    await station.close()


async def test_every_supported_trigger_reaches_the_cem(cem: CemHandle) -> None:
    station, link = await connected(cem)
    station.device.plug_in(EV(soc=0.5))
    await wait_for(lambda: not station.device.outbox)
    for message in sorted(TRIGGERS - {"BootNotification"}):
        assert (await send(link, "TriggerMessage", requestedMessage=message)).status == "Accepted", message
    await wait_for(lambda: ("CP1", "Idle", None) in cem.gateway.log_status, what="LogStatusNotification")
    await wait_for(
        lambda: cem.gateway.reports.notices("CP1", "FirmwareStatusNotification"), what="firmware status"
    )
    await wait_for(
        lambda: any(e.trigger_reason == "Trigger" for e in station.device.produced), what="tx event"
    )
    unsupported = await send(link, "TriggerMessage", requestedMessage="SignV2GCertificate")
    assert unsupported.status == "NotImplemented"
    await station.close()


async def test_availability_unlock_status_and_events(cem: CemHandle) -> None:
    station, link = await connected(cem)
    answer = await send(link, "ChangeAvailability", operationalStatus="Inoperative", evse={"id": 1})
    assert answer.status == "Accepted"
    await wait_for(lambda: cem.gateway.stations["CP1"].connectors.get((1, 1)) == "Unavailable")
    await wait_for(
        lambda: [c.status for c in cem.gateway.reports.connectors("CP1")] == ["Unavailable"], what="stored"
    )
    assert (await send(link, "ChangeAvailability", operationalStatus="Operative")).status == "Accepted"
    await wait_for(lambda: cem.gateway.stations["CP1"].connectors.get((1, 1)) == "Available")
    assert (await send(link, "UnlockConnector", evseId=1, connectorId=1)).status == "Unlocked"
    assert (await send(link, "UnlockConnector", evseId=2, connectorId=1)).status == "UnknownConnector"
    station.device.plug_in(EV(soc=0.5))
    busy = await send(link, "UnlockConnector", evseId=1, connectorId=1)
    assert busy.status == "OngoingAuthorizedTransaction"
    later = await send(link, "ChangeAvailability", operationalStatus="Inoperative")
    assert later.status == "Scheduled"  # G04: after the session
    await wait_for(lambda: cem.gateway.reports.notices("CP1", "NotifyEvent"), what="NotifyEvent stored")
    assert "Occupied" in cem.gateway.reports.notices("CP1", "NotifyEvent")[-1].summary
    station.device.unplug()
    await wait_for(lambda: cem.gateway.stations["CP1"].connectors.get((1, 1)) == "Unavailable")
    await station.close()


async def test_reservations_are_made_cancelled_and_expire(cem: CemHandle) -> None:
    cem.gateway.id_tokens.add("RES-1")
    cem.gateway.id_tokens.add("OTHER-1")
    station, link = await connected(cem)
    station_now = datetime.fromtimestamp(station.clock.now_s(), UTC)
    far = fmt(station_now + timedelta(hours=1))
    token = {"idToken": "RES-1", "type": "ISO14443"}
    assert (await send(link, "ReserveNow", id=1, expiryDateTime=far, idToken=token)).status == "Accepted"
    second = await send(link, "ReserveNow", id=2, expiryDateTime=far, idToken=token)
    assert second.status == "Occupied"
    assert not (await station.runner.present_token("OTHER-1")).accepted  # held for RES-1
    assert (await send(link, "CancelReservation", reservationId=1)).status == "Accepted"
    assert (await send(link, "CancelReservation", reservationId=1)).status == "Rejected"
    soon = fmt(datetime.fromtimestamp(station.clock.now_s(), UTC) + timedelta(seconds=2))
    assert (await send(link, "ReserveNow", id=3, expiryDateTime=soon, idToken=token)).status == "Accepted"
    await wait_for(
        lambda: (
            [(r.reservation_id, r.status) for r in cem.gateway.reports.reservations("CP1")]
            == [(3, "Expired")]
        ),
        what="ReservationStatusUpdate Expired",
    )
    # H03: the reserving token's own session uses the reservation up
    assert (await send(link, "ReserveNow", id=4, expiryDateTime=far, idToken=token)).status == "Accepted"
    assert (await station.runner.present_token("RES-1", EV(soc=0.5))).accepted
    assert station.device.reservations == {}
    await station.close()


async def test_16_remote_start_with_a_blocked_tag_does_not_charge(cem: CemHandle) -> None:
    """1.6 RemoteStartTransaction with AuthorizeRemoteTxRequests: the tag is authorized first."""
    cem.gateway.id_tokens.add("APP-Y", status="Blocked")
    station, link = await connected(cem, version=OcppVersion.V16)
    answer = await send(link, "RemoteStartTransaction", OcppVersion.V16, idTag="APP-Y", connectorId=1)
    assert answer.status == "Accepted"
    await wait_for(lambda: "app-y" in station.device.auth.cache, what="authorized")
    assert station.device.auth.cache["app-y"].status == "Blocked"
    assert station.device.transaction_id is None and not station.device.produced
    await station.close()
