"""Run a scenario end to end: data, population, strategy, chunks, outputs, summary.

Every input is loaded and checked before the first session is drawn, so a bad scenario or a
missing data file fails before any work. Outputs in ``out_dir``:

- ``transformer_series.parquet`` (and ``feeder_series.parquet``): long tables of
  ``time_s, <id>, ev_w, base_w`` per step (step-mean watts, UTC epoch seconds), with
  ``ev_l1_w .. ev_l3_w`` per phase when ``outputs.phase_series``;
- ``per_ev.parquet``: per EV energy wanted and delivered, unmet by cause, cost and carbon;
- ``sessions.parquet``: one row per stay (car, arrive, leave, energy asked and delivered, cause of
  any shortfall, the strategy's charging stretches), issue 14 item 10;
- CSV copies when the run is small (``outputs.csv: auto``) or asked for;
- ``summary.json``: the metrics (see :mod:`smartcharge.sim.metrics`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from smartcharge.core.localtime import epoch_s_from_datetime
from smartcharge.core.tariff import get_tariff
from smartcharge.core.units import FloatArray
from smartcharge.sim.behaviour import (
    BEHAVIOURS,
    SessionBehaviour,
    load_base_demand,
    load_carbon,
    load_session_behaviour,
    read_session_behaviour,
)
from smartcharge.sim.engine import TAIL_S, Chunk, Setup, chunk_rng, simulate
from smartcharge.sim.fleet import THREE_PHASE, Fleet, build_fleet
from smartcharge.sim.load import accumulate_boxes
from smartcharge.sim.metrics import DiversityCurve, GroupMetrics, near_tariff_edge
from smartcharge.sim.population import group_base_w, place_households, profile_counts
from smartcharge.sim.scenario import Scenario, behaviour_path, load_scenario, parse_scenario
from smartcharge.sim.strategies import REGISTRY, UNMET_CAUSES, StrategyContext, build_config

log = logging.getLogger(__name__)

CSV_AUTO_MAX_ROWS = 300_000
Progress = Callable[[int, int], None]


def _behaviours(scenario: Scenario, base_dir: Path | None) -> tuple[list[SessionBehaviour], list[int]]:
    tables: dict[str, SessionBehaviour] = {}
    index = []
    for feeder in scenario.feeders:
        if feeder.behaviour not in tables:
            if feeder.behaviour in BEHAVIOURS:
                tables[feeder.behaviour] = load_session_behaviour(feeder.behaviour)
            else:
                tables[feeder.behaviour] = read_session_behaviour(behaviour_path(feeder.behaviour, base_dir))
        index.append(list(tables).index(feeder.behaviour))
    return list(tables.values()), index


def run_scenario(
    scenario: Scenario | Path | str | dict[str, Any], out_dir: Path | str, progress: Progress | None = None
) -> dict[str, Any]:
    """Simulate ``scenario`` and write its outputs to ``out_dir``; return the summary dict."""
    wall = time.perf_counter()
    base_dir: Path | None = None
    if isinstance(scenario, str | Path):
        base_dir = Path(scenario).parent
        scenario = load_scenario(Path(scenario))
    elif isinstance(scenario, dict):
        scenario = parse_scenario(scenario)
    out = Path(out_dir)
    tariff = get_tariff(scenario.tariff_id)
    config = build_config(scenario.strategy, scenario.strategy_config)
    behaviours, feeder_behaviour = _behaviours(scenario, base_dir)
    base, carbon = load_base_demand(), load_carbon()
    out.mkdir(parents=True, exist_ok=True)

    feeders = scenario.feeders
    n_groups = len(feeders)
    transformer_of = np.array(
        [t for t, tr in enumerate(scenario.transformers) for _ in tr.feeders], dtype=np.int64
    )
    n_households = np.array([f.households for f in feeders], dtype=np.int64)
    setup_rng = chunk_rng(scenario.seed, -1)
    households, owner = place_households(
        n_households,
        np.array([f.ev_penetration for f in feeders]),
        base,
        scenario.seed,
        tuple(f.homes for f in feeders),
    )
    group = households.group[owner]
    vehicle_behaviour = np.asarray(feeder_behaviour, dtype=np.int64)[group]
    fleet = build_fleet(
        group, owner, vehicle_behaviour, tuple(behaviours), scenario.car_mixes(), scenario.seed
    )
    counts = profile_counts(base, households, n_groups)
    no_homes = np.array([f.base_load != "homes" for f in feeders])
    counts[no_homes] = 0.0
    office_w = np.array([(f.site_peak_kw or 0.0) * 1000.0 for f in feeders])
    start_s = epoch_s_from_datetime(scenario.start)
    start_s -= start_s % scenario.step_s
    n_steps = scenario.days * 86_400 // scenario.step_s
    context = StrategyContext(
        tariff=tariff,
        start_s=start_s - (scenario.warm_up_days + 1) * 86_400,
        end_s=start_s + n_steps * scenario.step_s + TAIL_S,
        carbon=carbon,
        n_groups=n_groups,
        group_cap_w=_group_caps(scenario, n_households),
        group_base_w=lambda t: group_base_w(base, counts, t, office_w),
    )
    setup = Setup(
        start_s=start_s,
        n_steps=n_steps,
        step_s=scenario.step_s,
        fleet=fleet,
        vehicle_behaviour=vehicle_behaviour,
        behaviours=tuple(behaviours),
        planner=REGISTRY[scenario.strategy].prepare(config, context),
        tariff=tariff,
        carbon=carbon,
        seed=scenario.seed,
        warm_up_days=scenario.warm_up_days,
        chunk_days=scenario.chunk_days,
    )
    log.info(
        "scenario %s: %d households, %d EVs, %d steps", scenario.name, households.size, fleet.size, n_steps
    )

    n_tr = len(scenario.transformers)
    feeder_metrics, tr_metrics = GroupMetrics(n_groups, scenario.step_s), GroupMetrics(n_tr, scenario.step_s)
    n_sample = min(scenario.outputs.diversity_sample_evs, fleet.size)
    sample = (
        np.sort(setup_rng.choice(fleet.size, n_sample, replace=False)) if n_sample else np.zeros(0, np.int64)
    )
    sample_pos = np.full(fleet.size, -1, dtype=np.int64)
    sample_pos[sample] = np.arange(n_sample)
    diversity = DiversityCurve(n_sample)
    per_ev = np.zeros((6, fleet.size))
    sessions_per_ev = np.zeros(fleet.size, dtype=np.int64)
    # Feeders are numbered transformer by transformer, so each transformer is a run of columns.
    tr_first = np.searchsorted(transformer_of, np.arange(n_tr))
    writers: dict[str, pq.ParquetWriter] = {}
    holdback = REGISTRY[scenario.strategy].holdback_cause
    by_phase = scenario.outputs.phase_series
    total_chunks = len(range(0, scenario.days + scenario.warm_up_days + 2, scenario.chunk_days))
    feeder_ids = np.array([f.id for f in feeders])
    tr_ids = np.array([t.id for t in scenario.transformers])
    try:
        for done, chunk in enumerate(simulate(setup), start=1):
            v = chunk.sessions.vehicle
            for row, values in enumerate(
                (
                    chunk.sessions.energy_kwh,
                    chunk.delivered_kwh,
                    chunk.cost_p,
                    chunk.carbon_g,
                    chunk.unmet_short_kwh,
                    chunk.unmet_strategy_kwh,
                )
            ):
                per_ev[row] += np.bincount(v, weights=values, minlength=fleet.size)
            sessions_per_ev += np.bincount(v, minlength=fleet.size)
            if scenario.outputs.sessions:
                _write_sessions(writers, out / "sessions.parquet", chunk, fleet, feeder_ids, holdback)
            if chunk.n_steps:
                grid0 = start_s + chunk.first_step * scenario.step_s
                times = grid0 + scenario.step_s * np.arange(chunk.n_steps, dtype=np.int64)
                grid = (grid0, chunk.n_steps, scenario.step_s)
                phase_g = ev_by_phase(chunk, fleet, group, n_groups, grid) if by_phase else None
                ev_g = (
                    phase_g.sum(axis=2)
                    if phase_g is not None
                    else accumulate_boxes(
                        chunk.start_s, chunk.end_s, chunk.power_w, group[chunk.vehicle], n_groups, *grid
                    )
                )
                base_g = group_base_w(base, counts, times, office_w)
                near = near_tariff_edge(tariff, times)
                feeder_metrics.update(ev_g, base_g, near)
                ev_t = np.add.reduceat(ev_g, tr_first, axis=1)
                base_t = np.add.reduceat(base_g, tr_first, axis=1)
                tr_metrics.update(ev_t, base_t, near)
                phase_t = np.add.reduceat(phase_g, tr_first, axis=1) if phase_g is not None else None
                _write(
                    writers,
                    out / "transformer_series.parquet",
                    times,
                    "transformer",
                    tr_ids,
                    ev_t,
                    base_t,
                    phase_t,
                )
                if scenario.outputs.feeder_series:
                    _write(
                        writers,
                        out / "feeder_series.parquet",
                        times,
                        "feeder",
                        feeder_ids,
                        ev_g,
                        base_g,
                        phase_g,
                    )
                # The (T, G) series are done with: free them before the sample's series and the
                # next chunk (at a million EVs each is ~0.3 GB).
                del ev_g, base_g, phase_g, ev_t, base_t, phase_t
                if n_sample:
                    in_sample = sample_pos[chunk.vehicle] >= 0
                    ev_s = accumulate_boxes(
                        chunk.start_s[in_sample],
                        chunk.end_s[in_sample],
                        chunk.power_w[in_sample],
                        sample_pos[chunk.vehicle[in_sample]],
                        n_sample,
                        grid0,
                        chunk.n_steps,
                        scenario.step_s,
                    )
                    diversity.update(ev_s)
                    del ev_s
            del chunk  # not held while the next chunk is planned
            if progress is not None:
                progress(min(done, total_chunks), total_chunks)
    finally:
        for writer in writers.values():
            writer.close()
    per_ev_frame = pd.DataFrame(
        {
            "ev": np.arange(fleet.size),
            "feeder": feeder_ids[group] if fleet.size else np.array([], dtype=str),
            "household": owner,
            "charger_kw": fleet.power_w / 1000.0,
            "phase": np.array(["L1", "L2", "L3", "3ph"])[fleet.phase],
            "battery_kwh": fleet.battery_kwh,
            "sessions": sessions_per_ev,
            "energy_wanted_kwh": per_ev[0],
            "energy_delivered_kwh": per_ev[1],
            "cost_p": per_ev[2],
            "carbon_g": per_ev[3],
            **_cause_columns(per_ev[4], per_ev[5], holdback),
        }
    )
    if scenario.outputs.per_ev:
        per_ev_frame.to_parquet(out / "per_ev.parquet", index=False)
    summary = _summary(
        scenario, fleet, n_households, transformer_of, feeder_metrics, tr_metrics, diversity, per_ev
    )
    summary["unmet_energy_by_cause_kwh"] = {
        cause: float(per_ev[4].sum())
        if cause == "stay_too_short"
        else float(per_ev[5].sum())
        if cause == holdback
        else 0.0
        for cause in UNMET_CAUSES
    }
    summary["run"] = {
        "wall_s": round(time.perf_counter() - wall, 3),
        "vehicle_steps": int(fleet.size) * n_steps,
    }
    _write_csv(scenario, out, n_steps * n_groups)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    log.info("scenario %s done in %.1f s", scenario.name, summary["run"]["wall_s"])
    return summary


def _group_caps(scenario: Scenario, n_households: np.ndarray) -> FloatArray:
    """Feeder caps; a transformer cap is shared among its feeders by household count (documented)."""
    caps = []
    for tr in scenario.transformers:
        total = sum(f.households for f in tr.feeders)
        for f in tr.feeders:
            share = np.inf if tr.cap_kw is None else tr.cap_kw * 1000.0 * f.households / total
            own = np.inf if f.cap_kw is None else f.cap_kw * 1000.0
            caps.append(min(share, own))
    return np.asarray(caps, dtype=np.float64)


def ev_by_phase(
    chunk: Chunk, fleet: Fleet, group: np.ndarray, n_groups: int, grid: tuple[int, int, int]
) -> FloatArray:
    """EV load per group and phase, (T, G, 3): a single-phase charger on its phase, a three-phase
    charger balanced (a third of its power on each)."""
    phase = fleet.phase[chunk.vehicle]
    three = phase == THREE_PHASE
    col = group[chunk.vehicle] * 3 + np.where(three, 0, phase)
    starts = np.concatenate([chunk.start_s, np.repeat(chunk.start_s[three], 2)])
    ends = np.concatenate([chunk.end_s, np.repeat(chunk.end_s[three], 2)])
    power = np.where(three, chunk.power_w / 3.0, chunk.power_w)
    power = np.concatenate([power, np.repeat(chunk.power_w[three] / 3.0, 2)])
    extra = np.repeat(group[chunk.vehicle][three] * 3, 2) + np.tile([1, 2], int(three.sum()))
    cols = np.concatenate([col, extra])
    per = accumulate_boxes(starts, ends, power, cols, n_groups * 3, *grid)
    out: FloatArray = per.reshape(per.shape[0], n_groups, 3)
    return out


def _cause_columns(
    short: FloatArray, held: FloatArray, holdback: str, dtype: type = np.float64
) -> dict[str, np.ndarray]:
    """``unmet_<cause>_kwh`` for every cause (zeros for the causes this strategy cannot have)."""
    return {
        f"unmet_{cause}_kwh": (
            short if cause == "stay_too_short" else held if cause == holdback else np.zeros_like(held)
        ).astype(dtype)
        for cause in UNMET_CAUSES
    }


def _write_sessions(
    writers: dict[str, pq.ParquetWriter],
    path: Path,
    chunk: Chunk,
    fleet: Fleet,
    feeder_ids: np.ndarray,
    holdback: str,
) -> None:
    """One row per stay plugged in inside the horizon (issue 14, item 10)."""
    s = chunk.sessions
    held = chunk.unmet_strategy_kwh
    cause = np.where(chunk.unmet_short_kwh > 1e-3, "stay_too_short", np.where(held > 0, holdback, "met"))
    groups = fleet.group[s.vehicle]
    table = pa.table(
        {
            "ev": s.vehicle.astype(np.int64),
            "household": fleet.household[s.vehicle],
            "feeder": pa.DictionaryArray.from_arrays(groups.astype(np.int32), pa.array(feeder_ids)),
            "stay": chunk.stay_number.astype(np.int64),
            "arrive_s": s.plugin_s.astype(np.int64),
            "leave_s": s.plugout_s.astype(np.int64),
            "charger_kw": (fleet.power_w[s.vehicle] / 1000.0).astype(np.float32),
            "energy_asked_kwh": s.energy_kwh.astype(np.float32),
            "energy_delivered_kwh": chunk.delivered_kwh.astype(np.float32),
            **_cause_columns(chunk.unmet_short_kwh, held, holdback, np.float32),
            "cause": pa.array(cause).dictionary_encode(),
            "first_charge_s": chunk.first_charge_s,
            "last_charge_s": chunk.last_charge_s,
            "power_changes": chunk.power_changes.astype(np.int32),
            "cost_p": chunk.cost_p.astype(np.float32),
        }
    )
    if str(path) not in writers:
        writers[str(path)] = pq.ParquetWriter(path, table.schema)
    writers[str(path)].write_table(table)


def _write(
    writers: dict[str, pq.ParquetWriter],
    path: Path,
    times: np.ndarray,
    key: str,
    ids: np.ndarray,
    ev: FloatArray,
    base_w: FloatArray,
    phase_w: FloatArray | None = None,
) -> None:
    n_t, n_g = ev.shape
    columns = {
        "time_s": np.repeat(times, n_g),
        key: pa.DictionaryArray.from_arrays(np.tile(np.arange(n_g, dtype=np.int32), n_t), pa.array(ids)),
        "ev_w": ev.ravel().astype(np.float32),
        "base_w": base_w.ravel().astype(np.float32),
    }
    if phase_w is not None:
        for p in range(3):
            columns[f"ev_l{p + 1}_w"] = phase_w[:, :, p].ravel().astype(np.float32)
    table = pa.table(columns)
    if str(path) not in writers:
        writers[str(path)] = pq.ParquetWriter(path, table.schema)
    writers[str(path)].write_table(table)


def _write_csv(scenario: Scenario, out: Path, rows: int) -> None:
    mode = scenario.outputs.csv
    if mode == "never" or (mode == "auto" and rows > CSV_AUTO_MAX_ROWS):
        return
    for name in ("transformer_series", "feeder_series", "per_ev", "sessions"):
        path = out / f"{name}.parquet"
        if path.exists():
            pd.read_parquet(path).to_csv(out / f"{name}.csv", index=False)


def _summary(
    scenario: Scenario,
    fleet: Fleet,
    n_households: np.ndarray,
    transformer_of: np.ndarray,
    feeder_metrics: GroupMetrics,
    tr_metrics: GroupMetrics,
    diversity: DiversityCurve,
    per_ev: np.ndarray,
) -> dict[str, Any]:
    evs = np.bincount(fleet.group, minlength=n_households.size)
    rated = np.bincount(fleet.group, weights=fleet.power_w, minlength=n_households.size)
    feeders = {
        f.id: feeder_metrics.row(g, int(n_households[g]), int(evs[g]), float(rated[g]))
        for g, f in enumerate(scenario.feeders)
    }
    transformers = {}
    for t, tr in enumerate(scenario.transformers):
        sel = transformer_of == t
        transformers[tr.id] = tr_metrics.row(
            t, int(n_households[sel].sum()), int(evs[sel].sum()), float(rated[sel].sum())
        )
    wanted, delivered, cost, grams = (float(x.sum()) for x in per_ev[:4])
    return {
        "scenario": scenario.name,
        "strategy": scenario.strategy,
        "strategy_config": scenario.strategy_config,
        "tariff_id": scenario.tariff_id,
        "start": scenario.start.isoformat(),
        "days": scenario.days,
        "step_s": scenario.step_s,
        "seed": scenario.seed,
        "households": int(n_households.sum()),
        "evs": int(fleet.size),
        "energy_wanted_kwh": wanted,
        "energy_delivered_kwh": delivered,
        "unmet_energy_kwh": wanted - delivered,
        "unmet_share": (wanted - delivered) / wanted if wanted else 0.0,
        "cost_per_ev_p": cost / fleet.size if fleet.size else 0.0,
        "cost_per_kwh_p": cost / delivered if delivered else 0.0,
        "carbon_g_per_kwh_charged": grams / delivered if delivered else 0.0,
        "transformers": transformers,
        "feeders": feeders,
        "diversity_curve": diversity.curve(),
    }


__all__ = ["run_scenario"]
