"""Ready-by charging plans, live: the owner's plans drive each charge point's charging profile
(issue 12 items 1 and 4).

An owner sets, per charge point, recurring weekday plans ("Mon-Fri ready by 07:30 with 80 %") and
one-off plans (one instant; it stands in for that day's recurring plan and does not overwrite it,
:mod:`smartcharge.policy.ready_by`). The target is a minimum by the ready-by time, in kWh or as a
state of charge with the battery size.

:meth:`PlanService.plans_result` plans every charge point with a departure ahead in one call of the
policy kernel :func:`smartcharge.policy.planner.plan_charging` (so the cars of one site share its
circuits; the site's limits come from the :class:`~smartcharge.cem.site.SiteService` when there
is one), on 15-minute slots over the next 24 h, with prices from a :class:`PriceSource` and carbon
from a :class:`CarbonSource` (packaged tariff and carbon tables by default; a live source is any
object with the same method).

:meth:`PlanService.drive` turns the plan's current slot into a TxProfile for the charge point's
transaction (OCPP 2.0.1 K01: a TxProfile replaces the TxDefaultProfile for its transaction, so the
routine-DSR limit of the limit book is folded in here), through the gateway, and clears it once
the departure has passed. Site and safety limits (ChargingStationMaxProfile) still cap it on the
station. :meth:`run` re-plans and drives every ``period_s``.

Plans are kept in the store (:class:`smartcharge.store.plan_repo.PlanRepository`, revision
``0012_plans_site``) when the service is given a repository: each create, change and delete is
written before the service's own copy changes (a failed write changes nothing), and a restarted
CEM loads them back; a one-off plan whose ready-by time passed while it was down is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

from smartcharge.cem.gateway import CemGateway
from smartcharge.cem.limits import DEFAULT_RATED_W
from smartcharge.core.carbon import carbon_g_per_kwh
from smartcharge.core.errors import ValidationError
from smartcharge.core.limit import LimitSource
from smartcharge.core.tariff import get_tariff
from smartcharge.core.units import FloatArray, IntArray
from smartcharge.ocpp.domain import ChargingProfile, ProfilePurpose
from smartcharge.policy.planner import THREE_PHASE, Circuits, PlanSessions, SlotPrices, plan_charging
from smartcharge.policy.ready_by import check_local_minute, check_weekdays, next_departure
from smartcharge.store.plan_repo import PlanRepository, StoredPlan

logger = logging.getLogger(__name__)

SLOT_S = 900
HORIZON_SLOTS = 96  # at least 24 h of 15-minute slots
PLAN_PROFILE_ID = 104
DEFAULT_TARIFF = "octopus_go"


class PriceSource(Protocol):
    """Unit price (p/kWh) per slot for a charge point: a tariff table or a live price feed."""

    def prices(self, station_id: str, slot_start_s: IntArray, slot_s: int) -> FloatArray: ...


class CarbonSource(Protocol):
    """Grid carbon intensity (gCO2/kWh) per slot: the packaged table or a live forecast."""

    def carbon(self, slot_start_s: IntArray, slot_s: int) -> FloatArray: ...


class TariffPrices:
    """Prices from the packaged GB tariffs (:mod:`smartcharge.core.tariff`), a tariff per charge point."""

    def __init__(self, tariff_of: Callable[[str], str] = lambda _: DEFAULT_TARIFF) -> None:
        self.tariff_of = tariff_of

    def prices(self, station_id: str, slot_start_s: IntArray, slot_s: int) -> FloatArray:
        tariff = get_tariff(self.tariff_of(station_id))
        minutes = slot_start_s[:, None] + 60 * np.arange(max(slot_s // 60, 1), dtype=np.int64)[None, :]
        price: FloatArray = tariff.price_p_per_kwh(minutes.ravel()).reshape(minutes.shape).mean(axis=1)
        return price


class PackagedCarbon:
    """Carbon from the packaged 2023 half-hourly national series (:mod:`smartcharge.core.carbon`)."""

    def carbon(self, slot_start_s: IntArray, slot_s: int) -> FloatArray:
        return carbon_g_per_kwh(slot_start_s + slot_s // 2)


class NotYoursError(ValidationError):
    """The caller owns no charge point of that id (whether or not it exists)."""

    def __init__(self, station_id: str) -> None:
        super().__init__("station_id", station_id, "no charge point of yours has this id")


class Ownership(Protocol):
    """Who owns which charge point (the owner service's register once merged)."""

    def owns(self, owner: str, station_id: str) -> bool: ...


@dataclass
class OwnershipRegister:
    """A plain register of owners per charge point (filled by the operator or tests)."""

    owners: dict[str, str] = field(default_factory=dict)

    def owns(self, owner: str, station_id: str) -> bool:
        return self.owners.get(station_id) == owner


@dataclass(frozen=True, slots=True)
class ChargePlan:
    """One plan. Recurring: ``weekdays`` (0 = Monday) and ``ready_by_local_min``; one-off:
    ``ready_by_s``. Target: ``target_kwh``, or ``target_soc`` with ``battery_kwh`` (and
    ``soc_now``, the state of charge when the plan was set, 0 if unknown)."""

    plan_id: str
    station_id: str
    owner: str
    recurring: bool
    weekdays: tuple[int, ...] = ()
    ready_by_local_min: int | None = None
    ready_by_s: int | None = None
    target_kwh: float | None = None
    target_soc: float | None = None
    battery_kwh: float | None = None
    soc_now: float = 0.0

    def wanted_kwh(self) -> float:
        if self.target_kwh is not None:
            return self.target_kwh
        assert self.target_soc is not None and self.battery_kwh is not None
        return max(0.0, (self.target_soc - self.soc_now) * self.battery_kwh)


def check_plan(plan: ChargePlan, now_s: float) -> ChargePlan:
    """Every rule of a plan; raises ValidationError naming the field and the rule."""
    if plan.recurring:
        check_weekdays(plan.weekdays)
        if plan.ready_by_local_min is None:
            raise ValidationError("ready_by_local", None, "a recurring plan needs a local time HH:MM")
        check_local_minute(plan.ready_by_local_min)
    else:
        if plan.ready_by_s is None:
            raise ValidationError("ready_by", None, "a one-off plan needs a ready-by time")
        if plan.ready_by_s <= now_s:
            raise ValidationError("ready_by", _iso(plan.ready_by_s), "is in the past; give a time ahead")
        if plan.ready_by_s > now_s + 7 * 86_400:
            raise ValidationError("ready_by", _iso(plan.ready_by_s), "at most 7 days ahead")
    if (plan.target_kwh is None) == (plan.target_soc is None):
        raise ValidationError("target_kwh", plan.target_kwh, "give either target_kwh or target_soc")
    if plan.battery_kwh is not None and not (
        math.isfinite(plan.battery_kwh) and 1 <= plan.battery_kwh <= 250
    ):
        raise ValidationError("battery_kwh", plan.battery_kwh, "a battery of 1..250 kWh")
    if plan.target_kwh is not None:
        if not (math.isfinite(plan.target_kwh) and plan.target_kwh > 0):
            raise ValidationError("target_kwh", plan.target_kwh, "an energy > 0 kWh")
        if plan.battery_kwh is not None and plan.target_kwh > plan.battery_kwh:
            raise ValidationError(
                "target_kwh", plan.target_kwh, f"above the battery ({plan.battery_kwh:g} kWh)"
            )
        if plan.target_kwh > 250:
            raise ValidationError("target_kwh", plan.target_kwh, "above any car's battery (250 kWh)")
    if plan.target_soc is not None:
        if plan.battery_kwh is None:
            raise ValidationError("battery_kwh", None, "a state-of-charge target needs the battery size")
        if not 0 < plan.target_soc <= 1:
            raise ValidationError("target_soc", plan.target_soc, "above the battery: a fraction 0 < soc <= 1")
        if not 0 <= plan.soc_now <= 1:
            raise ValidationError("soc_now", plan.soc_now, "a fraction 0..1")
    return plan


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat()


@dataclass(frozen=True, slots=True)
class PlanSlot:
    start_s: int
    end_s: int
    power_w: float
    energy_kwh: float
    price_p_per_kwh: float
    carbon_g_per_kwh: float


@dataclass(frozen=True, slots=True)
class PlanResult:
    """The plan of one charge point for its next departure."""

    station_id: str
    plan_id: str
    ready_by_s: int
    target_kwh: float
    planned_kwh: float
    will_meet: bool
    shortfall_kwh: float
    cost_p: float
    carbon_g: float
    slots: tuple[PlanSlot, ...]
    computed_at_s: float

    def power_at_w(self, now_s: float) -> float | None:
        """The planned power in force at ``now_s`` (0 between planned slots), None after ready-by."""
        if now_s >= self.ready_by_s:
            return None
        for s in self.slots:
            if s.start_s <= now_s < s.end_s:
                return s.power_w
        return 0.0


class PlanService:
    """Plans per charge point, their results, and the TxProfiles they drive (see the module doc)."""

    def __init__(
        self,
        gateway: CemGateway,
        ownership: Ownership,
        prices: PriceSource | None = None,
        carbon: CarbonSource | None = None,
        site: Any | None = None,  # a SiteService: its circuits bound the plans
        clock: Callable[[], float] = time.time,
        repository: PlanRepository | None = None,
    ) -> None:
        self.gateway = gateway
        self.ownership = ownership
        self.prices = prices or TariffPrices()
        self.carbon = carbon or PackagedCarbon()
        self.site = site
        self.clock = clock
        self.plans: dict[str, ChargePlan] = {}
        self.results: dict[str, PlanResult] = {}
        self._baseline_wh: dict[tuple[str, int], float] = {}
        self._driven: dict[str, float] = {}
        self.repository = repository
        if repository is not None:
            self._load(repository)

    def _load(self, repository: PlanRepository) -> None:
        """The stored plans; a one-off plan whose ready-by time has passed is deleted, not resumed."""
        now = self.clock()
        for stored in repository.load():
            plan = ChargePlan(**{f.name: getattr(stored, f.name) for f in dataclass_fields(StoredPlan)})
            if not plan.recurring and (plan.ready_by_s or 0) <= now:
                repository.delete(plan.plan_id)
                continue
            self.plans[plan.plan_id] = plan
        if self.plans:
            logger.info("plans: %d plan(s) restored from the store", len(self.plans))

    def _save(self, plan: ChargePlan) -> None:
        if self.repository is not None:
            self.repository.save(
                StoredPlan(**{f.name: getattr(plan, f.name) for f in dataclass_fields(StoredPlan)})
            )

    # ---- plans ------------------------------------------------------------------------------------

    def _mine(self, owner: str, station_id: str) -> None:
        if not self.ownership.owns(owner, station_id):
            raise NotYoursError(station_id)

    def create(self, owner: str, **fields: Any) -> ChargePlan:
        station_id = str(fields.get("station_id", ""))
        self._mine(owner, station_id)
        plan = check_plan(ChargePlan(plan_id=uuid.uuid4().hex[:12], owner=owner, **fields), self.clock())
        self._save(plan)
        self.plans[plan.plan_id] = plan
        self.results.pop(station_id, None)
        logger.info("plan %s created by %s on %s", plan.plan_id, owner, station_id)
        return plan

    def get(self, owner: str, plan_id: str) -> ChargePlan:
        plan = self.plans.get(plan_id)
        if plan is None or plan.owner != owner or not self.ownership.owns(owner, plan.station_id):
            raise ValidationError("plan_id", plan_id, "no plan of yours has this id")
        return plan

    def change(self, owner: str, plan_id: str, **fields: Any) -> ChargePlan:
        old = self.get(owner, plan_id)
        if "station_id" in fields and fields["station_id"] != old.station_id:
            raise ValidationError("station_id", fields["station_id"], "a plan stays on its charge point")
        new = check_plan(replace(old, **fields), self.clock())
        self._save(new)
        self.plans[plan_id] = new
        self.results.pop(new.station_id, None)
        return new

    def delete(self, owner: str, plan_id: str) -> None:
        plan = self.get(owner, plan_id)
        if self.repository is not None:
            self.repository.delete(plan_id)
        del self.plans[plan_id]
        self.results.pop(plan.station_id, None)

    def owned_plans(self, owner: str, station_id: str | None = None) -> list[ChargePlan]:
        if station_id is not None:
            self._mine(owner, station_id)
        return [
            p
            for p in self.plans.values()
            if p.owner == owner and (station_id is None or p.station_id == station_id)
        ]

    # ---- planning ---------------------------------------------------------------------------------

    def _departures(self, now_s: int) -> list[tuple[ChargePlan, int]]:
        by_station: dict[str, list[ChargePlan]] = {}
        for plan in self.plans.values():
            by_station.setdefault(plan.station_id, []).append(plan)
        out = []
        for plans in by_station.values():
            recurring = [
                (p.plan_id, p.weekdays, int(p.ready_by_local_min or 0)) for p in plans if p.recurring
            ]
            one_off = [(p.plan_id, int(p.ready_by_s or 0)) for p in plans if not p.recurring]
            departure = next_departure(recurring, one_off, now_s)
            if departure is not None:
                out.append((self.plans[departure.plan_id], departure.ready_by_s))
        return out

    def _delivered_kwh(self, station_id: str, ready_by_s: int) -> float:
        """Energy the charge point has delivered since this departure was first planned."""
        state = self.gateway.stations.get(station_id)
        energy_wh = 0.0 if state is None else state.energy_wh
        base = self._baseline_wh.setdefault((station_id, ready_by_s), energy_wh)
        return max(0.0, (energy_wh - base) / 1000.0)

    def _site_tree(self, k: int) -> tuple[Circuits | None, dict[str, tuple[int, FloatArray, float]]]:
        """The site's circuits as the planner's tree, and each charge point's (node, phases, max W)."""
        if self.site is None:
            return None, {}
        config = self.site.config
        tree, index = config.tree()
        volts = config.voltage_v
        phase = np.repeat((tree.phase_limit_a * volts)[:, None, :], k, axis=1)
        total = np.repeat(tree.power_limit_w[:, None], k, axis=1)
        where = {}
        for cp in config.charge_points:
            mask = np.array(cp.phase_mask(), dtype=np.float64)
            where[cp.station_id] = (
                index[cp.circuit_id],
                mask / mask.sum(),
                cp.max_current_a * mask.sum() * volts,
            )
        return Circuits(tree.parent, phase, total), where

    def plans_result(self) -> dict[str, PlanResult]:
        """Plan every charge point with a departure ahead, together (they share the site)."""
        now = int(self.clock())
        grid_start = now - now % SLOT_S
        departures = self._departures(now)
        if not departures:
            self.results = {}
            return {}
        # 24 h ahead, or to the latest departure (a Friday evening plan for Monday morning).
        last = max(ready for _, ready in departures)
        k = max(HORIZON_SLOTS, -(-(last - grid_start) // SLOT_S))
        slot_start = grid_start + SLOT_S * np.arange(k, dtype=np.int64)
        carbon = self.carbon.carbon(slot_start, SLOT_S)
        # One price vector for the site: the first charge point's tariff (a site has one supply).
        price = self.prices.prices(departures[0][0].station_id, slot_start, SLOT_S)
        slots = SlotPrices(grid_start, SLOT_S, price, carbon)
        tree, where = self._site_tree(k)
        nodes, shares, power, targets, ready = [], [], [], [], []
        for plan, ready_by in departures:
            node, share, max_w = where.get(plan.station_id, (0, THREE_PHASE, self._rated_w(plan.station_id)))
            nodes.append(node)
            shares.append(share)
            power.append(max_w)
            targets.append(max(plan.wanted_kwh() - self._delivered_kwh(plan.station_id, ready_by), 0.0))
            ready.append(max(ready_by, now))
        sessions = PlanSessions(
            np.array(nodes, dtype=np.int64),
            np.full(len(departures), now, dtype=np.int64),
            np.array(ready, dtype=np.int64),
            np.array(targets),
            np.array(power),
            np.array(shares),
        )
        plan_out = plan_charging(slots, sessions, tree)
        results = {}
        for i, (plan, ready_by) in enumerate(departures):
            mine = np.flatnonzero(plan_out.session == i)
            rows = tuple(
                PlanSlot(
                    int(plan_out.start_s[j]),
                    int(plan_out.end_s[j]),
                    float(plan_out.power_w[j]),
                    float(plan_out.energy_kwh[j]),
                    float(price[plan_out.slot[j]]),
                    float(carbon[plan_out.slot[j]]),
                )
                for j in mine
            )
            results[plan.station_id] = PlanResult(
                plan.station_id,
                plan.plan_id,
                ready_by,
                float(targets[i]),
                float(plan_out.delivered_kwh[i]),
                bool(plan_out.meets_target[i]),
                float(plan_out.shortfall_kwh[i]),
                float(plan_out.cost_p[i]),
                float(plan_out.carbon_g[i]),
                rows,
                float(now),
            )
        self.results = results
        return results

    def _rated_w(self, station_id: str) -> float:
        state = self.gateway.stations.get(station_id)
        offered = None if state is None else state.offered_w
        return float(offered) if offered else DEFAULT_RATED_W

    def result_for(self, owner: str, station_id: str) -> PlanResult | None:
        self._mine(owner, station_id)
        if station_id not in self.results:
            self.plans_result()
        return self.results.get(station_id)

    # ---- driving the charge points ----------------------------------------------------------------

    async def drive(self) -> int:
        """Send each planned charge point in a transaction its current slot's power as a TxProfile
        (capped by the routine-DSR limit it replaces); clear it after the departure. Returns how
        many profiles were sent."""
        now = self.clock()
        sent = 0
        for station_id, result in self.results.items():
            state = self.gateway.stations.get(station_id)
            if state is None or state.link is None or state.transaction_id is None:
                continue
            power = result.power_at_w(now)
            if power is None:
                if station_id in self._driven:
                    await state.link.clear_charging_profile(PLAN_PROFILE_ID, None)
                    del self._driven[station_id]
                continue
            routine = self.gateway.book.station.get(station_id, {}).get(LimitSource.ROUTINE_DSR)
            if routine is not None and (routine[1] is None or routine[1] > now):
                power = min(power, routine[0].value_w)
            if abs(self._driven.get(station_id, -1.0) - power) <= 1.0:
                continue
            end = next((s.end_s for s in result.slots if s.start_s <= now < s.end_s), None)
            profile = ChargingProfile(
                PLAN_PROFILE_ID,
                0,
                ProfilePurpose.TX,
                round(power, 1),
                valid_to=datetime.fromtimestamp(end or result.ready_by_s, UTC),
                transaction_id=state.transaction_id,
            )
            status = await self.gateway.push_profile(station_id, profile)
            if status == "Accepted":
                self._driven[station_id] = power
                sent += 1
            else:
                logger.warning("%s refused its plan's TxProfile (%s)", station_id, status)
        return sent

    async def run(self, stop: asyncio.Event, period_s: float = 60.0) -> None:
        """Re-plan and drive every ``period_s`` (and so at every 15-minute slot edge) until ``stop``."""
        while not stop.is_set():
            try:
                self.plans_result()
                await self.drive()
            except Exception:  # one bad round must not stop the plans of every car
                logger.exception("planning round failed")
            try:
                await asyncio.wait_for(stop.wait(), period_s)
            except TimeoutError:
                pass


__all__ = [
    "HORIZON_SLOTS",
    "PLAN_PROFILE_ID",
    "SLOT_S",
    "CarbonSource",
    "ChargePlan",
    "NotYoursError",
    "Ownership",
    "OwnershipRegister",
    "PackagedCarbon",
    "PlanResult",
    "PlanService",
    "PlanSlot",
    "PriceSource",
    "TariffPrices",
    "check_plan",
]
