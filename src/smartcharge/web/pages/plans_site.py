"""The plan page (owner) and the site page (site manager): they call the planner's and the site's
services (:mod:`smartcharge.cem.plans`, :mod:`smartcharge.cem.site`), as their API routes do."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from smartcharge.cem.owner import OwnerService
from smartcharge.cem.plans import SLOT_S, ChargePlan, PlanService, PlanSlot
from smartcharge.core.errors import ValidationError
from smartcharge.core.localtime import GB_TZ
from smartcharge.policy.ready_by import WEEKDAYS
from smartcharge.web.auth import Role, get_services
from smartcharge.web.pages.common import PageUser, page_user, read_form, render, see_other

router = APIRouter(include_in_schema=False)
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The chart shows the next 36 hours (within the 24-48 h the plan page promises).
CHART_SLOTS = 36 * 3600 // SLOT_S


def _plans(request: Request) -> PlanService:
    plans = get_services(request).plans
    if plans is None:
        raise ValidationError("plans", None, "this CEM runs no planner")
    return plans


def _describe(plan: ChargePlan) -> dict[str, Any]:
    if plan.recurring:
        minute = int(plan.ready_by_local_min or 0)
        when = f"{minute // 60:02d}:{minute % 60:02d}"
        days = ", ".join(DAY_NAMES[d] for d in plan.weekdays)
    else:
        when = datetime.fromtimestamp(int(plan.ready_by_s or 0), GB_TZ).strftime("%a %d %b %H:%M")
        days = ""
    target = (
        f"{plan.target_kwh:g} kWh"
        if plan.target_kwh is not None
        else f"{(plan.target_soc or 0) * 100:.0f} % of {plan.battery_kwh:g} kWh"
    )
    return {
        "plan_id": plan.plan_id,
        "recurring": plan.recurring,
        "days": days,
        "when": when,
        "target": target,
    }


def _axes(plans: PlanService) -> tuple[Any, list[str], list[float]]:
    """The chart's slots, their labels and carbon: the same for every charge point on the page."""
    now = int(plans.clock())
    start = now - now % SLOT_S
    slot_start = start + SLOT_S * np.arange(CHART_SLOTS, dtype=np.int64)
    labels = [datetime.fromtimestamp(int(t), GB_TZ).strftime("%a %H:%M") for t in slot_start]
    carbon = [round(float(c), 1) for c in plans.carbon.carbon(slot_start, SLOT_S)]
    return slot_start, labels, carbon


def _power_by_slot(planned: tuple[PlanSlot, ...]) -> dict[int, float]:
    """Planned power keyed by the start of the grid slot it falls in. The slot in progress is
    planned from *now*, not from its start, so keying by a stretch's own start would drop it."""
    return {s.start_s - s.start_s % SLOT_S: s.power_w for s in planned}


def _chart(
    plans: PlanService, station_id: str, result: Any, axes: tuple[Any, list[str], list[float]]
) -> dict[str, Any]:
    slot_start, labels, carbon = axes
    price = plans.prices.prices(station_id, slot_start, SLOT_S)
    power = _power_by_slot(result.slots if result is not None else ())
    title = "Price and carbon, next 36 h"
    if result is not None:
        ready = datetime.fromtimestamp(result.ready_by_s, GB_TZ).strftime("%a %H:%M")
        title = f"Plan for {station_id}: ready by {ready}"
    return {
        "labels": labels,
        # Most charge points of a fleet have no plan: their power row is all zeros.
        "power_kw": [round(power.get(t, 0.0) / 1000, 3) for t in slot_start.tolist()]
        if power
        else [0.0] * len(slot_start),
        "price_p": [round(p, 2) for p in price.tolist()],
        "carbon_g": carbon,
        "title": title,
    }


def _items(plans: PlanService, owners: OwnerService, owner: str) -> list[dict[str, Any]]:
    """Each charge point's plans, result and chart. The owner's records are read once and the
    planner's ownership and tariff look-ups answered from them (three reads per charge point,
    600 for a fleet of 200, were most of the page's time)."""
    records = owners.owned(owner)
    axes = _axes(plans)
    items = []
    with owners.reading(records):
        for record in records:
            sid = record.station_id
            result = plans.result_for(owner, sid)
            items.append(
                {
                    "cp": sid,
                    "plans": [_describe(p) for p in plans.owned_plans(owner, sid)],
                    "result": result,
                    "ready_by": None if result is None else datetime.fromtimestamp(result.ready_by_s, UTC),
                    "chart": _chart(plans, sid, result, axes),
                    "hours": CHART_SLOTS * SLOT_S // 3600,
                }
            )
    return items


async def _plans_page(request: Request, user: PageUser, status: int = 200, **context: Any) -> Response:
    services = get_services(request)
    plans = _plans(request)
    assert services.owners is not None
    items = await asyncio.to_thread(_items, plans, services.owners, user.principal.name)
    base: dict[str, Any] = {"change_errors": {}, "change_values": {}}
    base.update(context)
    return render(
        request,
        "plans.html",
        user,
        status,
        title="Plans",
        nav="plans",
        items=items,
        weekdays=list(zip(WEEKDAYS, DAY_NAMES, strict=True)),
        **base,
    )


