"""Feeders shared by the grid tests (the IEEE feeder takes a few seconds to read)."""

from __future__ import annotations

import pytest

from smartcharge.grid.feeders import get_feeder
from smartcharge.grid.network import LVNetwork


@pytest.fixture(scope="session")
def ieee() -> LVNetwork:
    return get_feeder("ieee_european_lv")
