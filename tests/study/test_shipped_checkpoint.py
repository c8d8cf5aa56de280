"""The full study's kept groups (``studies/checkpoints/full``) stay true to the code (issue 14).

The full study is 20-25 core-hours and is run in parts; each part's groups are committed so the
next part goes on from them. They are only worth keeping while the model that computed them is
the model in the tree, so an edit to ``core``, ``policy``, ``sim``, ``grid``, the data or the case
modules fails here, naming the folder, instead of silently starting the study from zero (or, worse,
of a stale folder being read as current). Every file must also be a readable group of
``studies/full.yaml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from smartcharge.study.checkpoint import Checkpoint, model_fingerprint
from smartcharge.study.config import load_study
from smartcharge.study.interim import interim_results
from smartcharge.study.runner import prepare

ROOT = Path(__file__).parents[2]
KEPT = ROOT / "studies" / "checkpoints" / "full"


def _folders() -> list[Path]:
    return sorted(p for p in KEPT.iterdir() if p.is_dir()) if KEPT.is_dir() else []


def test_the_kept_groups_were_computed_by_this_model() -> None:
    folders = _folders()
    if not folders:
        pytest.skip("no group of the full study is kept yet")
    names = [p.name for p in folders]
    assert names == [model_fingerprint()], (
        f"studies/checkpoints/full holds {names}, computed by other model code than this tree's "
        f"({model_fingerprint()}): the edit makes the kept groups stale; run the study again or "
        "delete the folder (studies/checkpoints/README.md)"
    )


@pytest.mark.slow
def test_every_kept_file_is_a_readable_group_of_the_full_study(tmp_path: Path) -> None:
    folders = _folders()
    if not folders or folders[0].name != model_fingerprint():
        pytest.skip("no group kept for this model (the test above says why)")
    files = sorted(folders[0].glob("*.npz"))
    assert not list(folders[0].glob("*.part")), "a half-written group was committed"
    copy = tmp_path / folders[0].name  # reading sets an unreadable file aside: not in the tree
    shutil.copytree(folders[0], copy)
    prepared = prepare(load_study(ROOT / "studies" / "full.yaml"))
    _, results, coverage = interim_results(prepared, Checkpoint(tmp_path))
    assert coverage.groups_kept == len(files) > 0
    assert not list(copy.glob("*.unreadable"))
    assert all(r.case.part in ("hosting", "second_peak", "cost") for r in results)
