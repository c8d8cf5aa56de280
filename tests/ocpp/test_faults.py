"""Bad frames get the right CALLERROR, the connection stays up, and each one is counted and logged
(OCPP-J RPC framework 4.2.3; SEC-D-6 input validation; SEC-S-6 InvalidMessages)."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from interface_b_harness import CemHandle, register, wait_for
from smartcharge.ocpp.server import basic_auth_header


async def _raw(cem: CemHandle, subprotocol: str):
    password = register(cem.store, "RAW1")
    return await connect(
        f"ws://127.0.0.1:{cem.port}/ocpp/RAW1",
        subprotocols=[subprotocol],
        additional_headers={"Authorization": basic_auth_header("RAW1", password)},
        max_size=None,
    )


async def _exchange(ws, frame: str) -> list:
    await ws.send(frame)
    return json.loads(await ws.recv())


@pytest.mark.integration
@pytest.mark.parametrize(
    ("subprotocol", "format_code"), [("ocpp2.0.1", "FormatViolation"), ("ocpp1.6", "FormationViolation")]
)
async def test_malformed_frame_gets_callerror_and_link_stays_up(
    cem: CemHandle, subprotocol: str, format_code: str
) -> None:
    """Not JSON -> CALLERROR with id "-1" and the version's format code; an unknown message type id
    -> CALLERROR; a payload breaking the schema -> CALLERROR with its id; then a valid call still works."""
    ws = await _raw(cem, subprotocol)
    reply = await _exchange(ws, "this is not json")
    assert reply[:3] == [4, "-1", format_code]
    reply = await _exchange(ws, '[9, "id-9", "Heartbeat", {}]')
    # 2.0.1 part 4, 4.3 has MessageTypeNotSupported; 1.6 has no such code.
    type_code = "MessageTypeNotSupported" if subprotocol == "ocpp2.0.1" else "PropertyConstraintViolation"
    assert reply[0] == 4 and reply[1] == "id-9" and reply[2] == type_code
    boot = [2, "id-b", "BootNotification", {"reason": 12}]
    reply = await _exchange(ws, json.dumps(boot))
    assert reply[0] == 4 and reply[1] == "id-b"
    assert reply[2] in {
        "FormatViolation",
        "FormationViolation",
        "TypeConstraintViolation",
        "OccurrenceConstraintViolation",
        "OccurenceConstraintViolation",
    }
    reply = await _exchange(ws, '[2, "id-u", "NoSuchAction", {}]')
    # OCPP-J: NotImplemented is "action not known by the receiver" (NotSupported: known, not supported).
    assert reply[:3] == [4, "id-u", "NotImplemented"]
    reply = await _exchange(ws, '[2, "id-h", "Heartbeat", {}]')
    assert reply[0] == 3 and reply[1] == "id-h" and "currentTime" in reply[2]
    await wait_for(lambda: sum(cem.gateway.faults.values()) == 4, what="fault count")
    assert cem.gateway.faults["malformed_frame"] == 2 and cem.gateway.faults["schema_violation"] == 1
    assert cem.gateway.faults["unknown_action"] == 1
    await wait_for(lambda: cem.store.security.count("InvalidMessages") == 4, what="security log")
    await ws.close()


@pytest.mark.integration
async def test_oversize_frame_is_refused_and_counted(cem: CemHandle) -> None:
    """A frame over the CEM's limit closes the link with 1009 (websockets max_size) and is logged."""
    ws = await _raw(cem, "ocpp2.0.1")
    huge = json.dumps([2, "big", "Heartbeat", {"customData": {"vendorId": "x", "pad": "a" * 100_000}}])
    await ws.send(huge)
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    await wait_for(lambda: cem.gateway.faults["oversize_frame"] == 1, what="oversize count")
    await wait_for(lambda: cem.store.security.count("InvalidMessages") == 1, what="security log")
