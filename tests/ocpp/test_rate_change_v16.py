"""OCPP 1.6 rate changes are kept one row per change, even two within the same second, and a
replay after a reconnect still changes nothing (reg 9, SCP-MS-2).

Raw OCPP-J 1.6 frames over a real websocket to a real CEM on SQLite: 1.6 MeterValues carries no
sequence number and many stations send whole-second times, which is what this reproduces.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from interface_b_harness import CemHandle, register
from smartcharge.ocpp.server import basic_auth_header

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
CHANGED = "2026-11-25T10:00:05Z"
_ids = itertools.count(1)


async def _call(ws: ClientConnection, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Send one CALL and return its CALLRESULT payload (calls from the CEM are not expected here)."""
    message_id = str(next(_ids))
    await ws.send(json.dumps([2, message_id, action, payload]))
    while True:
        frame = json.loads(await ws.recv())
        if frame[1] == message_id:
            assert frame[0] == 3, frame
            return dict(frame[2])


def _rate_change(power_w: float, energy_wh: float, transaction_id: int) -> dict[str, Any]:
    values = [
        {"value": f"{power_w:.1f}", "measurand": "Power.Active.Import", "unit": "W", "context": "Trigger"},
        {"value": f"{power_w:.1f}", "measurand": "Power.Offered", "unit": "W", "context": "Trigger"},
        {"value": f"{energy_wh:.1f}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
    ]
    return {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [{"timestamp": CHANGED, "sampledValue": values}],
    }


@pytest.mark.integration
async def test_two_rate_changes_in_one_second_are_two_rows_and_replays_are_absorbed(cem: CemHandle) -> None:
    """Two MeterValues in context Trigger with the same whole-second time (7.4 kW, then 3 kW) are
    two rate changes; after a reconnect the station replays both and nothing is doubled."""
    password = register(cem.store, "RATE16")
    url = f"ws://127.0.0.1:{cem.port}/ocpp/RATE16"
    headers = {"Authorization": basic_auth_header("RATE16", password)}
    async with connect(url, subprotocols=["ocpp1.6"], additional_headers=headers) as ws:
        boot = await _call(ws, "BootNotification", {"chargePointVendor": "T", "chargePointModel": "M"})
        assert boot["status"] == "Accepted"
        started = await _call(
            ws,
            "StartTransaction",
            {"connectorId": 1, "idTag": "owner", "meterStart": 1000, "timestamp": "2026-11-25T10:00:00Z"},
        )
        tx = int(started["transactionId"])
        first, second = _rate_change(7400.0, 1010.0, tx), _rate_change(3000.0, 1012.0, tx)
        await _call(ws, "MeterValues", first)
        await _call(ws, "MeterValues", second)
    async with connect(url, subprotocols=["ocpp1.6"], additional_headers=headers) as ws:
        await _call(ws, "BootNotification", {"chargePointVendor": "T", "chargePointModel": "M"})
        await _call(ws, "MeterValues", first)  # the offline queue replays what it is unsure of
        await _call(ws, "MeterValues", second)
        await _call(
            ws,
            "StopTransaction",
            {"transactionId": tx, "meterStop": 1100, "timestamp": "2026-11-25T10:10:00Z", "reason": "Local"},
        )
    (view,) = cem.store.sessions.sessions("RATE16", EPOCH)
    at = datetime(2026, 11, 25, 10, 0, 5, tzinfo=UTC)
    assert [(r.changed_at, r.power_w, r.limit_w) for r in view.rate_changes] == [
        (at, 7400.0, 7400.0),
        (at, 3000.0, 3000.0),
    ]
    counts = cem.store.sessions.count_rows("RATE16")
    assert counts["rate_changes"] == 2
    assert counts["transaction_events"] == 4  # start, two rate changes, stop
    assert view.energy_kwh == pytest.approx(0.1)
