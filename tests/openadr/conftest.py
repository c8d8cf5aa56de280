"""Loopback fixtures for the OpenADR adapter: a test CA and certificates made at test time."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from smartcharge.openadr.model import OptNotice, ReportPoint, SecurityNotice, VenRecord
from smartcharge.openadr.pki import CertPaths, issue_pki
from smartcharge.openadr.vtn import VtnAdapter, VtnConfig


@dataclass
class Pki:
    ca: Path
    leaves: dict[str, CertPaths]


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca, leaves = issue_pki(tmp_path / "pki", ["vtn", "cem", "intruder", "other_vtn"], dt.datetime.now(dt.UTC))
    return Pki(ca, leaves)


@dataclass
class Directory:
    """In-memory VEN directory: enrolled fingerprints and live registrations."""

    enrolled: dict[str, str]
    records: dict[str, VenRecord] = field(default_factory=dict)

    def lookup(self, ven_id: str) -> VenRecord | None:
        return self.records.get(ven_id)

    def register(self, fingerprint: str, ven_name: str) -> VenRecord | None:
        if fingerprint not in self.enrolled:
            return None
        record = VenRecord(fingerprint, ven_name, self.enrolled[fingerprint], "REG-1")
        self.records[record.ven_id] = record
        return record

    def cancel(self, ven_id: str) -> None:
        self.records.pop(ven_id, None)


@dataclass
class Listener:
    opts: list[OptNotice] = field(default_factory=list)
    reports: list[tuple[str, list[ReportPoint]]] = field(default_factory=list)
    security: list[SecurityNotice] = field(default_factory=list)

    def on_opt(self, notice: OptNotice) -> None:
        self.opts.append(notice)

    def on_report(self, ven_id: str, points: list[ReportPoint]) -> None:
        self.reports.append((ven_id, points))

    def on_security(self, notice: SecurityNotice) -> None:
        self.security.append(notice)


@dataclass
class Vtn:
    adapter: VtnAdapter
    directory: Directory
    listener: Listener


@pytest.fixture
async def make_vtn(pki: Pki) -> AsyncIterator[Callable[..., Awaitable[Vtn]]]:
    """Start the test's one VTN (openleadr allows one per process), optionally with a skewed clock."""
    started: list[VtnAdapter] = []

    async def start(clock_offset_s: float = 0.0) -> Vtn:
        directory = Directory({pki.leaves["cem"].fingerprint: "VEN-CEM"})
        listener = Listener()
        config = VtnConfig("DSRSP-TEST", pki.leaves["vtn"].cert, pki.leaves["vtn"].key, pki.ca, port=0)
        adapter = VtnAdapter(config, directory, listener, clock=lambda: time.time() + clock_offset_s)
        await adapter.start()
        started.append(adapter)
        return Vtn(adapter, directory, listener)

    yield start
    for adapter in started:
        await adapter.stop()


@pytest.fixture
async def vtn(make_vtn: Callable[..., Awaitable[Vtn]]) -> Vtn:
    return await make_vtn()
