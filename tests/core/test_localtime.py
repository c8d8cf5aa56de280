"""GB local time across clock changes (foundation: core local time)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcharge.core.errors import ValidationError
from smartcharge.core.localtime import GB_TZ, epoch_s_from_datetime, local_fields, utc_offset_s


def test_offset_matches_iana_every_hour_of_2024_and_2025() -> None:
    start = calendar.timegm((2024, 1, 1, 0, 0, 0))
    hours = start + 3600 * np.arange(2 * 366 * 24)
    expected = [int(datetime.fromtimestamp(int(t), GB_TZ).utcoffset().total_seconds()) for t in hours]
    assert utc_offset_s(hours).tolist() == expected


@settings(max_examples=300, deadline=None)
@given(
    st.integers(
        min_value=calendar.timegm((1996, 1, 1, 0, 0, 0)), max_value=calendar.timegm((2099, 12, 31, 0, 0, 0))
    )
)
def test_local_fields_match_zoneinfo(epoch_s: int) -> None:
    local = datetime.fromtimestamp(epoch_s, GB_TZ)
    fields = local_fields(np.array([epoch_s]))
    assert int(fields.weekday[0]) == local.weekday()
    assert int(fields.minute_of_day[0]) == local.hour * 60 + local.minute


def test_spring_forward_skips_local_0100_to_0200() -> None:
    """On 2025-03-30 clocks go 01:00 GMT -> 02:00 BST: 00:59 UTC is 00:59 local, 01:00 UTC is 02:00 local."""
    before = calendar.timegm((2025, 3, 30, 0, 59, 0))
    fields = local_fields(np.array([before, before + 60]))
    assert fields.minute_of_day.tolist() == [59, 120]


def test_fall_back_repeats_local_0100() -> None:
    """On 2025-10-26 local 01:00-02:00 happens twice (first in BST, then GMT)."""
    first = calendar.timegm((2025, 10, 26, 0, 30, 0))
    second = calendar.timegm((2025, 10, 26, 1, 30, 0))
    fields = local_fields(np.array([first, second]))
    assert fields.minute_of_day.tolist() == [90, 90]


def test_outside_rule_years_refused() -> None:
    with pytest.raises(ValidationError, match="epoch_s"):
        utc_offset_s(np.array([calendar.timegm((1990, 6, 1, 0, 0, 0))]))


def test_naive_datetime_refused() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        epoch_s_from_datetime(datetime(2025, 1, 1))
    assert epoch_s_from_datetime(datetime(2025, 1, 1, tzinfo=UTC)) == calendar.timegm((2025, 1, 1, 0, 0, 0))
