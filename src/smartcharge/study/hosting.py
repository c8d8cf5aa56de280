"""Hosting capacity: how many charge points a feeder takes, per strategy, before it needs intervention.

A penetration is *hosted* only if every limit holds at every step **and** the cars get their energy:
at least ``min_energy_served`` (99 % by default, settable in the study file) of the energy asked
by departure is delivered (issue 14 item 6). ``basis: deliverable`` measures it against what the
stays could take at full charger power instead (a stay too short for its charger fails every
strategy alike, which the simulator before per-car behaviour made common). A cap that holds the
network by leaving the cars uncharged does not count as hosting them. Both numbers are reported:
the capacity on the network's limits alone (``grid_only_evs``) and with service quality
(``hosting_evs``).

For each feeder, strategy and seed the penetrations are walked upwards; the first penetration that
fails either test is recorded with what failed (the limit breached first in time, or "energy not
delivered"). The capacity is the number of EVs at the last penetration below it (report 7.19,
SQ-7); "at least" (``censored``) when nothing failed up to the highest penetration studied.
Across seeds (issue 14 item 7: at least five) the study reports the median and the interval
(smallest to largest over the seeds; the smallest is the planner's figure).

Tightening a limit can only add breaches, so the capacity never rises when a limit is tightened;
nor when the service threshold is raised.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from smartcharge.grid.limits import GridLimits, LimitKind, first_breach
from smartcharge.study.cases import CaseResult

SERVICE_FAIL = "energy not delivered"
DEFAULT_MIN_ENERGY_SERVED = 0.99


@dataclass(frozen=True, slots=True)
class SeedHosting:
    feeder: str
    strategy: str
    seed: int
    hosting_evs: int  # limits and service quality
    hosting_penetration: float
    first_breach_penetration: float | None  # first failing either test
    first_limit: LimitKind | None  # the limit, when a limit failed first; None for service
    n_households: int
    grid_only_evs: int = 0  # the network's limits alone
    grid_only_censored: bool = False
    first_failure: str = ""  # the limit's name or SERVICE_FAIL; "" when none
    served_share_at_capacity: float = 1.0  # energy delivered / asked at the hosted penetration

    @property
    def censored(self) -> bool:
        return self.first_breach_penetration is None


@dataclass(frozen=True, slots=True)
class HostingCapacity:
    """Across seeds: the median and the interval (min..max), and what failed most often."""

    feeder: str
    strategy: str
    min_evs: int
    median_evs: float
    n_households: int
    binding_limit: str
    censored: bool
    seeds: tuple[SeedHosting, ...]
    max_evs: int = 0
    grid_only_min_evs: int = 0
    grid_only_median_evs: float = 0.0
    grid_only_max_evs: int = 0
    grid_only_censored: bool = False


def seed_hosting(
    results: list[CaseResult],
    limits: GridLimits,
    min_energy_served: float = DEFAULT_MIN_ENERGY_SERVED,
    basis: str = "asked",
) -> list[SeedHosting]:
    """Per feeder, strategy and seed: the first failing penetration and the capacity below it."""
    groups: dict[tuple[str, str, int], list[CaseResult]] = defaultdict(list)
    for r in results:
        if r.case.part == "hosting":
            groups[(r.case.feeder_key, r.case.strategy_label, r.case.seed)].append(r)
    out = []
    for (feeder, strategy, seed), runs in sorted(groups.items()):
        runs.sort(key=lambda r: r.case.penetration)
        hosting_evs, hosting_pen, served = 0, 0.0, 1.0
        breach_pen: float | None = None
        kind: LimitKind | None = None
        failure = ""
        for r in runs:
            kind = first_breach(r.summary, limits)
            if kind is not None or r.served_share(basis) < min_energy_served:
                breach_pen = r.case.penetration
                failure = kind.value if kind is not None else SERVICE_FAIL
                break
            hosting_evs, hosting_pen, served = r.n_ev, r.case.penetration, r.served_share(basis)
        grid_evs, grid_censored = 0, True
        for r in runs:
            if first_breach(r.summary, limits) is not None:
                grid_censored = False
                break
            grid_evs = r.n_ev
        out.append(
            SeedHosting(
                feeder,
                strategy,
                seed,
                hosting_evs,
                hosting_pen,
                breach_pen,
                kind,
                runs[0].n_households,
                grid_only_evs=grid_evs,
                grid_only_censored=grid_censored,
                first_failure=failure,
                served_share_at_capacity=served,
            )
        )
    return out


def hosting_capacity(
    results: list[CaseResult],
    limits: GridLimits,
    min_energy_served: float = DEFAULT_MIN_ENERGY_SERVED,
    basis: str = "asked",
) -> list[HostingCapacity]:
    """Hosting capacity per feeder and strategy, over the seeds."""
    groups: dict[tuple[str, str], list[SeedHosting]] = defaultdict(list)
    for s in seed_hosting(results, limits, min_energy_served, basis):
        groups[(s.feeder, s.strategy)].append(s)
    out = []
    for (feeder, strategy), seeds in groups.items():
        evs = np.array([s.hosting_evs for s in seeds])
        grid = np.array([s.grid_only_evs for s in seeds])
        kinds = Counter(s.first_failure for s in seeds if s.first_failure)
        out.append(
            HostingCapacity(
                feeder=feeder,
                strategy=strategy,
                min_evs=int(evs.min()),
                median_evs=float(np.median(evs)),
                n_households=seeds[0].n_households,
                binding_limit=kinds.most_common(1)[0][0] if kinds else "none reached",
                censored=all(s.censored for s in seeds),
                seeds=tuple(seeds),
                max_evs=int(evs.max()),
                grid_only_min_evs=int(grid.min()),
                grid_only_median_evs=float(np.median(grid)),
                grid_only_max_evs=int(grid.max()),
                grid_only_censored=all(s.grid_only_censored for s in seeds),
            )
        )
    return out


def same_cell(h: HostingCapacity, rows: Sequence[HostingCapacity]) -> HostingCapacity | None:
    """The row of ``rows`` for the feeder and strategy of ``h`` (the same runs judged on another
    service basis), or None when that pair was not judged there."""
    return next((r for r in rows if (r.feeder, r.strategy) == (h.feeder, h.strategy)), None)


@dataclass(frozen=True, slots=True)
class InterventionShare:
    """Share of feeders that need intervention at one penetration under one strategy.

    A feeder needs intervention when a limit is breached or the cars do not get their energy.
    ``share`` is over every feeder and seed; ``low``..``high`` the range of the per-seed shares.
    """

    strategy: str
    penetration: float
    share: float
    low: float
    high: float
    n_feeders: int
    n_seeds: int


def intervention_shares(
    results: list[CaseResult],
    limits: GridLimits,
    min_energy_served: float = DEFAULT_MIN_ENERGY_SERVED,
    feeders: set[str] | None = None,
    basis: str = "asked",
) -> list[InterventionShare]:
    """Per strategy and penetration: what share of (the given) feeders fail either test (item 8)."""
    cells: dict[tuple[str, float], dict[int, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        if r.case.part != "hosting" or (feeders is not None and r.case.feeder_key not in feeders):
            continue
        fails = first_breach(r.summary, limits) is not None or r.served_share(basis) < min_energy_served
        cells[(r.case.strategy_label, r.case.penetration)][r.case.seed].append(fails)
    out = []
    for (strategy, pen), by_seed in sorted(cells.items()):
        per_seed = np.array([np.mean(v) for v in by_seed.values()])
        every = np.concatenate([np.asarray(v, dtype=float) for v in by_seed.values()])
        out.append(
            InterventionShare(
                strategy=strategy,
                penetration=pen,
                share=float(every.mean()),
                low=float(per_seed.min()),
                high=float(per_seed.max()),
                n_feeders=len(next(iter(by_seed.values()))),
                n_seeds=len(by_seed),
            )
        )
    return out


__all__ = [
    "DEFAULT_MIN_ENERGY_SERVED",
    "SERVICE_FAIL",
    "HostingCapacity",
    "InterventionShare",
    "SeedHosting",
    "hosting_capacity",
    "intervention_shares",
    "same_cell",
    "seed_hosting",
]