@router.get("/plans", response_class=HTMLResponse)
async def plans_page(request: Request) -> Response:
    """Each charge point's plan for the next 24-48 h over price and carbon bars, its ready-by time
    and whether it will be met; the plans, to change or delete; a form for a new one."""
    user = await page_user(request, Role.OWNER)
    return await _plans_page(request, user)


def _number(form: dict[str, str], name: str, scale: float = 1.0) -> float | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw) * scale
    except ValueError:
        raise ValidationError(name, raw, "a number") from None


def _plan_fields(form: dict[str, str]) -> dict[str, Any]:
    """The form's fields as the plan service takes them (the API's PlanIn, by another road)."""
    kind = form.get("kind", "one_off")
    time_text = form.get("ready_by_time", "").strip()
    if len(time_text) != 5 or time_text[2] != ":" or not (time_text[:2] + time_text[3:]).isdigit():
        raise ValidationError("ready_by", time_text, "a local time HH:MM")
    minute = int(time_text[:2]) * 60 + int(time_text[3:])
    fields: dict[str, Any] = {"station_id": form.get("station_id", ""), "recurring": kind == "recurring"}
    if kind == "recurring":
        fields["weekdays"] = tuple(i for i, d in enumerate(WEEKDAYS) if form.get(f"weekday_{d}"))
        fields["ready_by_local_min"] = minute
    else:
        date_text = form.get("ready_by_date", "").strip()
        try:
            day = datetime.strptime(date_text, "%Y-%m-%d")
        except ValueError:
            raise ValidationError("ready_by", date_text, "a date for a plan once (YYYY-MM-DD)") from None
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=GB_TZ)
        fields["ready_by_s"] = int(local.timestamp())
    soc = _number(form, "target_soc", 0.01)
    fields["target_kwh"] = _number(form, "target_kwh")
    if soc is not None:
        fields["target_soc"] = soc
        fields["battery_kwh"] = _number(form, "battery_kwh")
    return fields


def _field_of(error: ValidationError) -> str:
    return {"ready_by_local": "ready_by", "ready_by_s": "ready_by"}.get(error.field, error.field)


@router.post("/plans", response_class=HTMLResponse)
async def plan_create(request: Request) -> Response:
    user = await page_user(request, Role.OWNER)
    form = await read_form(request, user)
    plans = _plans(request)
    try:
        plans.create(user.principal.name, **_plan_fields(form))
    except ValidationError as error:
        return await _plans_page(request, user, 422, errors={_field_of(error): error.rule}, values=form)
    return see_other("/plans")


@router.post("/plans/{plan_id}/change", response_class=HTMLResponse)
async def plan_change(request: Request, plan_id: str) -> Response:
    user = await page_user(request, Role.OWNER)
    form = await read_form(request, user)
    plans = _plans(request)
    try:
        target = _number(form, "target_kwh")
        if target is None:
            raise ValidationError("target_kwh", "", "give the new energy wanted in kWh")
        plans.change(user.principal.name, plan_id, target_kwh=target, target_soc=None, battery_kwh=None)
    except ValidationError as error:
        return await _plans_page(
            request,
            user,
            422,
            change_errors={plan_id: f"{error.field}: {error.rule}"},
            change_values={plan_id: form.get("target_kwh", "")},
        )
    return see_other("/plans")


@router.post("/plans/{plan_id}/delete", response_class=HTMLResponse)
async def plan_delete(request: Request, plan_id: str) -> Response:
    user = await page_user(request, Role.OWNER)
    await read_form(request, user)
    try:
        _plans(request).delete(user.principal.name, plan_id)
    except ValidationError as error:
        return await _plans_page(request, user, 404, form_error=f"{error.field}: {error.rule}")
    return see_other("/plans")


# ---- site -----------------------------------------------------------------------------------------


@router.get("/site", response_class=HTMLResponse)
async def site_page(request: Request) -> Response:
    """Circuits with their limits and live load, priorities, the meter's state and age, and the
    fail-safe state (report 7.21, SCN-WRK), for the site manager."""
    user = await page_user(request, Role.SITE_MANAGER)
    site = get_services(request).site
    described = None if site is None else site.describe()
    share_of: dict[str, Any] = {}
    load_w: dict[str, float] = {}
    if described is not None:
        # Each charge point's share and each circuit's load, looked up once here: matching them
        # in the template was a pass over every share per charge point (200 x 200 tests).
        share_of = {s["station_id"]: s for s in described["shares"]}
        circuit_of = {cp["station_id"]: cp["circuit_id"] for cp in described["charge_points"]}
        for share in described["shares"]:
            circuit = circuit_of.get(share["station_id"])
            if circuit is not None:
                load_w[circuit] = load_w.get(circuit, 0.0) + share["power_w"]
    return render(
        request, "site.html", user, title="Site", nav="site", site=described, share_of=share_of, load_w=load_w
    )


__all__ = ["router"]
