"""Planner and site benchmarks (issue 12, Speed).

1. ``site``: re-planning a 200-charger site (10 circuits under a per-phase site limit, 7.4 kW
   single-phase, 11 and 22 kW three-phase cars) on 15-minute slots over 24 h with the packaged
   Octopus Go prices and carbon: wall and CPU time per plan (target <= 100 ms).
2. ``meter``: a change of site meter reading, published over MQTT (Mosquitto on 127.0.0.1:1883),
   reaching every charge point's ChargingStationMaxProfile on 200 emulated charge points over
   real OCPP 2.0.1 (websockets, one CEM with SQLite, stations in the same process): time from
   publish to the last station holding its new profile (target <= 2 s).
3. ``sim``: the simulator's ``smart`` strategy (which calls the planner) over N EVs x 1 week;
   time and peak memory, each run in its own process (same scenario as ``bench_sim.py``).

    python benchmarks/bench_planner.py site
    python benchmarks/bench_planner.py meter --stations 200 --rounds 5
    python benchmarks/bench_planner.py sim --evs 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from smartcharge.core.carbon import carbon_g_per_kwh
from smartcharge.core.tariff import get_tariff
from smartcharge.policy.planner import THREE_PHASE, Circuits, PlanSessions, SlotPrices, plan_charging

HERE = Path(__file__).parent


def site_problem(
    n: int = 200, circuits: int = 10, seed: int = 0
) -> tuple[SlotPrices, PlanSessions, Circuits]:
    k, slot = 96, 900
    start = int(datetime(2025, 1, 13, 17, tzinfo=UTC).timestamp())
    slot_start = start + slot * np.arange(k, dtype=np.int64)
    tariff = get_tariff("octopus_go")
    minutes = slot_start[:, None] + 60 * np.arange(15)[None, :]
    price = tariff.price_p_per_kwh(minutes.ravel()).reshape(minutes.shape).mean(axis=1)
    slots = SlotPrices(start, slot, price, carbon_g_per_kwh(slot_start))
    rng = np.random.default_rng(seed)
    parent = np.array([-1] + [0] * circuits)
    phase = np.full((circuits + 1, k, 3), np.inf)
    phase[0] = 400 * 230.0  # a 400 A per phase connection
    total = np.full((circuits + 1, k), np.inf)
    total[1:] = 60_000.0
    power = rng.choice([7400.0, 11000.0, 22000.0], n)
    share = np.where(power[:, None] > 7400, THREE_PHASE, np.eye(3)[rng.integers(0, 3, n)])
    from_s = start + rng.integers(0, 8 * 3600, n)
    ready_by = start + rng.integers(13 * 3600, 24 * 3600, n)
    sessions = PlanSessions(
        1 + np.arange(n) % circuits, from_s, ready_by, rng.uniform(5, 40, n), power, share
    )
    return slots, sessions, Circuits(parent, phase, total)


def bench_site(repeats: int) -> None:
    """The full planner and, alternating with it in the same run, its greedy part alone
    (``improve_rounds=0``): their ratio is what a loaded machine cannot blur."""
    slots, sessions, tree = site_problem()
    print(
        f"site re-plan, 200 chargers x 96 slots, {repeats} runs each, load average {os.getloadavg()[0]:.1f}"
    )
    plans = {}
    times: dict[str, tuple[list[float], list[float]]] = {"full": ([], []), "greedy only": ([], [])}
    for name, rounds in (("full", 1000), ("greedy only", 0)):
        plans[name] = plan_charging(slots, sessions, tree, improve_rounds=rounds)  # warm
    for _ in range(repeats):
        for name, rounds in (("full", 1000), ("greedy only", 0)):
            w0, c0 = time.perf_counter(), time.process_time()
            plan_charging(slots, sessions, tree, improve_rounds=rounds)
            times[name][0].append(time.perf_counter() - w0)
            times[name][1].append(time.process_time() - c0)
    for name, (wall, cpu) in times.items():
        plan = plans[name]
        print(
            f"  {name:<12} wall ms median {1e3 * statistics.median(wall):.1f}, max {1e3 * max(wall):.1f}; "
            f"cpu ms median {1e3 * statistics.median(cpu):.1f}, min {1e3 * min(cpu):.1f}; "
            f"cost {plan.cost_p.sum():.0f} p, targets met {plan.meets_target.mean():.0%}, "
            f"shortfall {plan.shortfall_kwh.sum():.1f} kWh"
        )


async def _meter_rounds(n: int, rounds: int) -> list[float]:
    import aiomqtt

    from smartcharge.cem.credentials import hash_password, new_password
    from smartcharge.cem.meter import MqttMeter, MqttMeterConfig
    from smartcharge.cem.service import CemConfig, open_store, serve_cem
    from smartcharge.cem.site import Circuit, SiteChargePoint, SiteConfig, SiteService
    from smartcharge.ocpp.domain import OcppVersion, ProfilePurpose
    from smartcharge.station.clock import ScaledClock
    from smartcharge.station.device import EmulatedChargePoint, StationConfig
    from smartcharge.station.runner import LinkConfig, StationRunner

    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{tmp}/bench.db"
    store = open_store(url)
    ids = [f"bench-{i:04d}" for i in range(n)]
    passwords = {}
    for sid in ids:
        passwords[sid] = new_password()
        store.stations.add(sid, 1, hash_password(passwords[sid]), datetime.now(UTC))
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stop = asyncio.Event()
    ready: dict[str, object] = {}
    cem = asyncio.create_task(
        serve_cem(CemConfig(url, port=port), stop, lambda g, s: ready.update(gateway=g))
    )
    while "gateway" not in ready:
        await asyncio.sleep(0.05)
    gateway = ready["gateway"]
    devices, tasks = [], []
    rng = np.random.default_rng(1)
    for sid in ids:
        device = EmulatedChargePoint(
            sid, rng.spawn(1)[0], StationConfig(max_delay_s=0, meter_interval_s=3600)
        )
        link = LinkConfig(
            f"ws://127.0.0.1:{port}", OcppVersion.V201, passwords[sid], None, response_timeout_s=30.0
        )
        runner = StationRunner(device, link, ScaledClock(time.time(), 1.0), rng.spawn(1)[0])
        devices.append(device)
        tasks.append(asyncio.create_task(runner.run(stop)))
    while sum(1 for sid in ids if getattr(gateway.stations.get(sid), "link", None)) < n:  # type: ignore[attr-defined]
        await asyncio.sleep(0.1)
    topic = f"bench/{uuid.uuid4().hex}/meter"
    meter = MqttMeter(MqttMeterConfig(topic=topic))
    meter_task = asyncio.create_task(meter.run(stop))
    await meter.connected.wait()
    # Connection 2,000 A per phase; each charge point single phase, 32 A max, 6 A minimum.
    config = SiteConfig(
        circuits=(Circuit("site", None, phase_limit_a=2000.0),),
        charge_points=tuple(
            SiteChargePoint(sid, "site", ("L1", "L2", "L3")[i % 3]) for i, sid in enumerate(ids)
        ),
    )
    site = SiteService(gateway, config, meter)  # type: ignore[arg-type]

    def station_max(device: EmulatedChargePoint) -> float | None:
        for p in device.charging_profiles():
            if p.purpose is ProfilePurpose.STATION_MAX:
                return float(p.limit_w)
        return None

    elapsed = []
    async with aiomqtt.Client("127.0.0.1", 1883) as client:
        for r in range(rounds + 1):
            # Alternate between no other load and 1,990 A of other load per phase (idle charge
            # points then keep 6 A only where the site still has room).
            other_a = 0.0 if r % 2 == 0 else 1990.0
            t0 = time.perf_counter()
            taken = time.time()
            payload = {"import_w": other_a * 230 * 3, "phase_a": [other_a] * 3, "ts": taken}
            await client.publish(topic, json.dumps(payload), qos=1)
            while True:
                reading = site.state.reading
                applied = site.state.applied_at_s
                if (
                    reading is not None
                    and reading.taken_s == taken
                    and applied is not None
                    and applied >= taken
                ):
                    shares = site.state.shares
                    if all(station_max(d) == round(shares[d.station_id].power_w, 1) for d in devices):
                        break
                if time.perf_counter() - t0 > 60:
                    raise RuntimeError("profiles did not all change within 60 s")
                await asyncio.sleep(0.005)
            if r > 0:  # round 0 installs the first profiles (from nothing): not a change
                elapsed.append(time.perf_counter() - t0)
    stop.set()
    await asyncio.gather(cem, meter_task, *tasks, return_exceptions=True)
    return elapsed


def bench_meter(n: int, rounds: int) -> None:
    logging.basicConfig(level=logging.ERROR)
    elapsed = asyncio.run(_meter_rounds(n, rounds))
    print(
        f"meter change -> every profile, {n} charge points, OCPP 2.0.1 + MQTT, load {os.getloadavg()[0]:.1f}"
    )
    print("  seconds per round: " + ", ".join(f"{e:.2f}" for e in elapsed))
    print(f"  median {statistics.median(elapsed):.2f} s, max {max(elapsed):.2f} s")


def bench_sim(n_evs: int) -> None:
    cmd = [
        sys.executable,
        str(HERE / "bench_sim.py"),
        "--evs",
        str(n_evs),
        "--days",
        "7",
        "--strategies",
        "smart",
    ]
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    subprocess.run(cmd, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="case", required=True)
    site = sub.add_parser("site")
    site.add_argument("--repeats", type=int, default=20)
    meter = sub.add_parser("meter")
    meter.add_argument("--stations", type=int, default=200)
    meter.add_argument("--rounds", type=int, default=5)
    sim = sub.add_parser("sim")
    sim.add_argument("--evs", type=int, default=100_000)
    args = parser.parse_args()
    if args.case == "site":
        bench_site(args.repeats)
    elif args.case == "meter":
        bench_meter(args.stations, args.rounds)
    else:
        bench_sim(args.evs)


if __name__ == "__main__":
    main()
