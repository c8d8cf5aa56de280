"""Run study cases on Dask (``dask.distributed``): a local cluster by default, or a scheduler address.

Cases that share a feeder, a seed and a penetration (the strategies of one fleet: the same cars,
the same base load) go to one task, so the worker solves the steps they share once (issue 14
"Speed", :func:`~smartcharge.study.cases.flow_memo`); results are put back in case order, so the
numbers do not depend on the number of workers or on which worker ran what (every draw is seeded
by the case). ``workers=0``
runs the cases in this process, without Dask (for debugging and the single-process baseline).
Progress goes to a callback (the CLI draws a rich progress bar) and to the log.

A group that raises does not stop the others: its error and traceback go to the log, the groups
that finish are still kept in the checkpoint, and :class:`GroupsFailed` is raised at the end,
naming every failed group (a week-long sweep should not stand dead behind one case; issue 14).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from smartcharge.core.errors import ValidationError
from smartcharge.study.cases import Case, CaseResult, run_case
from smartcharge.study.checkpoint import Checkpoint
from smartcharge.study.loads import LoadProvider, fleet_loads

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class GroupsFailed(RuntimeError):
    """Some task groups raised; the rest ran (and, with a checkpoint, were kept)."""

    def __init__(self, failures: list[tuple[tuple[Case, ...], BaseException]], groups: int) -> None:
        self.failures = failures
        first_group, first_error = failures[0]
        super().__init__(
            f"{len(failures)} of {groups} task group(s) failed, the others ran; first: "
            f"{describe_group(first_group)}: {type(first_error).__name__}: {first_error} "
            "(the log holds each traceback)"
        )


def describe_group(group: Sequence[Case]) -> str:
    """A group as a person finds it again in the study file: feeder, seed, penetration (the
    feeder's key, e.g. ``gb_lv_1_0029``: its name, ``gb_lv``, is shared by every drawn feeder)."""
    case = group[0]
    return f"feeder {case.feeder_key}, seed {case.seed}, penetration {case.penetration:g}"


def run_cases(
    cases: Sequence[Case],
    workers: int = 2,
    scheduler: str | None = None,
    provider: LoadProvider = fleet_loads,
    progress: Progress | None = None,
    keep_series: frozenset[int] | None = None,
    checkpoint: Checkpoint | None = None,
) -> list[CaseResult]:
    """Run every case and return the results in the order of ``cases``.

    With ``keep_series`` (case indexes), every other case comes back :meth:`~CaseResult.slim`,
    cut on the worker, so neither the transfer nor the client holds a week of series per case.
    With a ``checkpoint``, groups it holds are read back instead of run, and each group run is
    written to it as it finishes (a stopped study goes on where it stopped)."""
    if workers < 0:
        raise ValidationError("workers", workers, "must be >= 0 (0 runs in this process)")
    if len({c.index for c in cases}) != len(cases):
        raise ValidationError("cases.index", [c.index for c in cases], "each case needs its own index")
    task = partial(run_group, provider=provider, keep_series=keep_series)
    tally = _Tally(len(cases), progress)
    results, todo = read_back(cases, checkpoint, keep_series)
    if checkpoint is not None:
        log.info("checkpoint: %d group(s) read back, %d to run", checkpoint.loaded, len(todo))
        if checkpoint.loaded_cases:
            tally.add(checkpoint.loaded_cases)  # at once: a pace taken from it would be no pace

    failures: list[tuple[tuple[Case, ...], BaseException]] = []

    def settle(
        group: tuple[Case, ...], kept: tuple[bool, ...], outcome: Callable[[], list[CaseResult]]
    ) -> None:
        """Keep a group's results (and write them to the checkpoint), or log its error and go on."""
        try:
            group_results = outcome()
        except Exception as error:  # noqa: BLE001 - reported with the others in GroupsFailed
            log.error("task group failed (%s)", describe_group(group), exc_info=error)
            failures.append((group, error))
            return
        for result in group_results:
            results[result.case.index] = result
        if checkpoint is not None:
            checkpoint.save(group_results, kept)
        tally.add(len(group_results))

    if scheduler is None and workers == 0:
        for group, kept in todo:
            settle(group, kept, partial(task, group))
    elif todo:
        _run_on_dask(task, todo, workers, scheduler, settle)
    if failures:
        raise GroupsFailed(failures, len(todo))
    return [results[c.index] for c in cases]


Todo = list[tuple[tuple[Case, ...], tuple[bool, ...]]]


def read_back(
    cases: Sequence[Case], checkpoint: Checkpoint | None, keep_series: frozenset[int] | None = None
) -> tuple[dict[int, CaseResult], Todo]:
    """The results ``checkpoint`` holds, by case index, and the groups it does not hold (each with
    which of its cases keep their series): what a run still has to do."""
    results: dict[int, CaseResult] = {}
    todo: Todo = []
    for group in case_groups(cases):
        kept = kept_flags(group, keep_series)
        stored = checkpoint.load(group, kept) if checkpoint is not None else None
        if stored is None:
            todo.append((group, kept))
            continue
        for result in stored:
            results[result.case.index] = result
    return results, todo


def _run_on_dask(
    task: Callable[[tuple[Case, ...]], list[CaseResult]],
    todo: Todo,
    workers: int,
    scheduler: str | None,
    settle: Callable[[tuple[Case, ...], tuple[bool, ...], Callable[[], list[CaseResult]]], None],
) -> None:
    from dask.distributed import Client, as_completed

    cluster = None
    if scheduler is None:
        cluster = local_cluster(workers)
        client = Client(cluster)  # type: ignore[no-untyped-call]
    else:
        client = Client(scheduler)  # type: ignore[no-untyped-call]
    try:
        where = client.scheduler.address if client.scheduler else scheduler
        log.info("running %d task groups on %s", len(todo), where)
        futures = client.map(task, [group for group, _ in todo], pure=False)
        todo_of = {future.key: item for future, item in zip(futures, todo, strict=True)}
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            settle(*todo_of[future.key], future.result)
            future.release()
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()


def kept_flags(group: Sequence[Case], keep_series: frozenset[int] | None) -> tuple[bool, ...]:
    """Which of ``group``'s cases keep their series (all, when ``keep_series`` is None); part of a
    group's checkpoint key."""
    return tuple(keep_series is None or c.index in keep_series for c in group)


class _Tally:
    """Cases done so far, told to the log and the progress callback."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress

    def add(self, n: int) -> None:
        self.done += n
        _report(self.progress, self.done, self.total)


def case_groups(cases: Sequence[Case]) -> list[tuple[Case, ...]]:
    """Cases of one feeder, seed and penetration together (in the order they first appear)."""
    groups: dict[tuple[object, ...], list[Case]] = {}  # insertion order: first appearance
    for case in cases:
        key: tuple[object, ...] = (case.feeder_name, case.feeder_params, case.fleet, case.seed)
        key += (case.penetration, case.start, case.days, case.step_s)  # the same cars, same steps
        groups.setdefault(key, []).append(case)
    return [tuple(g) for g in groups.values()]


def run_group(
    cases: Sequence[Case], provider: LoadProvider = fleet_loads, keep_series: frozenset[int] | None = None
) -> list[CaseResult]:
    """One task: the cases of a group, one after another in this worker (sharing its flow memo);
    the cases not in ``keep_series`` (when given) are returned slim."""
    out = []
    for case, kept in zip(cases, kept_flags(cases, keep_series), strict=True):
        result = run_case(case, provider)
        out.append(result if kept else result.slim())
    return out


def local_cluster(workers: int) -> Any:
    """A local Dask cluster of ``workers`` processes that binds no fixed port.

    With the dashboard off the scheduler still serves HTTP (health, metrics) and would ask for
    8787; a busy 8787 then fails the start (issue 15 finding), so it takes a free port instead.
    """
    from dask.distributed import LocalCluster

    return LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.WARNING,
    )


def _report(progress: Progress | None, done: int, total: int) -> None:
    log.info("study progress %d/%d cases", done, total)
    if progress is not None:
        progress(done, total)


__all__ = [
    "GroupsFailed",
    "Progress",
    "case_groups",
    "describe_group",
    "kept_flags",
    "local_cluster",
    "read_back",
    "run_cases",
    "run_group",
]
