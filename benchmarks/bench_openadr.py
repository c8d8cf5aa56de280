"""Interface A benchmarks: event -> limit latency, and DSRSP CPU with many CEMs polling.

Two measurements, printed as tables (plain script, no asserts):

``latency``  One DSRSP VTN and one CEM VEN (VenSupervisor + in-memory gateway) in this process,
             over HTTPS with client certificates and EC P-256 signed messages, 1 s poll. Response
             events are created at random moments; the time from ``create_event`` to the
             gateway's ``apply_limit`` call is recorded. Prints median, p95, max.

``load``     One DSRSP (``smartcharge dsrsp serve``) in its own process, and N CEMs (VEN adapters,
             each with its own certificate and registration) spread over worker processes, each
             polling once per second. Prints the DSRSP process's CPU use (from /proc) and the poll
             rate actually reached.

Usage::

    .venv/bin/python benchmarks/bench_openadr.py latency --events 60
    .venv/bin/python benchmarks/bench_openadr.py load --cems 100 --workers 2 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from smartcharge.cem.consent import ConsentLedger
from smartcharge.cem.dsr_switch import VenIdentity
from smartcharge.cem.ports import StationTelemetry
from smartcharge.cem.ven import SessionSettings, VenSupervisor
from smartcharge.core.limit import Limit, LimitSource
from smartcharge.dsrsp.programmes import EventRequest
from smartcharge.dsrsp.service import DsrspService
from smartcharge.openadr.model import Programme, Signal
from smartcharge.openadr.pki import issue_pki
from smartcharge.openadr.ven import VenAdapter, VenConfig, VenError
from smartcharge.openadr.vtn import VtnConfig
from smartcharge.store.base import make_engine
from smartcharge.store.consent import ConsentStore, DsrspStore
from smartcharge.store.migrate import upgrade

CLI = ["-c", "from smartcharge.cli.main import app; app()"]


class RecordingGateway:
    """Records when each event's limit reached the gateway (the CEM's hand-off to Interface B)."""

    def __init__(self) -> None:
        self.applied_at: dict[str, float] = {}

    async def apply_limit(
        self, station_id: str | None, limit: Limit, until_s: int | None, exempt: bool
    ) -> None:
        event_id = limit.detail.split()[2]
        self.applied_at.setdefault(event_id, time.time())

    async def clear_limit(self, station_id: str | None, source: LimitSource) -> None:
        return None

    def telemetry(self) -> list[StationTelemetry]:
        return [StationTelemetry("CP-1", True, True, 7000.0, 1.0, 7000.0, None)]


def _store(url: str):
    engine = make_engine(url)
    upgrade(engine)
    return engine


async def latency(n_events: int, poll_s: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench_oadr_"))
    ca, leaves = issue_pki(tmp / "pki", ["vtn", "cem"], dt.datetime.now(dt.UTC))
    config = VtnConfig(
        "DSRSP-BENCH", leaves["vtn"].cert, leaves["vtn"].key, ca, port=0, poll_interval_s=poll_s
    )
    dsrsp = DsrspService(config, DsrspStore(_store(f"sqlite:///{tmp / 'dsrsp.db'}")))
    dsrsp.registry.enrol(leaves["cem"].fingerprint, "bench-cem")
    await dsrsp.start()
    ledger = ConsentLedger(ConsentStore(_store(f"sqlite:///{tmp / 'cem.db'}")))
    ledger.grant("DSRSP-BENCH", dsrsp.vtn.url, leaves["vtn"].fingerprint)
    gateway = RecordingGateway()
    identity = VenIdentity("bench-cem", leaves["cem"].cert, leaves["cem"].key, ca)
    settings = SessionSettings(poll_interval_s=poll_s, telemetry_interval_s=3600)
    supervisor = VenSupervisor(gateway, ledger, identity, settings, 0.5)
    stop = asyncio.Event()
    task = asyncio.create_task(supervisor.run(stop))
    while not dsrsp.registry.registered():
        await asyncio.sleep(0.05)
    rng = random.Random(1)
    created: dict[str, float] = {}
    for _ in range(n_events):
        await asyncio.sleep(rng.uniform(0.3, 1.7))
        t0 = time.time()
        event = dsrsp.create_event(
            EventRequest(Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, (2000.0,), 30, int(t0))
        )
        created[event.event_id] = t0
    deadline = time.time() + 5
    while len(gateway.applied_at) < len(created) and time.time() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await task
    await dsrsp.stop()
    delays = sorted(gateway.applied_at[k] - created[k] for k in created if k in gateway.applied_at)
    p95 = delays[max(0, int(round(0.95 * len(delays))) - 1)]
    print("| poll s | events | applied | median s | p95 s | max s |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {poll_s:g} | {len(created)} | {len(delays)} | {statistics.median(delays):.3f} | {p95:.3f} "
        f"| {delays[-1]:.3f} |"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _worker(spec_path: Path) -> None:
    """One load process: register its VENs, then poll once a second each; print counts as JSON."""
    spec = json.loads(spec_path.read_text())
    adapters = [
        VenAdapter(
            VenConfig(
                c["name"],
                spec["url"],
                spec["vtn_fingerprint"],
                Path(c["cert"]),
                Path(c["key"]),
                Path(spec["ca"]),
            )
        )
        for c in spec["cems"]
    ]

    async def register(adapter: VenAdapter) -> None:
        for attempt in range(5):  # a loaded 2-core box times some registrations out
            try:
                await adapter.register()
                return
            except VenError:
                await asyncio.sleep(1 + attempt)
        raise RuntimeError(f"{adapter.config.ven_name} could not register")

    for k in range(0, len(adapters), 25):  # register in small batches: the VTN is the bottleneck
        await asyncio.gather(*(register(a) for a in adapters[k : k + 25]))
    Path(spec["ready"]).write_text("ok")
    go = Path(spec["go"])
    while not go.exists():
        await asyncio.sleep(0.05)
    start_at = float(go.read_text())
    end_at = start_at + spec["seconds"]
    counts = {"ok": 0, "failed": 0}
    lags: list[float] = []
    reasons: dict[str, int] = {}
    cpu_start_s = time.process_time()
    inflight = asyncio.Semaphore(spec["inflight"])

    async def run(adapter: VenAdapter, phase_s: float) -> None:
        next_at = start_at + phase_s
        while next_at < end_at:
            await asyncio.sleep(max(0.0, next_at - time.time()))
            lags.append(time.time() - next_at)
            try:
                # Few polls in flight per process: a message signed and then queued behind hundreds
                # of others in this process would be older than the 5 s replay window on arrival.
                async with inflight:
                    await adapter.poll()
                counts["ok"] += 1
            except VenError as exc:
                counts["failed"] += 1
                reason = str(exc).split(":")[0][:60]
                reasons[reason] = reasons.get(reason, 0) + 1
            next_at = max(next_at + spec["poll_s"], time.time())  # one that fell behind polls at once

    rng = random.Random(len(adapters))
    await asyncio.gather(*(run(a, rng.random()) for a in adapters))
    for adapter in adapters:
        await adapter.close()
    cpu_s = time.process_time() - cpu_start_s
    print(json.dumps({**counts, "lags": lags, "cpu_s": cpu_s, "reasons": reasons}))


async def load(n_cems: int, n_workers: int, seconds: float, poll_s: float, inflight: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench_oadr_load_"))
    names = [f"cem{i:04d}" for i in range(n_cems)]
    ca, leaves = issue_pki(tmp / "pki", ["vtn", *names], dt.datetime.now(dt.UTC))
    db = f"sqlite:///{tmp / 'dsrsp.db'}"
    from smartcharge.dsrsp.service import CemRegistry

    registry = CemRegistry(DsrspStore(_store(db)))
    for name in names:
        registry.enrol(leaves[name].fingerprint, name)
    port = _free_port()
    config = tmp / "dsrsp.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "vtn_id": "DSRSP-LOAD",
                "cert": str(leaves["vtn"].cert),
                "key": str(leaves["vtn"].key),
                "ca_file": str(ca),
                "port": port,
                "poll_interval_s": poll_s,
                "storage_url": db,
            }
        )
    )
    server = subprocess.Popen(
        [sys.executable, *CLI, "dsrsp", "serve", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "dsrsp.log").open("wb"),
    )
    print(f"logs in {tmp}", file=sys.stderr)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    url = f"https://127.0.0.1:{port}/OpenADR2/Simple/2.0b"
    workers = []
    for w in range(n_workers):
        mine = names[w::n_workers]
        spec = {
            "url": url,
            "vtn_fingerprint": leaves["vtn"].fingerprint,
            "ca": str(ca),
            "cems": [{"name": n, "cert": str(leaves[n].cert), "key": str(leaves[n].key)} for n in mine],
            "go": str(tmp / "go"),
            "poll_s": poll_s,
            "inflight": inflight,
            "seconds": seconds,
            "ready": str(tmp / f"ready{w}"),
        }
        path = tmp / f"worker{w}.json"
        path.write_text(json.dumps(spec))
        workers.append(
            subprocess.Popen(
                [sys.executable, __file__, "_worker", str(path)],
                stdout=subprocess.PIPE,
                stderr=(tmp / f"worker{w}.log").open("wb"),
            )
        )
    try:
        await _measure(server, workers, tmp, n_cems, n_workers, seconds, poll_s)
    finally:
        for proc in [*workers, server]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


async def _measure(
    server: subprocess.Popen[bytes],
    workers: list[subprocess.Popen[bytes]],
    tmp: Path,
    n_cems: int,
    n_workers: int,
    seconds: float,
    poll_s: float,
) -> None:
    registering_since = time.time()
    while sum((tmp / f"ready{w}").exists() for w in range(n_workers)) < n_workers:
        if any(p.poll() is not None for p in workers):
            raise RuntimeError(f"a load worker died while registering; see the logs in {tmp}")
        time.sleep(0.2)
    register_s = time.time() - registering_since
    start_at = time.time() + 2
    (tmp / "go").write_text(repr(start_at))
    while time.time() < start_at:
        time.sleep(0.05)
    cpu0, wall0 = _cpu_s(server.pid), time.time()
    time.sleep(seconds)
    cpu1, wall1 = _cpu_s(server.pid), time.time()
    counts = {"ok": 0, "failed": 0}
    lags: list[float] = []
    client_cpu_s = 0.0
    reasons: dict[str, int] = {}
    for proc in workers:
        out, _ = proc.communicate(timeout=600)
        result = json.loads(out.decode().strip().splitlines()[-1])
        lags += result.pop("lags")
        client_cpu_s += result.pop("cpu_s")
        for reason, n in result.pop("reasons").items():
            reasons[reason] = reasons.get(reason, 0) + n
        for key, value in result.items():
            counts[key] += value
    lags.sort()
    lag_p50 = lags[len(lags) // 2] if lags else float("nan")
    lag_p95 = lags[int(0.95 * (len(lags) - 1))] if lags else float("nan")
    cpu_pct = 100 * (cpu1 - cpu0) / (wall1 - wall0)
    rate = counts["ok"] / seconds
    print(
        "| CEMs | poll s | worker procs | registration of all s | target polls/s | polls/s reached | failed "
        "| poll start lag p50 / p95 s | DSRSP CPU % of one core | DSRSP CPU ms per poll "
        "| VEN CPU ms per poll | load average |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    per_poll = 1000 * (cpu1 - cpu0) / max(counts["ok"], 1)
    print(
        f"| {n_cems} | {poll_s:g} | {n_workers} | {register_s:.0f} | {n_cems / poll_s:.0f} | {rate:.0f} "
        f"| {counts['failed']} "
        f"| {lag_p50:.2f} / {lag_p95:.2f} | {cpu_pct:.0f} | {per_poll:.2f} "
        f"| {1000 * client_cpu_s / max(counts['ok'], 1):.2f} | {os.getloadavg()[0]:.1f} |"
    )
    if reasons:
        print("failures:", json.dumps(reasons))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    lat = sub.add_parser("latency")
    lat.add_argument("--events", type=int, default=60)
    lat.add_argument("--poll-s", type=float, default=1.0)
    ld = sub.add_parser("load")
    ld.add_argument("--cems", type=int, default=100)
    ld.add_argument("--workers", type=int, default=2)
    ld.add_argument("--seconds", type=float, default=20.0)
    ld.add_argument("--poll-s", type=float, default=1.0)
    ld.add_argument("--inflight", type=int, default=8, help="polls in flight per worker process")
    wk = sub.add_parser("_worker")
    wk.add_argument("spec", type=Path)
    args = parser.parse_args()
    if args.cmd == "latency":
        asyncio.run(latency(args.events, args.poll_s))
    elif args.cmd == "load":
        asyncio.run(load(args.cems, args.workers, args.seconds, args.poll_s, args.inflight))
    else:
        asyncio.run(_worker(args.spec))


if __name__ == "__main__":
    main()
