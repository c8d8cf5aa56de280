"""The payloads this project builds by hand (``call_prepared``: SetChargingProfile and
ClearChargingProfile, sent without run-time validation for speed) checked against the official
OCPP JSON schemas of both versions, for every profile purpose and option (issue 15)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from smartcharge.ocpp.domain import ChargingProfile, ProfilePurpose
from smartcharge.ocpp.rpc import CALL, validate_against_schema
from smartcharge.ocpp.v16 import CsmsV16
from smartcharge.ocpp.v201 import CsmsV201

PROFILES = [
    ChargingProfile(101, 0, ProfilePurpose.STATION_MAX, 3000.0),
    ChargingProfile(102, 5, ProfilePurpose.EXTERNAL_CONSTRAINTS, 1500.5, datetime(2026, 12, 1, tzinfo=UTC)),
    ChargingProfile(103, 0, ProfilePurpose.TX_DEFAULT, 7400.0, randomised_upstream=True),
    ChargingProfile(104, 1, ProfilePurpose.TX, 0.0, transaction_id="1234"),
]


class _Recording:
    """The transport: records each frame and answers it Accepted (the payload is what we test)."""

    def __init__(self) -> None:
        self.sent: list[list[Any]] = []
        self.peer: Any = None

    async def send(self, text: str) -> None:
        frame = json.loads(text)
        self.sent.append(frame)
        await self.peer.route_message(json.dumps([3, frame[1], {"status": "Accepted"}]))


async def _ignore(kind: str, detail: str) -> None:
    return None


@pytest.mark.parametrize(("cls", "version"), [(CsmsV201, "2.0.1"), (CsmsV16, "1.6")])
async def test_hand_built_payloads_meet_the_official_schemas(cls: type, version: str) -> None:
    transport = _Recording()
    csms = cls("S1", transport, None, _ignore)
    transport.peer = csms
    for profile in PROFILES:
        assert await csms.set_charging_profile(profile) == "Accepted"
    for profile_id, purpose in [
        (None, None),
        (101, None),
        (None, ProfilePurpose.TX_DEFAULT),
        (103, ProfilePurpose.TX),
    ]:
        await csms.clear_charging_profile(profile_id, purpose)
    assert len(transport.sent) == len(PROFILES) + 4
    for frame in transport.sent:
        validate_against_schema(CALL, frame[2], frame[3], version)  # raises on any breach
