"""Interface B at scale: connections held, memory per connection, SetChargingProfile fan-out.

The CEM runs in this process (so its RSS and CPU time are this process's); the stations run in a
separate process (``smartcharge station run --count N``), each a full emulated GB charge point
with its own password (security profile 1, argon2-verified at the handshake). For each N:

1. register N stations in a fresh SQLite store, start the CEM, start the station process;
2. wait until all N are booted; RSS growth / N = memory per connection;
3. ``rounds`` times, change a site-wide limit through the CEM's ChargerGateway: the limit book,
   ``allocate_tree`` over N charge points, then one SetChargingProfile per station, all at once;
   time until every station has answered -> p50 / p99 over the rounds;
4. messages per second per core = (2 x profiles answered) / CEM CPU seconds spent in the rounds.

Usage: .venv/bin/python benchmarks/bench_ocpp_scale.py --counts 1000 10000 --rounds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from smartcharge.cem.credentials import hash_password, new_password
from smartcharge.cem.service import CemConfig, open_store, serve_cem
from smartcharge.core.limit import Limit, LimitSource
from smartcharge.station.fleet import station_ids

logger = logging.getLogger("bench_ocpp_scale")
CLI = Path(sys.executable).with_name("smartcharge")


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def register(url: str, ids: list[str]) -> dict[str, str]:
    store = open_store(url)
    passwords = {}
    now = datetime.now(UTC)
    for sid in ids:
        passwords[sid] = new_password()
        store.stations.add(sid, 1, hash_password(passwords[sid]), now)
    store.engine.dispose()
    return passwords


async def run_one(count: int, rounds: int, ramp_s: float, connect_timeout_s: float) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="bench-ocpp-"))
    url = f"sqlite:///{work / 'cem.db'}"
    t0 = time.perf_counter()
    # Register in a child process, so its allocations do not blur the CEM's RSS per connection.
    subprocess.run(
        [sys.executable, __file__, "--register-only", url, str(count), str(work / "passwords.json")],
        check=True,
    )
    logger.info("registered %d stations in %.1f s", count, time.perf_counter() - t0)
    port = free_port()
    stop = asyncio.Event()
    ready: dict[str, object] = {}
    config = CemConfig(url, port=port, ping_interval_s=None)
    cem = asyncio.create_task(serve_cem(config, stop, lambda g, s: ready.update(gateway=g)))
    while "gateway" not in ready:
        await asyncio.sleep(0.05)
    gateway = ready["gateway"]
    await asyncio.sleep(0.5)
    rss_before = rss_kib()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    station_cmd = [
        "bash",
        "-c",
        f"ulimit -n {hard} && exec {CLI} station run --id BENCH --count {count} "
        f"--csms ws://127.0.0.1:{port}/ocpp --password-file {work / 'passwords.json'} --tick 60 "
        f"--heartbeat 3600 --ramp {ramp_s} --retry-min 1 --retry-range 5 --log-level WARNING",
    ]
    stations = subprocess.Popen(
        station_cmd, stdout=subprocess.DEVNULL, stderr=open(work / "stations.log", "wb")
    )
    t_connect = time.perf_counter()
    connected = 0
    while time.perf_counter() - t_connect < connect_timeout_s:
        connected = sum(
            1 for s in gateway.stations.values() if s.link is not None and s.booted and s.booted.is_set()
        )
        if connected >= count or stations.poll() is not None:
            break
        await asyncio.sleep(0.5)
    connect_s = time.perf_counter() - t_connect
    await asyncio.sleep(2.0)  # let the boot storm's background work finish
    rss_after = rss_kib()
    logger.info("%d/%d connected in %.1f s", connected, count, connect_s)
    totals = []
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    for r in range(rounds):
        limit_w = 7400.0 * connected * (0.5 if r % 2 == 0 else 0.4)
        start = time.perf_counter()
        await gateway.apply_limit(None, Limit(limit_w, LimitSource.SITE), None, False)
        totals.append(time.perf_counter() - start)
    cpu_s = time.process_time() - cpu0
    wall_s = time.perf_counter() - wall0
    messages = 2 * connected * rounds
    stations.send_signal(signal.SIGTERM)
    try:
        stations.wait(60)
    except subprocess.TimeoutExpired:
        stations.kill()
    stop.set()
    await cem
    totals.sort()
    return {
        "stations": count,
        "connected": connected,
        "connect_s": connect_s,
        "rss_per_conn_kib": (rss_after - rss_before) / max(connected, 1),
        "rss_mib": rss_after / 1024,
        "p50_s": statistics.median(totals),
        "p99_s": totals[min(len(totals) - 1, int(round(0.99 * (len(totals) - 1))))],
        "max_s": totals[-1],
        "msgs_per_cpu_s": messages / cpu_s if cpu_s else float("nan"),
        "msgs_per_wall_s": messages / wall_s,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--ramp", type=float, default=None, help="seconds over which stations connect")
    parser.add_argument("--connect-timeout", type=float, default=600.0)
    parser.add_argument(
        "--register-only", nargs=3, metavar=("URL", "COUNT", "PASSWORD_FILE"), help="internal"
    )
    args = parser.parse_args()
    if args.register_only:
        url, count, path = args.register_only
        Path(path).write_text(json.dumps(register(url, station_ids("BENCH", int(count)))))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("ocpp", "websockets", "smartcharge", "alembic"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    hard = raise_fd_limit()
    logger.info("file descriptor limit raised to %d", hard)
    rows = []
    for count in args.counts:
        ramp = args.ramp if args.ramp is not None else count / 200
        rows.append(await run_one(count, args.rounds, ramp, args.connect_timeout))
    header = (
        "| stations | connected | connect s | RSS per conn KiB | CEM RSS MiB | fan-out p50 s | p99 s | max s "
        "| msgs/s per CEM core | msgs/s wall |"
    )
    print(header)
    print("|" + "---:|" * 10)
    for r in rows:
        print(
            f"| {r['stations']:,} | {r['connected']:,} | {r['connect_s']:.1f} | {r['rss_per_conn_kib']:.1f} "
            f"| {r['rss_mib']:.0f} | {r['p50_s']:.3f} | {r['p99_s']:.3f} | {r['max_s']:.3f} "
            f"| {r['msgs_per_cpu_s']:,.0f} | {r['msgs_per_wall_s']:,.0f} |"
        )
    print(f"(cores on this machine: {os.cpu_count()})")


if __name__ == "__main__":
    asyncio.run(main())
