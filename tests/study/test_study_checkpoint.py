"""A study that stops goes on where it stopped (issue 14 "Speed": the full study is hours of
compute here). Finished task groups are kept on disk; a second run reads them back instead of
running them, with every number the same bit for bit; a changed model, a changed case or an
unreadable file runs the group again."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from smartcharge.study.cases import CaseResult, clear_flow_memos
from smartcharge.study.checkpoint import Checkpoint, model_fingerprint
from smartcharge.study.config import StudyConfig
from smartcharge.study.runner import prepare
from smartcharge.study.sweep import case_groups, run_cases

STRATEGIES: list[dict[str, Any]] = [
    {"label": "uncontrolled", "key": "uncontrolled", "tariffs": ["octopus_go"]},
    {
        "label": "delay",
        "key": "tariff_window_delay",
        "tariffs": ["octopus_go"],
        "config": {"max_delay_s": 600},
    },
    {"label": "network_aware", "key": "network_aware", "tariffs": ["octopus_go"]},
]


def _cases() -> list[Any]:
    config = StudyConfig.model_validate(
        {
            "name": "checkpoint",
            "start": "2025-01-14T12:00:00+00:00",
            "days": 1,
            "step_s": 600,
            "seeds": [1],
            "penetrations": [0.0, 0.6, 1.0],
            "workers": 0,
            "crosscheck_steps": 0,
            "feeders": [{"name": "radial", "params": {"n_households": 18, "n_branches": 2, "span_m": 60}}],
            "strategies": STRATEGIES,
        }
    )
    return prepare(config).cases


def _same(a: CaseResult, b: CaseResult) -> bool:
    for x, y in zip(a.numbers(), b.numbers(), strict=True):
        if isinstance(x, np.ndarray):
            if not np.array_equal(x, y, equal_nan=True):
                return False
        elif not (x == y or (x != x and y != y)):  # nan == nan here
            return False
    return a.series_kept == b.series_kept and a.n_households == b.n_households and a.n_ev == b.n_ev


def test_a_second_run_reads_every_group_back_with_the_same_numbers(tmp_path: Path) -> None:
    cases = _cases()
    keep = frozenset({cases[0].index, cases[-1].index})  # some groups keep series, some are slim
    first = Checkpoint(tmp_path)
    clear_flow_memos()
    ran = run_cases(cases, workers=0, keep_series=keep, checkpoint=first)
    groups = len(case_groups(cases))
    assert (first.loaded, first.saved) == (0, groups)

    again = Checkpoint(tmp_path)
    read = run_cases(cases, workers=0, keep_series=keep, checkpoint=again)
    assert (again.loaded, again.saved) == (groups, 0)
    assert [r.case for r in read] == cases
    assert all(_same(a, b) for a, b in zip(ran, read, strict=True))
    assert {r.series_kept for r in read} == {True, False}
    assert len({r.energy_delivered_kwh for r in ran}) > 3  # not vacuous: the cases differ


def test_a_case_moved_in_the_study_file_is_found_again_with_its_new_index(tmp_path: Path) -> None:
    cases = _cases()
    run_cases(cases, workers=0, checkpoint=Checkpoint(tmp_path))
    moved = [replace(c, index=c.index + 100) for c in reversed(cases)]
    again = Checkpoint(tmp_path)
    read = run_cases(moved, workers=0, checkpoint=again)
    assert again.saved == 0 and [r.case.index for r in read] == [c.index for c in moved]


def test_a_changed_case_or_model_runs_again(tmp_path: Path) -> None:
    cases = _cases()
    run_cases(cases, workers=0, checkpoint=Checkpoint(tmp_path))
    changed = [replace(c, step_s=900) if c.penetration == 1.0 else c for c in cases]
    again = Checkpoint(tmp_path)
    run_cases(changed, workers=0, checkpoint=again)
    assert (again.loaded, again.saved) == (2, 1)  # only the penetration-1.0 group ran

    other_model = Checkpoint(tmp_path, fingerprint="0" * 16)
    run_cases(cases, workers=0, checkpoint=other_model)
    assert (other_model.loaded, other_model.saved) == (0, 3)
    assert len(model_fingerprint()) == 16 and model_fingerprint() != "0" * 16


def test_an_unreadable_group_file_is_set_aside_and_run_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cases = _cases()
    run_cases(cases, workers=0, checkpoint=Checkpoint(tmp_path))
    victim = sorted((tmp_path / model_fingerprint()).glob("*.npz"))[0]
    victim.write_bytes(b"not a checkpoint")
    again = Checkpoint(tmp_path)
    with caplog.at_level(logging.WARNING, logger="smartcharge.study.checkpoint"):
        run_cases(cases, workers=0, checkpoint=again)
    assert (again.loaded, again.saved) == (2, 1)
    assert "unreadable" in caplog.text and victim.with_suffix(".unreadable").exists()
    assert victim.exists()  # written afresh by the run


def test_group_files_hold_no_pickles(tmp_path: Path) -> None:
    """A checkpoint from elsewhere is read with allow_pickle=False: it cannot run code."""
    run_cases(_cases(), workers=0, checkpoint=Checkpoint(tmp_path))
    for path in (tmp_path / model_fingerprint()).glob("*.npz"):
        with np.load(path, allow_pickle=False) as stored:
            assert all(stored[name].dtype != object for name in stored.files)


def test_the_model_is_the_code_a_case_runs_and_not_the_report() -> None:
    """The fingerprint covers every module a case's code imports, at any depth (function-level
    imports included); editing the report, the answers or the CLI keeps a checkpoint good."""
    from smartcharge.study.checkpoint import model_files

    names = {f"{p.parent.name}/{p.name}" for p in model_files()}
    for needed in ("study/cases.py", "study/network_aware.py", "policy/planner.py", "sim/engine.py"):
        assert needed in names, needed
    assert "grid/pgm.py" in names and "sim/stays.py" in names  # reached only through other modules
    for outside in ("study/report.py", "study/answers.py", "study/runner.py", "cli/study.py", "web/app.py"):
        assert outside not in names, outside


def test_screened_steps_come_back_as_they_went(tmp_path: Path) -> None:
    """Steps proven safe and not solved (``StepSummary.screened``) are kept per case, None or not."""
    cases = _cases()
    group = case_groups(cases)[1]
    results = run_cases(list(group), workers=0)
    steps = results[0].summary.u_min_v.size
    marked = replace(results[0].summary, screened=np.arange(steps) % 3 == 0)
    results[0] = replace(results[0], summary=marked)
    kept = [True] * len(results)
    Checkpoint(tmp_path).save(results, kept)
    read = Checkpoint(tmp_path).load(group, kept)
    assert read is not None
    assert np.array_equal(read[0].summary.screened, marked.screened)
    assert all(r.summary.screened is None for r in read[1:])
    assert all(_same(a, b) for a, b in zip(results, read, strict=True))
