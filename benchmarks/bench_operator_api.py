"""The operator API's speed: HTTP in -> station -> answer out (issue 10 item 2).

The CEM and its web API run in this process (uvicorn in the CEM's event loop, SQLite store); the
stations run in a separate process (``smartcharge station run --count N``, real emulated 2.0.1
charge points, security profile 1); the HTTP load comes from a third process (httpx), so neither
side's CPU blurs the CEM's. Every call is a GetVariables (ConsumerOverride.Active), checked
against the official schema, audited (committed before the answer) and streamed to the event bus.

1. round trip: ``--rounds`` times, ``--concurrency`` calls at once, each to a different station,
   each ``POST /api/v1/stations/{id}/ocpp/GetVariables``; p50/p99 per call over all rounds;
2. fan-out: ``--rounds`` times one ``POST /api/v1/ocpp/GetVariables/fan-out`` to all N stations
   (the fan-out endpoint: one HTTP call, N OCPP calls concurrently); p50/p99 per HTTP call.

Usage: .venv/bin/python benchmarks/bench_operator_api.py --stations 1000 --concurrency 100 --rounds 20
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

logger = logging.getLogger("bench_operator_api")
CLI = Path(sys.executable).with_name("smartcharge")
PAYLOAD = {"getVariableData": [{"component": {"name": "ConsumerOverride"}, "variable": {"name": "Active"}}]}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def client(base: str, token: str, ids: list[str], concurrency: int, rounds: int) -> dict[str, object]:
    """The load generator (runs in its own process)."""
    import httpx

    # Idle connections are dropped after 2 s, before uvicorn's 5 s keep-alive timeout: at equal
    # timeouts a connection idle through a slow round was reused as the server closed it (ReadError).
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2.0
    )
    headers = {"Authorization": f"Bearer {token}"}
    single: list[float] = []
    fan: list[float] = []
    failures = 0
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:

        async def one(station_id: str) -> None:
            nonlocal failures
            start = time.perf_counter()
            answer = await http.post(f"/api/v1/stations/{station_id}/ocpp/GetVariables", json=PAYLOAD)
            single.append(time.perf_counter() - start)
            if answer.status_code != 200 or answer.json()["outcome"] != "CallResult":
                failures += 1

        await asyncio.gather(*(one(sid) for sid in ids[:concurrency]))  # warm-up: connections, caches
        single.clear()
        for r in range(rounds):
            chosen = [ids[(r * concurrency + i) % len(ids)] for i in range(concurrency)]
            await asyncio.gather(*(one(sid) for sid in chosen))
        for _ in range(rounds):
            start = time.perf_counter()
            answer = await http.post("/api/v1/ocpp/GetVariables/fan-out", json={"payload": PAYLOAD})
            fan.append(time.perf_counter() - start)
            body = answer.json()
            failures += sum(1 for item in body["results"] if item["outcome"] != "CallResult")
    return {"single": single, "fan": fan, "failures": failures, "fan_targets": len(body["results"])}


async def run(stations: int, concurrency: int, rounds: int) -> None:
    from smartcharge.cem.credentials import hash_password, new_password
    from smartcharge.cem.service import CemConfig, open_store
    from smartcharge.station.fleet import station_ids
    from smartcharge.web.auth import Role
    from smartcharge.web.serve import ApiConfig, serve_cem_with_api
    from smartcharge.web.services import WebServices

    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    url = f"sqlite:///{work / 'cem.db'}"
    ids = station_ids("API", stations)
    store = open_store(url)
    passwords = {sid: new_password() for sid in ids}
    from datetime import UTC, datetime

    for sid in ids:
        store.stations.add(sid, 1, hash_password(passwords[sid]), datetime.now(UTC))
    store.engine.dispose()
    (work / "passwords.json").write_text(json.dumps(passwords))

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    stop = asyncio.Event()
    ready: dict[str, object] = {}
    config = CemConfig(url, port=port, ping_interval_s=None)
    cem = asyncio.create_task(
        serve_cem_with_api(config, ApiConfig(0), stop, on_ready=lambda s, p: ready.update(services=s, port=p))
    )
    while "services" not in ready:
        await asyncio.sleep(0.05)
    services = ready["services"]
    assert isinstance(services, WebServices)
    _, token = await asyncio.to_thread(services.auth.create_token, Role.OPERATOR, "bench")
    station_proc = subprocess.Popen(
        [
            str(CLI), "station", "run", "--id", "API", "--count", str(stations),
            "--csms", f"ws://127.0.0.1:{port}/ocpp", "--password-file", str(work / "passwords.json"),
            "--tick", "60", "--heartbeat", "3600", "--ramp", str(stations / 200),
            "--retry-min", "1", "--retry-range", "5", "--log-level", "WARNING",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "stations.log", "wb"),
    )  # fmt: skip
    t0 = time.perf_counter()
    while len(services.ocpp.sessions) < stations and time.perf_counter() - t0 < 600:
        await asyncio.sleep(0.5)
    await asyncio.sleep(3.0)  # let the boot storm's background writes finish
    logger.info("%d stations connected in %.1f s", len(services.ocpp.sessions), time.perf_counter() - t0)
    base = f"http://127.0.0.1:{ready['port']}"
    load0 = os.getloadavg()[0]
    gc_s = [0.0, 0.0, 0.0]
    gc_started: list[float] = []

    def gc_timer(phase: str, info: dict[str, int]) -> None:  # the CEM's time in the cyclic GC
        if phase == "start":
            gc_started[:] = [time.perf_counter()]
        elif gc_started:
            gc_s[info["generation"]] += time.perf_counter() - gc_started[0]

    gc.callbacks.append(gc_timer)
    cpu0 = time.process_time()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--client", base, token, str(concurrency), str(rounds),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, _ = await proc.communicate(json.dumps(sorted(services.ocpp.sessions)).encode())
        cpu_s = time.process_time() - cpu0
        gc.callbacks.remove(gc_timer)
        load1 = os.getloadavg()[0]
        result = json.loads(out)
    finally:  # the stations go with the benchmark, also when the client failed
        station_proc.send_signal(signal.SIGTERM)
        try:
            station_proc.wait(60)
        except subprocess.TimeoutExpired:
            station_proc.kill()
        stop.set()
        await cem
    single, fan = result["single"], result["fan"]
    calls = len(single) + len(fan) * result["fan_targets"]
    print(f"stations connected: {result['fan_targets']:,}; failures: {result['failures']}")
    print("| measure | calls | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| round trip, {concurrency} concurrent calls to {concurrency} stations | {len(single):,} "
        f"| {percentile(single, 0.5) * 1000:.1f} | {percentile(single, 0.99) * 1000:.1f} "
        f"| {max(single) * 1000:.1f} |"
    )
    print(
        f"| fan-out endpoint, one call to {result['fan_targets']:,} stations | {len(fan)} "
        f"| {percentile(fan, 0.5) * 1000:.1f} | {percentile(fan, 0.99) * 1000:.1f} | {max(fan) * 1000:.1f} |"
    )
    print(f"CEM CPU per OCPP call: {cpu_s / calls * 1000:.2f} ms; load average {load0:.1f} -> {load1:.1f}; "
          f"cores {os.cpu_count()}")  # fmt: skip
    print(f"CEM time in the cyclic GC while measured: gen0 {gc_s[0]:.2f} s, gen1 {gc_s[1]:.2f} s, "
          f"gen2 {gc_s[2]:.2f} s (CPU {cpu_s:.1f} s)")  # fmt: skip
    # This process is the CEM and its web app (stations and HTTP load run in their own processes).
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"CEM peak resident memory: {peak_mib:.0f} MiB; GC thresholds {gc.get_threshold()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--interpreter-gc",
        action="store_true",
        help="keep Python's default GC thresholds (the CEM keeps thresholds set before it starts)",
    )
    parser.add_argument(
        "--client", nargs=4, metavar=("BASE", "TOKEN", "CONCURRENCY", "ROUNDS"), help="internal"
    )
    args = parser.parse_args()
    if args.client:
        base, token, concurrency, rounds = args.client
        ids = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(client(base, token, ids, int(concurrency), int(rounds)))))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("ocpp", "websockets", "smartcharge", "alembic", "uvicorn"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    if args.interpreter_gc:  # a value other than the default, with the default's effect
        gen0, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(gen0 + 1, gen1, gen2)
    asyncio.run(run(args.stations, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
