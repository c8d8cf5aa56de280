"""The CEM's Interface A commands: switch DSR provider and manage consent (INT-6, PRIV-3).

:func:`register` adds them to the CEM's command group (``smartcharge cem switch-dsrsp``,
``smartcharge cem consent ...``). The commands write the consent ledger; the running VEN carries
out the protocol (de-register, erase, register) within a second, or at its next start.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from smartcharge.cli.common import fail
from smartcharge.core.errors import SmartchargeError, ValidationError

if TYPE_CHECKING:
    from smartcharge.policy.consent import ReadScope

console = Console()
consent_app = typer.Typer(
    help="The owner's consent per DSR service provider (append-only ledger).", no_args_is_help=True
)

StorageOpt = typer.Option(..., "--storage-url", help="The CEM's database URL (e.g. sqlite:///cem.db).")
ReadsOpt = typer.Option(
    "telemetry,offers,power_reports",
    "--reads",
    help="What the provider may read: telemetry, offers, power_reports.",
)


def _reads(text: str) -> frozenset[ReadScope]:
    from smartcharge.policy.consent import ReadScope

    try:
        return frozenset(ReadScope(x.strip()) for x in text.split(",") if x.strip())
    except ValueError:
        known = ", ".join(s.value for s in ReadScope)
        raise ValidationError("reads", text, f"comma-separated among {known}") from None


def utc_text(epoch_s: int) -> str:
    """An epoch second as a person reads it: ``2026-12-02 03:30:00 UTC``."""
    return dt.datetime.fromtimestamp(epoch_s, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _fail(exc: SmartchargeError) -> None:
    fail(exc, "refused")


def switch_dsrsp(
    storage_url: str = StorageOpt,
    dsrsp_id: str = typer.Option(..., help="The new provider's VTN id (upper case)."),
    vtn_url: str = typer.Option(..., help="The new provider's VTN URL (https://...)."),
    vtn_fingerprint: str = typer.Option(
        ..., help="The new VTN's certificate fingerprint, received out of band."
    ),
    reads: str = ReadsOpt,
) -> None:
    """Switch DSR provider: the old one is de-registered and its data erased, the new one registered."""
    from smartcharge.cem.consent import open_ledger
    from smartcharge.cem.dsr_switch import switch_provider

    try:
        revoked, granted = switch_provider(
            open_ledger(storage_url), dsrsp_id, vtn_url, vtn_fingerprint, _reads(reads), actor="owner"
        )
    except SmartchargeError as exc:
        _fail(exc)
        return
    old = revoked.dsrsp_id if revoked else "none"
    console.print(f"switched from {old} to {granted.dsrsp_id}; the VEN applies it within a second")


def grant(
    storage_url: str = StorageOpt,
    dsrsp_id: str = typer.Option(..., help="Provider VTN id."),
    vtn_url: str = typer.Option("", help="VTN URL (needed when it may control)."),
    vtn_fingerprint: str = typer.Option("", help="VTN fingerprint (needed when it may control)."),
    control: bool = typer.Option(True, help="May the provider control the charge points?"),
    reads: str = ReadsOpt,
    until_s: int = typer.Option(None, help="Epoch second when the consent ends (default: until revoked)."),
) -> None:
    """Grant a provider consent to control and/or read."""
    from smartcharge.cem.consent import open_ledger

    try:
        ledger = open_ledger(storage_url)
        ledger.grant(dsrsp_id, vtn_url, vtn_fingerprint, control, _reads(reads), until_s)
    except SmartchargeError as exc:
        _fail(exc)
        return
    console.print(f"consent granted to {dsrsp_id}")


def revoke(
    storage_url: str = StorageOpt,
    dsrsp_id: str = typer.Option(..., help="Provider VTN id."),
    reason: str = typer.Option("", help="Why (kept in the ledger)."),
) -> None:
    """Revoke consent: the VEN de-registers from the provider and erases what it kept for it."""
    from smartcharge.cem.consent import open_ledger

    try:
        open_ledger(storage_url).revoke(dsrsp_id, reason=reason)
    except SmartchargeError as exc:
        _fail(exc)
        return
    console.print(f"consent revoked for {dsrsp_id}")


def show(storage_url: str = StorageOpt) -> None:
    """Print the consent ledger (checked against its hash chain)."""
    from smartcharge.cem.consent import open_ledger

    table = Table(title="Consent ledger")
    for col in ("recorded (UTC)", "DSRSP", "action", "control", "reads", "until", "actor", "reason"):
        table.add_column(col)
    for e in open_ledger(storage_url).history():
        table.add_row(
            utc_text(e.recorded_s),
            e.dsrsp_id,
            e.action.value,
            "yes" if e.may_control else "no",
            ",".join(sorted(r.value for r in e.may_read)),
            "until revoked" if e.valid_until_s is None else utc_text(e.valid_until_s),
            e.actor,
            e.reason,
        )
    console.print(table)


def export(storage_url: str = StorageOpt, dsrsp_id: str = typer.Option(..., help="Provider VTN id.")) -> None:
    """Export as JSON the consent and the data kept for one provider (PRIV-6)."""
    from smartcharge.cem.consent import open_ledger

    console.print_json(json.dumps(open_ledger(storage_url).export(dsrsp_id)))


consent_app.command("grant")(grant)
consent_app.command("revoke")(revoke)
consent_app.command("show")(show)
consent_app.command("export")(export)


def register(cem_app: typer.Typer) -> None:
    """Add ``switch-dsrsp`` and the ``consent`` group to the CEM's command group."""
    cem_app.command("switch-dsrsp")(switch_dsrsp)
    cem_app.add_typer(consent_app, name="consent")


__all__ = ["consent_app", "register"]
