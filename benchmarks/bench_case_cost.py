"""CPU seconds per study case with and without the flow memo, back to back (issue 14 "Speed").

The cut of studies/full.yaml that ``bench_full_study.py`` times (the IEEE feeder at 1.02 pu and
``--population`` GB feeders, every strategy incl. ``network_aware``, one seed), here over every
penetration of the full study (0-100 %), in process. The cases run in the sweep's task groups
(one feeder, seed and penetration: the strategies of one fleet); each group runs three ways,
one after the other, so the machine's load touches all three alike:

- ``off``: every step of every case solved (the code before the memo);
- ``task``: the memo as a Dask task sees it when no other task of its feeder and seed ran on
  its worker (memos cleared at the start of each group: the case of many workers);
- ``worker``: the memo kept across groups, as one worker running the groups in order sees it.

Every case's numbers must be identical three ways (checked). The extrapolation is the one of
``bench_full_study.py``: the IEEE mean for its two variants and the 15 extra cases, the
population mean for the other 103 feeders, x 385 cases per feeder (7 strategies x 5 seeds x 11
penetrations), scaled to a week.

Usage: .venv/bin/python benchmarks/bench_case_cost.py [--population 2] [--days 7]
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from smartcharge.study import cases as case_module
from smartcharge.study.cases import _solver, clear_flow_memos, run_case
from smartcharge.study.config import load_study
from smartcharge.study.runner import prepare
from smartcharge.study.sweep import case_groups

FULL = Path(__file__).parents[1] / "studies" / "full.yaml"
MODES = ("off", "task", "worker")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--population", type=int, default=2)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    full = load_study(FULL)
    assert full.population is not None
    cut = full.model_copy(
        update={
            "days": args.days,
            "seeds": [1],
            "feeders": [f for f in full.feeders if f.key == "ieee_european_lv_1.02pu"],
            "population": full.population.model_copy(update={"count": args.population}),
            "second_peak": None,
            "cost": None,
        }
    )
    cases = prepare(cut).cases
    for case in cases:  # feeder models are built once per worker; not a per-case cost
        _solver(case.feeder_name, case.feeder_params)
    console = Console(width=150)
    console.print(f"{len(cases)} cases x {args.days} days; load average before: {os.getloadavg()}")
    cpu: dict[str, dict[str, list[float]]] = {m: {"ieee": [], "population": []} for m in MODES}
    aware: dict[str, dict[str, list[float]]] = {m: {"ieee": [], "population": []} for m in MODES}
    kept_memos: Any = None
    same = True
    for group in case_groups(cases):
        first: list[list[Any]] = []
        for mode in MODES:
            if mode == "task":
                kept_memos = case_module._memos.copy()
                clear_flow_memos()
            if mode == "worker":
                case_module._memos.clear()
                case_module._memos.update(kept_memos)
            for k, case in enumerate(group):
                t0 = time.process_time()
                result = run_case(case, reuse=mode != "off")
                kind = "ieee" if case.feeder_name == "ieee_european_lv" else "population"
                spent = time.process_time() - t0
                cpu[mode][kind].append(spent)
                if case.strategy_key == "network_aware":
                    aware[mode][kind].append(spent)
                got = result.numbers()
                if mode == "off":
                    first.append(got)
                else:
                    same &= all(
                        np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
                        for x, y in zip(first[k], got, strict=True)
                    )
    console.print(f"load average after: {os.getloadavg()}; identical numbers in all three: {same}")
    table = Table(title=f"CPU s per case ({args.days} days at 1 min, penetrations 0-100 %)")
    for col in ("quantity", *MODES):
        table.add_column(col)
    week = 7 / args.days
    runs = 7 * 5 * 11
    hours = {}
    for mode in MODES:
        ieee_s, pop_s = (float(np.mean(cpu[mode][k])) for k in ("ieee", "population"))
        hours[mode] = ((2 * ieee_s + 103 * pop_s) * runs + 15 * ieee_s) * week / 3600
    for kind in ("ieee", "population"):
        table.add_row(f"{kind} case, mean", *(f"{np.mean(cpu[m][kind]):.3f}" for m in MODES))
        table.add_row(f"{kind} network_aware case, mean", *(f"{np.mean(aware[m][kind]):.3f}" for m in MODES))
    table.add_row("full study, core-hours", *(f"{hours[m]:.1f}" for m in MODES))
    table.add_row("cores for <= 1 h", *(f"{int(np.ceil(hours[m]))}" for m in MODES))
    console.print(table)


if __name__ == "__main__":
    main()
