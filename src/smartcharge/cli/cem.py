"""``smartcharge cem``: run the CEM's OCPP server, register stations, and serve reg 9 / PRIV-6 requests."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from smartcharge.cli.common import fail, setup_logging
from smartcharge.core.errors import DataFileError, ValidationError

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
    from smartcharge.store.private_files import default_data_dir, ensure_private_dir

    directory = ensure_private_dir(data_dir or default_data_dir())  # 0700 (SEC-D-4)
    return f"sqlite:///{directory / 'cem.db'}"


def _fail(error: ValidationError) -> None:
    fail(error)


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
    rsa_cert: Annotated[
        Path | None, typer.Option(help="RSA server certificate next to an EC --cert (OCPP RSA suites).")
    ] = None,
    rsa_key: Annotated[Path | None, typer.Option(help="Private key of --rsa-cert (PEM).")] = None,
    files_port: Annotated[
        int | None, typer.Option(help="HTTPS port for firmware downloads and GetLog uploads.")
    ] = None,
    max_frame_bytes: int = typer.Option(64 * 1024, help="Largest websocket frame accepted."),
    ping_interval: float = typer.Option(60.0, help="Websocket ping interval in seconds; 0 to disable."),
    ven_config: Annotated[
        Path | None, typer.Option(help="Also run the OpenADR VEN (its config file).")
    ] = None,
    log_level: str = typer.Option("INFO", help="Logging level."),
    api_port: int | None = typer.Option(
        None, help="Also serve the web API (operator, owner, site manager) on this port; 0 for any."
    ),
    api_host: str = typer.Option("127.0.0.1", help="Address of the web API (loopback by default)."),
    api_cert: Annotated[Path | None, typer.Option(help="Certificate (PEM): the API speaks HTTPS.")] = None,
    api_key: Annotated[Path | None, typer.Option(help="Private key (PEM) of --api-cert.")] = None,
    site: Annotated[
        Path | None,
        typer.Option(
            "--site",
            help="Manage a site: its circuit tree, charge points, priorities and fail-safe (YAML or "
            "JSON). Seeds an empty database; settings already in the database win.",
        ),
    ] = None,
    site_meter: Annotated[
        str | None,
        typer.Option(
            "--site-meter", help="The site meter: mqtt://HOST:PORT/TOPIC, or 'emulated' (tests, demo)."
        ),
    ] = None,
    meter_stale_s: float = typer.Option(
        15.0,
        "--meter-stale-s",
        help="Meter data older than this (s, at most 15) puts every charge "
        "point on its fail-safe limit (SCN-WRK).",
    ),
) -> None:
    """Run the CEM until interrupted: migrate the database, then accept OCPP 2.0.1 and 1.6J stations.

    With --api-port the web API runs in the same process; on a database without users the first
    start creates the user 'owner' with a random password and prints it once. With --site-meter
    the CEM manages the site's load (site settings from the database, else from --site)."""
    from smartcharge.cem.service import CemConfig, serve_cem

    setup_logging(log_level)
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
            extra_chains=((rsa_cert, rsa_key),) if rsa_cert and rsa_key else (),
            max_frame_bytes=max_frame_bytes,
            ping_interval_s=ping_interval or None,
            ven_config=ven_config,
            data_dir=data_dir,
            files_port=files_port,
            # Station messages the database cannot take yet are kept here (issue 15).
            spool_path=None
            if db is None
            else Path(database_url(None, data_dir)[len("sqlite:///") :] + ".spool"),
        )
        api = None
        if api_port is not None:
            from smartcharge.web.serve import ApiConfig

            api = ApiConfig(api_port, api_host, api_cert, api_key)
        site_file, meter_config = _site_options(site, site_meter, meter_stale_s)
    except (ValidationError, DataFileError) as error:
        fail(error)

    def first_owner(username: str, password: str) -> None:
        console.print(f"first start: web user [bold]{username}[/bold] created; password (shown once):")
        typer.echo(password, err=False)

    def api_ready(_: object, bound_port: int) -> None:
        scheme = "https" if api_cert else "http"
        console.print(f"web API on {scheme}://{api_host}:{bound_port}/api/v1")

    ready: dict[str, object] = {}

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        extras = asyncio.create_task(
            _run_extras(config, site_file, meter_config, site_meter, meter_stale_s, ready, stop)
        )
        try:
            if api is None:
                await serve_cem(config, stop, lambda gateway, _: ready.update(gateway=gateway))
                return
            from smartcharge.web.serve import serve_cem_with_api

            def on_ready(services: object, bound_port: int) -> None:
                ready.update(services=services, gateway=services.gateway)  # type: ignore[attr-defined]
                api_ready(services, bound_port)

            await serve_cem_with_api(config, api, stop, on_ready=on_ready, on_first_owner=first_owner)
        finally:
            stop.set()
            await extras

    try:
        asyncio.run(main())
    except ValidationError as error:  # e.g. the API's port is taken: one line, no traceback
        _fail(error)
    if isinstance(ready.get("error"), ValidationError):  # e.g. no site settings anywhere
        _fail(ready["error"])  # type: ignore[arg-type]


