"""The report of a study part-way through: written from the task groups a checkpoint holds, running
no case (issue 14 "Speed": the full study is 20-25 core-hours, run in pieces a checkpoint keeps).

A feeder's hosting capacity is the first failing penetration walked upwards over every seed, so a
feeder counts only when every one of its hosting groups is kept: one missing penetration or seed
would move its first breach. The second-peak and cost parts count when all their cases are kept.
The report opens with what it covers (:attr:`Coverage.text`), so an interim answer is never read
as the whole study's; a checkpoint that holds the whole study gives the full report, unmarked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from smartcharge.core.errors import ValidationError
from smartcharge.study.cases import CaseResult
from smartcharge.study.checkpoint import Checkpoint
from smartcharge.study.config import StudyConfig
from smartcharge.study.loads import LoadProvider, fleet_loads
from smartcharge.study.runner import PreparedStudy, charted_cases, network_rows, prepare, write_results
from smartcharge.study.sweep import case_groups, read_back


@dataclass(frozen=True, slots=True)
class Coverage:
    """What part of a study a checkpoint holds."""

    groups_kept: int
    groups_total: int
    named_feeders: tuple[str, ...]  # the study file's own feeders with every hosting group kept
    named_total: int
    drawn_feeders: int  # feeders of the GB population with every hosting group kept
    drawn_total: int
    parts: tuple[str, ...]  # "second_peak", "cost": the parts with every case kept
    parts_total: int

    @property
    def complete(self) -> bool:
        return self.groups_kept == self.groups_total

    def text(self) -> str:
        """One paragraph for the top of the report and the console; empty for a whole study."""
        if self.complete:
            return ""
        named = ", ".join(self.named_feeders) or "none"
        parts = ", ".join(self.parts) or "none"
        return (
            f"Interim report: the checkpoint holds {self.groups_kept} of {self.groups_total} task "
            f"groups. Hosting capacity covers the feeders whose every group is kept: "
            f"{len(self.named_feeders)} of the study's {self.named_total} named feeders ({named}) and "
            f"{self.drawn_feeders} of its {self.drawn_total} drawn GB feeders; the parts kept beside "
            f"hosting ({len(self.parts)} of {self.parts_total}): {parts}. Until the rest is run, "
            f"SQ-7 covers only these feeders, and an answer whose cases are not kept yet reads "
            f"'Not studied'; the population table describes every drawn feeder, run or not."
        )


def interim_results(
    prepared: PreparedStudy, checkpoint: Checkpoint
) -> tuple[PreparedStudy, list[CaseResult], Coverage]:
    """The study cut down to what ``checkpoint`` holds whole, its results, and the coverage."""
    stored, todo = read_back(prepared.cases, checkpoint, charted_cases(prepared))
    missing = [c for group, _ in todo for c in group]
    short_feeders = {c.feeder_key for c in missing if c.part == "hosting"}
    short_parts = {c.part for c in missing if c.part != "hosting"}
    config = prepared.config
    drawn = [f.key for f in config.population.feeders()] if config.population else []
    named = [f.key for f in config.feeders]
    feeders = [k for k in named + drawn if k not in short_feeders]
    parts = tuple(
        p
        for p in dict.fromkeys(c.part for c in prepared.cases if c.part != "hosting")
        if p not in short_parts
    )

    def counted(index: int) -> bool:
        r = stored[index]
        return r.case.part in parts or (r.case.part == "hosting" and r.case.feeder_key in feeders)

    results = [stored[c.index] for c in prepared.cases if c.index in stored and counted(c.index)]
    n_groups = len(case_groups(prepared.cases))
    coverage = Coverage(
        groups_kept=n_groups - len(todo),
        groups_total=n_groups,
        named_feeders=tuple(k for k in named if k in feeders),
        named_total=len(named),
        drawn_feeders=sum(k in feeders for k in drawn),
        drawn_total=len(drawn),
        parts=parts,
        parts_total=len({c.part for c in prepared.cases} - {"hosting"}),
    )
    cut = replace(
        prepared,
        networks={k: v for k, v in prepared.networks.items() if k in feeders},
        cases=[r.case for r in results],
    )
    return cut, results, coverage


def write_interim_report(
    config: StudyConfig, out_dir: Path, checkpoint: Checkpoint, provider: LoadProvider = fleet_loads
) -> tuple[Path, Coverage]:
    """Write the report from the groups ``checkpoint`` holds; raises when it holds no whole feeder."""
    prepared = prepare(config)
    cut, results, coverage = interim_results(prepared, checkpoint)
    if not cut.networks:
        raise ValidationError(
            "checkpoint",
            str(checkpoint.directory),
            f"holds no feeder of study {config.name} whole ({coverage.groups_kept} of "
            f"{coverage.groups_total} task groups kept, for this model fingerprint)",
        )
    path = write_results(cut, results, network_rows(cut, provider), out_dir, notice=coverage.text())
    return path, coverage


__all__ = ["Coverage", "interim_results", "write_interim_report"]
