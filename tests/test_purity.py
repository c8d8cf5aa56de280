"""The pure layers never read the clock, draw random numbers or await (STYLE §1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import smartcharge

PURE = ["core", "policy"]
BANNED_MODULES = {"asyncio", "random", "time", "secrets", "socket", "os"}
BANNED_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "default_rng", "random"}
# Draws and times are arguments: ``np.random``, ``datetime.now`` and ``time.time`` never appear.


def _files() -> list[Path]:
    root = Path(smartcharge.__file__).parent
    return [p for layer in PURE for p in sorted((root / layer).rglob("*.py"))]


@pytest.mark.parametrize("path", _files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pure_module_has_no_clock_randomness_or_io(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not {a.name.split(".")[0] for a in node.names} & BANNED_MODULES, path
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in BANNED_MODULES, path
        elif isinstance(node, ast.Attribute):
            assert node.attr not in BANNED_CALLS, f"{path}: .{node.attr} reads the clock or draws randomness"
        elif isinstance(node, ast.AsyncFunctionDef | ast.Await):
            pytest.fail(f"{path}: async code in a pure layer")
