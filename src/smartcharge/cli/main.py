"""The ``smartcharge`` command. Each role adds its own sub-command group from its own module."""

from __future__ import annotations

import typer

from smartcharge.cli import cem, cem_dsr, cem_ocpp, demo, dsrsp, rules, sim, station, study
from smartcharge.cli.common import DEBUG

app = typer.Typer(
    name="smartcharge",
    help="Smart EV charging for Great Britain: charge point, CEM, DSR service provider and study engine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show the Python traceback of an error."),
) -> None:
    """Smart EV charging for Great Britain: charge point, CEM, DSR service provider and study engine."""
    if debug:
        DEBUG["on"] = True


app.command("demo")(demo.demo)
app.add_typer(rules.app, name="rules")
app.add_typer(dsrsp.app, name="dsrsp")
app.add_typer(cem.app, name="cem")
cem_dsr.register(cem.app)  # cem switch-dsrsp, cem consent ...
cem_ocpp.register(cem.app)  # cem id-token ..., cem boot-status
app.add_typer(station.app, name="station")
app.add_typer(study.app, name="study")
app.add_typer(sim.app, name="sim")
