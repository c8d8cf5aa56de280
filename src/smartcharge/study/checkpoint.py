"""Results of finished task groups kept on disk, so a long study can stop and go on (issue 14
"Speed": the full study is hours of compute on a small machine).

Each group of cases (one feeder, seed and penetration; :func:`~smartcharge.study.sweep.case_groups`)
is one ``.npz`` file named by a hash of what decides its numbers:

- the cases themselves, without their index (the same case in an edited study file is found
  again; its index is put back on load), and which of them keep their series;
- the **model fingerprint**: a hash of the source of every module a case's code imports
  (:func:`model_files`), the packaged data and the numeric libraries' versions. Any change to
  them starts afresh, as it may change a number; the report and the CLI are not part of it.

The files hold arrays and one JSON text, read with ``allow_pickle=False``: a checkpoint from
elsewhere cannot run code. A file that cannot be read is logged, set aside and run again.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

import smartcharge
from smartcharge.grid.limits import StepSummary
from smartcharge.study.cases import Case, CaseResult

log = logging.getLogger(__name__)

#: Where a case's code starts: the modules it imports, at any depth, are its model
#: (:func:`model_files`); the report, the answers' wording and the CLI are not.
MODEL_ROOT = "smartcharge.study.cases"
#: Packaged data (base loads, behaviour tables, feeders, tariffs) the model reads.
MODEL_DATA = "data"
#: Libraries whose numerics the results rest on.
MODEL_LIBRARIES = ("numpy", "power-grid-model", "pandapower", "pandas")
_SUMMARY = ("u_min_v", "u_max_v", "line_loading_pu", "trafo_loading_pu")
#: The float arrays of a case, stored end to end in one entry (a file entry costs ~100 bytes).
_FLOATS = (*_SUMMARY, "total_w", "ev_total_w", "diversity_kw")
_INTS = ("n_households", "n_ev")
_SCALARS: tuple[str, ...] = (
    *_INTS,
    "cost_p_per_ev",
    "carbon_g_per_ev",
    "energy_delivered_kwh_per_ev",
    "unserved_kwh",
)
_SCALARS += ("energy_wanted_kwh", "energy_delivered_kwh", "energy_deliverable_kwh")


def model_files(root_module: str = MODEL_ROOT) -> list[Path]:
    """The package's source files ``root_module`` imports, at any depth, function-level imports
    included (read from the source, so the answer is the same in every process), with the
    ``__init__`` of every package on the way. A package that re-exports lazily
    (:mod:`smartcharge.core.lazy_exports`) counts whole: its names say nothing of their module."""
    base = Path(smartcharge.__file__).parent
    seen: set[Path] = set()
    todo = [root_module]
    while todo:
        for file in _files_of(base, todo.pop()):
            if file in seen:
                continue
            seen.add(file)
            todo.extend(_imports(file))
    return sorted(seen)


def _files_of(base: Path, module: str) -> list[Path]:
    """The files importing ``module`` runs: each package ``__init__`` on its path and the module
    itself (for a lazily re-exporting package, every module in it)."""
    parts = module.split(".")[1:]
    files = [base / "__init__.py"]
    for depth in range(1, len(parts) + 1):
        folder = base.joinpath(*parts[:depth])
        if (folder / "__init__.py").exists():
            init = folder / "__init__.py"
            files.append(init)
            if depth == len(parts) and "lazy_getattr" in init.read_text(encoding="utf-8"):
                files.extend(sorted(folder.glob("*.py")))
        elif folder.with_suffix(".py").exists():
            files.append(folder.with_suffix(".py"))
    return files


def _imports(file: Path) -> list[str]:
    """The ``smartcharge`` modules a file imports when run (``from a import b`` also tries
    ``a.b``); those under ``if TYPE_CHECKING:`` are for the type checker only."""
    out = []
    for node in _run_nodes(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            out += [f"{node.module}.{alias.name}" for alias in node.names]
    return [m for m in out if m == "smartcharge" or m.startswith("smartcharge.")]


def _run_nodes(tree: ast.AST) -> list[ast.AST]:
    nodes, todo = [], [tree]
    while todo:
        node = todo.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return nodes


@lru_cache(maxsize=1)
def model_fingerprint() -> str:
    """A hash of the model's source (:func:`model_files`), its packaged data and the numeric
    libraries' versions: names and bytes, in sorted order."""
    base = Path(smartcharge.__file__).parent
    data = sorted(p for p in (base / MODEL_DATA).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    digest = hashlib.sha256()
    for file in model_files() + data:
        digest.update(file.relative_to(base).as_posix().encode())
        digest.update(file.read_bytes())
    for library in MODEL_LIBRARIES:
        digest.update(f"{library}={metadata.version(library)}".encode())
    return digest.hexdigest()[:16]


def case_key(case: Case, kept: bool) -> str:
    """A case without its index, and whether it keeps its series."""
    return hashlib.sha256(repr((replace(case, index=0), kept)).encode()).hexdigest()[:24]


def group_key(cases: Sequence[Case], kept: Sequence[bool]) -> str:
    """The file name of a group: its cases' keys in any order (a case's numbers do not depend
    on its neighbours in the group, tests/study/test_study_reuse.py)."""
    keys = sorted(case_key(c, k) for c, k in zip(cases, kept, strict=True))
    return hashlib.sha256(" ".join(keys).encode()).hexdigest()[:24]


class Checkpoint:
    """Finished groups under ``directory/<model fingerprint>/``."""

    def __init__(self, directory: Path, fingerprint: str | None = None) -> None:
        self.directory = Path(directory) / (fingerprint or model_fingerprint())
        self.loaded = 0  # groups read back
        self.loaded_cases = 0
        self.saved = 0

    def _path(self, cases: Sequence[Case], kept: Sequence[bool]) -> Path:
        return self.directory / f"{group_key(cases, kept)}.npz"

    def load(self, cases: Sequence[Case], kept: Sequence[bool]) -> list[CaseResult] | None:
        """The group's results with this run's cases on them, or None when not (readably) kept."""
        path = self._path(cases, kept)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                results = _decode(stored, cases, kept)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("checkpoint %s unreadable (%s): set aside, the group runs again", path.name, exc)
            path.replace(path.with_suffix(".unreadable"))
            return None
        self.loaded += 1
        self.loaded_cases += len(results)
        return results

    def save(self, results: Sequence[CaseResult], kept: Sequence[bool]) -> None:
        """Write the group's file whole or not at all (a stop mid-write leaves no half file)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path([r.case for r in results], kept)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **encode_group(results, kept))
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(buffer.getvalue())
        partial.replace(path)
        self.saved += 1


def encode_group(results: Sequence[CaseResult], kept: Sequence[bool]) -> dict[str, Any]:
    """Four entries per group: every case's float arrays and scalars end to end (``floats``), its
    steps (``time_s``) and screened steps (``screened``), each part's length (``sizes``, one row
    per case), and a JSON text (``meta``: the case's key, extras, whether series were kept).
    A group of small cases is then about 2 kB (17 kB as one entry per array and case)."""
    floats, steps, masks, sizes, meta = [], [], [], [], []
    for r, k in zip(results, kept, strict=True):
        parts = [
            np.asarray(getattr(r.summary, n) if n in _SUMMARY else getattr(r, n), float) for n in _FLOATS
        ]
        parts.append(np.array([getattr(r, n) for n in _SCALARS], dtype=np.float64))
        mask = r.summary.screened
        steps.append(np.asarray(r.time_s, dtype=np.int64))
        masks.append(np.zeros(0, dtype=bool) if mask is None else np.asarray(mask, dtype=bool))
        floats.extend(parts)
        sizes.append([p.size for p in parts] + [steps[-1].size, masks[-1].size])
        meta.append(
            {
                "case": case_key(r.case, k),
                "extras": r.extras,
                "series_kept": r.series_kept,
                "screened": mask is not None,
            }
        )
    return {
        "floats": np.concatenate(floats),
        "time_s": np.concatenate(steps),
        "screened": np.concatenate(masks),
        "sizes": np.array(sizes, dtype=np.int64),
        "meta": np.array(json.dumps(meta)),
    }


def _decode(stored: Any, cases: Sequence[Case], kept: Sequence[bool]) -> list[CaseResult]:
    meta = json.loads(str(stored["meta"]))
    place = {info["case"]: i for i, info in enumerate(meta)}
    wanted = [case_key(c, k) for c, k in zip(cases, kept, strict=True)]
    if sorted(place) != sorted(wanted):
        raise ValueError("holds other cases than the group's")
    sizes = stored["sizes"]
    n_float = len(_FLOATS) + 1
    floats = np.split(stored["floats"], np.cumsum(sizes[:, :n_float].ravel())[:-1])
    steps = np.split(stored["time_s"], np.cumsum(sizes[:, n_float])[:-1])
    masks = np.split(stored["screened"], np.cumsum(sizes[:, n_float + 1])[:-1])
    out = []
    for case, key in zip(cases, wanted, strict=True):
        i = place[key]
        first = i * n_float
        mine = dict(zip(_FLOATS, floats[first : first + len(_FLOATS)], strict=True))
        scalars = dict(zip(_SCALARS, floats[(i + 1) * n_float - 1].tolist(), strict=True))
        summary = StepSummary(
            **{n: mine[n] for n in _SUMMARY}, screened=masks[i] if meta[i]["screened"] else None
        )
        out.append(
            CaseResult(
                case=case,
                summary=summary,
                time_s=steps[i],
                total_w=mine["total_w"],
                ev_total_w=mine["ev_total_w"],
                diversity_kw=mine["diversity_kw"],
                extras=meta[i]["extras"],
                series_kept=bool(meta[i]["series_kept"]),
                **{n: int(v) if n in _INTS else v for n, v in scalars.items()},
            )
        )
    return out


__all__ = [
    "MODEL_ROOT",
    "Checkpoint",
    "case_key",
    "encode_group",
    "group_key",
    "model_files",
    "model_fingerprint",
]
