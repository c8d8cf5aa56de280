"""The study's local Dask cluster binds no fixed port (issue 15 finding, issue 14).

With port 8787 (Dask's default dashboard port) held by another program, a study still runs: the
scheduler's HTTP endpoint takes a free port and the dashboard is off. Before the fix the scheduler
asked for 8787, Dask warned "Port 8787 is already in use" and the test suite (warnings are errors)
failed.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import synthetic

from smartcharge.study.config import StudyConfig
from smartcharge.study.runner import prepare
from smartcharge.study.sweep import run_cases


@pytest.fixture
def port_8787_busy() -> Iterator[None]:
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("0.0.0.0", 8787))
    except OSError:
        # Someone else already holds it: the condition under test holds all the same.
        holder.close()
        yield
        return
    holder.listen(1)
    try:
        yield
    finally:
        holder.close()


@pytest.mark.slow
def test_study_runs_on_dask_while_8787_is_taken(tiny_study: dict[str, object], port_8787_busy: None) -> None:
    config = StudyConfig.model_validate(tiny_study)
    cases = [c for c in prepare(config).cases if c.part == "hosting"][:2]
    results = run_cases(cases, workers=1, provider=synthetic.synthetic_loads)
    assert [r.case.index for r in results] == [c.index for c in cases]
    assert all(r.summary.u_min_v.size == 288 for r in results)


@pytest.mark.slow
def test_a_cluster_started_outside_the_sweep_takes_a_free_port(port_8787_busy: None) -> None:
    """The helper the tests and benchmarks use for a cluster of their own binds no fixed port either."""
    from smartcharge.study.sweep import local_cluster

    with local_cluster(1) as cluster:
        assert cluster.scheduler.http_server.port != 8787  # type: ignore[union-attr]
