"""The full study (studies/full.yaml) measured on a cut and extrapolated; scaling on 1 and 2 Dask workers.

The full study is 40,440 cases (105 feeders x 7 strategies x 5 seeds x 11 penetrations, a winter
week at one minute, plus 15). This runs a cut of it: ``--population`` GB feeders and the IEEE
feeder at 1.02 pu, every strategy, one seed, penetrations 0.5 and 1.0, the full week:

1. in this process, case by case, to time each case (CPU seconds per case, by feeder kind);
2. the same cases through ``run_cases`` on 1 and on 2 local Dask workers (wall time, cold start
   included), checking the numbers are identical.

Extrapolation: the mean time of a population case stands for the 100 population feeders and the
three small shipped ones, the IEEE mean for its two variants; with the default penetrations the mean
over 50 % and 100 % stands for the mean over 0-100 % (load grows with penetration and fewer steps are
reused, so this leans high; ``--penetrations all`` times every one). Core-hours / 1 h gives
the workers needed for one hour, assuming the 2-worker speed-up measured here holds per core.

Usage: .venv/bin/python benchmarks/bench_full_study.py [--population 2] [--days 7] [--penetrations all]

Cases of one feeder, seed and penetration run as one Dask task (they share solved steps: the
flow memo); with the default two penetrations the cut is 6 tasks, with ``all`` 33.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from smartcharge.study.cases import run_case
from smartcharge.study.config import load_study
from smartcharge.study.runner import prepare
from smartcharge.study.sweep import run_cases

FULL = Path(__file__).parents[1] / "studies" / "full.yaml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--population", type=int, default=2)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument(
        "--penetrations", default="0.5,1.0", help="comma-separated, or 'all' for the full study's 0-100 %%"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    full = load_study(FULL)
    n_full = len(prepare(full).cases)
    assert full.population is not None
    cut = full.model_copy(
        update={
            "days": args.days,
            "seeds": [1],
            "penetrations": full.penetrations
            if args.penetrations == "all"
            else [float(x) for x in args.penetrations.split(",")],
            "feeders": [f for f in full.feeders if f.key == "ieee_european_lv_1.02pu"],
            "population": full.population.model_copy(update={"count": args.population}),
            "second_peak": None,
            "cost": None,
        }
    )
    cases = prepare(cut).cases
    console = Console(width=150)
    console.print(f"load average before: {os.getloadavg()}")
    per_case: dict[str, list[float]] = {"ieee": [], "population": []}
    serial = []
    for case in cases:
        t0 = time.perf_counter()
        serial.append(run_case(case))
        per_case["ieee" if case.feeder_name == "ieee_european_lv" else "population"].append(
            time.perf_counter() - t0
        )
    walls = {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        results = run_cases(cases, workers=workers)
        walls[workers] = time.perf_counter() - t0
        same = all(
            np.array_equal(a.summary.u_min_v, b.summary.u_min_v) and np.array_equal(a.total_w, b.total_w)
            for a, b in zip(serial, results, strict=True)
        )
        console.print(f"{workers} worker(s): {walls[workers]:.0f} s wall, same numbers as in-process: {same}")
    console.print(f"load average after: {os.getloadavg()}")
    ieee_s = float(np.mean(per_case["ieee"]))
    pop_s = float(np.mean(per_case["population"]))
    runs = 7 * 5 * 11  # strategies x seeds x penetrations per feeder
    core_s = ((2 * ieee_s + 103 * pop_s) * runs + 15 * ieee_s) * 7 / args.days  # scaled to a week
    speedup = walls[1] / walls[2]
    table = Table(title=f"Full study from a cut of {len(cases)} cases x {args.days} days (1-minute steps)")
    for col in ("quantity", "value"):
        table.add_column(col)
    table.add_row("cases in the full study", f"{n_full:,}")
    table.add_row("IEEE feeder case, in-process (s, mean)", f"{ieee_s:.1f}")
    table.add_row("GB population case, in-process (s, mean)", f"{pop_s:.1f}")
    table.add_row("cut on 1 worker / 2 workers (s wall)", f"{walls[1]:.0f} / {walls[2]:.0f}")
    table.add_row("speed-up of the 2nd worker", f"{speedup:.2f}x")
    table.add_row("full study, core-hours (extrapolated)", f"{core_s / 3600:.1f}")
    table.add_row("full study on 1 worker (h)", f"{core_s / 3600:.1f}")
    table.add_row("full study on 2 workers here (h)", f"{core_s / 3600 / speedup:.1f}")
    table.add_row("workers for <= 1 h (at one free core each)", f"{int(np.ceil(core_s / 3600))}")
    console.print(table)


if __name__ == "__main__":
    main()
