"""The dashboard's pages: time to first byte with 200 charge points and 12 months of their sessions.

A fresh SQLite store gets 200 registered charge points, one session a day each for 365 days
(73,000 sessions, each with 5 energy-register samples and 2 rate changes, written in bulk), the
owner ``alice`` of one charge point and the fleet owner ``fleet`` of the other 199. The CEM and its
web app then run in this process (uvicorn on loopback, as ``cem serve --api-port``); the gateway
has seen every charge point (each is offline now, its state kept, as after they all connected
once). The sessions were written in bulk without a price, as after an upgrade: the web app prices
them at start (timed and printed), before the pages are fetched. Each page is fetched
``--repeat`` times over HTTP after logging in, and the time until the response's first byte
(status line and headers: the page is rendered before they are sent) is recorded.

Usage: .venv/bin/python benchmarks/bench_pages.py --repeat 20 [--users fleet,sam]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from smartcharge.cem.gateway import StationState
from smartcharge.cem.meter import EmulatedMeter
from smartcharge.cem.service import CemConfig, open_store
from smartcharge.cem.site import Circuit, SiteChargePoint, SiteConfig, SiteService
from smartcharge.store.models import ChargingSession, MeterValueRow, OwnedChargePoint, RateChange, Station
from smartcharge.web.auth import Role
from smartcharge.web.serve import ApiConfig, serve_cem_with_api

STATIONS = 200
DAYS = 365
PASSWORD = "benchmark-password-long"


def seed(database_url: str, now: datetime) -> None:
    """200 charge points and a year of their sessions, in bulk."""
    store = open_store(database_url)
    sids = [f"CP-{i:03d}" for i in range(STATIONS)]
    with store.engine.begin() as conn:
        conn.execute(
            insert(Station), [{"station_id": s, "security_profile": 1, "created_at": now} for s in sids]
        )
        conn.execute(
            insert(OwnedChargePoint),
            [
                {
                    "station_id": s,
                    "owner": "alice" if i == 0 else "fleet",
                    "tariff_id": "octopus_go",
                    "hours_choice": "Accepted",
                    "updated_at": now,
                }
                for i, s in enumerate(sids)
            ],
        )
        for day in range(DAYS):
            start = (now - timedelta(days=day + 1)).replace(hour=0, minute=30, second=0, microsecond=0)
            sessions, meters, rates = [], [], []
            for s in sids:
                tx = f"{s}-{day:03d}"
                sessions.append(
                    {
                        "station_id": s,
                        "transaction_id": tx,
                        "started_at": start,
                        "stopped_at": start + timedelta(hours=4),
                        "meter_start_wh": 0.0,
                        "meter_last_wh": 28_000.0,
                    }
                )
                for k in range(5):
                    meters.append(
                        {
                            "station_id": s,
                            "transaction_id": tx,
                            "measured_at": start + timedelta(hours=k),
                            "measurand": "Energy.Active.Import.Register",
                            "value": 7000.0 * k,
                            "unit": "Wh",
                        }
                    )
                for seq, power in ((0, 7000.0), (1, 3500.0)):
                    rates.append(
                        {
                            "station_id": s,
                            "transaction_id": tx,
                            "seq_no": seq,
                            "changed_at": start + timedelta(hours=2 * seq),
                            "power_w": power,
                            "limit_w": power,
                        }
                    )
            conn.execute(insert(ChargingSession), sessions)
            conn.execute(insert(MeterValueRow), meters)
            conn.execute(insert(RateChange), rates)
    store.engine.dispose()


async def ttfb_s(client: httpx.AsyncClient, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    async with client.stream("GET", path) as response:
        first = time.perf_counter() - started
        await response.aread()
        return first, response.status_code


async def page_login(client: httpx.AsyncClient, username: str) -> None:
    form = await client.get("/login")
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = await client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


async def run(repeat: int, only: set[str] | None = None) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'cem.db'}"
        t0 = time.perf_counter()
        seed(url, datetime.now(UTC))
        print(f"seeded {STATIONS} charge points x {DAYS} days in {time.perf_counter() - t0:.1f} s")
        stop = asyncio.Event()
        ready: dict[str, Any] = {}
        task = asyncio.create_task(
            serve_cem_with_api(
                CemConfig(url, port=_free_port()),
                ApiConfig(0),
                stop,
                on_ready=lambda services, port: ready.update(services=services, port=port),
            )
        )
        while "port" not in ready:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        services = ready["services"]
        t0 = time.perf_counter()
        await asyncio.to_thread(services.prices_warm.wait, 300)
        print(f"sessions stored without a price priced at start in {time.perf_counter() - t0:.1f} s")
        users = (
            ("alice", Role.OWNER),
            ("fleet", Role.OWNER),
            ("ops", Role.OPERATOR),
            ("sam", Role.SITE_MANAGER),
        )
        for name, role in users:
            await asyncio.to_thread(services.auth.create_user, name, role, PASSWORD)
        for i in range(STATIONS):  # seen once, offline now: the home page asks for their limits
            services.gateway.stations.setdefault(f"CP-{i:03d}", StationState(status="Offline"))
        meter = EmulatedMeter()
        services.site = SiteService(
            services.gateway,
            SiteConfig(
                circuits=(Circuit("site", None, phase_limit_a=2000.0),)
                + tuple(Circuit(f"row-{k}", "site", phase_limit_a=500.0) for k in range(4)),
                charge_points=tuple(
                    SiteChargePoint(f"CP-{i:03d}", f"row-{i % 4}", "L1L2L3") for i in range(STATIONS)
                ),
            ),
            meter,
        )
        await meter.publish(250_000.0, (360.0, 355.0, 362.0))
        base = f"http://127.0.0.1:{ready['port']}"
        pages = {
            "alice": [
                "/",
                "/cp/CP-000/settings",
                "/cp/CP-000/first-use",
                "/plans",
                "/sessions",
                "/sessions.csv",
                "/data",
            ],
            "fleet": ["/", "/sessions", "/sessions.csv", "/plans"],
            "ops": ["/security"],
            "sam": ["/site"],
            None: ["/login"],
        }
        results = []
        for user, paths in pages.items():
            if only is not None and (user or "-") not in only:
                continue
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                if user is not None:
                    await page_login(client, user)
                for path in paths:
                    first_s, _ = await ttfb_s(client, path)  # cold: templates compiled, caches filled
                    times = []
                    for _ in range(repeat):
                        seconds, status = await ttfb_s(client, path)
                        assert status == 200, (user, path, status)
                        times.append(seconds * 1000)
                    times.sort()
                    row = {
                        "user": user or "-",
                        "page": path,
                        "median_ms": statistics.median(times),
                        "p95_ms": times[max(0, int(0.95 * len(times)) - 1)],
                        "first_ms": first_s * 1000,
                    }
                    results.append(row)
                    print(
                        f"{row['user']:6} {path:24} median {row['median_ms']:7.1f} ms"
                        f"  p95 {row['p95_ms']:7.1f} ms  first {row['first_ms']:8.1f} ms"
                    )
        stop.set()
        await task
    return results


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--users", default="", help="comma-separated users to measure (default: all)")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    asyncio.run(run(args.repeat, set(args.users.split(",")) if args.users else None))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
