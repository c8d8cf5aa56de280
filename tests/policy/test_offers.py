"""PAS 1878 flexibility offers (DSR-1)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcharge.core.errors import ValidationError
from smartcharge.policy.offers import flexibility_offers

HOUR = 3600


def test_three_profiles_for_an_overnight_need() -> None:
    """DSR-1: IO, LD and MD for a 14.8 kWh need at 7.4 kW between 18:00 and 07:00."""
    offers = flexibility_offers(
        plug_in_s=np.array([18 * HOUR]),
        departure_s=np.array([31 * HOUR]),
        energy_kwh=np.array([14.8]),
        max_power_w=np.array([7400.0]),
        intended_start_s=np.array([24 * HOUR + 1800]),
        grid_start_s=0,
        step_s=1800,
        n_steps=72,
    )
    ld = np.flatnonzero(offers.least_delayed_w[0])
    md = np.flatnonzero(offers.most_delayed_w[0])
    io = np.flatnonzero(offers.intended_w[0])
    assert (ld[0], ld[-1]) == (36, 39)  # 18:00-20:00
    assert (md[0], md[-1]) == (58, 61)  # 05:00-07:00 next day
    assert (io[0], io[-1]) == (49, 52)  # 00:30-02:30
    for profile in (offers.least_delayed_w, offers.most_delayed_w, offers.intended_w):
        assert profile.sum() * 1800 / 3.6e6 == pytest.approx(14.8)
    assert offers.shortfall_kwh.tolist() == [0.0]


@given(
    st.integers(0, 20 * HOUR),
    st.integers(0, 20 * HOUR),
    st.floats(0, 80),
    st.sampled_from([3700.0, 7400.0]),
    st.integers(0, 40 * HOUR),
)
def test_offers_deliver_the_need_or_report_shortfall(
    plug: int, stay: int, energy: float, power: float, intended: int
) -> None:
    """DSR-1: each profile delivers the energy needed less any shortfall, within plug-in..departure."""
    offers = flexibility_offers(
        np.array([plug]),
        np.array([plug + stay]),
        np.array([energy]),
        np.array([power]),
        np.array([intended]),
        0,
        900,
        4 * 48,
    )
    delivered = energy - float(offers.shortfall_kwh[0])
    for profile in (offers.least_delayed_w, offers.most_delayed_w, offers.intended_w):
        assert profile.sum() * 900 / 3.6e6 == pytest.approx(delivered, abs=1e-6)
        assert np.all(profile <= power + 1e-9)


def test_departure_before_plug_in_refused() -> None:
    with pytest.raises(ValidationError, match="departure_s"):
        flexibility_offers(
            np.array([10]), np.array([5]), np.array([1.0]), np.array([7400.0]), np.array([10]), 0, 60, 10
        )


def test_negative_energy_refused() -> None:
    with pytest.raises(ValidationError, match="energy_kwh"):
        flexibility_offers(
            np.array([0]), np.array([5]), np.array([-1.0]), np.array([7400.0]), np.array([0]), 0, 60, 10
        )
