"""Helpers for the OCPP-core use-case tests: a connected emulated station and a raw call to it."""

from __future__ import annotations

from typing import Any

from ocpp.charge_point import camel_to_snake_case
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from interface_b_harness import CemHandle, StationHandle, register, start_station, wait_for
from smartcharge.ocpp.domain import OcppVersion
from smartcharge.station.device import StationConfig


async def connected(
    cem: CemHandle,
    station_id: str = "CP1",
    version: OcppVersion = OcppVersion.V201,
    speed: float = 1.0,
    config: StationConfig | None = None,
) -> tuple[StationHandle, Any]:
    """A registered station, booted and linked; ``speed`` scales its clock (see ScaledClock)."""
    password = register(cem.store, station_id)
    station = start_station(
        station_id, f"ws://127.0.0.1:{cem.port}/ocpp", version, password, speed=speed, config=config
    )
    await wait_for(lambda: station.runner.connected.is_set(), what="boot accepted")
    await wait_for(lambda: cem.gateway.stations[station_id].link is not None, what="link")
    return station, cem.gateway.stations[station_id].link


async def send(link: Any, action: str, version: OcppVersion = OcppVersion.V201, **payload: Any) -> Any:
    """One CSMS-initiated call built with the ocpp library's classes (validated by it)."""
    module = call201 if version is OcppVersion.V201 else call16
    return await link.call(getattr(module, action)(**camel_to_snake_case(payload)), suppress=False)


__all__ = ["connected", "send"]
