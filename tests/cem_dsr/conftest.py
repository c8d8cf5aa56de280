"""Loopback harness: a real DSRSP (VTN over HTTPS, signed messages) and the CEM's VEN supervisor
driving an in-memory charger gateway. Certificates are made at test time in a tmp dir."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from smartcharge.cem.consent import ConsentLedger
from smartcharge.cem.dsr_offers import ChargingNeed
from smartcharge.cem.dsr_switch import VenIdentity
from smartcharge.cem.ports import StationTelemetry
from smartcharge.cem.ven import SessionSettings, VenSupervisor
from smartcharge.core.limit import Limit, LimitSource
from smartcharge.dsrsp.service import DsrspService
from smartcharge.openadr.pki import CertPaths, issue_pki
from smartcharge.openadr.vtn import VtnConfig
from smartcharge.store.base import make_engine
from smartcharge.store.consent import ConsentStore, DsrspStore
from smartcharge.store.migrate import upgrade


@dataclass
class Pki:
    ca: Path
    leaves: dict[str, CertPaths]


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca, leaves = issue_pki(tmp_path / "pki", ["vtn_a", "vtn_b", "cem", "operator"], dt.datetime.now(dt.UTC))
    return Pki(ca, leaves)


@dataclass
class FakeGateway:
    """In-memory ChargerGateway: one charge point drawing up to ``demand_w`` under its limits."""

    demand_w: float = 7000.0
    binding: LimitSource | None = None
    needs: list[ChargingNeed] = field(default_factory=list)
    limits: dict[LimitSource, Limit] = field(default_factory=dict)
    calls: list[tuple] = field(default_factory=list)
    applied: asyncio.Event = field(default_factory=asyncio.Event)

    async def apply_limit(
        self, station_id: str | None, limit: Limit, until_s: int | None, exempt: bool
    ) -> None:
        self.calls.append(("apply", station_id, limit, until_s, exempt, time.time()))
        self.limits[limit.source] = limit
        self.applied.set()

    async def clear_limit(self, station_id: str | None, source: LimitSource) -> None:
        self.calls.append(("clear", station_id, source, time.time()))
        self.limits.pop(source, None)

    def power_w(self) -> float:
        return min([self.demand_w, *(lim.value_w for lim in self.limits.values())])

    def telemetry(self) -> list[StationTelemetry]:
        power = self.power_w()
        binding = self.binding or (min(self.limits) if self.limits else None)
        return [StationTelemetry("CP-1", True, power > 0, power, 12.5, power, binding)]

    def charging_needs(self) -> list[ChargingNeed]:
        return self.needs

    def applies(self, source: LimitSource) -> list[tuple]:
        return [c for c in self.calls if c[0] == "apply" and c[2].source is source]


def sqlite_engine(path: Path):
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


@dataclass
class Loop:
    """A DSRSP and a CEM wired together over loopback HTTPS."""

    dsrsp: DsrspService
    gateway: FakeGateway
    ledger: ConsentLedger
    supervisor: VenSupervisor
    stop: asyncio.Event
    task: asyncio.Task | None = None

    async def wait_for(self, check: Callable[[], object], timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout_s} s")
            await asyncio.sleep(0.05)


def identity(pki: Pki) -> VenIdentity:
    return VenIdentity("home-cem", pki.leaves["cem"].cert, pki.leaves["cem"].key, pki.ca)


@pytest.fixture
def cem_identity(pki: Pki) -> VenIdentity:
    """The CEM's VEN identity (its certificate, key and CA)."""
    return identity(pki)


@pytest.fixture
def gateway() -> FakeGateway:
    """An in-memory charger gateway."""
    return FakeGateway()


