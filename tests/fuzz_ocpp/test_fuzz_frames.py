"""Fuzzing, bounded in time: OCPP 2.0.1 and 1.6J frames against the real CEM over websockets
(issue 15 deliver 3; SEC-D-6 input validation).

Frames are CALLs of every action the CEM handles, with payloads drawn from the official JSON
schemas (and values past their edges), mixed with malformed frames (raw bytes, text, random JSON,
wrong ids and message types, deep nesting). Checked for every frame: a CALL gets exactly one
answer with its id, never ``InternalError`` (an unhandled exception); nothing is logged as an
unexpected error (no traceback in the CEM's log); the link stays up; the CEM process is alive
after the run and its resident memory grew by less than a bound. Each run
prints how many frames of each kind it tried.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from fuzz_ocpp.schema_strategies import call_frames, malformed_frames
from interface_b_harness import free_port, register
from smartcharge.cem.service import Store, open_store
from smartcharge.ocpp.server import basic_auth_header
from smartcharge.ocpp.v16 import CsmsV16
from smartcharge.ocpp.v201 import CsmsV201

EXAMPLES = 250  # per version: about 10 s each on the shared test machine
MEMORY_BOUND_BYTES = 30 * 1024 * 1024
CLI = Path(sys.executable).with_name("smartcharge")


def _handled(cls: type) -> list[str]:
    return sorted({v._on_action for v in vars(cls).values() if hasattr(v, "_on_action")})


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class CemProcess:
    """The real CEM as its own process (``smartcharge cem serve``), on SQLite."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    store: Store


@pytest.fixture
def cem_process(sqlite_url: str, tmp_path: Path) -> Iterator[CemProcess]:
    store = open_store(sqlite_url)
    port = free_port()
    log = tmp_path / "cem.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(CLI), "cem", "serve", "--db", sqlite_url, "--port", str(port), "--log-level", "WARNING"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + 60
    while not _listening(port) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None and _listening(port), log.read_text()[-2000:]
    yield CemProcess(proc, port, log, store)
    proc.send_signal(signal.SIGTERM)
    proc.wait(20)
    store.engine.dispose()


def _connect(cem: CemProcess, station_id: str, subprotocol: str) -> ClientConnection:
    password = register(cem.store, station_id)
    return connect(
        f"ws://127.0.0.1:{cem.port}/ocpp/{station_id}",
        subprotocols=[subprotocol],  # type: ignore[list-item]
        additional_headers={"Authorization": basic_auth_header(station_id, password)},
        max_size=None,
        open_timeout=10,
    )


def _fuzz(
    cem: CemProcess, ws: ClientConnection, version: str, actions: list[str], tried: Counter[str]
) -> None:
    frames = st.one_of(call_frames(version, actions), malformed_frames.map(lambda f: ("malformed", f)))

    marks = iter(range(10**9))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(frames)
    def one(case: tuple[str, Any]) -> None:
        kind, frame = case
        tried[kind] += 1
        ws.send(frame)
        # A Heartbeat after each frame marks where its answers end (whatever the frame was).
        mark = f"mark-{next(marks)}"
        ws.send(json.dumps([2, mark, "Heartbeat", {}]))
        answers = []
        while True:
            reply = json.loads(ws.recv(timeout=10))
            if reply[0] == 2:  # the CEM's own call (profiles after a boot): not what we test
                ws.send(json.dumps([4, reply[1], "NotSupported", "fuzz client", {}]))
                continue
            if reply[1] == mark:
                assert reply[0] == 3, reply
                break
            answers.append(reply)
        assert len(answers) <= 1, answers
        for reply in answers:
            assert reply[0] == 4 or kind != "malformed", reply
            if reply[0] == 4:
                assert reply[2] != "InternalError", (str(frame)[:300], reply)
                tried[f"refused:{reply[2]}"] += 1
        if kind != "malformed":  # a CALL gets exactly one answer, with its id
            assert len(answers) == 1 and answers[0][1] == json.loads(frame)[1], answers

    one()


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize(
    ("version", "subprotocol", "cls"), [("2.0.1", "ocpp2.0.1", CsmsV201), ("1.6", "ocpp1.6", CsmsV16)]
)
def test_fuzzed_frames_never_crash_the_cem(
    cem_process: CemProcess, version: str, subprotocol: str, cls: type
) -> None:
    cem = cem_process
    tried: Counter[str] = Counter()
    with _connect(cem, "FUZZ1", subprotocol) as ws:
        _fuzz(cem, ws, version, _handled(cls)[:2], Counter())  # warm-up: caches, first rows
        before = _rss_bytes(cem.proc.pid)
        _fuzz(cem, ws, version, _handled(cls), tried)
        grown = _rss_bytes(cem.proc.pid) - before
    assert cem.proc.poll() is None, "the CEM died"
    log = cem.log.read_text(encoding="utf-8", errors="replace")
    summary = ", ".join(f"{k} {v}" for k, v in sorted(tried.items()))
    total = sum(v for k, v in tried.items() if not k.startswith("refused:"))
    print(f"\nfuzz OCPP {version}: {total} frames: {summary}; CEM resident memory {grown / 1e6:+.1f} MB")
    assert "Traceback" not in log, log[:3000]  # no unhandled exception anywhere in the CEM
    assert grown < MEMORY_BOUND_BYTES, grown
