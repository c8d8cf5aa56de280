"""Re-run a sample of a checkpoint's kept groups under the current source and compare the numbers.

    python benchmarks/checkpoint_recheck.py STUDY DIR FINGERPRINT [--seed N] [--groups N]

A model change that cannot alter a finished case (such as a fix for a case that crashed) still
changes the model fingerprint, and the kept groups are then not read back. This checks the claim
before the folder is renamed: each sampled group (one with a ``smart`` case, 30 % penetration or
less, so the sample stays quick) is run again and its stored arrays must be equal, bit for bit.
Prints one row per group and exits 1 if any differs.
"""

from __future__ import annotations

import argparse
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from smartcharge.study.checkpoint import Checkpoint, encode_group
from smartcharge.study.config import load_study
from smartcharge.study.runner import charted_cases, prepare
from smartcharge.study.sweep import case_groups, kept_flags, run_group


def _same(job: tuple[tuple, tuple, list, frozenset]) -> tuple[str, float, bool]:
    group, kept, held, keep = job
    fresh = encode_group(run_group(group, keep_series=keep), kept)
    stored = encode_group(held, kept)
    same = fresh.keys() == stored.keys() and all(np.array_equal(fresh[k], stored[k]) for k in fresh)
    return group[0].feeder_key, group[0].penetration, same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("directory", type=Path)
    parser.add_argument("fingerprint")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--groups", type=int, default=8)
    args = parser.parse_args()
    prepared = prepare(load_study(args.study))
    keep = charted_cases(prepared)
    held = Checkpoint(args.directory, args.fingerprint)
    candidates = [
        g
        for g in case_groups(prepared.cases)
        if g[0].penetration <= 0.3 and any(c.strategy_key == "smart" for c in g)
    ]
    random.Random(args.seed).shuffle(candidates)
    jobs = []
    for group in candidates:  # read only until the sample is full; each read is passed on, not repeated
        kept = kept_flags(group, keep)
        stored = held.load(group, kept)
        if stored is not None:
            jobs.append((group, kept, stored, keep))
        if len(jobs) == args.groups:
            break
    with ProcessPoolExecutor(2) as pool:
        rows = list(pool.map(_same, jobs))
    for feeder, penetration, same in rows:
        print(f"{feeder:28s} {penetration:4.0%}  {'identical' if same else 'DIFFERENT'}")
    return 0 if rows and all(same for *_, same in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
