"""Wall time per feeder of a study run, read from the times its checkpoint files were written.

Groups are submitted in feeder order, so a feeder's wall time is the span from the last file
written before its first group to its last group's file (two workers overlap the edges by at most
one group each). Reads only the files' names and times; runs nothing.

    python benchmarks/checkpoint_times.py studies/full.yaml studies/checkpoints/full
"""

from __future__ import annotations

import sys
from pathlib import Path

from smartcharge.study.checkpoint import Checkpoint, group_key
from smartcharge.study.config import load_study
from smartcharge.study.runner import charted_cases, prepare
from smartcharge.study.sweep import case_groups, kept_flags


def feeder_times(study: Path, directory: Path) -> list[tuple[str, int, int, int, float]]:
    """Per feeder in run order: (feeder, homes, groups kept, groups in the study, wall s)."""
    prepared = prepare(load_study(study))
    folder = Checkpoint(directory).directory
    charted = charted_cases(prepared)
    written: dict[str, list[float]] = {}
    total: dict[str, int] = {}
    for group in case_groups(prepared.cases):
        feeder = group[0].feeder_key
        total[feeder] = total.get(feeder, 0) + 1
        path = folder / f"{group_key(group, kept_flags(group, charted))}.npz"
        if path.exists():
            written.setdefault(feeder, []).append(path.stat().st_mtime)
    rows, previous = [], None
    for feeder, times in sorted(written.items(), key=lambda item: min(item[1])):
        start = previous if previous is not None else min(times)
        homes = prepared.networks[feeder].n_load
        rows.append((feeder, homes, len(times), total[feeder], max(times) - start))
        previous = max(times)
    return rows


def main() -> None:
    study, directory = Path(sys.argv[1]), Path(sys.argv[2])
    print("| feeder (homes) | groups kept | wall s |\n|---|---:|---:|")
    for feeder, homes, kept, total, wall_s in feeder_times(study, directory):
        print(f"| {feeder} ({homes}) | {kept} of {total} | {wall_s:,.0f} |")


if __name__ == "__main__":
    main()