@pytest.fixture
async def dsrsp_a(pki: Pki, tmp_path: Path) -> AsyncIterator[DsrspService]:
    """DSRSP-A in this process (0.5 s poll), with the CEM's certificate enrolled."""
    dsrsp_store = DsrspStore(sqlite_engine(tmp_path / "dsrsp.db"))
    config = VtnConfig(
        "DSRSP-A",
        pki.leaves["vtn_a"].cert,
        pki.leaves["vtn_a"].key,
        pki.ca,
        port=0,
        poll_interval_s=0.5,
        operator_fingerprints=frozenset({pki.leaves["operator"].fingerprint}),
    )
    dsrsp = DsrspService(config, dsrsp_store)
    dsrsp.registry.enrol(pki.leaves["cem"].fingerprint, "home-cem")
    await dsrsp.start()
    yield dsrsp
    await dsrsp.stop()


@pytest.fixture
async def loop(pki: Pki, tmp_path: Path, dsrsp_a: DsrspService) -> AsyncIterator[Loop]:
    """DSRSP-A with the CEM enrolled; the CEM's ledger grants DSRSP-A; the VEN supervisor runs."""
    dsrsp = dsrsp_a
    ledger = ConsentLedger(ConsentStore(sqlite_engine(tmp_path / "cem.db")))
    ledger.grant("DSRSP-A", dsrsp.vtn.url, pki.leaves["vtn_a"].fingerprint)
    gateway = FakeGateway()
    settings = SessionSettings(poll_interval_s=0.5, telemetry_interval_s=1.0, offer_step_s=900, offer_steps=4)
    supervisor = VenSupervisor(gateway, ledger, identity(pki), settings, 0.2, rng=random.Random(7))
    harness = Loop(dsrsp, gateway, ledger, supervisor, asyncio.Event())
    harness.task = asyncio.create_task(supervisor.run(harness.stop))
    await harness.wait_for(lambda: supervisor.session is not None and dsrsp.registry.registered())
    yield harness
    harness.stop.set()
    await harness.task


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CLI = ["-c", "from smartcharge.cli.main import app; app()"]


@dataclass
class RemoteDsrsp:
    """A DSRSP VTN in its own process (openleadr allows one VTN per process)."""

    vtn_id: str
    url: str
    base_url: str
    fingerprint: str
    pki: Pki

    async def admin(self, action: str, body: dict) -> dict:
        from smartcharge.openadr.admin import post_admin

        operator = self.pki.leaves["operator"]
        return await post_admin(self.base_url, action, body, operator.cert, operator.key, self.pki.ca)


@pytest.fixture
async def remote_dsrsp_b(pki: Pki, tmp_path: Path) -> AsyncIterator[RemoteDsrsp]:
    """``smartcharge dsrsp serve`` for DSRSP-B in a subprocess, with the CEM enrolled."""
    import subprocess
    import sys

    import yaml

    port = free_port()
    config = tmp_path / "dsrsp_b.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "vtn_id": "DSRSP-B",
                "cert": str(pki.leaves["vtn_b"].cert),
                "key": str(pki.leaves["vtn_b"].key),
                "ca_file": str(pki.ca),
                "port": port,
                "poll_interval_s": 0.5,
                "storage_url": f"sqlite:///{tmp_path / 'dsrsp_b.db'}",
                "operator_fingerprints": [pki.leaves["operator"].fingerprint],
            }
        )
    )
    enrol = [*CLI, "dsrsp", "enrol", "--config", str(config)]
    enrol += ["--fingerprint", pki.leaves["cem"].fingerprint, "--name", "home-cem"]
    subprocess.run([sys.executable, *enrol], check=True, capture_output=True, timeout=60)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *CLI,
        "dsrsp",
        "serve",
        "--config",
        str(config),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            break
        except OSError:
            if time.monotonic() > deadline or proc.returncode is not None:
                proc.kill()
                raise RuntimeError("DSRSP-B did not start") from None
            await asyncio.sleep(0.1)
    base = f"https://127.0.0.1:{port}"
    yield RemoteDsrsp("DSRSP-B", f"{base}/OpenADR2/Simple/2.0b", base, pki.leaves["vtn_b"].fingerprint, pki)
    proc.terminate()
    await proc.wait()
