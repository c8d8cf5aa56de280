"""Plans kept in the store (issue 12, revision 0012_plans_site): a new plan service on the same
database has the plans back; a one-off plan whose ready-by time passed while the CEM was down is
dropped (deleted, not resumed); changes and deletions are stored too."""

from __future__ import annotations

import pytest

from interface_b_harness import CemHandle, start_cem
from smartcharge.cem.plans import OwnershipRegister, PlanService
from smartcharge.store.plan_repo import PlanRepository

NOW_S = 1_764_650_000  # Tuesday 2 December 2025 04:33 UTC


class Clock:
    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_plans_survive_a_new_service_and_past_one_offs_are_dropped(
    request: pytest.FixtureRequest, database: str
) -> None:
    url = request.getfixturevalue("sqlite_url" if database == "sqlite" else "pg_url")
    cem: CemHandle = await start_cem(url)
    try:
        owners = OwnershipRegister({"cp-1": "olive"})
        repo = PlanRepository(cem.store.engine)
        clock = Clock(NOW_S)
        first = PlanService(cem.gateway, owners, clock=clock, repository=repo)
        weekly = first.create(
            "olive",
            station_id="cp-1",
            recurring=True,
            weekdays=(0, 1, 2, 3, 4),
            ready_by_local_min=450,
            target_kwh=20.0,
        )
        soon = first.create(
            "olive", station_id="cp-1", recurring=False, ready_by_s=NOW_S + 3600, target_kwh=5.0
        )
        later = first.create(
            "olive", station_id="cp-1", recurring=False, ready_by_s=NOW_S + 86_400, target_kwh=7.0
        )
        first.change("olive", weekly.plan_id, target_kwh=25.0)
        first.delete("olive", later.plan_id)

        clock.now_s = NOW_S + 7200  # "soon" passed while the CEM was down
        second = PlanService(cem.gateway, owners, clock=clock, repository=repo)
        assert list(second.plans) == [weekly.plan_id]
        assert second.plans[weekly.plan_id].target_kwh == 25.0
        assert second.plans[weekly.plan_id].weekdays == (0, 1, 2, 3, 4)
        assert [p.plan_id for p in repo.load()] == [weekly.plan_id]  # the past one-off is deleted
        assert soon.plan_id not in second.plans
        results = second.plans_result()
        assert results["cp-1"].plan_id == weekly.plan_id  # and it is planned again
    finally:
        await cem.close()
        cem.store.engine.dispose()  # close pooled PostgreSQL connections before the loop ends
