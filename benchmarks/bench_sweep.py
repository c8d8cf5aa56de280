"""Study sweep throughput on Dask: feeder-years of one-minute power flow per minute, on 1 and 2 workers.

Each case is one fleet run (IEEE European LV feeder, 55 households, Octopus Go window with a
600 s randomised delay) of ``--days`` days at one minute, through the reduced feeder's
asymmetric power flow. Wall time includes starting the local cluster and each worker building its
feeder model (a few seconds), as a user would see it ("cold"); "warm" rows time the same cases on
a cluster whose workers have already built the feeder, the steady state of a long sweep. The same
cases run in-process first (``workers=0``) as the baseline, and every run's numbers are checked to
be identical.

Usage: .venv/bin/python benchmarks/bench_sweep.py [--cases 8] [--days 7]
"""

from __future__ import annotations

import argparse
import logging
import time
from datetime import UTC, datetime

import numpy as np
from rich.console import Console
from rich.table import Table

from smartcharge.study.cases import Case
from smartcharge.study.sweep import run_cases


def make_cases(n: int, days: int) -> list[Case]:
    return [
        Case(
            index=i,
            part="hosting",
            feeder_key="ieee_european_lv",
            feeder_name="ieee_european_lv",
            feeder_params=(),
            strategy_label="go_window_delay_600s",
            strategy_key="tariff_window_delay",
            tariffs=("octopus_go",),
            strategy_config=(("max_delay_s", 600),),
            group_cap_w=None,
            penetration=round(0.2 + 0.8 * i / max(n - 1, 1), 6),
            seed=i + 1,
            start=datetime(2025, 1, 6, tzinfo=UTC),
            days=days,
            step_s=60,
        )
        for i in range(n)
    ]


def _warm_worker() -> None:
    """Build the feeder model and load the simulator's tables once, as a long sweep would."""
    from smartcharge.study.cases import _solver
    from smartcharge.study.loads import LoadRequest, fleet_loads

    _solver("ieee_european_lv", ())
    fleet_loads(
        LoadRequest(55, 0.5, "uncontrolled", "octopus_go", datetime(2025, 1, 6, tzinfo=UTC), 1, 60, 1)
    )


def _timed(cases: list[Case], workers: int, warm: bool) -> tuple[float, list]:
    """Cold: run_cases starts its own cluster (as the CLI does). Warm: workers already built."""
    if workers == 0 or not warm:
        t0 = time.perf_counter()
        results = run_cases(cases, workers=workers)
        return time.perf_counter() - t0, results
    from dask.distributed import Client

    from smartcharge.study.sweep import local_cluster

    with local_cluster(workers) as cluster:
        with Client(cluster) as client:
            client.run(_warm_worker)
        t0 = time.perf_counter()
        results = run_cases(cases, scheduler=cluster.scheduler_address)
        return time.perf_counter() - t0, results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:  # Dask logs its start-up at INFO on its own loggers
        handler.setLevel(logging.WARNING)
    cases = make_cases(args.cases, args.days)
    feeder_years = args.cases * args.days / 365
    table = Table(
        title=f"{args.cases} cases x {args.days} days on the IEEE European LV feeder (1-minute steps)"
    )
    for col in ("workers", "wall s", "steps/s", "feeder-years per minute", "same numbers as in-process"):
        table.add_column(col, justify="right")
    reference = None
    for workers in (0, 1, 2):
        for warm in (False, True):
            if workers == 0 and warm:
                continue
            wall, results = _timed(cases, workers, warm)
            key = np.concatenate([np.r_[r.summary.u_min_v, r.summary.u_max_v, r.total_w] for r in results])
            reference = key if reference is None else reference
            steps = sum(r.time_s.size for r in results)
            table.add_row(
                "in-process" if workers == 0 else f"{workers} ({'warm' if warm else 'cold'})",
                f"{wall:.1f}",
                f"{steps / wall:,.0f}",
                f"{feeder_years / (wall / 60):.3f}",
                str(bool(np.array_equal(key, reference))),
            )
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
