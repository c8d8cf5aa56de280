"""Packaged GB ToU tariffs (foundation: core tariffs; unknown tariff refused)."""

from __future__ import annotations

import calendar

import numpy as np
import pytest

from smartcharge.core.errors import UnknownTariffError
from smartcharge.core.tariff import ScheduleClock, get_tariff, load_tariffs


def _utc(*args: int) -> int:
    return calendar.timegm((*args, 0))


def test_every_packaged_tariff_loads_with_a_source() -> None:
    tariffs = load_tariffs()
    assert {"octopus_go", "edf_goelectric_98", "good_energy_smart_ev", "ofgem_cap_2025q1"} <= set(tariffs)
    assert all(t.source_url.startswith("https://") for t in tariffs.values())


def test_octopus_go_window_follows_local_clock_in_summer() -> None:
    go = get_tariff("octopus_go")
    # 2025-07-07 00:15 UTC is 01:15 BST: inside 00:30-05:30 local.
    # 2025-07-07 04:45 UTC is 05:45 BST: outside.
    times = np.array([_utc(2025, 7, 7, 0, 15), _utc(2025, 7, 7, 4, 45), _utc(2025, 1, 6, 4, 45)])
    assert go.price_p_per_kwh(times).tolist() == [8.5, 28.0, 8.5]


def test_good_energy_window_is_fixed_in_utc() -> None:
    good = get_tariff("good_energy_smart_ev")
    assert good.clock is ScheduleClock.UTC
    # 05:30 BST = 04:30 UTC is inside its 00:00-05:00 UTC window; 00:30 BST = 23:30 UTC is not.
    times = np.array([_utc(2025, 7, 7, 4, 30), _utc(2025, 7, 6, 23, 30)])
    assert good.is_offpeak(times).tolist() == [True, False]


def test_weekend_all_day_on_edf_98() -> None:
    edf = get_tariff("edf_goelectric_98")
    saturday_noon = _utc(2025, 1, 11, 12, 0)
    wednesday_noon = _utc(2025, 1, 8, 12, 0)
    assert edf.is_offpeak(np.array([saturday_noon, wednesday_noon])).tolist() == [True, False]


def test_flat_tariff_has_one_price() -> None:
    cap = get_tariff("ofgem_cap_2025q1")
    assert set(cap.price_p_per_kwh(np.array([_utc(2025, 1, 6, h, 0) for h in range(24)])).tolist()) == {24.86}


def test_unknown_tariff_refused_naming_known_ones() -> None:
    with pytest.raises(UnknownTariffError, match="tariff_id='octopus_gone'.*known: .*octopus_go"):
        get_tariff("octopus_gone")
