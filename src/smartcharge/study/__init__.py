"""Grid impact study: sweeps (Dask), hosting capacity, second peak, cost and carbon, HTML report.

``smartcharge study run STUDY.yaml --out DIR`` is :func:`run_study`; docs/study.md explains the
method, the data and its limits.
"""

from smartcharge.study.cases import Case, CaseResult, run_case
from smartcharge.study.config import StudyConfig, load_study
from smartcharge.study.hosting import HostingCapacity, SeedHosting, hosting_capacity, seed_hosting
from smartcharge.study.loads import LoadProvider, LoadRequest, fleet_loads
from smartcharge.study.runner import PreparedStudy, prepare, run_study
from smartcharge.study.sweep import run_cases

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
