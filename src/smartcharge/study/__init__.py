"""Grid impact study: sweeps (Dask), hosting capacity, second peak, cost and carbon, HTML report.

``smartcharge study run STUDY.yaml --out DIR`` is :func:`run_study`; docs/study.md explains the
method, the data and its limits.

Names are imported on first use (PEP 562): a worker that imports :mod:`smartcharge.study.cases`
does not load the report and the runner (and the checkpoint's model fingerprint,
:mod:`smartcharge.study.checkpoint`, does not count them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartcharge.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from smartcharge.study.cases import Case, CaseResult, run_case
    from smartcharge.study.config import StudyConfig, load_study
    from smartcharge.study.hosting import HostingCapacity, SeedHosting, hosting_capacity, seed_hosting
    from smartcharge.study.loads import LoadProvider, LoadRequest, fleet_loads
    from smartcharge.study.runner import PreparedStudy, prepare, run_study
    from smartcharge.study.sweep import run_cases

_EXPORTS: dict[str, tuple[str, str]] = {
    "Case": ("smartcharge.study.cases", "Case"),
    "CaseResult": ("smartcharge.study.cases", "CaseResult"),
    "run_case": ("smartcharge.study.cases", "run_case"),
    "StudyConfig": ("smartcharge.study.config", "StudyConfig"),
    "load_study": ("smartcharge.study.config", "load_study"),
    "HostingCapacity": ("smartcharge.study.hosting", "HostingCapacity"),
    "SeedHosting": ("smartcharge.study.hosting", "SeedHosting"),
    "hosting_capacity": ("smartcharge.study.hosting", "hosting_capacity"),
    "seed_hosting": ("smartcharge.study.hosting", "seed_hosting"),
    "LoadProvider": ("smartcharge.study.loads", "LoadProvider"),
    "LoadRequest": ("smartcharge.study.loads", "LoadRequest"),
    "fleet_loads": ("smartcharge.study.loads", "fleet_loads"),
    "PreparedStudy": ("smartcharge.study.runner", "PreparedStudy"),
    "prepare": ("smartcharge.study.runner", "prepare"),
    "run_study": ("smartcharge.study.runner", "run_study"),
    "run_cases": ("smartcharge.study.sweep", "run_cases"),
}

__getattr__ = lazy_getattr(__name__, _EXPORTS)

__all__ = [
    "Case",
    "CaseResult",
    "HostingCapacity",
    "LoadProvider",
    "LoadRequest",
    "PreparedStudy",
    "SeedHosting",
    "StudyConfig",
    "fleet_loads",
    "hosting_capacity",
    "load_study",
    "prepare",
    "run_case",
    "run_cases",
    "run_study",
    "seed_hosting",
]