def _site_options(site: Path | None, site_meter: str | None, stale_s: float) -> tuple[object, object]:
    """The site file's settings (checked even when the database holds a site) and the meter's
    source; ValidationError or DataFileError naming the option or the file's field."""
    if site_meter is None:
        if site is not None:
            raise ValidationError("site_meter", None, "a managed site needs its meter: --site-meter")
        return None, None
    if not 0 < stale_s <= 15:
        raise ValidationError("meter_stale_s", stale_s, "0 < s <= 15 (SCN-WRK: fail-safe after 15 s)")
    from smartcharge.cem.meter import parse_meter_spec
    from smartcharge.cem.site import load_site_file

    return (None if site is None else load_site_file(site)), parse_meter_spec(site_meter)


async def _run_extras(
    config: object,
    site_file: object,
    meter_config: object,
    site_meter: str | None,
    stale_s: float,
    ready: dict[str, object],
    stop: asyncio.Event,
) -> None:
    """Once the CEM is ready: the site (load management with its meter) if asked for, and the
    owners' plans when the web API runs (re-planned and driven every minute)."""
    while "gateway" not in ready and not stop.is_set():
        await asyncio.sleep(0.05)
    if stop.is_set():
        return
    from smartcharge.cem.site import run_site, start_site
    from smartcharge.store.base import make_engine

    services = ready.get("services")
    plans = getattr(services, "plans", None)
    engine = make_engine(config.database_url)  # type: ignore[attr-defined]
    try:
        site = None
        if site_meter is not None:
            try:
                site, origin = await start_site(ready["gateway"], engine, site_file, meter_config, stale_s)  # type: ignore[arg-type]
            except ValidationError as error:
                ready["error"] = error
                stop.set()
                return
            console.print(
                f"site: {len(site.config.charge_points)} charge points, settings from {origin}; "
                f"meter {site_meter}"
            )
            if services is not None:
                services.site = site  # type: ignore[attr-defined]
                if plans is not None:
                    plans.site = site
        async with asyncio.TaskGroup() as group:
            if plans is not None:
                group.create_task(plans.run(stop))
            if site is not None:
                group.create_task(run_site(site, stop))
    finally:
        engine.dispose()


