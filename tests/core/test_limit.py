"""Limits carry their source (ARB-5)."""

from __future__ import annotations

import math

import pytest

from smartcharge.core.errors import LimitSourceError, ValidationError
from smartcharge.core.limit import Limit, LimitSource


def test_limit_without_source_refused() -> None:
    """ARB-5: a limit with no source cannot be arbitrated."""
    with pytest.raises(LimitSourceError, match="source=None"):
        Limit(7400.0, None)  # type: ignore[arg-type]


def test_limit_from_wire_with_unknown_source_refused() -> None:
    with pytest.raises(LimitSourceError, match="must be one of SAFETY"):
        Limit.from_wire(3000, "aggregator")
    assert Limit.from_wire(3000, "routine_dsr").source is LimitSource.ROUTINE_DSR


@pytest.mark.parametrize("value", [-1.0, math.nan, "7kW", True])
def test_limit_value_must_be_watts(value: object) -> None:
    with pytest.raises(ValidationError, match="value_w"):
        Limit(value, LimitSource.SITE)  # type: ignore[arg-type]


def test_layers_follow_arb5_order() -> None:
    """ARB-5: safety 1, site 2, response DSR 3, override 4, routine DSR 5, defaults 6."""
    assert [s.name for s in sorted(LimitSource)] == [
        "SAFETY",
        "SITE",
        "RESPONSE_DSR",
        "CONSUMER_OVERRIDE",
        "ROUTINE_DSR",
        "DEVICE_DEFAULT",
    ]
    assert [s.is_delayable for s in LimitSource] == [False, False, False, False, True, True]
