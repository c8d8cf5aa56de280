"""Bad feeders are refused before any sweep starts, with the element and the rule named (issue 5)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from smartcharge.core.errors import ValidationError
from smartcharge.grid.feeders import UnknownFeederError, get_feeder
from smartcharge.grid.limits import GridLimits, LimitKind, StepSummary, first_breach
from smartcharge.grid.network import DisconnectedBusError, LVNetwork
from smartcharge.grid.timeseries import customer_loads


def _fields(net: LVNetwork) -> dict[str, object]:
    return {f.name: getattr(net, f.name) for f in dataclasses.fields(net)}


def test_feeder_unknown_name_refused() -> None:
    """Issue 5 bad input: an unknown feeder name names the known ones."""
    with pytest.raises(
        UnknownFeederError, match=r"feeder='ieee_lv' refused: unknown feeder; known: .*radial"
    ):
        get_feeder("ieee_lv")


def test_feeder_bad_parameter_refused() -> None:
    """Issue 5 bad input: a parametric feeder with no households is refused."""
    with pytest.raises(ValidationError, match="radial.n_households"):
        get_feeder("radial", n_households=0)
    with pytest.raises(ValidationError, match="feeder.radial"):
        get_feeder("radial", n_houses=3)


def test_bus_without_path_to_source_refused() -> None:
    """Issue 5 bad input: a bus with no path to the source is named."""
    fields = _fields(get_feeder("radial", n_households=6, n_branches=2))
    line_from = np.array(fields["line_from"])
    line_from[-1] = line_from.size + 1  # the last house hangs off itself: an island
    fields["line_from"] = line_from
    with pytest.raises(DisconnectedBusError, match=r"no path to the source"):
        LVNetwork(**fields)  # type: ignore[arg-type]


def test_zero_line_rating_refused() -> None:
    """Issue 5 bad input: a cable rating of zero is refused, naming the section."""
    fields = _fields(get_feeder("radial", n_households=6))
    rating = np.array(fields["i_max_a"])
    rating[2] = 0.0
    fields["i_max_a"] = rating
    with pytest.raises(
        ValidationError, match=r"line 2 .*\.i_max_a=0\.0 refused: a thermal rating must be > 0 A"
    ):
        LVNetwork(**fields)  # type: ignore[arg-type]


def test_zero_transformer_rating_refused() -> None:
    """Issue 5 bad input: a transformer of 0 VA is refused."""
    fields = _fields(get_feeder("radial", n_households=6))
    fields["transformer"] = dataclasses.replace(fields["transformer"], sn_va=0.0)  # type: ignore[type-var]
    with pytest.raises(ValidationError, match=r"transformer.sn_va=0.0 refused"):
        LVNetwork(**fields)  # type: ignore[arg-type]


def test_limits_out_of_range_refused() -> None:
    """Issue 5 bad input: a voltage band upside down or a thermal margin above the rating is refused."""
    with pytest.raises(ValidationError, match="v_max_v"):
        GridLimits(v_min_v=250.0, v_max_v=240.0)
    with pytest.raises(ValidationError, match="thermal_fraction"):
        GridLimits(thermal_fraction=1.2)
    with pytest.raises(ValidationError, match="thermal_fraction"):
        GridLimits(thermal_fraction=0.0)


def test_first_breach_names_the_limit() -> None:
    """Issue 5: the first limit breached in time is reported (ESQCR band 216.2-253 V)."""
    summary = StepSummary(
        u_min_v=np.array([230.0, 230.0, 215.0]),
        u_max_v=np.array([240.0, 240.0, 240.0]),
        line_loading_pu=np.array([0.5, 1.1, 0.5]),
        trafo_loading_pu=np.array([0.2, 0.2, 0.2]),
    )
    limits = GridLimits()
    assert limits.v_min_v == pytest.approx(216.2) and limits.v_max_v == pytest.approx(253.0)
    assert first_breach(summary, limits) is LimitKind.LINE_THERMAL
    assert first_breach(summary, GridLimits(v_min_v=200.0, thermal_fraction=1.0)) is LimitKind.LINE_THERMAL
    relaxed = StepSummary(summary.u_min_v, summary.u_max_v, np.full(3, 0.5), summary.trafo_loading_pu)
    assert first_breach(relaxed, limits) is LimitKind.UNDERVOLTAGE
    assert first_breach(relaxed, GridLimits(v_min_v=210.0)) is None


def test_customer_loads_sums_households_onto_points() -> None:
    """Households h map to connection point h % n_load and their loads add."""
    hh = np.arange(12, dtype=float).reshape(2, 6)
    out = customer_loads(hh, 4)
    assert out.tolist() == [[0 + 4, 1 + 5, 2, 3], [6 + 10, 7 + 11, 8, 9]]
    with pytest.raises(ValidationError, match="household_w"):
        customer_loads(np.zeros(3), 2)
