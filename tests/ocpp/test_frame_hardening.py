"""Issue 15, wrong answers: every hostile or broken frame gets the CALLERROR that names the rule,
is logged, and leaves the link up; nothing reaches the store to fail there later
(OCPP-J 1.6 section 4 / 2.0.1 part 4 section 4; SEC-D-6 input validation; SEC-S-6).

On main: deep nesting and non-UTF-8 binary frames closed the link with 1011 and logged nothing;
numeric and 37-character ids were accepted; out-of-range times, seqNo 2^70, 1e400 and a lone
surrogate got InternalError (or were accepted and failed in the store); unknown actions got
NotSupported; CALLRESULTs for ids never sent were queued forever.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import ClientConnection, connect

from interface_b_harness import CemHandle, register, start_cem, wait_for
from smartcharge.ocpp.domain import VariableRef
from smartcharge.ocpp.server import basic_auth_header

TX_ID = "a1b2c3d4-0000-4000-8000-000000000001"


async def _raw(cem: CemHandle, subprotocol: str, station_id: str = "RAW1") -> ClientConnection:
    password = register(cem.store, station_id)
    return await connect(
        f"ws://127.0.0.1:{cem.port}/ocpp/{station_id}",
        subprotocols=[subprotocol],
        additional_headers={"Authorization": basic_auth_header(station_id, password)},
        max_size=None,
    )


async def _exchange(ws: ClientConnection, frame: str | bytes) -> list:
    await ws.send(frame)
    return json.loads(await ws.recv())


async def _still_up(ws: ClientConnection) -> None:
    reply = await _exchange(ws, '[2, "alive", "Heartbeat", {}]')
    assert reply[:2] == [3, "alive"], reply


def _tx_event(seq_no: int | str = 0, timestamp: str = "2026-11-28T10:00:00Z", value: str = "1.0") -> str:
    # Built as text: NaN and 1e400 must reach the CEM exactly as a hostile station writes them.
    return (
        f'[2, "tx", "TransactionEvent", {{"eventType": "Started", "timestamp": "{timestamp}", '
        f'"triggerReason": "Authorized", "seqNo": {seq_no}, '
        f'"transactionInfo": {{"transactionId": "{TX_ID}"}}, '
        f'"meterValue": [{{"timestamp": "2026-11-28T10:00:00Z", "sampledValue": [{{"value": {value}}}]}}]}}]'
    )


@pytest.fixture(params=["sqlite_url", "pg_url"])
async def any_cem(request: pytest.FixtureRequest):
    handle = await start_cem(request.getfixturevalue(request.param))
    yield handle
    await handle.close()
    handle.store.engine.dispose()


@pytest.mark.integration
async def test_unreadable_frames_are_answered_and_logged_not_closed(cem: CemHandle) -> None:
    """Nested too deeply (RecursionError in the parser), binary non-UTF-8, a numeric id, an id
    over 36 characters, a NaN literal: each gets FormatViolation with id "-1" and a security-log
    row, and the link stays up."""
    ws = await _raw(cem, "ocpp2.0.1")
    deep = '[2, "deep", "Heartbeat", ' + "[" * 30_000 + "]" * 30_000 + "]"
    frames: list[str | bytes] = [
        deep,
        b"\xff\xfe\x00not utf-8",
        '[2, 12345, "Heartbeat", {}]',
        '[2, "%s", "Heartbeat", {}]' % ("x" * 37),
        _tx_event(value="NaN"),
    ]
    for frame in frames:
        reply = await _exchange(ws, frame)
        assert reply[:3] == [4, "-1", "FormatViolation"], (str(frame)[:60], reply)
        await _still_up(ws)
    await wait_for(lambda: cem.store.security.count("InvalidMessages") == len(frames), what="security log")
    await ws.close()


@pytest.mark.integration
async def test_bad_values_get_field_errors_not_internal_error(any_cem: CemHandle) -> None:
    """Out-of-range and unparsable times, seqNo 2^70, 1e400 and a lone surrogate are refused with
    a CALLERROR that names the field (never InternalError), on SQLite and PostgreSQL; nothing of
    them is stored."""
    ws = await _raw(any_cem, "ocpp2.0.1")
    cases = {
        _tx_event(timestamp="0001-01-01T00:00:00+01:00"): "timestamp",
        _tx_event(seq_no=2**70): "seqNo",
        _tx_event(value="1e400"): "sampledValue.value",
        '[2, "sec", "SecurityEventNotification", {"type": "X", "timestamp": "yesterday"}]': "timestamp",
        '[2, "st", "StatusNotification", {"timestamp": "2026-13-45T99:00:00Z", "connectorStatus": '
        '"Available", "evseId": 1, "connectorId": 1}]': "timestamp",
        '[2, "boot", "BootNotification", {"chargingStation": {"vendorName": "v\\ud800", "model": "m"}, '
        '"reason": "PowerUp"}]': "chargingStation.vendorName",
    }
    for frame, field in cases.items():
        reply = await _exchange(ws, frame)
        assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation", (frame[:60], reply)
        assert field in reply[3], reply
        await _still_up(ws)
    assert any_cem.store.sessions.count_rows("RAW1")["transaction_events"] == 0
    await ws.close()


@pytest.mark.integration
async def test_v16_bad_times_and_infinite_values_get_field_errors(cem: CemHandle) -> None:
    """1.6 StatusNotification and SecurityEventNotification with bad timestamps, and a meter value
    "Infinity", a connectorId past 32 bits: PropertyConstraintViolation naming the field
    (InternalError on main; the connectorId overflowed the store after the answer)."""
    ws = await _raw(cem, "ocpp1.6")
    cases = {
        '[2, "st", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": '
        '"Available", "timestamp": "not a time"}]': "timestamp",
        '[2, "sec", "SecurityEventNotification", {"type": "X", "timestamp": "9999-12-31T23:59:59-01:00"}]': (
            "timestamp"
        ),
        '[2, "mv", "MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": '
        '"2026-11-28T10:00:00Z", "sampledValue": [{"value": "Infinity"}]}]}]': "sampledValue.value",
        # An integer past 32 bits reached the store and overflowed SQLite's INTEGER in an
        # after-hook (a traceback in the CEM log; found by the frame fuzzer in CI).
        '[2, "big", "StatusNotification", {"connectorId": 1180591620717411303424, '
        '"errorCode": "NoError", "status": "Available"}]': "connectorId",
        '[2, "big2", "StatusNotification", {"connectorId": 2147483648, "errorCode": "NoError", '
        '"status": "Available"}]': "connectorId",
    }
    for frame, field in cases.items():
        reply = await _exchange(ws, frame)
        assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation", (frame[:60], reply)
        assert field in reply[3], reply
        await _still_up(ws)
    assert cem.store.sessions.count_rows("RAW1")["meter_values"] == 0
    await ws.close()


@pytest.mark.integration
@pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp1.6"])
async def test_unknown_action_is_not_implemented_known_unhandled_is_not_supported(
    cem: CemHandle, subprotocol: str
) -> None:
    """OCPP-J: NotImplemented for an action the version does not define, NotSupported for one it
    defines that this end does not handle (a CSMS-to-station action sent to the CEM)."""
    ws = await _raw(cem, subprotocol)
    assert (await _exchange(ws, '[2, "u", "NoSuchAction", {}]'))[:3] == [4, "u", "NotImplemented"]
    reply = await _exchange(ws, '[2, "k", "ClearCache", {}]')
    assert reply[:3] == [4, "k", "NotSupported"]
    await ws.close()


@pytest.mark.integration
async def test_responses_to_ids_never_sent_are_dropped_not_kept(cem: CemHandle) -> None:
    """200 CALLRESULTs of 20 KB for ids the CEM never sent are dropped and counted at once (main
    queued each one forever: 4,500 such frames grew the CEM by 170 MB); a real call afterwards
    gets its own answer."""
    ws = await _raw(cem, "ocpp2.0.1")
    junk = json.dumps([3, "never-sent", {"pad": "x" * 20_000}])
    for _ in range(200):
        await ws.send(junk)
    await _still_up(ws)
    session = cem.server.sessions["RAW1"]
    assert session.dropped_responses == 200
    link = cem.gateway.stations["RAW1"].link
    asked = asyncio.create_task(link.get_variables([VariableRef("RandomisedDelay", "MaxDelaySeconds")]))
    request = json.loads(await ws.recv())
    assert request[0] == 2 and request[2] == "GetVariables"
    await ws.send(json.dumps([3, "not-this-one", {}]))  # a stray answer while a call is in flight
    result = {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "attributeValue": "600",
                "component": {"name": "RandomisedDelay"},
                "variable": {"name": "MaxDelaySeconds"},
            }
        ]
    }
    await ws.send(json.dumps([3, request[1], result]))
    got = await asyncio.wait_for(asked, 5)
    assert got[0].value == "600"
    assert session.dropped_responses == 201
    await ws.close()


@pytest.mark.integration
async def test_repeated_reports_do_not_grow_the_cem(cem: CemHandle) -> None:
    """Issue 15, bounded memory: 1,200 LogStatusNotifications keep the CEM's report list at its
    bound (main appended every one to a list for ever)."""
    from smartcharge.cem.gateway import KEPT_REPORTS

    ws = await _raw(cem, "ocpp2.0.1")
    for i in range(KEPT_REPORTS + 200):
        reply = await _exchange(ws, json.dumps([2, f"l{i}", "LogStatusNotification", {"status": "Idle"}]))
        assert reply[0] == 3
    assert len(cem.gateway.log_status) == KEPT_REPORTS
    await ws.close()
