"""``smartcharge station``: run one emulated GB smart charge point, or many for load tests."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from smartcharge.cli.common import fail, setup_logging
from smartcharge.core.errors import ValidationError

app = typer.Typer(
    help="The emulated GB smart charge point (ESA) that talks OCPP to a CEM.", no_args_is_help=True
)
console = Console()

PASSWORD_ENV = "SMARTCHARGE_STATION_PASSWORD"


def load_passwords(path: Path | None, ids: list[str]) -> dict[str, str]:
    """Passwords from a JSON file {station id: password}, or one password from the environment."""
    if path is not None:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValidationError(
                "password_file", str(path), "must hold a JSON object {station id: password}"
            )
        return {str(k): str(v) for k, v in data.items()}
    env = os.environ.get(PASSWORD_ENV)
    return {sid: env for sid in ids} if env else {}


@app.command()
def run(
    station_id: Annotated[str, typer.Option("--id", help="Station id (the prefix with --count).")],
    csms: Annotated[str, typer.Option("--csms", help="CSMS URL, e.g. ws://127.0.0.1:9000/ocpp")],
    ocpp: Annotated[str, typer.Option(help="OCPP version: 2.0.1 or 1.6.")] = "2.0.1",
    count: Annotated[int, typer.Option(help="Run this many stations in one process.")] = 1,
    password_file: Annotated[
        Path | None, typer.Option(help=f"JSON {{id: password}}; else env {PASSWORD_ENV}.")
    ] = None,
    ca: Annotated[Path | None, typer.Option(help="CA to verify the CSMS (wss://).")] = None,
    cert: Annotated[Path | None, typer.Option(help="Client certificate (profile 3).")] = None,
    key: Annotated[Path | None, typer.Option(help="Client key (profile 3).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random delays and back-off.")] = 1,
    max_delay: Annotated[int, typer.Option(help="Randomised delay maximum, s (reg 11).")] = 600,
    meter_interval: Annotated[int, typer.Option(help="Seconds between periodic meter values.")] = 60,
    rated_power: Annotated[float, typer.Option(help="Hardware rating in W.")] = 7400.0,
    plug_in_soc: Annotated[float | None, typer.Option(help="Plug an EV in at start at this SoC.")] = None,
    start_at: Annotated[str | None, typer.Option(help="Emulated start time (ISO, with zone).")] = None,
    speed: Annotated[float, typer.Option(help="Emulated seconds per real second.")] = 1.0,
    tick: Annotated[float, typer.Option(help="Seconds between decisions (1 s default).")] = 1.0,
    heartbeat: Annotated[float, typer.Option(help="Heartbeat interval in seconds.")] = 300.0,
    retry_min: Annotated[float, typer.Option(help="RetryBackOffWaitMinimum, s.")] = 3.0,
    retry_range: Annotated[float, typer.Option(help="RetryBackOffRandomRange, s.")] = 10.0,
    ramp: Annotated[float, typer.Option(help="Spread the fleet's first connections over s.")] = 0.0,
    duration: Annotated[float | None, typer.Option(help="Stop after this many real seconds.")] = None,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "INFO",
) -> None:
    """Run the station(s) until interrupted: reg 10 default hours, reg 11 delays, fail-safe offline."""
    from smartcharge.core.localtime import epoch_s_from_datetime
    from smartcharge.ocpp.domain import OcppVersion
    from smartcharge.ocpp.tls import client_context
    from smartcharge.station.clock import Clock, ScaledClock, SystemClock
    from smartcharge.station.device import StationConfig
    from smartcharge.station.fleet import build_fleet, run_fleet, station_ids
    from smartcharge.station.runner import LinkConfig

    setup_logging(log_level)
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    try:
        version = {"2.0.1": OcppVersion.V201, "1.6": OcppVersion.V16}.get(ocpp)
        if version is None:
            raise ValidationError("ocpp", ocpp, "must be 2.0.1 or 1.6")
        if count < 1:
            raise ValidationError("count", count, "must be >= 1")
        config = StationConfig(
            rated_power_w=rated_power, max_delay_s=max_delay, meter_interval_s=meter_interval
        )
        ids = station_ids(station_id, count)
        passwords = load_passwords(password_file, ids)
        context = None
        if csms.startswith("wss://"):
            if ca is None:
                raise ValidationError("ca", None, "a wss:// CSMS needs --ca to verify it")
            context = client_context(ca, cert, key)
        clock: Clock = SystemClock()
        if start_at is not None or speed != 1.0:
            start_s = epoch_s_from_datetime(datetime.fromisoformat(start_at)) if start_at else None
            clock = ScaledClock(start_s if start_s is not None else SystemClock().now_s(), speed)
    except (ValidationError, ValueError) as error:
        fail(error)
    link = LinkConfig(
        csms,
        version,
        ssl_context=context,
        retry_min_s=retry_min,
        retry_random_range_s=retry_range,
        heartbeat_s=heartbeat,
        tick_s=tick,
    )
    runners = build_fleet(ids, passwords, link, config, clock, seed, plug_in_soc)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if duration is not None:
            loop.call_later(duration, stop.set)
        await run_fleet(runners, stop, ramp)

    asyncio.run(main())


__all__ = ["app", "load_passwords"]
