"""OCPP 1.6: a RemoteStopTransaction (or a TxProfile for the transaction) that follows the
StartTransaction.conf at once names the transaction by the id that conf gave (1.6 section 5.11,
4.8). The station must know that id by then. It once mapped the id only when the task that sent
StartTransaction next ran, so a stop read in the same breath was Rejected (CI saw it from our
own CEM under load). Here a scripted CSMS sends the conf and the stop back to back, in one write,
which makes the order certain."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from interface_b_harness import start_station, wait_for
from smartcharge.ocpp.domain import OcppVersion
from smartcharge.station.ev import EV

CSMS_TX_ID = 4711  # the CSMS's id, unlike any id the station makes itself

REPLIES: dict[str, dict[str, Any]] = {
    "BootNotification": {"status": "Accepted", "currentTime": "2026-11-28T10:00:00Z", "interval": 300},
    "Heartbeat": {"currentTime": "2026-11-28T10:00:00Z"},
    "Authorize": {"idTagInfo": {"status": "Accepted"}},
    "StopTransaction": {"idTagInfo": {"status": "Accepted"}},
}


class ScriptedCsms:
    """Answers a 1.6 station and, on StartTransaction, sends the conf and then at once
    ``follow_up`` (action, payload) in the same write; keeps the answer to it."""

    def __init__(self, follow_up: tuple[str, dict[str, Any]]) -> None:
        self.follow_up = follow_up
        self.answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def handle(self, ws: ServerConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame[0] == 3 and frame[1] == "follow-up" and not self.answer.done():
                self.answer.set_result(frame[2])
            if frame[0] != 2:
                continue
            _, unique_id, action, _payload = frame
            if action == "StartTransaction":
                conf = {"transactionId": CSMS_TX_ID, "idTagInfo": {"status": "Accepted"}}
                action_out, payload_out = self.follow_up
                # One write, no await between: the station reads both frames in one go.
                ws.protocol.send_text(json.dumps([3, unique_id, conf]).encode())
                ws.protocol.send_text(json.dumps([2, "follow-up", action_out, payload_out]).encode())
                ws.send_data()
                continue
            await ws.send(json.dumps([3, unique_id, REPLIES.get(action, {})]))


async def _answer_after_start(follow_up: tuple[str, dict[str, Any]]) -> Any:
    csms = ScriptedCsms(follow_up)
    async with serve(csms.handle, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
        port = server.sockets[0].getsockname()[1]
        station = start_station("CP-RACE", f"ws://127.0.0.1:{port}/ocpp", OcppVersion.V16, "race-password-1")
        try:
            await wait_for(lambda: station.runner.connected.is_set(), what="boot")
            station.device.plug_in(EV(soc=0.4))
            return await asyncio.wait_for(csms.answer, 10)
        finally:
            await station.close()


@pytest.mark.integration
async def test_a_remote_stop_right_after_the_start_conf_is_accepted() -> None:
    answer = await _answer_after_start(("RemoteStopTransaction", {"transactionId": CSMS_TX_ID}))
    assert answer == {"status": "Accepted"}


@pytest.mark.integration
async def test_a_tx_profile_right_after_the_start_conf_is_for_that_transaction() -> None:
    profile = {
        "chargingProfileId": 9,
        "transactionId": CSMS_TX_ID,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 3000.0}],
        },
    }
    answer = await _answer_after_start(
        ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})
    )
    assert answer == {"status": "Accepted"}
