"""The CEM's OCPP-core commands: the id-token store and the boot answer per station.

:func:`register` adds ``smartcharge cem id-token add|list|block|remove`` and
``smartcharge cem boot-status STATION [Accepted|Pending|Rejected]``. A running CEM reads both from
the store at every Authorize, TransactionEvent and BootNotification, so a change applies at once.
Heavy modules are imported inside the commands (the CLI starts in well under a second).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

id_token_app = typer.Typer(
    help="Id tokens the CEM accepts, blocks or knows as expired (OCPP C01, C05, C09).", no_args_is_help=True
)
DbOpt = typer.Option(None, "--db", help="Database URL. Default: SQLite in --data-dir.")
DataDirOpt = typer.Option(None, "--data-dir", help="Data directory for the default SQLite database.")


def _open(db: str | None, data_dir: Path | None):  # type: ignore[no-untyped-def]
    from smartcharge.cem.core_services import open_core
    from smartcharge.cli.cem import database_url

    return open_core(database_url(db, data_dir))


def _fail(error: Exception) -> None:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(2)


def _expiry(text: str | None) -> datetime | None:
    from smartcharge.core.errors import ValidationError

    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError("expires", text, "an ISO 8601 date-time with offset") from None
    if at.tzinfo is None:
        raise ValidationError("expires", text, "must carry a UTC offset, e.g. 2027-01-01T00:00Z")
    return at


@id_token_app.command("add")
def add(
    id_token: str = typer.Argument(..., help="The token value (1-36 printable characters)."),
    status: str = typer.Option("Accepted", help="Accepted, Blocked, Expired or Invalid."),
    token_type: str = typer.Option("ISO14443", "--type", help="OCPP IdTokenEnumType, e.g. ISO14443."),
    expires: str | None = typer.Option(None, help="Expiry (ISO 8601 with offset); none: never."),
    group: str | None = typer.Option(None, help="Group id token (C09)."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Add an id token."""
    from smartcharge.core.errors import ValidationError

    try:
        tokens, _ = _open(db, data_dir)
        record = tokens.add(id_token, status, token_type, _expiry(expires), group)
    except ValidationError as error:
        _fail(error)
        return
    typer.echo(f"id token {record.id_token} added: {record.status}")


@id_token_app.command("list")
def list_tokens(db: str | None = DbOpt, data_dir: Path | None = DataDirOpt) -> None:
    """Every id token with its status, type, expiry and group."""
    tokens, _ = _open(db, data_dir)
    for r in tokens.all():
        expiry = "-" if r.expires_at is None else r.expires_at.isoformat()
        typer.echo(f"{r.id_token}\t{r.status}\t{r.token_type}\t{expiry}\t{r.group_id_token or '-'}")


@id_token_app.command("block")
def block(
    id_token: str = typer.Argument(...), db: str | None = DbOpt, data_dir: Path | None = DataDirOpt
) -> None:
    """Block an id token: it never starts charging again (until set Accepted)."""
    from smartcharge.core.errors import ValidationError

    try:
        tokens, _ = _open(db, data_dir)
        tokens.block(id_token)
    except ValidationError as error:
        _fail(error)
        return
    typer.echo(f"id token {id_token} blocked")


@id_token_app.command("remove")
def remove(
    id_token: str = typer.Argument(...), db: str | None = DbOpt, data_dir: Path | None = DataDirOpt
) -> None:
    """Forget an id token (it becomes Unknown)."""
    from smartcharge.core.errors import ValidationError

    try:
        tokens, _ = _open(db, data_dir)
        tokens.remove(id_token)
    except ValidationError as error:
        _fail(error)
        return
    typer.echo(f"id token {id_token} removed")


def boot_status(
    station_id: str = typer.Argument(..., help="A registered station."),
    status: str | None = typer.Argument(None, help="Accepted, Pending or Rejected; omit to show."),
    db: str | None = DbOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Show or set how the CEM answers this station's BootNotification (B01-B03)."""
    from smartcharge.core.errors import ValidationError

    try:
        _, reports = _open(db, data_dir)
        if status is not None:
            reports.set_boot_status(station_id, status)
        typer.echo(f"{station_id}: {reports.boot_status(station_id)}")
    except ValidationError as error:
        _fail(error)


def register(app: typer.Typer) -> None:
    app.add_typer(id_token_app, name="id-token")
    app.command("boot-status")(boot_status)


__all__ = ["register"]
