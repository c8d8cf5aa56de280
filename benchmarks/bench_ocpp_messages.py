"""CPU per OCPP message on each side, without sockets: where a SetChargingProfile fan-out spends time.

* CEM side: ``CsmsV201.set_charging_profile`` (prepared frame, no schema pass on our own data)
  against a connection that answers at once, versus the library's generic ``call`` path.
* Station side: one SetChargingProfile frame through the emulated station's receive path (schema
  validation of the request and of its answer, conversion, the device's handler).

Usage: .venv/bin/python benchmarks/bench_ocpp_messages.py
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import numpy as np
from ocpp.v201 import call

from smartcharge.ocpp.domain import ChargingProfile, ProfilePurpose
from smartcharge.ocpp.v201 import CsmsV201, StationV201, profile_to_wire
from smartcharge.station.device import EmulatedChargePoint

N = 3000
PROFILE = ChargingProfile(101, 0, ProfilePurpose.STATION_MAX, 3000.0)


async def _ignore(kind: str, detail: str) -> None:
    return None


class AnsweringConnection:
    """Answers every CALL with an Accepted CALLRESULT, straight into the caller's queue."""

    def __init__(self) -> None:
        self.peer: Any = None

    async def send(self, message: str) -> None:
        frame = json.loads(message)
        if frame[0] == 2:
            await self.peer.route_message(json.dumps([3, frame[1], {"status": "Accepted"}]))


class SilentConnection:
    async def send(self, message: str) -> None:
        return None


async def cem_side() -> tuple[float, float]:
    conn = AnsweringConnection()
    csms = CsmsV201("B1", conn, events=None, on_fault=_ignore)  # type: ignore[arg-type]
    conn.peer = csms
    for _ in range(100):
        await csms.set_charging_profile(PROFILE)
    start = time.process_time()
    for _ in range(N):
        await csms.set_charging_profile(PROFILE)
    prepared = (time.process_time() - start) / N
    payload = call.SetChargingProfile(evse_id=0, charging_profile=profile_to_wire(PROFILE))
    start = time.process_time()
    for _ in range(N):
        await csms.call(payload, suppress=False)
    generic = (time.process_time() - start) / N
    return prepared, generic


async def station_side() -> float:
    device = EmulatedChargePoint("B1", np.random.default_rng(1))
    station = StationV201("B1", SilentConnection(), device, _ignore)
    frame = json.dumps(
        [2, "u1", "SetChargingProfile", {"evseId": 0, "chargingProfile": profile_to_wire(PROFILE)}]
    )
    for _ in range(100):
        await station.route_message(frame)
    start = time.process_time()
    for _ in range(N):
        await station.route_message(frame)
    return (time.process_time() - start) / N


async def main() -> None:
    prepared, generic = await cem_side()
    handled = await station_side()
    print("| side | path | CPU ms per SetChargingProfile |")
    print("|---|---|---:|")
    print(f"| CEM | prepared frame (what the fan-out uses) | {prepared * 1000:.3f} |")
    print(f"| CEM | library `call` (asdict, rename, schema) | {generic * 1000:.3f} |")
    print(f"| station | receive, validate request and answer, handle | {handled * 1000:.3f} |")


if __name__ == "__main__":
    asyncio.run(main())
