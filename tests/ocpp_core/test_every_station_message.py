"""Issue 10 item 1: no message a charge point may send is answered NotImplemented, and none is
logged as a violation, in OCPP 2.0.1 and 1.6J.

The actions are the ``ocpp`` library's call classes, split into station- and CSMS-initiated; the
payloads are built from the library's official schemas, once with required fields only and once
with every optional field. Each is sent as a raw OCPP-J frame over a real websocket to the CEM.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import json

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from schema_instances import STATION_TO_CSMS, instance, request_schema
from websockets.asyncio.client import connect

from interface_b_harness import CemHandle, register
from smartcharge.ocpp.schemas import CSMS_TO_CS

#: CSMS-initiated actions of each version (with DataTransfer, which both ends may send): the
#: same sets the operator API checks calls against.
CSMS_TO_STATION = CSMS_TO_CS
MODULES = {"2.0.1": call201, "1.6": call16}
SUBPROTOCOL = {"2.0.1": "ocpp2.0.1", "1.6": "ocpp1.6"}


def library_actions(version: str) -> set[str]:
    module = MODULES[version]
    return {
        name
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and dataclasses.is_dataclass(obj) and obj.__module__ == module.__name__
    }


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_the_two_directions_cover_every_library_call_class(version: str) -> None:
    """Every call class of the library is classified, so a station action cannot be missed."""
    classified = STATION_TO_CSMS[version] | CSMS_TO_STATION[version]
    assert library_actions(version) == classified


def _boot_payload(version: str) -> dict[str, object]:
    if version == "2.0.1":
        return {"chargingStation": {"vendorName": "peer", "model": "walker"}, "reason": "PowerUp"}
    return {"chargePointVendor": "peer", "chargePointModel": "walker"}


async def _exchange(ws: object, unique_id: str, action: str, payload: object) -> list[object]:
    await ws.send(json.dumps([2, unique_id, action, payload]))  # type: ignore[attr-defined]
    while True:
        frame = json.loads(await ws.recv())  # type: ignore[attr-defined]
        if frame[0] in (3, 4) and frame[1] == unique_id:
            return list(frame)


@pytest.mark.integration
@pytest.mark.parametrize("full", [False, True], ids=["required-only", "all-fields"])
@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
async def test_every_station_action_is_answered_and_none_is_a_violation(
    cem: CemHandle, version: str, full: bool
) -> None:
    password = register(cem.store, "WALKER")
    auth = base64.b64encode(f"WALKER:{password}".encode()).decode()
    answers: dict[str, list[object]] = {}
    async with connect(
        f"ws://127.0.0.1:{cem.port}/ocpp/WALKER",
        subprotocols=[SUBPROTOCOL[version]],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Basic {auth}"},
    ) as ws:
        boot = await _exchange(ws, "boot", "BootNotification", _boot_payload(version))
        assert boot[0] == 3 and boot[2]["status"] == "Accepted"
        for n, action in enumerate(sorted(STATION_TO_CSMS[version] - {"BootNotification"})):
            # A 1.6 sampled value is a string holding a decimal (format Raw, 1.6 section 7.43).
            pick = {"value": "12.5"} if version == "1.6" else {}
            payload = instance(request_schema(version, action), full=full, pick=pick)
            answers[action] = await _exchange(ws, f"m{n}", action, payload)
    errors = {action: frame for action, frame in answers.items() if frame[0] != 3}
    assert errors == {}
    assert cem.gateway.faults == {}
    assert cem.store.security.count("InvalidMessages") == 0
    assert answers["DataTransfer"][2]["status"] == "UnknownVendorId"
    stored = {n.action for n in cem.gateway.reports.notices("WALKER")}
    assert "DataTransfer" in stored and "FirmwareStatusNotification" in stored
    if version == "2.0.1":
        assert "NotifyEvent" in stored
        if full:  # reportData is optional: only the all-fields report carries variables
            assert cem.gateway.reports.device_model("WALKER")
