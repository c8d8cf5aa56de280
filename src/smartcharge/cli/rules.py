"""``smartcharge rules``: show the GB rules the package applies."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Show the GB charging rules and tariffs smartcharge applies.", no_args_is_help=True)


@app.command("show")
def show() -> None:
    """Print the reg 10 peak and default hours and the reg 11 delay settings."""
    from smartcharge.policy import DEFAULT_MAX_DELAY_S, GB_DEFAULT_HOURS, GB_PEAK, MAX_DELAY_CAPABILITY_S

    console = Console()
    table = Table(title="GB Smart Charge Points Regulations 2021")
    table.add_column("rule")
    table.add_column("value")
    table.add_row("reg 10 weekday peak (local)", str(GB_PEAK))
    table.add_row("shipped default hours (local)", str(GB_DEFAULT_HOURS))
    table.add_row("reg 11 default max delay", f"{DEFAULT_MAX_DELAY_S} s")
    table.add_row("reg 11 max delay capability", f"{MAX_DELAY_CAPABILITY_S} s")
    console.print(table)


@app.command("tariffs")
def tariffs() -> None:
    """List the packaged GB time-of-use tariffs."""
    from smartcharge.core.tariff import load_tariffs

    console = Console()
    table = Table(title="Packaged GB tariffs (p/kWh incl. VAT)")
    for col in ("id", "cheap hours", "clock", "cheap", "peak", "peak rate"):
        table.add_column(col)
    for t in load_tariffs().values():
        table.add_row(
            t.tariff_id,
            str(t.offpeak) or "-",
            t.clock.value,
            f"{t.offpeak_p_per_kwh:g}",
            f"{t.peak_p_per_kwh:g}",
            t.peak_rate_note,
        )
    console.print(table)
