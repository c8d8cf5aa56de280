"""The owner's REST API over real HTTP (uvicorn on loopback) against a real CEM and a real emulated
station over OCPP: role owner only, only his own charge points, every refusal naming the field
and the rule with nothing changed (issue 12 item 4)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from web.support import WebCem, login

from interface_b_harness import register, start_station, wait_for
from smartcharge.policy.default_hours import FirstUseChoice
from smartcharge.station.device import StationConfig
from smartcharge.station.ev import EV
from smartcharge.store.session_repo import MeterSample, TransactionRecord
from smartcharge.web.auth import Role

pytestmark = pytest.mark.integration


async def _as_owner(web: WebCem, client: httpx.AsyncClient) -> None:
    response = await login(client, "owner", web.owner_password or "")
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]


async def _station(web: WebCem, sid: str, owner: str = "owner", **kwargs: object):
    password = await asyncio.to_thread(register, web.services.store, sid)
    handle = start_station(sid, web.ocpp_url, password=password, **kwargs)
    await wait_for(lambda: handle.runner.connected.is_set(), what=f"{sid} boot")
    gw = web.services.gateway
    await wait_for(lambda: gw.stations.get(sid) and gw.stations[sid].link, what="link")
    await asyncio.to_thread(web.services.owners.assign, sid, owner)
    return handle


async def test_owner_walks_through_first_use_delay_and_start_now(web: WebCem) -> None:
    """First use Pending -> accept (reg 10); maximum delay 1800 s (reg 11); a session waits its
    delay; "start now" cancels it and the charge point charges (SCP-RD-6)."""
    h = await _station(web, "API-1", config=StationConfig(max_delay_s=0), seed=3)
    async with web.client() as c:
        await _as_owner(web, c)
        listed = (await c.get("/api/v1/owner/charge-points")).json()
        assert [cp["station_id"] for cp in listed] == ["API-1"]
        assert listed[0]["hours"]["first_use_pending"] and listed[0]["live"]

        r = await c.put("/api/v1/owner/charge-points/API-1/default-hours", json={"choice": "accept"})
        assert r.status_code == 200, r.text
        assert r.json()["hours"]["choice"] == "Accepted"
        assert FirstUseChoice(int(h.device._state.hours.choice[0])) is FirstUseChoice.ACCEPTED

        r = await c.put("/api/v1/owner/charge-points/API-1/delay", json={"max_delay_s": 1800})
        assert r.status_code == 200 and r.json()["delay"]["max_delay_s"] == 1800

        r = await c.post("/api/v1/owner/charge-points/API-1/start-now")
        assert r.status_code == 409 and r.json()["errors"][0]["field"] == "start_now"

        h.device.plug_in(EV(soc=0.3))
        await wait_for(lambda: h.device.countdown_s > 0 or h.device.power_w > 0, what="session start")
        assert h.device.countdown_s > 0
        await wait_for(lambda: web.services.gateway.stations["API-1"].transaction_id, what="tx")
        delay = (await c.get("/api/v1/owner/charge-points/API-1/delay")).json()
        assert delay["countdown_s"] > 0 and delay["can_start_now"]

        r = await c.post("/api/v1/owner/charge-points/API-1/start-now")
        assert r.status_code == 200, r.text
        await wait_for(lambda: h.device.power_w > 0, what="charging after start now")
        await wait_for(lambda: web.services.gateway.stations["API-1"].power_w > 0, what="power at the CEM")
        cp = (await c.get("/api/v1/owner/charge-points/API-1")).json()
        assert cp["charging"] and cp["mode"] == "CONSUMER_OVERRIDE"
        assert cp["limit"]["words"].startswith("Charging now")
    await h.close()


async def test_bad_input_and_other_owners_charge_points_are_refused(web: WebCem) -> None:
    """422 naming the field and the rule, 404 for a charge point of someone else, 401 without
    credentials, 403 for another role; the charge point keeps its settings."""
    await asyncio.to_thread(web.services.auth.create_user, "bob", Role.OWNER, "bob-password-long")
    h = await _station(web, "API-2")
    b = await _station(web, "BOB-2", owner="bob")
    async with web.client() as c:
        await _as_owner(web, c)
        cases = [
            ("put", "/api/v1/owner/charge-points/API-2/delay", {"max_delay_s": 1801}, 422, "max_delay_s"),
            (
                "put",
                "/api/v1/owner/charge-points/API-2/delay",
                {"max_delay_s": "ten"},
                422,
                "body.max_delay_s",
            ),
            (
                "put",
                "/api/v1/owner/charge-points/API-2/default-hours",
                {"choice": "change", "schedule": "Mon 25:00-26:00"},
                422,
                "schedule",
            ),
            (
                "put",
                "/api/v1/owner/charge-points/API-2/default-hours",
                {"choice": "never"},
                422,
                "body.choice",
            ),
            ("put", "/api/v1/owner/charge-points/API-2/tariff", {"tariff_id": "nope"}, 422, "tariff_id"),
            ("put", "/api/v1/owner/charge-points/BOB-2/delay", {"max_delay_s": 60}, 404, "station_id"),
            ("get", "/api/v1/owner/charge-points/BOB-2", None, 404, "station_id"),
            ("get", "/api/v1/owner/sessions?month=13-2026", None, 422, "month"),
            ("post", "/api/v1/owner/data/erase", {"confirm": False}, 422, "body.confirm"),
        ]
        for method, path, body, status, field in cases:
            r = await c.request(method.upper(), path, json=body)
            assert r.status_code == status, (path, r.text)
            assert r.json()["errors"][0]["field"] == field, (path, r.text)
            assert "\n" not in r.json()["detail"]
    assert FirstUseChoice(int(h.device._state.hours.choice[0])) is FirstUseChoice.PENDING
    assert int(b.device._state.delay.max_delay_s[0]) == 0
    async with web.client() as anonymous:
        assert (await anonymous.get("/api/v1/owner/charge-points")).status_code == 401
    async with web.client(await web.token(Role.OPERATOR)) as operator:
        assert (await operator.get("/api/v1/owner/charge-points")).status_code == 403
    await h.close()
    await b.close()


async def test_sessions_csv_export_and_erase(web: WebCem) -> None:
    """12 months of sessions with monthly totals and CSV; export, then erase (reg 9, PRIV-6)."""
    h = await _station(web, "API-3")
    repo = web.services.store.sessions
    start = datetime.now(UTC) - timedelta(days=40)
    for seq, (kind, wh) in enumerate([("Started", 0.0), ("Updated", 3500.0), ("Ended", 7000.0)]):
        at = start + timedelta(hours=seq)
        record = TransactionRecord(
            "API-3",
            "TX-OLD",
            seq,
            kind,
            "ChargingRateChanged" if seq == 0 else "MeterValuePeriodic",
            at,
            samples=(MeterSample(at, "Energy.Active.Import.Register", wh, "Wh"),),
            rate_power_w=7000.0 if seq == 0 else None,
        )
        await asyncio.to_thread(repo.record_event, record)
    async with web.client() as c:
        await _as_owner(web, c)
        report = (await c.get("/api/v1/owner/sessions")).json()
        assert [s["transaction_id"] for s in report["sessions"]] == ["TX-OLD"]
        assert report["sessions"][0]["energy_kwh"] == pytest.approx(7.0)
        assert report["months"][0]["sessions"] == 1 and report["cost_p"] > 0
        r = await c.get("/api/v1/owner/sessions.csv")
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [row["transaction_id"] for row in rows] == ["TX-OLD"] and rows[0]["energy_kwh"] == "7.000"
        exported = (await c.get("/api/v1/owner/data/export")).json()
        assert exported["charge_points"][0]["sessions"][0]["transaction_id"] == "TX-OLD"
        r = await c.post("/api/v1/owner/data/erase", json={"confirm": True})
        assert r.status_code == 200 and r.json()["rows_deleted"]["API-3"] > 0
        assert (await c.get("/api/v1/owner/sessions")).json()["sessions"] == []
    await h.close()
