"""``smartcharge sim``: run fleet scenarios and list the charging strategies."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from smartcharge.cli.common import fail
from smartcharge.core.errors import SmartchargeError

app = typer.Typer(help="Fleet simulator: many EVs under the GB charging rules.", no_args_is_help=True)


@app.command("run")
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file (see scenarios/)")],
    out: Annotated[Path, typer.Option("--out", help="folder for Parquet/CSV series and summary.json")],
) -> None:
    """Simulate a scenario and write its load series, per-EV results and summary.json."""
    from smartcharge.sim.runner import run_scenario
    from smartcharge.sim.scenario import load_scenario

    console = Console()
    try:
        model = load_scenario(scenario)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task(f"sim {model.name}", total=None)

            def tick(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summary = run_scenario(scenario, out, progress=tick)
    except SmartchargeError as exc:
        fail(exc)
    table = Table(title=f"{summary['scenario']}: {summary['strategy']} on {summary['tariff_id']}")
    for col in ("group", "households", "EVs", "peak kW", "ADMD kW/home", "EV kW/EV", "max step kW/min"):
        table.add_column(col)
    for kind in ("transformers", "feeders"):
        for gid, row in summary[kind].items():
            table.add_row(
                gid,
                str(row["households"]),
                str(row["evs"]),
                f"{row['peak_kw']:.1f}",
                f"{row['admd_kw_per_household']:.2f}",
                f"{row['ev_admd_kw_per_ev']:.2f}",
                f"{row['max_step_kw_per_min']:.1f}",
            )
    console.print(table)
    console.print(
        f"energy wanted {summary['energy_wanted_kwh']:.0f} kWh, "
        f"delivered {summary['energy_delivered_kwh']:.0f} kWh; "
        f"cost {summary['cost_per_ev_p']:.0f} p/EV; {summary['carbon_g_per_kwh_charged']:.0f} gCO2/kWh; "
        f"{summary['run']['wall_s']:.1f} s -> {out}"
    )


@app.command("strategies")
def strategies() -> None:
    """List the registered strategies and their settings with defaults."""
    from smartcharge.sim import STRATEGIES

    console = Console()
    table = Table(title="Charging strategies")
    table.add_column("key")
    table.add_column("settings (defaults)")
    for key, entry in STRATEGIES.items():
        fields = {f.name: f.default for f in dataclasses.fields(entry.config_type)}
        table.add_row(key, json.dumps(fields))
    console.print(table)
