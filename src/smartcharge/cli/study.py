"""``smartcharge study``: the grid impact study (issue 5)."""

from __future__ import annotations

import logging
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from smartcharge.cli.common import fail
from smartcharge.core.errors import SmartchargeError

if TYPE_CHECKING:
    from collections.abc import Callable

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


class _LineProgress:
    """Progress as a plain line at most every ``every_s`` and at the end, for an output that is not
    a terminal (a log file under ``nohup``, CI): a rich bar draws nothing there until it ends, so a
    two-hour study would give no sign of life."""

    def __init__(
        self,
        console: Console,
        name: str,
        every_s: float = 60.0,
        read_back: Callable[[], int] = lambda: 0,
    ) -> None:
        self.console, self.name, self.every_s = console, name, every_s
        self.read_back = read_back  # cases read back from a checkpoint: no part of the pace
        self.started = self.shown = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.shown < self.every_s:
            return
        self.shown = now
        elapsed_s = now - self.started
        run = done - self.read_back()
        left = (
            f", about {elapsed_s * (total - done) / run / 60:.0f} min left"
            if 0 < run and done < total
            else ""
        )
        self.console.print(
            f"study {self.name}: {done}/{total} cases ({100 * done / max(total, 1):.0f} %), "
            f"{elapsed_s / 60:.1f} min{left}",
            highlight=False,
        )


def _progress(
    console: Console, name: str, read_back: Callable[[], int] = lambda: 0
) -> tuple[AbstractContextManager[object], Callable[[int, int], None]]:
    """A rich bar on a terminal, plain lines elsewhere; returns (display to enter, callback)."""
    if not console.is_terminal:
        return nullcontext(), _LineProgress(console, name, read_back=read_back)
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    task = bar.add_task(f"study {name}", total=None)

    def tick(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, tick


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
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="Directory of finished task groups: read back, and added to as groups finish, so a "
            "stopped study goes on where it stopped. Default: OUT/checkpoint.",
        ),
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Run every group again, ignoring and keeping no checkpoint.")
    ] = False,
) -> None:
    """Run a study on Dask and write a self-contained HTML report plus CSV tables."""
    from smartcharge.study.checkpoint import Checkpoint
    from smartcharge.study.runner import run_study

    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:  # Dask's INFO chatter would bury the progress bar
        handler.setLevel(logging.WARNING)
    config = _load(study, quick)
    console = Console()
    kept = None if fresh else Checkpoint(checkpoint or out / "checkpoint")
    display, tick = _progress(console, config.name, lambda: kept.loaded_cases if kept else 0)
    try:
        with display:
            path = run_study(
                config, out, workers=workers, scheduler=scheduler, progress=tick, checkpoint=kept
            )
    except SmartchargeError as exc:
        fail(exc, "study refused")
    if kept is not None:
        console.print(
            f"checkpoint {kept.directory}: {kept.loaded} task group(s) read back, {kept.saved} run and kept",
            soft_wrap=True,
            highlight=False,
        )
    console.print(f"report: {path}")


@app.command("report")
def report(
    study: Annotated[Path, typer.Argument(help="Study file (YAML), e.g. studies/full.yaml.")],
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="Directory of finished task groups. Default: OUT/checkpoint."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for report.html and the CSV tables.")] = Path(
        "study-out"
    ),
    quick: Annotated[bool, typer.Option("--quick", help="The shrunk (quick) study.")] = False,
) -> None:
    """Write the report from the task groups a checkpoint holds, running no case: an interim report
    of a study part-way through (it says at its top what it covers), or the whole study's."""
    from smartcharge.study.checkpoint import Checkpoint
    from smartcharge.study.interim import write_interim_report

    config = _load(study, quick)
    kept = Checkpoint(checkpoint or out / "checkpoint")
    try:
        path, coverage = write_interim_report(config, out, kept)
    except SmartchargeError as exc:
        fail(exc, "report refused")
    console = Console()
    console.print(
        coverage.text() or f"the checkpoint holds the whole study ({coverage.groups_total} task groups)",
        soft_wrap=True,
        highlight=False,
    )
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
