"""End to end with the real Interface B: DSRSP VTN -> CEM VEN (run_ven, as ``cem serve
--ven-config``) -> CEM gateway -> OCPP 2.0.1 over websockets -> emulated GB charge point."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from interface_b_harness import register, start_cem, start_station, wait_for
from smartcharge.dsrsp.programmes import EventRequest
from smartcharge.openadr.model import Programme, Signal

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _ven_config(tmp_path: Path, pki, dsrsp, storage_url: str) -> Path:
    path = tmp_path / "ven.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "ven_name": "home-cem",
                "vtn_id": "DSRSP-A",
                "vtn_url": dsrsp.vtn.url,
                "vtn_fingerprint": pki.leaves["vtn_a"].fingerprint,
                "cert": str(pki.leaves["cem"].cert),
                "key": str(pki.leaves["cem"].key),
                "ca_file": str(pki.ca),
                "poll_interval_s": 0.5,
                "storage_url": storage_url,
            }
        )
    )
    return path


async def test_response_event_reaches_emulated_station_over_ocpp(pki, dsrsp_a, tmp_path, sqlite_url) -> None:
    """SCP-SF-2, ARB-5, INT-2: a response DSR setpoint created at the DSRSP becomes a charging
    profile on a real emulated charge point, through the CEM's OCPP server."""
    cem = await start_cem(sqlite_url, ven_config=_ven_config(tmp_path, pki, dsrsp_a, sqlite_url))
    password = register(cem.store, "CP-E2E")
    station = start_station(
        "CP-E2E", f"ws://127.0.0.1:{cem.port}/ocpp", password=password, start_s=time.time()
    )
    try:
        await wait_for(lambda: station.runner.connected.is_set(), what="boot")
        await wait_for(lambda: dsrsp_a.registry.registered(), 15, "the VEN to register")
        dsrsp_a.create_event(
            EventRequest(Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, (2000.0,), 120, int(time.time()))
        )
        await wait_for(
            lambda: (station.device.composite_limit_w() or float("inf")) <= 2000.0,
            15,
            "the limit at the station",
        )
        assert station.device.charging_profiles()
        # The CEM's consent ledger shares its database with Interface B (migration 0002 on 0001).
        from smartcharge.cem.consent import ConsentLedger
        from smartcharge.store.consent import ConsentStore

        ledger = ConsentLedger(ConsentStore(cem.store.engine))
        assert ledger.controlling().dsrsp_id == "DSRSP-A"
        assert ledger.history()[0].actor == "commissioning"
    finally:
        await station.close()
        await cem.close()


async def test_owner_override_at_real_cem_opts_out_with_reason(pki, dsrsp_a, tmp_path, sqlite_url) -> None:
    """ARB-6, SCP-OP-3: the owner's override at the OCPP CEM sets the routine event aside, and the
    DSRSP receives optOut with reason overrideStatus; the CEM's telemetry reaches the DSRSP."""
    cem = await start_cem(sqlite_url, ven_config=_ven_config(tmp_path, pki, dsrsp_a, sqlite_url))
    password = register(cem.store, "CP-E2E")
    station = start_station(
        "CP-E2E", f"ws://127.0.0.1:{cem.port}/ocpp", password=password, start_s=time.time()
    )
    try:
        await wait_for(lambda: station.runner.connected.is_set(), what="boot")
        await wait_for(lambda: dsrsp_a.registry.registered(), 15, "the VEN to register")
        ven_id = dsrsp_a.registry.registered()[0]
        event = dsrsp_a.create_event(
            EventRequest(
                Programme.ROUTINE, Signal.SIMPLE_LEVEL, (2.0,), 300, int(time.time()), start_after_s=1
            )
        )
        await wait_for(lambda: dsrsp_a.store.opts(event.event_id), 15, "the VEN's answer")
        assert dsrsp_a.store.opts(event.event_id)[0][2] == "optIn"
        await cem.gateway.set_override(None, True)
        await wait_for(
            lambda: any(o[3] == "overrideStatus" for o in dsrsp_a.store.opts(event.event_id)),
            15,
            "the opt-out",
        )
        await wait_for(lambda: dsrsp_a.store.readings(ven_id, "TELEMETRY_USAGE"), 15, "telemetry")
    finally:
        await station.close()
        await cem.close()
