"""The official-schema check (``smartcharge.ocpp.schemas``), the event bus's bounds, and
``smartcharge cem send`` against a running CEM (issue 10 item 2)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from ocpp.messages import MessageType
from typer.testing import CliRunner

from interface_b_harness import register, wait_for
from smartcharge.cli.main import app
from smartcharge.ocpp.schemas import (
    CSMS_TO_CS,
    SchemaViolation,
    UnknownAction,
    schema_validator,
    validate_request,
)
from smartcharge.web.events import EventBus

from .support import RawStation, WebCem

runner = CliRunner()


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_every_csms_action_has_an_official_schema(version: str) -> None:
    for action in sorted(CSMS_TO_CS[version]):
        assert schema_validator(MessageType.Call, action, version).schema["type"] == "object"
        assert schema_validator(MessageType.CallResult, action, version).schema["type"] == "object"


def test_schema_check_names_field_and_rule() -> None:
    with pytest.raises(SchemaViolation) as caught:
        validate_request("2.0.1", "TriggerMessage", {"requestedMessage": "Coffee"})
    assert caught.value.field == "requestedMessage" and caught.value.rule.startswith("enum:")
    with pytest.raises(SchemaViolation) as caught:
        validate_request("2.0.1", "GetVariables", {"getVariableData": [{"component": {"name": "X"}}]})
    assert caught.value.field == "getVariableData[0].variable" and caught.value.rule.startswith("required")
    with pytest.raises(UnknownAction):
        validate_request("1.6", "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
    with pytest.raises(SchemaViolation):
        validate_request("2.0.1", "Reset", [])  # type: ignore[arg-type]


def test_decimal_limits_of_16_profiles_are_checked_as_the_library_does() -> None:
    """1.6 SetChargingProfile limits are ``multipleOf 0.1``: 21.4 passes (binary floats would fail
    it), 4.11 is refused."""
    profile = {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 21.4}],
            },
        },
    }
    validate_request("1.6", "SetChargingProfile", profile)
    profile["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] = 4.11  # type: ignore[index]
    with pytest.raises(SchemaViolation) as caught:
        validate_request("1.6", "SetChargingProfile", profile)
    assert caught.value.field.endswith("chargingSchedulePeriod[0].limit")


async def test_a_slow_subscriber_is_bounded_and_told_what_it_missed() -> None:
    bus = EventBus(queue_size=3)
    slow = bus.subscribe()
    picky = bus.subscribe(stations=frozenset({"B"}))
    for i in range(10):
        bus.on_frame("A", "received", json.dumps([2, str(i), "Heartbeat", {}]))
    assert slow.queue.qsize() == 3 and slow.dropped == 7 and picky.queue.qsize() == 0
    bus.on_frame("B", "sent", json.dumps([2, "x", "Reset", {"type": "Immediate"}]))
    bus.on_frame("B", "received", json.dumps([3, "x", {"status": "Accepted"}]))
    bus.on_frame("B", "received", "not json")
    got = [picky.queue.get_nowait() for _ in range(3)]
    assert [(e.direction, e.message_type, e.action) for e in got] == [
        ("cem_to_station", "CALL", "Reset"),
        ("station_to_cem", "CALLRESULT", "Reset"),
        ("station_to_cem", "malformed", None),
    ]
    bus.close()
    assert bus.subscriber_count == 0


async def test_cem_send_from_the_command_line(web: WebCem, tmp_path: Path) -> None:
    password = await asyncio.to_thread(register, web.services.store, "CLI-S")
    station = RawStation(web.ocpp_url, "CLI-S", password)
    await station.start()
    await wait_for(lambda: "CLI-S" in web.services.ocpp.sessions, what="link")
    token = await web.token("operator")
    payload = tmp_path / "reset.json"
    payload.write_text('{"type": "OnIdle"}', encoding="utf-8")
    try:
        common = ["--api", web.base_url, "--token", token]
        ok = await asyncio.to_thread(
            runner.invoke, app, ["cem", "send", "CLI-S", "Reset", "--payload", f"@{payload}", *common]
        )
        assert ok.exit_code == 0, ok.output
        assert json.loads(ok.output)["payload"] == {"status": "Accepted"}
        bad = await asyncio.to_thread(
            runner.invoke, app, ["cem", "send", "CLI-S", "Reset", "--payload", '{"type": "Never"}', *common]
        )
        assert bad.exit_code == 2 and "refused (422)" in bad.output and "type: enum" in bad.output
        broken = await asyncio.to_thread(
            runner.invoke, app, ["cem", "send", "CLI-S", "Reset", "--payload", "{nope", *common]
        )
        assert broken.exit_code == 2 and "payload=" in broken.output
        assert [c[3] for c in station.calls()] == [{"type": "OnIdle"}]
    finally:
        await station.close()
