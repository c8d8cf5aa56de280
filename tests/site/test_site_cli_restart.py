"""A workplace run from the command line (issue 12 items 1-3; SCN-WRK after ENA G100, report 7.21):
``smartcharge cem serve --site FILE --site-meter mqtt://...`` as a real process, real stations over
websockets, readings over real MQTT (Mosquitto on 127.0.0.1:1883, a topic of this test's own).

A reading changes the stations' limits; the site manager's changes (priorities, token priorities,
fail-safe) and the owner's plans go through the API; the process is stopped and started again on
the same database (SQLite and PostgreSQL) with the same site file, and the stored settings, not the
file's, are the ones in force: the stored priority decides who is paused, the stored fail-safe
current is what a stale meter falls back to, the plan is still planned; the changes stay in the
audit log and the security log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from interface_b_harness import free_port, register, wait_for
from interface_b_harness import start_station as start_emulated_station
from smartcharge.cem.id_tokens import IdTokenService
from smartcharge.cem.owner import OwnerService
from smartcharge.cem.service import open_store
from smartcharge.ocpp.domain import ProfilePurpose
from smartcharge.store.audit_log import AuditLogRepository
from smartcharge.store.owner_repo import OwnerRepository
from smartcharge.store.web_access import WebAccessRepository
from smartcharge.web.auth import CSRF_HEADER, AuthService, Role

CLI = Path(sys.executable).with_name("smartcharge")
VOLTS = 230.0
OWNER_PASSWORD = "a-long-owner-password-1"
STALE_S = 2.0

SITE_FILE = """\
circuits:
  - {circuit_id: site, phase_limit_a: 40}
  - {circuit_id: car-park, parent: site, power_limit_w: 22000}
charge_points:
  - {station_id: wp-a, circuit_id: car-park, phases: L1, max_current_a: 32}
  - {station_id: wp-b, circuit_id: car-park, phases: L1, max_current_a: 32}
failsafe_current_a: 6
"""


def _broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Cem:
    """The CEM as a process; its API port is read from what it prints."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self.start_at = log.stat().st_size if log.exists() else 0
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(CLI), "cem", "serve", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
            )
        self.api_port = 0

    def output(self) -> str:
        return self.log.read_bytes()[self.start_at :].decode("utf-8", "replace")

    async def ready(self, ocpp_port: int) -> None:
        def up() -> bool:
            found = re.search(r"web API on http://127\.0\.0\.1:(\d+)/api/v1", self.output())
            if found:
                self.api_port = int(found.group(1))
            site_up = re.search(r"^site: \d+ charge points", self.output(), re.MULTILINE)
            return (found is not None and site_up is not None and _listening(ocpp_port)) or (
                self.proc.poll() is not None
            )

        await wait_for(up, 60, "the CEM process to serve")
        assert self.proc.poll() is None, self.output()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError(f"the CEM did not stop on SIGTERM:\n{self.output()}") from None


