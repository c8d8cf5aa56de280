"""Hosting capacity: how many charge points a feeder takes, per strategy, before a limit is breached.

For each feeder, strategy and seed the penetrations are walked upwards; the first penetration at
which any step breaches any limit is recorded with the limit breached first in time. The hosting
capacity is the number of EVs at the last penetration below it (report 7.19, SQ-7). If nothing
is breached up to the highest penetration studied, the capacity is "at least" that many
(``censored``). Across seeds the study reports the smallest capacity (the planner's figure) and
the median.

Tightening a limit can only add breaches, so the capacity never rises when a limit is tightened.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from smartcharge.grid.limits import GridLimits, LimitKind, first_breach
from smartcharge.study.cases import CaseResult


@dataclass(frozen=True, slots=True)
class SeedHosting:
    feeder: str
    strategy: str
    seed: int
    hosting_evs: int
    hosting_penetration: float
    first_breach_penetration: float | None
    first_limit: LimitKind | None
    n_households: int

    @property
    def censored(self) -> bool:
        return self.first_breach_penetration is None


@dataclass(frozen=True, slots=True)
class HostingCapacity:
    """Across seeds: the smallest and the median capacity, and the limit that bound most often."""

    feeder: str
    strategy: str
    min_evs: int
    median_evs: float
    n_households: int
    binding_limit: str
    censored: bool
    seeds: tuple[SeedHosting, ...]


def seed_hosting(results: list[CaseResult], limits: GridLimits) -> list[SeedHosting]:
    """Per feeder, strategy and seed: the first breaching penetration and the capacity below it."""
    groups: dict[tuple[str, str, int], list[CaseResult]] = defaultdict(list)
    for r in results:
        if r.case.part == "hosting":
            groups[(r.case.feeder_key, r.case.strategy_label, r.case.seed)].append(r)
    out = []
    for (feeder, strategy, seed), runs in sorted(groups.items()):
        runs.sort(key=lambda r: r.case.penetration)
        hosting_evs, hosting_pen = 0, 0.0
        breach_pen: float | None = None
        kind: LimitKind | None = None
        for r in runs:
            kind = first_breach(r.summary, limits)
            if kind is not None:
                breach_pen = r.case.penetration
                break
            hosting_evs, hosting_pen = r.n_ev, r.case.penetration
        out.append(
            SeedHosting(
                feeder, strategy, seed, hosting_evs, hosting_pen, breach_pen, kind, runs[0].n_households
            )
        )
    return out


def hosting_capacity(results: list[CaseResult], limits: GridLimits) -> list[HostingCapacity]:
    """Hosting capacity per feeder and strategy, over the seeds."""
    groups: dict[tuple[str, str], list[SeedHosting]] = defaultdict(list)
    for s in seed_hosting(results, limits):
        groups[(s.feeder, s.strategy)].append(s)
    out = []
    for (feeder, strategy), seeds in groups.items():
        evs = np.array([s.hosting_evs for s in seeds])
        kinds = Counter(s.first_limit.value for s in seeds if s.first_limit is not None)
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
            )
        )
    return out


__all__ = ["HostingCapacity", "SeedHosting", "hosting_capacity", "seed_hosting"]
