"""Time each policy function over 1,000,000 charge points in one call (foundation issue target: <= 50 ms).

Run:  .venv/bin/python benchmarks/bench_policy.py [--n 1000000] [--repeat 5]

Prints the best of ``--repeat`` runs per function (numpy runs these kernels on one core).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from smartcharge.core.localtime import local_fields
from smartcharge.core.tariff import get_tariff
from smartcharge.policy.arbitration import allocate_tree, arbitrate_layers, hard_envelope_w
from smartcharge.policy.charge_point import ChargePointState, StepInputs, step_charge_points
from smartcharge.policy.default_hours import (
    DefaultHoursState,
    ScheduleTable,
    is_charging_allowed,
    minutes_until_allowed,
)
from smartcharge.policy.modes import is_dsr_event_live, select_mode
from smartcharge.policy.offers import flexibility_offers
from smartcharge.policy.random_delay import RandomDelayState, delay_s_from_uniform, step_random_delay


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm caches and lazily built tables
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, rng = args.n, np.random.default_rng(1)

    now = 1_736_150_400 + rng.integers(0, 365 * 86_400, n)
    minute = local_fields(now).minute_of_week
    table = ScheduleTable.gb_default()
    hours = DefaultHoursState.shipped(n)
    delay = RandomDelayState.initial(n)
    requested = rng.choice([0.0, 3700.0, 7400.0], n)
    uniform = rng.random(n)
    exempt = rng.random(n) < 0.1
    limits = np.where(rng.random((n, 6)) < 0.5, np.inf, rng.uniform(0, 22_000, (n, 6)))
    override = rng.random(n) < 0.05
    circuits = 1000
    leaf_node = 1 + rng.integers(0, circuits, n)
    parent = np.concatenate([[-1], np.zeros(circuits, dtype=np.int64)])
    node_limit = np.concatenate([[n * 2000.0], np.full(circuits, n / circuits * 3000.0)])
    node_source = np.concatenate([[2], np.ones(circuits, dtype=np.int64)])
    leaf_source = np.ones(n, dtype=np.int64)
    comms = rng.random(n) < 0.99
    ev_start, ev_end = now - 100, now + rng.integers(-200, 200, n)
    go = get_tariff("octopus_go")
    state = ChargePointState(hours, delay)
    inputs = StepInputs(limits, override, exempt, np.zeros(n, bool), np.zeros(n, bool))
    plug = now
    leave = now + rng.integers(3600, 14 * 3600, n)
    energy = rng.uniform(2, 40, n)
    power = rng.choice([3700.0, 7400.0], n)

    cases: list[tuple[str, Callable[[], object]]] = [
        ("core.local_fields", lambda: local_fields(now)),
        ("core.Tariff.price_p_per_kwh", lambda: go.price_p_per_kwh(now)),
        ("default_hours.is_charging_allowed", lambda: is_charging_allowed(hours, table, minute, now)),
        ("default_hours.minutes_until_allowed", lambda: minutes_until_allowed(hours, table, minute)),
        ("random_delay.delay_s_from_uniform", lambda: delay_s_from_uniform(uniform, delay.max_delay_s)),
        ("random_delay.step_random_delay", lambda: step_random_delay(delay, requested, now, uniform, exempt)),
        ("arbitration.arbitrate_layers", lambda: arbitrate_layers(limits, override)),
        ("arbitration.hard_envelope_w", lambda: hard_envelope_w(limits, override)),
        (
            "arbitration.allocate_tree (1k circuits)",
            lambda: allocate_tree(requested, leaf_node, parent, node_limit, node_source, leaf_source),
        ),
        ("modes.select_mode", lambda: select_mode(comms, override, exempt, exempt)),
        ("modes.is_dsr_event_live", lambda: is_dsr_event_live(ev_start, ev_end, now)),
        (
            "offers.flexibility_offers (1 step)",
            lambda: flexibility_offers(plug, leave, energy, power, plug, 1_736_150_400, 365 * 86_400, 1),
        ),
        (
            "offers.flexibility_offers (48 steps)",
            lambda: flexibility_offers(plug, leave, energy, power, plug, 1_736_150_400, 1800, 48),
        ),
        (
            "charge_point.step_charge_points",
            lambda: step_charge_points(state, table, inputs, minute, now, uniform),
        ),
    ]
    print(f"{'function':<44} {'N':>10} {'best ms':>9} {'ns/cp':>7}")
    for name, fn in cases:
        ms = best_ms(fn, args.repeat)
        print(f"{name:<44} {n:>10,} {ms:>9.1f} {ms * 1e6 / n:>7.1f}")


if __name__ == "__main__":
    main()