class Publisher:
    """Publishes the same site reading every 0.3 s while running (a live meter), over MQTT.

    It stops on a flag, not on a cancellation: on Python 3.11 ``asyncio.wait_for`` (inside
    aiomqtt's ``publish``) can swallow a cancellation that arrives as the PUBACK does, and the
    loop then published on forever while ``silence`` waited for it (a CI run hung here)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.reading: dict[str, object] | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        import aiomqtt

        async with aiomqtt.Client("127.0.0.1", 1883) as client:
            while not self._stopping.is_set():
                if self.reading is not None:
                    await client.publish(self.topic, json.dumps(self.reading), qos=1)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 0.3)

    def start(self, reading: dict[str, object]) -> None:
        self.reading = reading
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run())

    async def silence(self) -> None:
        if self._task is not None:
            self._stopping.set()
            await asyncio.wait_for(self._task, 20)  # publish and disconnect each wait 10 s at most
            self._task = None


def _station_max_w(handle: object) -> float | None:
    for p in handle.device.charging_profiles():  # type: ignore[attr-defined]
        if p.purpose is ProfilePurpose.STATION_MAX:
            return float(p.limit_w)
    return None


@contextlib.asynccontextmanager
async def _owner(api_port: int) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as client:
        answer = await client.post(
            "/api/v1/auth/login", json={"username": "olive", "password": OWNER_PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        client.headers[CSRF_HEADER] = answer.json()["csrf_token"]
        yield client


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(not _broker_up(), reason="no MQTT broker on 127.0.0.1:1883")
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_a_cli_site_follows_its_mqtt_meter_and_keeps_its_settings_across_a_restart(
    request: pytest.FixtureRequest, database: str, tmp_path: Path
) -> None:
    url = request.getfixturevalue("sqlite_url" if database == "sqlite" else "pg_url")
    data_dir = tmp_path / "data"
    store = open_store(url, data_dir=data_dir)
    passwords = {sid: register(store, sid) for sid in ("wp-a", "wp-b")}
    IdTokenService(store.id_tokens).add("VAN-1")
    auth = AuthService(WebAccessRepository(store.engine))
    _, manager_token = auth.create_token(Role.SITE_MANAGER, "site test")
    auth.create_user("olive", Role.OWNER, OWNER_PASSWORD)
    OwnerService(OwnerRepository(store.engine), None).assign("wp-a", "olive")
    site_file = tmp_path / "site.yaml"
    site_file.write_text(SITE_FILE, encoding="utf-8")
    topic = f"smartcharge-test/{uuid.uuid4().hex}/meter"
    ocpp_port = free_port()
    args = [
        "--db", url, "--data-dir", str(data_dir), "--port", str(ocpp_port), "--api-port", "0",
        "--site", str(site_file), "--site-meter", f"mqtt://127.0.0.1:1883/{topic}",
        "--meter-stale-s", str(STALE_S), "--log-level", "WARNING",
    ]  # fmt: skip
    log = tmp_path / "cem.log"
    publisher = Publisher(topic)
    # 30 A of other load on L1 leaves 10 A of the 40 A connection: one idle charge point keeps its
    # 6 A minimum ready, the other is paused (0 W); which one is the priority's choice.
    busy = {"import_w": 30 * VOLTS, "phase_a": [30.0, 0.0, 0.0]}
    cem = Cem(args, log)
    stations = []
    try:
        await cem.ready(ocpp_port)
        assert "settings from the site file" in cem.output()
        stations = [
            start_emulated_station(sid, f"ws://127.0.0.1:{ocpp_port}", password=passwords[sid])
            for sid in ("wp-a", "wp-b")
        ]
        a, b = stations
        limits = lambda: (_station_max_w(a), _station_max_w(b))  # noqa: E731
        # No reading yet: the fail-safe (6 A from the file) on both.
        await wait_for(lambda: limits() == (6 * VOLTS, 6 * VOLTS), 30, "the file's fail-safe")
        publisher.start(busy)
        await wait_for(lambda: limits() == (6 * VOLTS, 0.0), 30, "the reading cuts the second")

        headers = {"Authorization": f"Bearer {manager_token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{cem.api_port}", headers=headers) as client:
            answer = await client.put(
                "/api/v1/site/priorities", json={"priorities": {"wp-b": 10}, "token_priority": {"VAN-1": 20}}
            )
            assert answer.status_code == 200, answer.text
            answer = await client.put("/api/v1/site/failsafe", json={"failsafe_current_a": 8})
            assert answer.status_code == 200, answer.text
            bad = await client.put("/api/v1/site/priorities", json={"priorities": {"nobody": 1}})
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "priorities['nobody']"
        await wait_for(lambda: limits() == (0.0, 6 * VOLTS), 30, "the priority puts wp-b first")
        async with _owner(cem.api_port) as owner:
            answer = await owner.post(
                "/api/v1/charge-points/wp-a/plans",
                json={"kind": "recurring", "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                      "ready_by_local": "07:30", "target_kwh": 20},
            )  # fmt: skip
            assert answer.status_code == 201, answer.text
            plan_id = answer.json()["plan_id"]
        await publisher.silence()
        # The meter falls silent: past STALE_S both go to the fail-safe, now 8 A.
        await wait_for(lambda: limits() == (8 * VOLTS, 8 * VOLTS), 30, "the stale meter's fail-safe")
        cem.stop()

        # ---- the same command again, on the same database ------------------------------------
        cem = Cem(args, log)
        await cem.ready(ocpp_port)
        assert "settings from the store (last changed by token:" in cem.output()
        await wait_for(lambda: all(s.runner.connected.is_set() for s in stations), 30, "reconnect")
        publisher.start(busy)
        await wait_for(lambda: limits() == (0.0, 6 * VOLTS), 30, "the stored priority in force")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{cem.api_port}", headers=headers) as client:
            site = (await client.get("/api/v1/site")).json()
        assert {cp["station_id"]: cp["priority"] for cp in site["charge_points"]} == {"wp-a": 0, "wp-b": 10}
        assert site["token_priority"] == {"VAN-1": 20}
        assert site["failsafe_current_a"] == 8
        assert [c["circuit_id"] for c in site["circuits"]] == ["site", "car-park"]
        async with _owner(cem.api_port) as owner:
            plans = (await owner.get("/api/v1/charge-points/wp-a/plans")).json()
            assert [(p["plan_id"], p["ready_by_local"], p["target_kwh"]) for p in plans] == [
                (plan_id, "07:30", 20.0)
            ]
            result = (await owner.get("/api/v1/charge-points/wp-a/plan")).json()
            assert result["plan_id"] == plan_id and result["target_kwh"] == pytest.approx(20.0)
        await publisher.silence()
        await wait_for(lambda: limits() == (8 * VOLTS, 8 * VOLTS), 30, "the stored fail-safe")
    finally:
        await publisher.silence()
        for s in stations:
            await s.close()
        cem.stop()
    changes = [
        (r.method, r.path, r.status_code)
        for r in AuditLogRepository(store.engine).recent(50)
        if r.path.startswith("/api/v1/site")
    ]
    assert ("PUT", "/api/v1/site/priorities", 200) in changes
    assert ("PUT", "/api/v1/site/failsafe", 200) in changes
    assert ("PUT", "/api/v1/site/priorities", 422) in changes
    events = [e.detail for e in store.security.recent(200) if e.event_type == "SiteSettingsChanged"]
    assert any("changed charge_points, token_priority" in d for d in events), events
    assert any("changed failsafe_current_a" in d for d in events), events
    store.engine.dispose()
