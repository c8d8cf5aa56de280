"""Station registration an operator can live with, through the API and the CLI (issue 10 item 2;
SEC-S-1, SEC-S-2): the operator's own password (16-40 OCPP BasicAuthPassword characters), rotation,
re-registration and removal, each proven by a real handshake; bad values refused naming the field."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner
from websockets.exceptions import InvalidStatus

from interface_b_harness import start_station, wait_for
from smartcharge.cli.main import app
from smartcharge.ocpp.domain import OcppVersion
from smartcharge.station.security import StationSecurity

from .support import RawStation, WebCem

runner = CliRunner()
OWN = "my-Own.pass:word|2026"


async def _connects(web: WebCem, station_id: str, password: str) -> bool:
    station = RawStation(web.ocpp_url, station_id, password)
    try:
        await station.start()
    except InvalidStatus as refused:
        assert refused.response.status_code == 401
        return False
    await station.close()
    return True


async def test_register_rotate_reregister_remove_over_the_api(web_db: WebCem) -> None:
    web = web_db
    async with web.client(await web.token("operator")) as client:
        made = await client.post(
            "/api/v1/stations", json={"station_id": "REG-1", "security_profile": 1, "password": OWN}
        )
        assert made.status_code == 201 and made.json()["password"] is None
        assert await _connects(web, "REG-1", OWN)
        again = await client.post("/api/v1/stations", json={"station_id": "REG-1", "security_profile": 1})
        assert again.status_code == 409

        offline = await client.post("/api/v1/stations/REG-1/password")  # A01 needs the link
        assert offline.status_code == 409 and "not connected" in offline.json()["detail"]
        assert await _connects(web, "REG-1", OWN)  # nothing changed

        live = RawStation(web.ocpp_url, "REG-1", OWN)
        await live.start()
        moved = await client.put("/api/v1/stations/REG-1", json={"security_profile": 2})
        assert moved.status_code == 200 and moved.json()["security_profile"] == 2
        await asyncio.wait_for(live._task, 5)  # type: ignore[arg-type]  # the CEM closed the link
        assert not await _connects(web, "REG-1", moved.json()["password"])  # profile 2 needs TLS

        assert (await client.delete("/api/v1/stations/REG-1")).status_code == 204
        assert (await client.get("/api/v1/stations/REG-1")).status_code == 404
        assert (await client.delete("/api/v1/stations/REG-1")).status_code == 404
    actions = [
        (e.method, e.path, e.status_code) for e in await asyncio.to_thread(web.services.audit_log.recent, 6)
    ]
    assert actions[::-1] == [
        ("POST", "/api/v1/stations", 201),
        ("POST", "/api/v1/stations", 409),
        ("POST", "/api/v1/stations/REG-1/password", 409),
        ("PUT", "/api/v1/stations/REG-1", 200),
        ("DELETE", "/api/v1/stations/REG-1", 204),
        ("DELETE", "/api/v1/stations/REG-1", 404),
    ]


@pytest.mark.integration
@pytest.mark.parametrize("version", [OcppVersion.V201, OcppVersion.V16], ids=lambda v: v.value)
async def test_rotation_of_a_live_station_goes_over_ocpp(
    web: WebCem, version: OcppVersion, tmp_path: Path
) -> None:
    """A01 through the API: SetVariables BasicAuthPassword (1.6: ChangeConfiguration
    AuthorizationKey) to the connected station; after its Accepted the old password is refused at
    the next connect and the new one works (the station itself reconnects with it)."""
    async with web.client(await web.token("operator")) as client:
        made = await client.post("/api/v1/stations", json={"station_id": "ROT-1", "security_profile": 1})
        old = made.json()["password"]
        station = start_station("ROT-1", web.ocpp_url, version, old)
        station.device.security = StationSecurity(station.device, tmp_path / "rot")
        await wait_for(lambda: station.runner.connected.is_set(), what="boot")
        await wait_for(lambda: web.services.gateway.stations["ROT-1"].link is not None, what="link")
        short = await client.post("/api/v1/stations/ROT-1/password", json={"password": "short"})
        assert short.status_code == 422 and short.json()["errors"][0]["field"] == "body.password"
        rotated = await client.post("/api/v1/stations/ROT-1/password", json={"password": OWN})
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["password"] is None  # the operator's own is never echoed
        assert station.device.security.password(None) == OWN
        await wait_for(lambda: station.runner.boots == 2, what="the station reconnected with it")
        assert not await _connects(web, "ROT-1", old)  # the station's own reconnect used OWN
        await wait_for(lambda: web.services.gateway.stations["ROT-1"].link is not None, what="link back")
        random = await client.post("/api/v1/stations/ROT-1/password")
        new = random.json()["password"]
        assert random.status_code == 200 and 16 <= len(new) <= 40 and new != OWN
        await wait_for(lambda: station.runner.boots == 3, what="reconnected with the random one")
        await station.close()
        assert not await _connects(web, "ROT-1", OWN)
        assert await _connects(web, "ROT-1", new)
    kinds = [e.event_type for e in await asyncio.to_thread(web.services.store.security.recent, 50)]
    assert kinds.count("ReconfigurationOfSecurityParameters") >= 2


async def test_a_refused_rotation_keeps_the_old_password(web: WebCem) -> None:
    """A station that answers Rejected keeps its password, and so does the CEM (409)."""
    async with web.client(await web.token("operator")) as client:
        made = await client.post("/api/v1/stations", json={"station_id": "ROT-2", "security_profile": 1})
        old = made.json()["password"]
        raw = RawStation(web.ocpp_url, "ROT-2", old)
        raw.replies["SetVariables"] = {
            "setVariableResult": [
                {
                    "attributeStatus": "Rejected",
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                }
            ]
        }
        await raw.start()
        await wait_for(lambda: web.services.gateway.stations["ROT-2"].link is not None, what="link")
        refused = await client.post("/api/v1/stations/ROT-2/password")
        assert refused.status_code == 409 and "Rejected" in refused.json()["detail"]
        await raw.close()
        assert await _connects(web, "ROT-2", old)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"station_id": "R", "password": "short-15-chars!"}, "body.password"),
        ({"station_id": "R", "password": "x" * 41}, "body.password"),
        ({"station_id": "R", "password": "sixteen chars ok!"}, "password"),  # a space is not allowed
        ({"station_id": "R", "security_profile": 4}, "body.security_profile"),
        ({"station_id": "R", "security_profile": 3, "password": OWN}, "password"),
        ({"station_id": "bad id"}, "body.station_id"),
    ],
)
async def test_bad_registrations_name_the_field_and_change_nothing(
    web: WebCem, body: dict, field: str
) -> None:  # type: ignore[type-arg]
    async with web.client(await web.token("operator")) as client:
        answer = await client.post("/api/v1/stations", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == field
        assert (await client.get("/api/v1/stations")).json() == []


async def test_viewer_may_not_register(web: WebCem) -> None:
    async with web.client(await web.token("viewer")) as client:
        assert (await client.post("/api/v1/stations", json={"station_id": "V"})).status_code == 403


def test_cli_registers_with_own_password_rotates_and_removes(sqlite_url: str) -> None:
    result = runner.invoke(
        app,
        ["cem", "add-station", "--id", "CLI-R", "--profile", "1", "--own-password", "--db", sqlite_url],
        input=f"{OWN}\n{OWN}\n",
    )
    assert result.exit_code == 0 and "with your password" in result.output, result.output
    short = runner.invoke(
        app,
        ["cem", "station-password", "--id", "CLI-R", "--own-password", "--db", sqlite_url],
        input="short\nshort\n",
    )
    assert short.exit_code == 2 and "password=" in short.output and "16-40" in short.output
    rotated = runner.invoke(app, ["cem", "station-password", "--id", "CLI-R", "--db", sqlite_url])
    assert rotated.exit_code == 0 and "shown once" in rotated.output
    refused = runner.invoke(app, ["cem", "remove-station", "--id", "CLI-R", "--db", sqlite_url])
    assert refused.exit_code == 2 and "--yes" in refused.output
    removed = runner.invoke(app, ["cem", "remove-station", "--id", "CLI-R", "--yes", "--db", sqlite_url])
    assert removed.exit_code == 0
    gone = runner.invoke(app, ["cem", "station-password", "--id", "CLI-R", "--db", sqlite_url])
    assert gone.exit_code == 2 and "not a registered station" in gone.output
