"""A whole study: check every input, run the cases on Dask, analyse, write the report.

:func:`prepare` does everything that can fail on bad input (feeder names, network data, tariff
ids, limits) before a single task is submitted (issue 5, "Bad input").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from smartcharge.core.errors import ValidationError
from smartcharge.core.tariff import get_tariff
from smartcharge.grid.crosscheck import cross_check
from smartcharge.grid.feeders import get_feeder
from smartcharge.grid.limits import GridLimits
from smartcharge.grid.network import LVNetwork
from smartcharge.grid.population import population_summary
from smartcharge.grid.reduction import reduce_network
from smartcharge.sim.behaviour import load_calibration
from smartcharge.sim.strategies import build_config
from smartcharge.study.answers import study_answers
from smartcharge.study.cases import Case, CaseResult, household_loads, phase_loads_of
from smartcharge.study.checkpoint import Checkpoint
from smartcharge.study.config import FeederSpec, StrategySpec, StudyConfig
from smartcharge.study.hosting import hosting_capacity, intervention_shares, seed_hosting
from smartcharge.study.loads import Fleet, LoadProvider, fleet_loads
from smartcharge.study.network_aware import network_aware_config
from smartcharge.study.report import ReportInputs, calibration_html, write_report
from smartcharge.study.sweep import Progress, run_cases

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedStudy:
    config: StudyConfig
    limits: GridLimits
    networks: dict[str, LVNetwork]
    cases: list[Case]


def feeder_fleet(config: StudyConfig, feeder: FeederSpec) -> Fleet:
    """The feeder's cars and homes: its own ``ev:``, ``behaviour:``, ``homes:`` or the study's."""
    mix = (feeder.ev or config.ev).car_mix()
    return Fleet(
        behaviour=feeder.behaviour or config.behaviour,
        homes=feeder.homes or config.homes,
        charger_power_mix_w=mix.power_w,
        battery_kwh_mix=mix.battery_kwh,
        phase_shares=mix.phase_shares,
        energy_scale=mix.energy_scale,
        max_fill=mix.max_fill,
    )


def prepare(config: StudyConfig) -> PreparedStudy:
    """Validate everything and list the cases; raises before any power flow on bad input."""
    limits = GridLimits(config.limits.v_min_v, config.limits.v_max_v, config.limits.thermal_fraction)
    networks = {f.key: get_feeder(f.name, **f.params) for f in config.all_feeders()}
    strategies = list(config.strategies)
    strategies += config.second_peak.strategies if config.second_peak else []
    strategies += config.cost.strategies if config.cost else []
    for s in strategies:
        for tariff in s.tariffs:
            get_tariff(tariff)
        if s.key == "network_aware":
            network_aware_config(dict(s.config))  # the study's own strategy checks its settings
            if len(s.tariffs) != 1:
                raise ValidationError(
                    f"strategy {s.label}.tariffs", s.tariffs, "network_aware takes one tariff"
                )
        else:
            build_config(s.key, s.config)  # the simulator's own check: unknown or bad settings are named
    cases: list[Case] = []

    def add(part: str, feeder: FeederSpec, strategy: StrategySpec, penetration: float, seed: int) -> None:
        cases.append(
            Case(
                index=len(cases),
                part=part,
                feeder_key=feeder.key,
                feeder_name=feeder.name,
                feeder_params=tuple(sorted(feeder.params.items())),
                strategy_label=strategy.label,
                strategy_key=strategy.key,
                tariffs=tuple(strategy.tariffs),
                strategy_config=tuple(sorted(strategy.config.items())),
                group_cap_w=strategy.group_cap_w,
                penetration=penetration,
                seed=seed,
                start=config.start,
                days=config.days,
                step_s=config.step_s,
                limits=(limits.v_min_v, limits.v_max_v, limits.thermal_fraction),
                fleet=feeder_fleet(config, feeder),
            )
        )

    for feeder in config.all_feeders():
        for strategy in config.strategies:
            for seed in config.seeds:
                for penetration in config.penetrations:
                    add("hosting", feeder, strategy, penetration, seed)
    by_key = {f.key: f for f in config.all_feeders()}
    if config.second_peak is not None:
        for strategy in config.second_peak.strategies:
            add(
                "second_peak",
                by_key[config.second_peak.feeder],
                strategy,
                config.second_peak.penetration,
                config.seeds[0],
            )
    if config.cost is not None:
        for strategy in config.cost.strategies:
            add("cost", by_key[config.cost.feeder], strategy, config.cost.penetration, config.seeds[0])
    log.info("study %s: %d feeders, %d cases", config.name, len(networks), len(cases))
    return PreparedStudy(config=config, limits=limits, networks=networks, cases=cases)


def network_rows(prepared: PreparedStudy, provider: LoadProvider) -> list[dict[str, object]]:
    """Per feeder: size, reduced size, ratings, and the pandapower cross-check on the busiest steps.

    The cross-check runs on the reduced feeder, which ``tests/grid`` shows gives the full feeder's
    customer voltages and section currents; the full feeder is cross-checked in the tests.
    """
    rows: list[dict[str, object]] = []
    config = prepared.config
    # Cross-check the named feeders and the first three of a population (pandapower is slow to build).
    population = config.population.feeders() if config.population else []
    skip_check = {f.key for f in population[3:]}
    for key, net in prepared.networks.items():
        reduced = reduce_network(net).network
        row: dict[str, object] = {
            "feeder": key,
            "buses": net.n_bus,
            "buses_after_exact_reduction": reduced.n_bus,
            "customers": net.n_load,
            "transformer_kva": round(net.transformer.sn_va / 1e3),
            "smallest_cable_rating_a": round(float(net.i_max_a.min())),
        }
        if config.crosscheck_steps > 0 and key not in skip_check:
            case = next(
                c for c in prepared.cases if c.feeder_key == key and c.penetration == config.penetrations[-1]
            )
            loads = household_loads(case, net.n_load, provider, net.load_phase)
            p, q = phase_loads_of(loads, net)
            busiest = np.sort(np.argsort(p.sum(axis=(1, 2)))[-config.crosscheck_steps :])
            # The reduced feeder is exactly equivalent (tests/grid) and keeps the study quick.
            check = cross_check(reduced, p, q, busiest)
            row["pgm_vs_pandapower_max_voltage_gap_pct"] = f"{check.max_rel_diff * 100:.4f}"
        rows.append(row)
    return rows


def run_study(
    config: StudyConfig,
    out_dir: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    provider: LoadProvider = fleet_loads,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
) -> Path:
    """Run the study and write the report; returns the report's path. With a ``checkpoint``,
    the groups it holds are read back and the others written to it as they finish."""
    prepared = prepare(config)
    networks = network_rows(prepared, provider)
    results = run_cases(
        prepared.cases,
        workers=config.workers if workers is None else workers,
        scheduler=scheduler,
        provider=provider,
        progress=progress,
        keep_series=charted_cases(prepared),
        checkpoint=checkpoint,
    )
    return write_results(prepared, results, networks, out_dir)


def charted_cases(prepared: PreparedStudy) -> frozenset[int]:
    """The indexes of the cases whose series the report draws: the second-peak and cost cases, and
    the profile cases (first feeder, highest penetration, first seed); the others are kept slim."""
    config = prepared.config
    profile = (config.all_feeders()[0].key, config.penetrations[-1], config.seeds[0])
    return frozenset(
        c.index
        for c in prepared.cases
        if c.part != "hosting" or (c.feeder_key, c.penetration, c.seed) == profile
    )


def write_results(
    prepared: PreparedStudy,
    results: list[CaseResult],
    networks: list[dict[str, object]],
    out_dir: Path,
    notice: str = "",
) -> Path:
    """Analyse the results and write the report; ``notice`` opens it (an interim report's coverage)."""
    config = prepared.config
    hosting = [r for r in results if r.case.part == "hosting"]
    charted = charted_cases(prepared)
    profile_cases = [r for r in hosting if r.case.index in charted]
    basis, threshold = config.service_basis, config.min_energy_served
    capacity = hosting_capacity(hosting, prepared.limits, threshold, basis)
    # Both service bases are reported (the same runs): against the energy asked, a stay too short
    # for its charger fails every strategy alike; against what the stays could take, only what a
    # strategy held back counts.
    other_basis = "deliverable" if basis == "asked" else "asked"
    capacity_other = hosting_capacity(hosting, prepared.limits, threshold, other_basis)
    second_peak = [r for r in results if r.case.part == "second_peak"]
    cost = [r for r in results if r.case.part == "cost"]
    population_keys = {f.key for f in config.population.feeders()} if config.population else set()
    shares = (
        intervention_shares(hosting, prepared.limits, threshold, population_keys, basis)
        if population_keys
        else []
    )
    population_rows: list[dict[str, object]] = []
    if config.population is not None:
        summary = population_summary(config.population.count, config.population.seed)
        population_rows = [
            {"quantity": k.replace("_", " "), "value": round(v, 1)} for k, v in summary.items()
        ]
    named = {f.key for f in config.feeders}
    inputs = ReportInputs(
        title=f"Grid impact study: {config.name}",
        config_text=yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False),
        network_rows=networks,
        hosting=capacity,
        hosting_seeds=seed_hosting(hosting, prepared.limits, threshold, basis),
        profile_cases=profile_cases,
        second_peak=second_peak,
        cost=cost,
        v_min_v=prepared.limits.v_min_v,
        v_max_v=prepared.limits.v_max_v,
        days=config.days,
        answers=study_answers(
            profile_cases,
            second_peak,
            cost,
            capacity,
            shares,
            named or set(population_keys),
            threshold,
            (other_basis, capacity_other),
        ),
        hosting_other=(other_basis, capacity_other),
        intervention=shares,
        population_rows=population_rows,
        min_energy_served=threshold,
        service_basis=basis,
        notice=notice,
        calibration_html=calibration_html(
            load_calibration(), list(dict.fromkeys(c.fleet.behaviour for c in prepared.cases))
        ),
    )
    return write_report(inputs, out_dir)


__all__ = [
    "PreparedStudy",
    "charted_cases",
    "feeder_fleet",
    "network_rows",
    "prepare",
    "run_study",
    "write_results",
]
