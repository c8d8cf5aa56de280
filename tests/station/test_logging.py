"""Issue 15: station logs said every OCPP frame at INFO. Frames go to DEBUG
(``smartcharge.ocpp.frames``); INFO says what changed (connected, link down)."""

from __future__ import annotations

import logging

import pytest

from interface_b_harness import CemHandle, register, start_station, wait_for
from smartcharge.station.ev import EV


@pytest.mark.integration
async def test_frames_at_debug_changes_at_info(cem: CemHandle, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    station = start_station("LOG1", f"ws://127.0.0.1:{cem.port}/ocpp", password=register(cem.store, "LOG1"))
    await wait_for(lambda: station.runner.connected.is_set(), what="boot")
    station.device.plug_in(EV(soc=0.5))
    await wait_for(lambda: cem.store.sessions.count_rows("LOG1")["transaction_events"] >= 1, what="Started")
    await station.close()
    info = [r for r in caplog.records if r.levelno >= logging.INFO]
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert not [r.getMessage() for r in info if "BootNotification" in r.getMessage()], "a frame at INFO"
    assert any("BootNotification" in r.getMessage() and r.name == "smartcharge.ocpp.frames" for r in debug)
    assert any("LOG1: connected to the CSMS" in r.getMessage() for r in info)
