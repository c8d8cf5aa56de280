"""A year of one-minute asymmetric power flows on the IEEE European LV feeder (issue 5 speed target).

Target: 525,600 asymmetric power flows in <= 5 minutes on this machine. The household loads come
from the fleet simulator (55 households, 60 % EVs, Octopus Go window with a 600 s randomised
delay), generated in four-week pieces; their time is reported separately.

Rows:
- full 907-bus feeder, Newton-Raphson, a sample of steps, extrapolated to the year (the plain way);
- the same with the iterative-current method (one factorisation reused across steps);
- the exactly reduced feeder with each method, a sample, extrapolated;
- the exactly reduced feeder, iterative current, two threads, the whole year actually run (the
  target row);
- the largest difference between the plain run and the fast one on the sample (must be ~0).

With ``--screen`` the year is also run with screening (grid/screening.py), on the data's source
voltage and on a source lowered to 1.00 pu (the screen's rise bound has more room there).

Usage: .venv/bin/python benchmarks/bench_powerflow.py [--days 365] [--sample-steps 2880] [--screen]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from rich.console import Console
from rich.table import Table

from smartcharge.grid.feeders import get_feeder
from smartcharge.grid.limits import GridLimits
from smartcharge.grid.timeseries import FeederSolver, customer_loads
from smartcharge.study.loads import LoadRequest, fleet_loads, reactive_var

STEPS_PER_YEAR = 525_600


def year_loads(n_households: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    p_parts, q_parts = [], []
    start = datetime(2025, 1, 6, tzinfo=UTC)
    done = 0
    while done < days:
        piece = min(28, days - done)
        loads = fleet_loads(
            LoadRequest(
                n_households=n_households,
                ev_penetration=0.6,
                strategy="tariff_window_delay",
                strategy_config={"max_delay_s": 600},
                tariff_id="octopus_go",
                start=start + timedelta(days=done),
                days=piece,
                step_s=60,
                seed=done + 1,
            )
        )
        p_parts.append(customer_loads(loads.base_w + loads.ev_w, n_households))
        q_parts.append(customer_loads(reactive_var(loads.base_w, loads.ev_w), n_households))
        done += piece
    return np.concatenate(p_parts), np.concatenate(q_parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--sample-steps", type=int, default=2880)
    parser.add_argument("--screen", action="store_true", help="also run the year with screening")
    args = parser.parse_args()
    net = get_feeder("ieee_european_lv")
    t0 = time.perf_counter()
    p, q = year_loads(net.n_load, args.days)
    load_s = time.perf_counter() - t0
    steps = p.shape[0]
    sample = slice(0, min(args.sample_steps, steps))
    n_sample = sample.stop
    table = Table(title=f"IEEE European LV feeder, {steps:,} one-minute asymmetric steps")
    for col in ("run", "buses", "threads", "steps run", "ms/step", "year (min)"):
        table.add_column(col, justify="right")

    full_sum = None
    for label, reduce, threads, method in (
        ("full feeder, Newton-Raphson (plain)", False, 2, "newton_raphson"),
        ("full feeder, iterative current", False, 2, "iterative_current"),
        ("reduced, Newton-Raphson", True, 2, "newton_raphson"),
        ("reduced, iterative current", True, 1, "iterative_current"),
    ):
        solver = FeederSolver(net, reduce=reduce, threads=threads, method=method)
        t0 = time.perf_counter()
        summary = solver.solve(p[sample], q[sample])
        per = (time.perf_counter() - t0) / n_sample
        full_sum = summary if full_sum is None else full_sum
        table.add_row(
            f"{label} (sample)",
            str(solver.network.n_bus),
            str(threads),
            f"{n_sample:,}",
            f"{per * 1e3:.3f}",
            f"{per * STEPS_PER_YEAR / 60:.1f} (extrapolated)",
        )
    assert full_sum is not None

    two = FeederSolver(net, threads=2)
    t0 = time.perf_counter()
    year = two.solve(p, q, chunk_steps=10_080)
    wall = time.perf_counter() - t0
    table.add_row(
        "reduced, iterative current (all steps)",
        str(two.network.n_bus),
        "2",
        f"{steps:,}",
        f"{wall / steps * 1e3:.3f}",
        f"{wall / 60:.2f} (measured)",
    )
    if args.screen:
        for label, feeder in (
            ("screened, source 1.05 pu (data)", net),
            ("screened, source 1.00 pu", get_feeder("ieee_european_lv", u_ref_pu=1.0)),
        ):
            solver = FeederSolver(feeder, threads=2)
            screen = solver.screen(GridLimits())
            t0 = time.perf_counter()
            screened = solver.solve(p, q, chunk_steps=10_080, screen=screen)
            wall = time.perf_counter() - t0
            share = float(np.mean(screened.screened)) if screened.screened is not None else 0.0
            table.add_row(
                f"reduced, iterative current, {label} (all steps, {share:.0%} screened)",
                str(solver.network.n_bus),
                "2",
                f"{steps:,}",
                f"{wall / steps * 1e3:.3f}",
                f"{wall / 60:.2f} (measured)",
            )
    console = Console(width=150)
    console.print(table)
    gaps = {
        name: float(np.abs(getattr(year, name)[sample] - getattr(full_sum, name)).max())
        for name in ("u_min_v", "u_max_v", "line_loading_pu", "trafo_loading_pu")
    }
    console.print(f"household loads from the fleet simulator: {load_s:.1f} s for {args.days} days")
    console.print(f"largest full-vs-reduced gap on the sample: {gaps}")
    breaches = (
        (year.u_min_v < 216.2)
        | (year.u_max_v > 253.0)
        | (year.line_loading_pu > 1)
        | (year.trafo_loading_pu > 1)
    )
    console.print(
        f"steps breaching a limit: {int(breaches.sum()):,} of {steps:,}; lowest customer voltage "
        f"{year.u_min_v.min():.1f} V, highest {year.u_max_v.max():.1f} V"
    )


if __name__ == "__main__":
    main()
