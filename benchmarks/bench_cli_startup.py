"""Start-up time of the ``smartcharge`` command: wall time of whole commands, median of N runs.

Usage: ``.venv/bin/python benchmarks/bench_cli_startup.py [--python PY] [--runs 7]``. ``--python``
times another interpreter's install (e.g. an older checkout's venv) in the same run, so the two
can be compared on the same, shared machine. Commands that need files get them made in a temp dir.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _commands(tmp: Path) -> dict[str, list[str]]:
    db = f"sqlite:///{tmp / 'cem.db'}"
    return {
        "--help": ["--help"],
        "rules show": ["rules", "show"],
        "cem consent show (empty ledger)": ["cem", "consent", "show", "--storage-url", db],
        "sim run (refused: missing file)": ["sim", "run", str(tmp / "missing.yaml"), "--out", str(tmp / "o")],
    }


def _time(python: str, args: list[str], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([python, "-m", "smartcharge", *args], capture_output=True, check=False, timeout=300)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", action="append", default=[], help="another interpreter to time too")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    pythons = [sys.executable, *args.python]
    print(f"load average {os.getloadavg()[0]:.1f}; {args.runs} runs each; seconds (median / best)")
    with tempfile.TemporaryDirectory() as tmp_name:
        commands = _commands(Path(tmp_name))
        header = "| command | " + " | ".join(Path(p).parents[2].name or p for p in pythons) + " |"
        print(header)
        print("|---|" + "---:|" * len(pythons))
        for name, argv in commands.items():
            cells = []
            for python in pythons:
                median, best = _time(python, argv, args.runs)
                cells.append(f"{median:.2f} / {best:.2f}")
            print(f"| `smartcharge {name}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
