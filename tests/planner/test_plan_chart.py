"""The plan page's chart draws every planned stretch, the slot in progress included (issue 12
item 4). A plan made mid-slot starts *now*, not at the slot's start; the chart once looked the
power up by the slot's start and so left out the slot in progress (CI saw 11.68 of 12 kWh)."""

from __future__ import annotations

import pytest

from interface_b_harness import CemHandle, start_cem
from smartcharge.cem.plans import SLOT_S, OwnershipRegister, PlanService
from smartcharge.web.pages.plans_site import _axes, _chart

# Tuesday 2 December 2025 01:10 UTC (= GB time): inside Octopus Go's cheap 00:30-04:30, ten
# minutes into the 01:00 slot.
NOW_S = 1_764_637_800


@pytest.mark.integration
async def test_the_slot_in_progress_is_drawn(sqlite_url: str) -> None:
    cem: CemHandle = await start_cem(sqlite_url)
    try:
        plans = PlanService(cem.gateway, OwnershipRegister({"cp-1": "olive"}), clock=lambda: NOW_S)
        # More than the cheap hours left can give, so the cheap slot in progress is surely taken.
        plans.create(
            "olive", station_id="cp-1", recurring=False, ready_by_s=NOW_S + 6 * 3600, target_kwh=30.0
        )
        result = plans.result_for("olive", "cp-1")
        assert result is not None
        first = min(result.slots, key=lambda s: s.start_s)
        assert first.start_s == NOW_S and NOW_S % SLOT_S == 600  # planned from now, mid-slot

        chart = _chart(plans, "cp-1", result, _axes(plans))

        slot_of = {s.start_s - s.start_s % SLOT_S: s.power_w for s in result.slots}
        grid_start = NOW_S - NOW_S % SLOT_S
        drawn = {grid_start + i * SLOT_S: kw for i, kw in enumerate(chart["power_kw"]) if kw > 0}
        assert drawn.keys() == slot_of.keys()
        assert all(drawn[t] == pytest.approx(slot_of[t] / 1000, abs=1e-3) for t in drawn)
        assert drawn[grid_start] > 0
    finally:
        await cem.close()
