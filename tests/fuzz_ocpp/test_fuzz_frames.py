"""Fuzzing, bounded in time: OCPP 2.0.1 and 1.6J frames against the real CEM over websockets
(issue 15 deliver 3; SEC-D-6 input validation).

Frames are CALLs of every action the CEM handles, with payloads drawn from the official JSON
schemas (and values past their edges), mixed with malformed frames (raw bytes, text, random JSON,
wrong ids and message types, deep nesting). Checked for every frame: a CALL gets exactly one
answer with its id, never ``InternalError`` (an unhandled exception); nothing is logged as an
unexpected error; the link stays up. Checked after the run: the CEM's per-connection state is
back to idle (no call pending, no held task) and its memory grew by less than a bound. Each run
prints how many frames of each kind it tried.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import threading
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from fuzz_ocpp.schema_strategies import call_frames, malformed_frames
from interface_b_harness import CemHandle, register, start_cem
from smartcharge.ocpp.server import basic_auth_header
from smartcharge.ocpp.v16 import CsmsV16
from smartcharge.ocpp.v201 import CsmsV201

EXAMPLES = 250  # per version: about 10 s each on the shared test machine
MEMORY_BOUND_BYTES = 30 * 1024 * 1024


def _handled(cls: type) -> list[str]:
    return sorted({v._on_action for v in vars(cls).values() if hasattr(v, "_on_action")})


class _CemThread:
    """A real CEM in an event loop of its own thread, so hypothesis can drive it synchronously."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.cem: CemHandle = asyncio.run_coroutine_threadsafe(start_cem(url), self.loop).result(60)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.cem.close(), self.loop).result(30)
        self.cem.store.engine.dispose()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def cem_thread(sqlite_url: str) -> Iterator[_CemThread]:
    handle = _CemThread(sqlite_url)
    yield handle
    handle.close()


class _Unexpected(logging.Handler):
    """Collects log records that carry a traceback: an exception nobody handled."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


def _connect(cem: CemHandle, station_id: str, subprotocol: str) -> ClientConnection:
    password = register(cem.store, station_id)
    return connect(
        f"ws://127.0.0.1:{cem.port}/ocpp/{station_id}",
        subprotocols=[subprotocol],  # type: ignore[list-item]
        additional_headers={"Authorization": basic_auth_header(station_id, password)},
        max_size=None,
        open_timeout=10,
    )


def _fuzz(
    cem: CemHandle, ws: ClientConnection, version: str, actions: list[str], tried: Counter[str]
) -> None:
    frames = st.one_of(call_frames(version, actions), malformed_frames.map(lambda f: ("malformed", f)))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(frames)
    def one(case: tuple[str, Any]) -> None:
        kind, frame = case
        tried[kind] += 1
        ws.send(frame)
        if not _is_response(frame):
            reply = json.loads(ws.recv(timeout=10))
            assert reply[0] in (3, 4), reply
            if kind != "malformed":
                assert reply[1] == json.loads(frame)[1]
            if reply[0] == 4:
                assert reply[2] != "InternalError", (frame[:300], reply)
                tried[f"refused:{reply[2]}"] += 1
        ws.ping().wait(10)  # the link is still up

    one()


def _is_response(frame: str | bytes) -> bool:
    """A well-formed CALLRESULT/CALLERROR frame is dropped without an answer (nothing was sent)."""
    if isinstance(frame, bytes):
        return False
    try:
        parsed = json.loads(frame)
    except (ValueError, RecursionError):
        return False
    return (
        isinstance(parsed, list)
        and len(parsed) >= 3
        and parsed[0] in (3, 4)
        and isinstance(parsed[1], str)
        and 1 <= len(parsed[1]) <= 36
        and (
            parsed[0] == 3
            and len(parsed) == 3
            and isinstance(parsed[2], dict)
            or parsed[0] == 4
            and len(parsed) == 5
            and isinstance(parsed[2], str)
            and isinstance(parsed[3], str)
        )
    )


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize(
    ("version", "subprotocol", "cls"), [("2.0.1", "ocpp2.0.1", CsmsV201), ("1.6", "ocpp1.6", CsmsV16)]
)
def test_fuzzed_frames_never_crash_the_cem(
    cem_thread: _CemThread, version: str, subprotocol: str, cls: type
) -> None:
    cem = cem_thread.cem
    unexpected = _Unexpected()
    logging.getLogger().addHandler(unexpected)
    tried: Counter[str] = Counter()
    try:
        with _connect(cem, "FUZZ1", subprotocol) as ws:
            _fuzz(cem, ws, version, _handled(cls)[:2], Counter())  # warm-up: caches, first rows
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            _fuzz(cem, ws, version, _handled(cls), tried)
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            session = cem.server.sessions["FUZZ1"]
            assert session._pending is None and not session._after_tasks
    finally:
        logging.getLogger().removeHandler(unexpected)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(tried.items()))
    total = sum(v for k, v in tried.items() if not k.startswith("refused:"))
    print(f"\nfuzz OCPP {version}: {total} frames: {summary}; memory +{grown / 1e6:.1f} MB")
    assert not unexpected.records, [r.getMessage() for r in unexpected.records][:5]
    assert grown < MEMORY_BOUND_BYTES, grown
