"""Issue 10 item 4: an independent peer. Charge points scripted directly on the ``ocpp``
library's plain ChargePoint classes (not our station code) drive our CEM with valid but unusual
payloads: decimals where integers are usual, optional fields absent, timestamps with UTC
offsets, id tokens of the greatest length allowed. Nothing is refused or logged as a violation,
and what is stored is what was meant."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime

import pytest
from ocpp.v16 import ChargePoint as Plain16
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint as Plain201
from ocpp.v201 import call as call201
from websockets.asyncio.client import connect

from interface_b_harness import CemHandle, register, wait_for

pytestmark = pytest.mark.integration
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
LONG_201 = "A" * 36  # IdTokenType.idToken maxLength
LONG_16 = "B" * 20  # IdToken (CiString20)


async def _plain(
    cem: CemHandle, station_id: str, subprotocol: str, cls: type
) -> tuple[object, object, object]:
    password = register(cem.store, station_id)
    auth = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    ws = await connect(
        f"ws://127.0.0.1:{cem.port}/ocpp/{station_id}",
        subprotocols=[subprotocol],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Basic {auth}"},
    )
    cp = cls(station_id, ws)
    task = asyncio.create_task(cp.start())
    return cp, ws, task


async def test_plain_201_charge_point_with_unusual_payloads(cem: CemHandle) -> None:
    cem.gateway.id_tokens.add(LONG_201, token_type="eMAID")
    cp, ws, task = await _plain(cem, "PEER201", "ocpp2.0.1", Plain201)
    boot = await cp.call(  # type: ignore[attr-defined]
        call201.BootNotification(charging_station={"model": "m", "vendor_name": "v"}, reason="PowerUp")
    )
    assert boot.status == "Accepted"
    await cp.call(  # type: ignore[attr-defined]
        call201.StatusNotification(
            timestamp="2026-12-02T06:30:00+02:00", connector_status="Occupied", evse_id=1, connector_id=1
        )
    )
    # decimals where whole numbers are usual: a limit of 3680.5 W, an energy register in kWh
    await cp.call(  # type: ignore[attr-defined]
        call201.NotifyChargingLimit(
            charging_limit={"charging_limit_source": "EMS"},
            evse_id=1,
            charging_schedule=[
                {
                    "id": 1,
                    "charging_rate_unit": "W",
                    "charging_schedule_period": [{"start_period": 0, "limit": 3680.5}],
                }
            ],
        )
    )
    assert cem.gateway.stations["PEER201"].external_limit.limit_w == 3680.5
    auth = await cp.call(call201.Authorize(id_token={"id_token": LONG_201, "type": "eMAID"}))  # type: ignore[attr-defined]
    assert auth.id_token_info["status"] == "Accepted"
    started = await cp.call(  # type: ignore[attr-defined]
        call201.TransactionEvent(
            event_type="Started",
            timestamp="2026-12-02T08:00:00.250+01:00",  # 07:00:00.25 UTC
            trigger_reason="Authorized",
            seq_no=0,
            transaction_info={"transaction_id": "peer-tx-1"},
            id_token={"id_token": LONG_201, "type": "eMAID"},
            evse={"id": 1},
            meter_value=[
                {
                    "timestamp": "2026-12-02T08:00:00+01:00",
                    # measurand absent: the energy register; a decimal in kWh
                    "sampled_value": [{"value": 1.25, "unit_of_measure": {"unit": "kWh"}}],
                }
            ],
        )
    )
    assert started.id_token_info["status"] == "Accepted"
    # optional fields absent: no meter values, no evse, no id token
    ended = await cp.call(  # type: ignore[attr-defined]
        call201.TransactionEvent(
            event_type="Ended",
            timestamp="2026-12-02T03:30:00-04:00",  # 07:30 UTC
            trigger_reason="EVCommunicationLost",
            seq_no=1,
            transaction_info={"transaction_id": "peer-tx-1", "stopped_reason": "EVDisconnected"},
        )
    )
    assert ended.id_token_info is None
    await cp.call(call201.Heartbeat())  # type: ignore[attr-defined]
    assert cem.gateway.stations["PEER201"].energy_wh == 1250.0
    assert cem.gateway.stations["PEER201"].connectors[(1, 1)] == "Occupied"
    view = cem.store.sessions.sessions("PEER201", EPOCH)[0]
    assert view.started_at == datetime(2026, 12, 2, 7, 0, 0, 250000, tzinfo=UTC)
    assert view.stopped_at == datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
    assert cem.gateway.faults == {} and cem.store.security.count("InvalidMessages") == 0
    task.cancel()
    await ws.close()  # type: ignore[attr-defined]


async def test_plain_16_charge_point_with_unusual_payloads(cem: CemHandle) -> None:
    cem.gateway.id_tokens.add(LONG_16)
    cp, ws, task = await _plain(cem, "PEER16", "ocpp1.6", Plain16)
    boot = await cp.call(  # type: ignore[attr-defined]
        call16.BootNotification(charge_point_model="m", charge_point_vendor="v")  # optional fields absent
    )
    assert boot.status == "Accepted"
    await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))  # type: ignore[attr-defined]
    auth = await cp.call(call16.Authorize(id_tag=LONG_16))  # type: ignore[attr-defined]
    assert auth.id_tag_info["status"] == "Accepted"
    start = await cp.call(  # type: ignore[attr-defined]
        call16.StartTransaction(
            connector_id=1, id_tag=LONG_16, meter_start=1500, timestamp="2026-12-02T10:00:00+05:30"
        )
    )
    assert start.id_tag_info["status"] == "Accepted"
    await cp.call(  # type: ignore[attr-defined]
        call16.MeterValues(
            connector_id=1,
            transaction_id=start.transaction_id,
            meter_value=[{"timestamp": "2026-12-02T04:40:00Z", "sampled_value": [{"value": "2500.25"}]}],
        )
    )
    stop = await cp.call(  # type: ignore[attr-defined]
        call16.StopTransaction(
            meter_stop=4000, timestamp="2026-12-02T05:00:00.5+00:00", transaction_id=start.transaction_id
        )
    )
    assert stop.id_tag_info is None  # no idTag in the request, none in the answer
    view = cem.store.sessions.sessions("PEER16", EPOCH)[0]
    assert view.started_at == datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
    assert view.energy_kwh == pytest.approx(2.5)
    await wait_for(lambda: cem.gateway.stations["PEER16"].connectors.get((1, 1)) == "Preparing")
    assert cem.gateway.faults == {} and cem.store.security.count("InvalidMessages") == 0
    task.cancel()
    await ws.close()  # type: ignore[attr-defined]
