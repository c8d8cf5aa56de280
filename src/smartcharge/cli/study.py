"""``smartcharge study``: the grid impact study (issue 5)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from smartcharge.cli.common import fail
from smartcharge.core.errors import SmartchargeError

if TYPE_CHECKING:
    from smartcharge.study.config import StudyConfig

app = typer.Typer(
    help="Grid impact study: LV power flow, hosting capacity, second peak, cost and carbon.",
    no_args_is_help=True,
)
log = logging.getLogger(__name__)


def _quick(config: StudyConfig) -> StudyConfig:
    """One day, one seed, at most four penetrations, one cross-checked step."""
    pens = config.penetrations
    keep = sorted({pens[0], pens[len(pens) // 3], pens[2 * len(pens) // 3], pens[-1]})
    return config.model_copy(
        update={"days": 1, "seeds": config.seeds[:1], "penetrations": keep, "crosscheck_steps": 1}
    )


def _load(path: Path, quick: bool) -> StudyConfig:
    from smartcharge.study.config import load_study

    try:
        config = load_study(path)
    except SmartchargeError as exc:
        fail(exc)
    return _quick(config) if quick else config


@app.command("run")
def run(
    study: Annotated[Path, typer.Argument(help="Study file (YAML), e.g. studies/quick.yaml.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for report.html and the CSV tables.")] = Path(
        "study-out"
    ),
    quick: Annotated[
        bool, typer.Option("--quick", help="Shrink: one day, one seed, four penetrations.")
    ] = False,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Address of a running Dask scheduler.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local Dask workers (0: in this process).")
    ] = None,
) -> None:
    """Run a study on Dask and write a self-contained HTML report plus CSV tables."""
    from smartcharge.study.runner import run_study

    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:  # Dask's INFO chatter would bury the progress bar
        handler.setLevel(logging.WARNING)
    config = _load(study, quick)
    console = Console()
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task(f"study {config.name}", total=None)
            path = run_study(
                config,
                out,
                workers=workers,
                scheduler=scheduler,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except SmartchargeError as exc:
        fail(exc, "study refused")
    console.print(f"report: {path}")


@app.command("check")
def check(
    study: Annotated[Path, typer.Argument(help="Study file (YAML).")],
    quick: Annotated[bool, typer.Option("--quick", help="Check the shrunk (quick) study.")] = False,
) -> None:
    """Validate a study file, its feeders and tariffs, and count the cases, without running anything."""
    from smartcharge.study.runner import prepare

    config = _load(study, quick)
    try:
        prepared = prepare(config)
    except SmartchargeError as exc:
        fail(exc, "study refused")
    Console().print(
        f"study {config.name}: {len(prepared.networks)} feeders, {len(prepared.cases)} cases, valid"
    )


@app.command("feeders")
def feeders() -> None:
    """List the shipped LV feeders with their size before and after the exact reduction."""
    from smartcharge.grid.feeders import FEEDERS, get_feeder
    from smartcharge.grid.reduction import reduce_network

    table = Table(title="Shipped LV feeders")
    for col in ("name", "buses", "reduced buses", "customers", "transformer kVA"):
        table.add_column(col)
    for name in FEEDERS:
        net = get_feeder(name)
        table.add_row(
            name,
            str(net.n_bus),
            str(reduce_network(net).network.n_bus),
            str(net.n_load),
            f"{net.transformer.sn_va / 1e3:g}",
        )
    Console().print(table)
