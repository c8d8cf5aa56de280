"""``smartcharge dsrsp``: run the DSR service provider's VTN and operate it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from smartcharge.cli.common import err_console, fail
from smartcharge.core.errors import SmartchargeError, ValidationError

if TYPE_CHECKING:
    from smartcharge.store.consent import DsrspStore

app = typer.Typer(
    help="DSR service provider: OpenADR 2.0b VTN with routine and response DSR.", no_args_is_help=True
)
console = Console()

ConfigOpt = typer.Option(
    ..., "--config", help="DSRSP settings file (YAML or JSON).", exists=True, dir_okay=False
)


def _store(storage_url: str) -> DsrspStore:
    from smartcharge.store.base import make_engine
    from smartcharge.store.consent import DsrspStore
    from smartcharge.store.migrate import upgrade

    engine = make_engine(storage_url)
    upgrade(engine)
    return DsrspStore(engine)


def _fail(exc: SmartchargeError) -> None:
    fail(exc, "refused")


@app.command("serve")
def serve_cmd(config: Path = ConfigOpt) -> None:
    """Run the VTN (TLS with client certificates, signed messages) until interrupted."""
    from smartcharge.dsrsp.config import load_dsrsp_settings
    from smartcharge.dsrsp.service import DsrspService, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # openleadr logs every reply with its whole payload at INFO: costly per poll and noisy.
    logging.getLogger("openleadr").setLevel(logging.WARNING)
    try:
        settings = load_dsrsp_settings(config)
    except SmartchargeError as exc:
        _fail(exc)
        return
    service = DsrspService(settings.vtn_config(), _store(settings.storage_url))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(service, stop)

    asyncio.run(main())


@app.command("enrol")
def enrol_cmd(
    config: Path = ConfigOpt,
    fingerprint: str = typer.Option(
        ..., help="The CEM certificate's OpenADR fingerprint, received out of band."
    ),
    name: str = typer.Option(..., help="The CEM's VEN name."),
) -> None:
    """Admit a CEM's certificate so that it may register (SEC-S-8)."""
    from smartcharge.dsrsp.config import load_dsrsp_settings
    from smartcharge.dsrsp.service import CemRegistry

    try:
        settings = load_dsrsp_settings(config)
        cem = CemRegistry(_store(settings.storage_url)).enrol(fingerprint, name)
    except SmartchargeError as exc:
        _fail(exc)
        return
    console.print(f"enrolled {cem.ven_name} as {cem.ven_id}")


@app.command("event")
def event_cmd(
    cert: Annotated[Path, typer.Option(help="Operator certificate (PEM).")],
    key: Annotated[Path, typer.Option(help="Operator private key (PEM).")],
    ca_file: Annotated[Path, typer.Option(help="CA that signed the VTN certificate.")],
    url: str = typer.Option(..., help="The DSRSP base URL, e.g. https://127.0.0.1:8443"),
    programme: str = typer.Option(..., help="routine or response"),
    signal_name: str = typer.Option(
        ..., "--signal", help="LOAD_DISPATCH (W), SIMPLE (0-3) or ELECTRICITY_PRICE"
    ),
    values: str = typer.Option(..., help="Comma-separated interval values."),
    interval_s: int = typer.Option(900, help="Length of each interval in seconds."),
    start_in_s: int = typer.Option(0, help="Seconds from now to the start."),
    start_after_s: int = typer.Option(0, help="Randomised start window (routine DSR only, RD-R3)."),
    ven_id: Annotated[
        list[str] | None, typer.Option(help="Target VEN ids (default: every registered CEM).")
    ] = None,
) -> None:
    """Create a DSR event through the admin endpoint."""
    from smartcharge.openadr.admin import post_admin

    try:
        numbers = [float(v) for v in values.split(",")]
    except ValueError:
        fail(ValidationError("values", values, "comma-separated numbers expected"), "refused")
    body = {
        "programme": programme,
        "signal": signal_name,
        "values": numbers,
        "interval_s": interval_s,
        "start_in_s": start_in_s,
        "start_after_s": start_after_s,
        "ven_ids": ven_id or None,
    }
    try:
        answer = asyncio.run(post_admin(url, "events", body, cert, key, ca_file))
    except SmartchargeError as exc:
        _fail(exc)
        return
    console.print(json.dumps(answer))
    if not answer.get("ven_ids"):
        err_console.print(
            "[yellow]warning:[/yellow] the event reaches no CEM: none is registered with this DSRSP"
            + (" under the given --ven-id" if ven_id else "")
            + " (see `smartcharge dsrsp cems`)"
        )
        raise typer.Exit(1)


@app.command("cems")
def cems_cmd(config: Path = ConfigOpt) -> None:
    """List the enrolled CEMs and whether they are registered."""
    from smartcharge.dsrsp.config import load_dsrsp_settings

    settings = load_dsrsp_settings(config)
    table = Table(title=f"CEMs of {settings.vtn_id}")
    for col in ("VEN id", "name", "fingerprint", "registered"):
        table.add_column(col)
    for cem in _store(settings.storage_url).cems():
        table.add_row(cem.ven_id, cem.ven_name, cem.fingerprint, "yes" if cem.registration_id else "no")
    console.print(table)


@app.command("issue-test-pki")
def pki_cmd(
    directory: Annotated[Path, typer.Option("--dir", help="Where to write ca.pem and NAME.pem/NAME.key.")],
    name: Annotated[
        list[str], typer.Option(help="One leaf certificate per name (e.g. vtn, cem1, operator).")
    ],
) -> None:
    """Make a private EC P-256 test CA and leaves (for demos and tests, never production)."""
    from smartcharge.openadr.pki import issue_pki

    _, leaves = issue_pki(directory, name, dt.datetime.now(dt.UTC))
    for leaf_name, paths in leaves.items():
        console.print(f"{leaf_name}: {paths.cert.name} fingerprint {paths.fingerprint}")


@app.command("fingerprint")
def fingerprint_cmd(cert: Annotated[Path, typer.Argument(help="PEM certificate.")]) -> None:
    """Print a certificate's OpenADR fingerprint, to hand to the other side out of band."""
    from smartcharge.openadr.pki import fingerprint_of

    try:
        console.print(fingerprint_of(cert))
    except SmartchargeError as exc:
        _fail(exc)
