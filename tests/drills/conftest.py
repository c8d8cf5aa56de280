"""Fixtures of the fault drills: one throwaway PostgreSQL cluster for the whole drill run.

``initdb`` and the first start cost several seconds of a loaded CI machine, so the drills that
stop and start PostgreSQL share one cluster (each in databases of its own) and leave it running
when they end; it is destroyed after the last drill."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drills.pg_cluster import ThrowawayCluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[ThrowawayCluster]:
    made = ThrowawayCluster()
    made.start()
    try:
        yield made
    finally:
        made.destroy()
