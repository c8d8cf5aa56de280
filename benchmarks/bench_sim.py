"""Fleet simulator benchmark: vehicle-steps per second and peak memory (issue 4, Speed and memory).

Each case runs in its own process so that its peak resident memory is its own. ``wall s`` is
the run's elapsed time (``vehicle-steps/s`` uses it); ``cpu s`` is the process's user + system
CPU time, including start-up and imports, which is less sensitive to other jobs on the machine. Households are
one per EV (penetration 100 %) on feeders of 200 homes, 10 feeders per transformer, 1-minute
steps; per-feeder series are not written (a million EVs over a year would be ~10^10 rows), the
transformer series, per-EV table and summary are.

    python benchmarks/bench_sim.py                         # default grid below
    python benchmarks/bench_sim.py --evs 1000 10000 --days 7 --strategies uncontrolled smart
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FEEDER_HOMES = 200
FEEDERS_PER_TRANSFORMER = 10
#: The per-stay table (sessions.parquet, issue 14) is not written: at a million EVs over a year it
#: would hold ~150 M rows. Off for simulators older than that option (for ratio runs).
SESSIONS_OPTION = True


def scenario(n_evs: int, days: int, strategy: str) -> dict[str, Any]:
    n_feeders = max(1, n_evs // FEEDER_HOMES)
    feeders = [
        {"id": f"F{i}", "households": FEEDER_HOMES if n_evs >= FEEDER_HOMES else n_evs, "ev_penetration": 1.0}
        for i in range(n_feeders)
    ]
    transformers = [
        {
            "id": f"T{j}",
            "feeders": feeders[j : j + FEEDERS_PER_TRANSFORMER],
            **({"cap_kw": 0.8 * FEEDER_HOMES * FEEDERS_PER_TRANSFORMER * 1.5} if strategy == "smart" else {}),
        }
        for j in range(0, n_feeders, FEEDERS_PER_TRANSFORMER)
    ]
    config = {"max_delay_s": 600} if strategy == "tariff_window_delay" else {}
    return {
        "name": f"bench-{strategy}-{n_evs}-{days}d",
        "start": "2025-01-06T00:00:00Z",
        "days": days,
        "step_s": 60,
        "seed": 1,
        "tariff_id": "octopus_go",
        "strategy": strategy,
        "strategy_config": config,
        "transformers": transformers,
        "outputs": {
            "feeder_series": False,
            "csv": "never",
            "diversity_sample_evs": 2000,
            **({"sessions": False} if SESSIONS_OPTION else {}),
        },
    }


def run_case(n_evs: int, days: int, strategy: str) -> dict[str, Any]:
    from smartcharge.sim import run_scenario
    from smartcharge.sim.scenario import Outputs

    global SESSIONS_OPTION
    SESSIONS_OPTION = "sessions" in Outputs.model_fields

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        summary = run_scenario(scenario(n_evs, days, strategy), Path(out))
        wall = time.perf_counter() - start
    steps = days * 1440
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "strategy": strategy,
        "evs": summary["evs"],
        "days": days,
        "wall_s": wall,
        "vehicle_steps_per_s": summary["evs"] * steps / wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_gib": usage.ru_maxrss / 2**20,
        "unmet_share": summary["unmet_share"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evs", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--days", type=int, nargs="+", default=[7])
    parser.add_argument("--strategies", nargs="+", default=["tariff_window_delay"])
    parser.add_argument("--one", nargs=3, metavar=("EVS", "DAYS", "STRATEGY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_case(int(args.one[0]), int(args.one[1]), args.one[2])))
        return
    header = f"{'strategy':<20} {'EVs':>9} {'days':>5} {'wall s':>9} {'cpu s':>9} {'veh-steps/s':>13} "
    header += f"{'peak GiB':>9} {'unmet':>6}"
    print(header)
    print("-" * len(header))
    for strategy in args.strategies:
        for days in args.days:
            for n in args.evs:
                cmd = [sys.executable, __file__, "--one", str(n), str(days), strategy]
                done = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    print(f"{strategy:<20} {n:>9} {days:>5} failed: {done.stderr.strip().splitlines()[-1:]}")
                    continue
                r = json.loads(done.stdout.strip().splitlines()[-1])
                print(
                    f"{r['strategy']:<20} {r['evs']:>9,} {r['days']:>5} "
                    f"{r['wall_s']:>9.1f} {r['cpu_s']:>9.1f} "
                    f"{r['vehicle_steps_per_s']:>13.3g} {r['peak_rss_gib']:>9.2f} {r['unmet_share']:>6.1%}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
