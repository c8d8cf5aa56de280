"""CPU and wall time of chosen task groups of a study, one by one in this process (issue 14 "Speed").

A task group is what one Dask task of ``smartcharge study run`` runs: every strategy of one
feeder, seed and penetration (``study.sweep.case_groups``, numbered in the order the study
submits them). The end-to-end run of ``studies/full.yaml`` showed that a few groups (the larger
drawn feeders at high penetration) cost a hundred times the average; this times exactly those,
cold (a fresh process, no flow memo from earlier groups), case by case, so a change to the
planner or the power flow can be judged on the groups that decide the study's wall time.

Usage: .venv/bin/python benchmarks/bench_study_groups.py studies/full.yaml --groups 556,778,779
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from smartcharge.study.cases import run_case
from smartcharge.study.config import load_study
from smartcharge.study.loads import fleet_loads
from smartcharge.study.runner import prepare
from smartcharge.study.sweep import case_groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("--groups", required=True, help="comma-separated group numbers, e.g. 556,779")
    args = parser.parse_args()
    groups = case_groups(prepare(load_study(args.study)).cases)
    table = Table(title=f"task groups of {args.study.name} ({len(groups)} groups), in process, cold")
    for col in ("group", "feeder", "homes", "penetration", "seed", "strategy", "CPU s", "wall s"):
        table.add_column(col)
    for number in (int(g) for g in args.groups.split(",")):
        for case in groups[number]:
            cpu, wall = time.process_time(), time.perf_counter()
            result = run_case(case, fleet_loads)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            table.add_row(
                str(number),
                case.feeder_key,
                str(result.n_households),
                f"{case.penetration:.0%}",
                str(case.seed),
                case.strategy_label,
                f"{cpu:.1f}",
                f"{wall:.1f}",
            )
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
