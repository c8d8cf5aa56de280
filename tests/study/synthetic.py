"""A small, seeded stand-in for the fleet simulator, for unit tests of the sweep machinery only.

It has the shape of ``sim.HouseholdSeries`` and reacts to penetration, tariff window and
randomised delay, so hosting-capacity and determinism tests have real signal. The end-to-end
quick-study test uses the real fleet simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.localtime import epoch_s_from_datetime, local_fields
from smartcharge.core.tariff import get_tariff
from smartcharge.study.loads import LoadRequest

EV_W = 7000.0


@dataclass(frozen=True)
class SyntheticLoads:
    time_s: np.ndarray
    base_w: np.ndarray
    ev_w: np.ndarray
    has_ev: np.ndarray
    energy_wanted_kwh: np.ndarray
    energy_delivered_kwh: np.ndarray
    cost_p: np.ndarray
    carbon_g: np.ndarray


def synthetic_loads(req: LoadRequest) -> SyntheticLoads:
    steps = req.days * 86_400 // req.step_s
    time_s = epoch_s_from_datetime(req.start) + np.arange(steps, dtype=np.int64) * req.step_s
    minute = local_fields(time_s).minute_of_day
    rng = np.random.default_rng(req.seed)
    h = req.n_households
    evening = ((minute >= 17 * 60) & (minute < 20 * 60)).astype(float)
    base_w = (300.0 + 700.0 * evening)[:, None] * rng.uniform(0.6, 1.4, h)[None, :]
    has_ev = np.zeros(h, dtype=bool)
    has_ev[rng.permutation(h)[: int(round(req.ev_penetration * h))]] = True
    tariff = get_tariff(req.tariff_id)
    cheap = tariff.is_offpeak(time_s)
    if req.strategy == "uncontrolled":
        start_min = 18 * 60 + rng.normal(0, 45, h)
    else:
        first = minute[np.argmax(cheap)] if cheap.any() else 0
        start_min = first + rng.uniform(0, float(req.strategy_config.get("max_delay_s", 0)) / 60, h)
    duration_min = rng.uniform(60, 240, h)
    rel = (minute[:, None] - start_min[None, :]) % 1440
    ev_w = np.where((rel < duration_min[None, :]) & has_ev[None, :], EV_W, 0.0)
    hours = req.step_s / 3600
    energy = ev_w.sum(axis=0) * hours / 1e3
    price = tariff.price_p_per_kwh(time_s)
    return SyntheticLoads(
        time_s=time_s,
        base_w=base_w,
        ev_w=ev_w,
        has_ev=has_ev,
        energy_wanted_kwh=energy,
        energy_delivered_kwh=energy,
        cost_p=(ev_w * price[:, None]).sum(axis=0) * hours / 1e3,
        carbon_g=energy * 150.0,
    )


def failing_loads(req: LoadRequest) -> SyntheticLoads:
    """:func:`synthetic_loads`, but the fleet of seed 2 at half penetration raises (a broken case)."""
    if req.seed // 1000 == 2 and req.ev_penetration == 0.5:  # a run seed is case seed * 1000 + k
        raise RuntimeError("a broken case")
    return synthetic_loads(req)
