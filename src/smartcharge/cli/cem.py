"""``smartcharge cem``: run the CEM's OCPP server, register stations, and serve reg 9 / PRIV-6 requests."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from smartcharge.cem.credentials import hash_password, new_password
from smartcharge.cem.service import CemConfig, open_store, serve_cem
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.server import STATION_ID
from smartcharge.ocpp.tls import make_pki

app = typer.Typer(
    help="The customer energy manager (CEM): OCPP server for charge points.", no_args_is_help=True
)
console = Console()

DbOpt = typer.Option(
    None,
    "--db",
    help="Database URL (sqlite:///... or postgresql+psycopg://...). Default: SQLite in --data-dir.",
)
DataDirOpt = typer.Option(
    None, "--data-dir", help="Data directory for the default SQLite database (env SMARTCHARGE_DATA_DIR)."
)


def database_url(db: str | None, data_dir: Path | None) -> str:
    """The URL given, or SQLite in the data directory (created if missing)."""
    if db:
        return db
    directory = data_dir or Path(
        os.environ.get("SMARTCHARGE_DATA_DIR", Path.home() / ".local/share/smartcharge")
    )
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'cem.db'}"


def _fail(error: ValidationError) -> None:
    console.print(f"[red]error:[/red] {error}")
    raise typer.Exit(2)


@app.command()
def serve(
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int | None = typer.Option(9000, help="Plain websocket port (security profile 1); 0 to disable."),
    tls_port: int | None = typer.Option(None, help="TLS port (security profiles 2 and 3)."),
    cert: Annotated[Path | None, typer.Option(help="Server certificate (PEM) for the TLS port.")] = None,
    key: Annotated[Path | None, typer.Option(help="Server private key (PEM).")] = None,
    client_ca: Annotated[Path | None, typer.Option(help="CA of station certificates (profile 3).")] = None,
    max_frame_bytes: int = typer.Option(64 * 1024, help="Largest websocket frame accepted."),
    ping_interval: float = typer.Option(60.0, help="Websocket ping interval in seconds; 0 to disable."),
    ven_config: Annotated[
        Path | None, typer.Option(help="Also run the OpenADR VEN (its config file).")
    ] = None,
    log_level: str = typer.Option("INFO", help="Logging level."),
) -> None:
    """Run the CEM until interrupted: migrate the database, then accept OCPP 2.0.1 and 1.6J stations."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    logging.getLogger("smartcharge.ocpp.rpc").setLevel(logging.WARNING)
    try:
        config = CemConfig(
            database_url(db, data_dir),
            host=host,
            port=port or None,
            tls_port=tls_port,
            cert=cert,
            key=key,
            client_ca=client_ca,
            max_frame_bytes=max_frame_bytes,
            ping_interval_s=ping_interval or None,
            ven_config=ven_config,
            # Station messages the database cannot take yet are kept here (issue 15).
            spool_path=None
            if db is None
            else Path(database_url(None, data_dir)[len("sqlite:///") :] + ".spool"),
        )
    except ValidationError as error:
        _fail(error)
        return

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_cem(config, stop)

    asyncio.run(main())


@app.command("add-station")
def add_station(
    station_id: str = typer.Option(
        ..., "--id", help="The station's OCPP identity (also its basic-auth user)."
    ),
    profile: int = typer.Option(2, "--profile", help="Security profile 1, 2 or 3 (no downgrade later)."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Register a station. For profiles 1-2 its new random password is printed once, never stored."""
    try:
        if not STATION_ID.match(station_id):
            raise ValidationError("id", station_id, "1-48 characters of a-z A-Z 0-9 * - _ = + | @ .")
        if profile not in (1, 2, 3):
            raise ValidationError("profile", profile, "OCPP security profile is 1, 2 or 3")
        store = open_store(database_url(db, data_dir))
        password = new_password() if profile in (1, 2) else None
        store.stations.add(
            station_id, profile, None if password is None else hash_password(password), datetime.now(UTC)
        )
    except ValidationError as error:
        _fail(error)
        return
    if password is None:
        console.print(f"station {station_id} registered at profile 3: it authenticates with its certificate")
    else:
        console.print(f"station {station_id} registered at profile {profile}; password (shown once):")
        typer.echo(password)


@app.command()
def sessions(
    station_id: str | None = typer.Option(None, "--station", help="Only this station."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Every session of the last 12 months: start, stop, energy and rate changes (reg 9)."""
    store = open_store(database_url(db, data_dir))
    table = Table("station", "transaction", "start (UTC)", "stop (UTC)", "energy kWh", "rate changes")
    for view in store.sessions.sessions_last_12_months(station_id, datetime.now(UTC)):
        changes = ", ".join(f"{r.changed_at:%H:%M:%S} {r.power_w:.0f} W" for r in view.rate_changes)
        stop = "" if view.stopped_at is None else f"{view.stopped_at:%Y-%m-%d %H:%M:%S}"
        table.add_row(
            view.station_id,
            view.transaction_id,
            f"{view.started_at:%Y-%m-%d %H:%M:%S}",
            stop,
            f"{view.energy_kwh:.3f}",
            changes,
        )
    console.print(table)


@app.command()
def export(
    station_id: Annotated[str, typer.Option("--station", help="Station whose data to export.")],
    out: Annotated[Path, typer.Option("--out", help="JSON file to write.")],
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Export every session and meter value of a station as JSON (PRIV-6 access and portability)."""
    store = open_store(database_url(db, data_dir))
    data = store.sessions.export(station_id)
    out.write_text(json.dumps(data, indent=2, allow_nan=False), encoding="utf-8")
    console.print(f"{len(data['sessions'])} sessions, {len(data['meter_values'])} meter values -> {out}")


@app.command()
def erase(
    station_id: str = typer.Option(..., "--station", help="Station whose session data to erase."),
    transaction_id: str | None = typer.Option(None, "--transaction", help="Only this session."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Erase a station's session data, or one session (PRIV-6 erasure). The security log is kept."""
    store = open_store(database_url(db, data_dir))
    try:
        deleted = store.sessions.erase(station_id, transaction_id)
    except ValidationError as error:  # a running session: the erasure would not hold
        _fail(error)
    console.print(f"{deleted} rows erased")


@app.command("security-log")
def security_log(
    limit: int = typer.Option(50, help="How many of the newest events."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """The newest security events: refused handshakes, invalid messages, station notifications."""
    store = open_store(database_url(db, data_dir))
    table = Table("time (UTC)", "station", "event", "detail", "remote")
    for e in store.security.recent(limit):
        table.add_row(
            f"{e.occurred_at:%Y-%m-%d %H:%M:%S}",
            e.station_id or "",
            e.event_type,
            e.detail,
            e.remote_address or "",
        )
    console.print(table)


@app.command("make-pki")
def make_pki_command(
    directory: Annotated[Path, typer.Option("--dir", help="Directory for the CA and certificates.")],
    station_ids: Annotated[
        list[str] | None, typer.Option("--station", help="Issue a station certificate.")
    ] = None,
) -> None:
    """Issue a test CA, a localhost server certificate and station certificates (EC P-256)."""
    ids = station_ids or []
    pki = make_pki(directory, ids)
    console.print(f"CA {pki.ca_cert}, server {pki.server_cert}, {len(ids)} station certificates")


__all__ = ["app", "database_url"]
