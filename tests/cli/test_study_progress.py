"""``study run`` shows progress when its output is not a terminal (a log file under nohup, CI).

A rich bar draws nothing there until the run ends, so a two-hour study printed no sign of life
(found running ``studies/full.yaml`` with its output sent to a file)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from smartcharge.cli import study


def test_line_progress_prints_at_most_once_a_minute_and_always_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = iter([0.0, 10.0, 70.0, 75.0, 80.0])  # start, then one reading per call
    monkeypatch.setattr(study.time, "monotonic", lambda: next(clock))
    out = io.StringIO()
    tick = study._LineProgress(Console(file=out, width=200), "full", every_s=60.0)
    tick(10, 100)  # 10 s in: too soon
    tick(20, 100)  # 70 s in: shown, with what is left at the same pace
    tick(30, 100)  # 75 s in: too soon
    tick(100, 100)  # the end: always shown
    lines = out.getvalue().splitlines()
    assert lines == [
        "study full: 20/100 cases (20 %), 1.2 min, about 5 min left",
        "study full: 100/100 cases (100 %), 1.3 min",
    ]


def test_a_terminal_gets_the_bar_and_a_file_gets_lines() -> None:
    display, tick = study._progress(Console(file=io.StringIO()), "quick")
    assert isinstance(tick, study._LineProgress)
    display, tick = study._progress(Console(file=io.StringIO(), force_terminal=True), "quick")
    assert not isinstance(tick, study._LineProgress) and hasattr(display, "__enter__")


def test_cases_read_back_from_a_checkpoint_do_not_count_in_the_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Half the study read back at once, then 100 cases run in 70 s: 400 left take about 5 min
    (counting the 500 read back would say under 1 min)."""
    clock = iter([0.0, 0.5, 70.0])
    monkeypatch.setattr(study.time, "monotonic", lambda: next(clock))
    out = io.StringIO()
    tick = study._LineProgress(Console(file=out, width=200), "full", every_s=60.0, read_back=lambda: 500)
    tick(500, 1000)  # the read-back groups, at once: too soon to show
    tick(600, 1000)
    assert out.getvalue().splitlines() == ["study full: 600/1000 cases (60 %), 1.2 min, about 5 min left"]
