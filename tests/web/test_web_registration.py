"""Station registration an operator can live with, through the API and the CLI (issue 10 item 2;
SEC-S-1, SEC-S-2): the operator's own password (16-40 OCPP BasicAuthPassword characters), rotation,
re-registration and removal, each proven by a real handshake; bad values refused naming the field."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner
from websockets.exceptions import InvalidStatus

from smartcharge.cli.main import app

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

        rotated = await client.post("/api/v1/stations/REG-1/password")
        new = rotated.json()["password"]
        assert rotated.status_code == 200 and 16 <= len(new) <= 40 and new != OWN
        assert not await _connects(web, "REG-1", OWN)
        assert await _connects(web, "REG-1", new)

        live = RawStation(web.ocpp_url, "REG-1", new)
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
        ("POST", "/api/v1/stations/REG-1/password", 200),
        ("PUT", "/api/v1/stations/REG-1", 200),
        ("DELETE", "/api/v1/stations/REG-1", 204),
        ("DELETE", "/api/v1/stations/REG-1", 404),
    ]


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