@app.command("add-station")
def add_station(
    station_id: str = typer.Option(
        ..., "--id", help="The station's OCPP identity (also its basic-auth user)."
    ),
    profile: int = typer.Option(2, "--profile", help="Security profile 1, 2 or 3 (no downgrade later)."),
    own_password: bool = typer.Option(
        False, "--own-password", help="Type the station's password (16-40 OCPP characters) instead."
    ),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Register a station. For profiles 1-2 its new random password is printed once, never stored."""
    from smartcharge.cem.registration import check_station_id, register
    from smartcharge.cem.service import open_store

    try:
        check_station_id(station_id)
        if profile not in (1, 2, 3):
            raise ValidationError("profile", profile, "OCPP security profile is 1, 2 or 3")
        chosen = _prompt_station_password() if own_password else None
        store = open_store(database_url(db, data_dir), data_dir=data_dir)
        password = register(store.stations, station_id, profile, chosen)
    except ValidationError as error:
        _fail(error)
        return
    if profile == 3:
        console.print(f"station {station_id} registered at profile 3: it authenticates with its certificate")
    elif password is None:
        console.print(f"station {station_id} registered at profile {profile} with your password")
    else:
        console.print(f"station {station_id} registered at profile {profile}; password (shown once):")
        typer.echo(password)


def _prompt_station_password() -> str:
    from smartcharge.cem.credentials import check_password_rules

    return check_password_rules(typer.prompt("station password", hide_input=True, confirmation_prompt=True))


@app.command("station-password")
def station_password(
    station_id: str = typer.Option(..., "--id", help="The registered station."),
    profile: int | None = typer.Option(
        None, "--profile", help="Re-register at this security profile (1, 2 or 3) as well."
    ),
    own_password: bool = typer.Option(False, "--own-password", help="Type the new password instead."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Rotate a station's password, or re-register it at another profile (new random password
    printed once). It takes effect at the station's next connection."""
    from smartcharge.cem.registration import set_credentials
    from smartcharge.cem.service import open_store
    from smartcharge.store.station_admin import StationAdmin

    try:
        chosen = _prompt_station_password() if own_password else None
        store = open_store(database_url(db, data_dir))
        password = set_credentials(StationAdmin(store.engine), station_id, profile, chosen)
    except ValidationError as error:
        _fail(error)
        return
    console.print(f"station {station_id}: credentials changed")
    if password is not None:
        console.print("password (shown once):")
        typer.echo(password)


@app.command("remove-station")
def remove_station(
    station_id: str = typer.Option(..., "--id", help="The registered station."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: its sessions are erased too."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Remove a station and its sessions (the security log is kept)."""
    from smartcharge.cem.service import open_store

    if not yes:
        _fail(ValidationError("yes", False, "removing a station erases its sessions: confirm with --yes"))
        return
    store = open_store(database_url(db, data_dir))
    if not store.stations.remove(station_id):
        _fail(ValidationError("id", station_id, "not a registered station"))
        return
    console.print(f"station {station_id} removed")


@app.command()
def sessions(
    station_id: str | None = typer.Option(None, "--station", help="Only this station."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Every session of the last 12 months: start, stop, energy and rate changes (reg 9)."""
    from smartcharge.cem.service import open_store

    store = open_store(database_url(db, data_dir), data_dir=data_dir)
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
    from smartcharge.cem.service import open_store

    store = open_store(database_url(db, data_dir), data_dir=data_dir)
    data = store.sessions.export(station_id)
    out.write_text(json.dumps(data, indent=2, allow_nan=False), encoding="utf-8")
    console.print(f"{len(data['sessions'])} sessions, {len(data['meter_values'])} meter values -> {out}")


@app.command()
def erase(
    station_id: str = typer.Option(..., "--station", help="Station whose session data to erase."),
    transaction_id: str | None = typer.Option(None, "--transaction", help="Only this session."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
    api: str = typer.Option(
        "http://127.0.0.1:8080", "--api", envvar="SMARTCHARGE_API", help="The running CEM's web API."
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        help="An operator token: the running CEM then has every connected OCPP 2.0.1 station clear "
        "the sessions' id tokens (CustomerInformation, N10).",
    ),
    ca: Annotated[Path | None, typer.Option(help="CA certificate of an HTTPS API.")] = None,
) -> None:
    """Erase a station's session data, or one session (PRIV-6 erasure). The security log is kept.
    With --token the charge points clear what they hold about the sessions' id tokens too."""
    from smartcharge.cem.service import open_store

    store = open_store(database_url(db, data_dir), data_dir=data_dir)
    id_tokens = store.sessions.id_tokens(station_id) if token is not None and transaction_id is None else []
    try:
        deleted = store.sessions.erase(station_id, transaction_id)
    except ValidationError as error:  # a running session: the erasure would not hold
        _fail(error)
    console.print(f"{deleted} rows erased")
    if token is not None and id_tokens:
        _clear_at_stations(api, token, ca, id_tokens)


def _clear_at_stations(api: str, token: str, ca: Path | None, id_tokens: list[str]) -> None:
    import httpx

    try:
        answer = httpx.post(
            f"{api.rstrip('/')}/api/v1/customer-information",
            json={"id_tokens": id_tokens, "clear": True},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60.0,
            verify=str(ca) if ca is not None else True,
        )
    except httpx.HTTPError as error:
        console.print(f"[red]error:[/red] erased here, but cannot reach the CEM at {api}: {error}")
        raise typer.Exit(2) from None
    if answer.status_code != 200:
        console.print(
            f"[red]refused ({answer.status_code}):[/red] {answer.json().get('detail', answer.text)}"
        )
        raise typer.Exit(2)
    for item in answer.json():
        console.print(f"clear {item['id_token']} at {item['station_id']}: {item['status']}")


@app.command("security-log")
def security_log(
    limit: int = typer.Option(50, help="How many of the newest events."),
    verify: bool = typer.Option(
        False, "--verify", help="Check the HMAC chain; name the first edited or removed entry."
    ),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """The newest security events: refused handshakes, invalid messages, station notifications.
    With --verify: one line, exit code 1 if any entry was edited, inserted or removed."""
    from smartcharge.cem.service import open_store

    store = open_store(database_url(db, data_dir), data_dir=data_dir)
    if verify:
        result = store.security.verify()
        typer.echo(result.line())
        raise typer.Exit(0 if result.ok else 1)
    table = Table("time (UTC)", "station", "event", "detail", "count", "remote")
    for e in store.security.recent(limit):
        table.add_row(
            f"{e.occurred_at:%Y-%m-%d %H:%M:%S}",
            e.station_id or "",
            e.event_type,
            e.detail,
            str(e.count),
            e.remote_address or "",
        )
    console.print(table)


RoleOpt = typer.Option(..., "--role", help="owner, site-manager, operator or viewer.")


@app.command("add-token")
def add_token(
    role: str = RoleOpt,
    label: str = typer.Option("", "--label", help="What the token is for (shown in the audit log list)."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Create a web API token with a role; the token is printed once, only its argon2 hash is kept."""
    from smartcharge.cem.service import open_store
    from smartcharge.store.web_access import WebAccessRepository
    from smartcharge.web.auth import AuthService, parse_role

    try:
        parsed = parse_role(role)
        store = open_store(database_url(db, data_dir))
        token_id, token = AuthService(WebAccessRepository(store.engine)).create_token(parsed, label)
    except ValidationError as error:
        _fail(error)
        return
    console.print(f"token {token_id} ({parsed.value}) created; token (shown once):")
    typer.echo(token)


@app.command("revoke-token")
def revoke_token(
    token_id: str = typer.Option(..., "--id", help="The token's id (printed when it was created)."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Revoke a web API token: it stops working at once (in a running CEM within a minute)."""
    from smartcharge.cem.service import open_store
    from smartcharge.store.web_access import WebAccessRepository
    from smartcharge.web.auth import AuthService

    store = open_store(database_url(db, data_dir))
    if not AuthService(WebAccessRepository(store.engine)).revoke_token(token_id):
        _fail(ValidationError("id", token_id, "no such token, or already revoked"))
        return
    console.print(f"token {token_id} revoked")


@app.command("add-user")
def add_user(
    username: str = typer.Option(..., "--username", help="The name the person logs in with."),
    role: str = RoleOpt,
    own_password: bool = typer.Option(
        False, "--own-password", help="Type a password (12-128 characters) instead of a random one."
    ),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Create a web user with a role; a random password is printed once (only its argon2 hash is kept)."""
    from smartcharge.cem.service import open_store
    from smartcharge.store.web_access import WebAccessRepository
    from smartcharge.web.auth import AuthService, check_user_password, check_username, parse_role

    try:
        parsed = parse_role(role)
        check_username(username)
        chosen = None
        if own_password:
            chosen = check_user_password(typer.prompt("password", hide_input=True, confirmation_prompt=True))
        store = open_store(database_url(db, data_dir))
        password = AuthService(WebAccessRepository(store.engine)).create_user(username, parsed, chosen)
    except ValidationError as error:
        _fail(error)
        return
    console.print(f"user {username} ({parsed.value}) created")
    if chosen is None:
        console.print("password (shown once):")
        typer.echo(password)


@app.command()
def send(
    station_id: Annotated[str, typer.Argument(help="The station to send to.")],
    action: Annotated[str, typer.Argument(help="A CSMS-initiated OCPP action, e.g. Reset.")],
    payload: str = typer.Option("{}", "--payload", help="The OCPP payload as JSON, or @FILE to read it."),
    api: str = typer.Option(
        "http://127.0.0.1:8080", "--api", envvar="SMARTCHARGE_API", help="The running CEM's web API."
    ),
    token: str = typer.Option(
        ..., "--token", envvar="SMARTCHARGE_API_TOKEN", help="An operator token (cem add-token)."
    ),
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds to wait for the answer."),
    ca: Annotated[Path | None, typer.Option(help="CA certificate of an HTTPS API.")] = None,
) -> None:
    """Send one OCPP message to a station through the running CEM; prints the answer as JSON.
    Exit status 0 on a CALLRESULT, 1 on a CALLERROR, 2 when refused (the reason is printed)."""
    import httpx

    try:
        text = Path(payload[1:]).read_text(encoding="utf-8") if payload.startswith("@") else payload
        body = json.loads(text)
    except (OSError, ValueError) as error:
        _fail(ValidationError("payload", payload[:40], f"not readable JSON ({error})"))
        return
    params = {} if timeout is None else {"timeout_s": timeout}
    url = f"{api.rstrip('/')}/api/v1/stations/{station_id}/ocpp/{action}"
    try:
        answer = httpx.post(
            url,
            json=body,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=(timeout or 30.0) + 10.0,
            verify=str(ca) if ca is not None else True,
        )
    except httpx.HTTPError as error:
        console.print(f"[red]error:[/red] cannot reach the CEM at {api}: {error}")
        raise typer.Exit(2) from None
    if answer.status_code != 200:
        console.print(
            f"[red]refused ({answer.status_code}):[/red] {answer.json().get('detail', answer.text)}"
        )
        raise typer.Exit(2)
    result = answer.json()
    typer.echo(json.dumps(result, indent=2))
    if result["outcome"] != "CallResult":
        raise typer.Exit(1)


@app.command("make-pki")
def make_pki_command(
    directory: Annotated[Path, typer.Option("--dir", help="Directory for the CA and certificates.")],
    station_ids: Annotated[
        list[str] | None, typer.Option("--station", help="Issue a station certificate.")
    ] = None,
) -> None:
    """Issue a test CA, a localhost server certificate and station certificates (EC P-256)."""
    from smartcharge.ocpp.tls import make_pki

    ids = station_ids or []
    pki = make_pki(directory, ids)
    console.print(f"CA {pki.ca_cert}, server {pki.server_cert}, {len(ids)} station certificates")


@app.command("assign-owner")
def assign_owner(
    station_id: str = typer.Option(..., "--station", help="A registered charge point."),
    owner: str = typer.Option(..., "--owner", help="The web user name of its owner."),
    tariff: str = typer.Option("ofgem_cap_2025q1", "--tariff", help="Packaged tariff pricing its sessions."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Make a web user the owner of a charge point: he then sees and controls it (and only it) in
    the owner's API and pages; its first-use wizard (reg 10) shows at his next visit."""
    from smartcharge.cem.owner import OwnerService
    from smartcharge.cem.service import open_store
    from smartcharge.store.owner_repo import OwnerRepository

    try:
        store = open_store(database_url(db, data_dir), data_dir=data_dir)
        OwnerService(OwnerRepository(store.engine), None).assign(station_id, owner, tariff)
    except ValidationError as error:
        _fail(error)
        return
    console.print(f"{station_id} is owned by {owner} (sessions priced at {tariff})")


__all__ = ["app", "database_url"]


@app.command("firmware")
def firmware(
    image: Annotated[Path, typer.Option(help="The firmware image file to publish.")],
    signing_key: Annotated[Path, typer.Option(help="Firmware-signing private key (PEM, EC or RSA).")],
    signing_cert: Annotated[
        Path, typer.Option(help="Its certificate (PEM), issued under a manufacturer root.")
    ],
    name: Annotated[str | None, typer.Option(help="Published file name (default: the image's).")] = None,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Sign a firmware image and publish it on the CEM's HTTPS file endpoint (OCPP L01, SEC-S-4).
    Prints the name, SHA-256 and signature; UpdateFirmware then points stations at it."""
    from smartcharge.cem.firmware import publish
    from smartcharge.store.private_files import default_data_dir

    directory = (data_dir or default_data_dir()) / "firmware"
    try:
        for given in (image, signing_key, signing_cert):
            if not given.is_file():
                raise ValidationError(given.name, str(given), "no such file")
        published = publish(image, signing_key, signing_cert, directory, name)
    except (ValidationError, ValueError) as error:
        if not isinstance(error, ValidationError):
            error = ValidationError("signing_key", signing_key.name, f"unreadable: {error}")
        _fail(error)
        return
    typer.echo(
        json.dumps({"name": published.name, "sha256": published.sha256, "signature": published.signature})
    )
