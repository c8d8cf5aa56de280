"""The report of a study part-way through, from its checkpoint (issue 14 "Speed": the full study
is 20-25 core-hours here, run in pieces). A feeder counts only when all its groups are kept, the
report says at its top what it covers, and once every group is kept the same command gives the
whole study's tables unchanged.

The sweep machinery is under test here, so the cars are the seeded stand-in (``synthetic``); the
power flow, the checkpoint files and the report are the real ones.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from synthetic import synthetic_loads
from typer.testing import CliRunner

from browser import render_offline
from smartcharge.cli.main import app
from smartcharge.core.errors import ValidationError
from smartcharge.study.checkpoint import Checkpoint
from smartcharge.study.config import StudyConfig
from smartcharge.study.interim import write_interim_report
from smartcharge.study.runner import charted_cases, prepare, run_study
from smartcharge.study.sweep import case_groups, run_cases


def _config(tiny_study: dict[str, Any]) -> StudyConfig:
    study = dict(tiny_study)
    study["feeders"] = [
        *tiny_study["feeders"],  # type: ignore[misc]
        {
            "name": "radial",
            "label": "radial_b",
            "params": {"n_households": 12, "n_branches": 1, "span_m": 40},
        },
    ]
    study["population"] = {"count": 2, "seed": 1}
    study["crosscheck_steps"] = 0
    return StudyConfig.model_validate(study)


def _rows(out: Path, table: str) -> list[dict[str, str]]:
    with (out / f"{table}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _run_part(config: StudyConfig, checkpoint_dir: Path) -> tuple[int, str]:
    """Run every group of feeder ``radial`` and of the first drawn feeder, and one of ``radial_b``."""
    prepared = prepare(config)
    drawn = config.population.feeders()[0].key  # type: ignore[union-attr]
    groups = case_groups(prepared.cases)
    chosen = [g for g in groups if g[0].feeder_key in ("radial", drawn)]
    chosen.append(next(g for g in groups if g[0].feeder_key == "radial_b"))
    cases = [c for g in chosen for c in g]
    run_cases(
        cases,
        workers=0,
        provider=synthetic_loads,
        keep_series=charted_cases(prepared),
        checkpoint=Checkpoint(checkpoint_dir),
    )
    return len(chosen), drawn


def test_an_interim_report_covers_the_whole_feeders_and_says_so(
    tiny_study: dict[str, Any], tmp_path: Path
) -> None:
    config = _config(tiny_study)
    kept_groups, drawn = _run_part(config, tmp_path / "ck")
    total_groups = len(case_groups(prepare(config).cases))

    path, coverage = write_interim_report(
        config, tmp_path / "interim", Checkpoint(tmp_path / "ck"), provider=synthetic_loads
    )
    assert (coverage.groups_kept, coverage.groups_total) == (kept_groups, total_groups)
    assert coverage.named_feeders == ("radial",)  # radial_b has one group of ten kept: not counted
    assert (coverage.drawn_feeders, coverage.drawn_total) == (1, 2)
    assert coverage.parts == ("second_peak", "cost")  # their cases share radial's groups
    assert not coverage.complete
    page = path.read_text(encoding="utf-8")
    assert "id='interim'" in page and f"holds {kept_groups} of {total_groups} task groups" in page
    # As a reader sees it: the notice is the first thing under the title, above the answers.
    shown = render_offline(
        path,
        "document.querySelectorAll('.js-plotly-plot .main-svg').length > 0",
        "({next: document.querySelector('h1').nextElementSibling.id,"
        " text: document.querySelector('#interim').innerText,"
        " after: document.querySelector('#interim').nextElementSibling.id})",
    )
    assert shown["next"] == "interim" and shown["after"] == "answers"
    assert shown["text"] == coverage.text()
    interim_hosting = _rows(tmp_path / "interim", "hosting_capacity")
    assert {r["feeder"] for r in interim_hosting} == {"radial", drawn}

    # The rest runs (the kept groups read back); the interim figures are the whole study's figures.
    checkpoint = Checkpoint(tmp_path / "ck")
    full = run_study(config, tmp_path / "full", workers=0, provider=synthetic_loads, checkpoint=checkpoint)
    assert checkpoint.loaded == kept_groups and checkpoint.saved == total_groups - kept_groups
    assert "id='interim'" not in full.read_text(encoding="utf-8")
    full_hosting = _rows(tmp_path / "full", "hosting_capacity")
    assert len({r["feeder"] for r in full_hosting}) == 4
    assert [r for r in full_hosting if r["feeder"] in ("radial", drawn)] == interim_hosting

    # With every group kept, the report from the checkpoint is the whole study's, table for table.
    again, whole = write_interim_report(
        config, tmp_path / "again", Checkpoint(tmp_path / "ck"), provider=synthetic_loads
    )
    assert whole.complete and whole.text() == ""
    assert "id='interim'" not in again.read_text(encoding="utf-8")
    tables = sorted(p.name for p in (tmp_path / "full").glob("*.csv"))
    assert len(tables) == 5  # hosting, by seed, intervention, second peak, cost
    for name in tables:
        assert (tmp_path / "again" / name).read_text() == (tmp_path / "full" / name).read_text(), name


def test_a_checkpoint_with_no_whole_feeder_is_refused_by_name(
    tiny_study: dict[str, Any], tmp_path: Path
) -> None:
    config = _config(tiny_study)
    with pytest.raises(ValidationError, match=r"checkpoint.*holds no feeder of study tiny whole \(0 of"):
        write_interim_report(config, tmp_path / "out", Checkpoint(tmp_path / "empty"))


def test_the_cli_refuses_an_empty_checkpoint_in_one_line(tmp_path: Path) -> None:
    study = Path(__file__).parents[2] / "studies" / "quick.yaml"
    result = CliRunner().invoke(
        app,
        [
            "study",
            "report",
            str(study),
            "--quick",
            "--checkpoint",
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert text.startswith("report refused: checkpoint") and "holds no feeder of study" in text
    assert len(text.splitlines()) == 1 and "Traceback" not in text
    assert not (tmp_path / "o" / "report.html").exists()
