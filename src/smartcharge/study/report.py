"""The study report: one self-contained HTML file (plotly's JavaScript inlined) plus CSV tables.

Nothing in the page is fetched from the network: the plotting library is embedded once and every
figure is drawn from data in the page. Sections (each an ``<section id=...>``) are listed in
:data:`SECTIONS`; the quick study's test checks that every one is present.
"""

from __future__ import annotations

import csv
import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from smartcharge.study.answers import Answer
from smartcharge.study.cases import CaseResult
from smartcharge.study.hosting import HostingCapacity, InterventionShare, SeedHosting, same_cell
from smartcharge.study.profile import (
    cheap_intervals,
    daily_envelope,
    daily_profile,
    load_duration,
    peak_metrics,
)

log = logging.getLogger(__name__)

SECTIONS = {
    "answers": "Answers to the study questions (SQ-1 to SQ-8)",
    "hosting-capacity": "Hosting capacity by strategy, with service quality",
    "population": "GB feeder population: share of feeders needing intervention",
    "daily-profiles": "Daily demand profiles with tariff windows",
    "load-duration": "Load-duration curves",
    "diversity": "Diversity curve (after-diversity maximum demand)",
    "second-peak": "Second peak: randomised delay and staggered windows",
    "voltage-envelopes": "Customer voltage envelopes",
    "cost-carbon": "Charging cost and carbon per consumer",
    "appendix-method": "Appendix A: method and limits of the study",
    "appendix-data": "Appendix B: data and calibration",
    "appendix-networks": "Appendix C: networks and the power-flow cross-check",
    "appendix-config": "Appendix D: the study file",
}

#: Readable column headers with units for the HTML tables (the CSV files keep the short keys).
LABELS = {
    "feeder": "Feeder",
    "strategy": "Strategy",
    "households": "Homes",
    "hosted_evs_median": "Charge points hosted (median)",
    "hosted_evs_range": "Range over seeds",
    "grid_only_evs_median": "Network limits alone (median)",
    "grid_only_evs_range": "Range over seeds (network only)",
    "first_failure": "What failed first",
    "seeds": "Seeds",
    "seed": "Seed",
    "hosting_charge_points": "Charge points hosted",
    "grid_only_charge_points": "Network limits alone",
    "hosting_penetration": "Hosted share of homes",
    "first_breach_penetration": "First failing share",
    "served_share_at_capacity": "Energy served at capacity",
    "tariffs": "Tariff(s)",
    "peak_kw": "Peak (kW)",
    "peak_to_mean": "Peak / mean",
    "max_rise_kw_per_min": "Steepest rise (kW/min)",
    "lowest_customer_v": "Lowest customer voltage (V)",
    "evs": "EVs",
    "charging_cost_gbp_per_ev_per_year": "Cost (GBP per EV per year)",
    "charging_carbon_kg_per_ev_per_year": "Carbon (kg CO2 per EV per year)",
    "carbon_g_per_kwh": "Carbon (g CO2/kWh)",
    "energy_kwh_per_ev_per_year": "Energy (kWh per EV per year)",
    "unserved_kwh": "Energy not delivered (kWh)",
    "penetration": "Homes with an EV",
    "share_needing_intervention": "Feeders needing intervention",
    "share_low": "Lowest over seeds",
    "share_high": "Highest over seeds",
    "n_feeders": "Feeders",
    "buses": "Buses",
    "buses_after_exact_reduction": "Buses after reduction",
    "customers": "Customers",
    "transformer_kva": "Transformer (kVA)",
    "smallest_cable_rating_a": "Smallest cable rating (A)",
    "pgm_vs_pandapower_max_voltage_gap_pct": "power-grid-model vs pandapower, largest voltage gap (%)",
    "behaviour": "Behaviour table",
    "owners_fit_held_back": "Owners fit / held back",
    "quantity": "Quantity",
    "ks_sim_vs_held_back": "KS D, simulated vs held back",
    "ks_fit_vs_held_back": "KS D, fit vs held back",
    "median_sim": "Median, simulated",
    "median_held_back": "Median, held back",
}

#: The calibration quantities in the order the report lists them, with readable names and units.
CALIBRATION_QUANTITIES = {
    "plug_in_duration_h": "plug-in time (h)",
    "energy_per_stay_kwh": "energy per stay (kWh)",
    "stays_per_week": "stays per week in use",
    "energy_per_week_kwh": "energy per week in use (kWh)",
    "arrival_hour": "arrival hour (local)",
    "departure_hour": "departure hour (local)",
}


def calibration_html(calibration: dict[str, Any], behaviours: Sequence[str] = ()) -> str:
    """Appendix B's calibration table (issue 14 item 2) from ``sim.load_calibration()``: per
    behaviour the study uses (all when none is named) and quantity, the Kolmogorov-Smirnov
    distance of the simulated chains to the held-back owners and of the fit part to them."""
    entries = calibration.get("behaviours", {})
    names = [b for b in behaviours if b in entries] or list(entries)
    rows = []
    for name in names:
        entry = entries[name]
        for key, quantity in CALIBRATION_QUANTITIES.items():
            check = entry["checks"].get(key)
            if check is None:
                continue
            rows.append(
                {
                    "behaviour": name,
                    "owners_fit_held_back": f"{entry['owners_fit']} / {entry['owners_held_out']}",
                    "quantity": quantity,
                    "ks_sim_vs_held_back": f"{check['ks_sim_vs_held_out']:.3f}",
                    "ks_fit_vs_held_back": f"{check['ks_fit_vs_held_out']:.3f}",
                    "median_sim": f"{check['median_sim']:.2f}",
                    "median_held_back": f"{check['median_held_out']:.2f}",
                }
            )
    method = html.escape(str(calibration.get("method", "")))
    return (
        "<h3 id='calibration'>Calibration: the simulator against owners it was not fitted on</h3>"
        f"<p>{method}. Stays and energy per week are per week in use (absences over a week left out), "
        "measured alike on the data and the simulated cars (docs/sim.md).</p>" + _table(rows)
    )


@dataclass(frozen=True)
class ReportInputs:
    title: str
    config_text: str
    network_rows: list[dict[str, Any]]
    hosting: list[HostingCapacity]
    hosting_seeds: list[SeedHosting]
    profile_cases: list[CaseResult]  # one per strategy, for the daily/load-duration/envelope plots
    second_peak: list[CaseResult]
    cost: list[CaseResult]
    v_min_v: float
    v_max_v: float
    days: int
    answers: list[Answer] = field(default_factory=list)
    intervention: list[InterventionShare] = field(default_factory=list)
    population_rows: list[dict[str, Any]] = field(default_factory=list)
    calibration_html: str = "<p>(no calibration figures were given to the report)</p>"
    min_energy_served: float = 0.99
    service_basis: str = "asked"
    #: The hosting capacity on the other service basis (same runs), shown beside the first.
    hosting_other: tuple[str, list[HostingCapacity]] | None = None
    #: Shown above the answers: what an interim report (a study part-way through) covers.
    notice: str = ""


def write_report(inputs: ReportInputs, out_dir: Path) -> Path:
    """Write ``report.html`` and the CSV tables into ``out_dir``; return the HTML path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = _tables(inputs)
    for name, rows in tables.items():
        _write_csv(out_dir / f"{name}.csv", rows)
    service = (
        f"A penetration counts as hosted only if every limit holds at every step and the cars get at least "
        f"{inputs.min_energy_served:.0%} of the energy "
        + (
            "they ask for by departure."
            if inputs.service_basis == "asked"
            else "their stays could take at full charger power (service basis: deliverable)."
        )
    )
    body = [
        _section("answers", _answers_html(inputs.answers)),
        _section(
            "hosting-capacity",
            f"<p>{html.escape(service)}</p>"
            + _figure(_hosting_figure(inputs.hosting))
            + _table(tables["hosting_capacity"]),
        ),
        _section("population", _population_html(inputs, tables)),
        _section("daily-profiles", _figure(_daily_figure(inputs.profile_cases))),
        _section("load-duration", _figure(_duration_figure(inputs.profile_cases))),
        _section("diversity", _figure(_diversity_figure(inputs.profile_cases))),
        _section(
            "second-peak",
            _figure(_daily_figure(inputs.second_peak)) + _table(tables["second_peak"]),
        ),
        _section("voltage-envelopes", _figure(_envelope_figure(inputs.profile_cases, inputs))),
        _section("cost-carbon", _table(tables["cost_carbon"])),
        _section("appendix-method", _METHOD),
        _section("appendix-data", _DATA + inputs.calibration_html),
        _section("appendix-networks", _table(inputs.network_rows) + _table(tables["hosting_by_seed"])),
        _section("appendix-config", f"<pre>{html.escape(inputs.config_text)}</pre>"),
    ]
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(inputs.title)}</title><style>{_CSS}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>"
        f"<h1>{html.escape(inputs.title)}</h1>{_notice_html(inputs.notice)}"
        + "".join(body)
        + "</body></html>"
    )
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    log.info("report written: %s (%d bytes)", path.name, len(page))
    return path


def _notice_html(notice: str) -> str:
    return f"<p class='notice' id='interim'>{html.escape(notice)}</p>" if notice else ""


def _answers_html(answers: Sequence[Answer]) -> str:
    items = "".join(
        f"<div class='answer' id='{a.key.lower()}'><h3>{a.key}: {html.escape(a.question)}</h3>"
        f"<p>{html.escape(a.answer)}</p><p class='case'>Case: {html.escape(a.case)}</p></div>"
        for a in answers
    )
    return items or "<p>(no answers: the study produced no results)</p>"


def _population_html(inputs: ReportInputs, tables: dict[str, list[dict[str, Any]]]) -> str:
    if not inputs.intervention:
        return "<p>This study file has no feeder population (study file: <code>population:</code>).</p>"
    return (
        _table(inputs.population_rows)
        + _figure(_intervention_figure(inputs.intervention))
        + _table(tables["intervention"])
    )


def _other_basis_cells(inputs: ReportInputs, h: HostingCapacity) -> dict[str, str]:
    if inputs.hosting_other is None:
        return {}
    basis, rows = inputs.hosting_other
    o = same_cell(h, rows)
    if o is None:
        return {}
    return {
        f"hosted_evs_{basis}_basis_median": f"{'>=' if o.censored else ''}{o.median_evs:g}",
        f"hosted_evs_{basis}_basis_range": f"{o.min_evs}-{o.max_evs}",
    }


def _tables(inputs: ReportInputs) -> dict[str, list[dict[str, Any]]]:
    per_year = 365.0 / inputs.days
    hosting = [
        {
            "feeder": h.feeder,
            "strategy": h.strategy,
            "households": h.n_households,
            "hosted_evs_median": f"{'>=' if h.censored else ''}{h.median_evs:g}",
            "hosted_evs_range": f"{h.min_evs}-{h.max_evs}",
            "grid_only_evs_median": f"{'>=' if h.grid_only_censored else ''}{h.grid_only_median_evs:g}",
            "grid_only_evs_range": f"{h.grid_only_min_evs}-{h.grid_only_max_evs}",
            **_other_basis_cells(inputs, h),
            "first_failure": h.binding_limit,
            "seeds": len(h.seeds),
        }
        for h in inputs.hosting
    ]
    seeds = [
        {
            "feeder": s.feeder,
            "strategy": s.strategy,
            "seed": s.seed,
            "hosting_charge_points": s.hosting_evs,
            "grid_only_charge_points": s.grid_only_evs,
            "hosting_penetration": s.hosting_penetration,
            "first_breach_penetration": ""
            if s.first_breach_penetration is None
            else s.first_breach_penetration,
            "first_failure": s.first_failure,
            "served_share_at_capacity": round(s.served_share_at_capacity, 3),
        }
        for s in inputs.hosting_seeds
    ]
    intervention = [
        {
            "strategy": s.strategy,
            "penetration": s.penetration,
            "share_needing_intervention": round(s.share, 3),
            "share_low": round(s.low, 3),
            "share_high": round(s.high, 3),
            "n_feeders": s.n_feeders,
            "seeds": s.n_seeds,
        }
        for s in inputs.intervention
    ]
    second = []
    for r in inputs.second_peak:
        m = peak_metrics(r)
        second.append(
            {
                "strategy": r.case.strategy_label,
                "tariffs": " + ".join(r.case.tariffs),
                "peak_kw": round(m.peak_kw, 1),
                "peak_to_mean": round(m.peak_to_mean, 2),
                "max_rise_kw_per_min": round(m.max_ramp_kw_per_min, 2),
                "lowest_customer_v": round(m.u_min_v, 1),
            }
        )
    cost = [
        {
            "strategy": r.case.strategy_label,
            "tariffs": " + ".join(r.case.tariffs),
            "evs": r.n_ev,
            "charging_cost_gbp_per_ev_per_year": round(r.cost_p_per_ev / 100 * per_year, 2),
            "charging_carbon_kg_per_ev_per_year": round(r.carbon_g_per_ev / 1000 * per_year, 1),
            "carbon_g_per_kwh": round(r.carbon_g_per_ev / max(r.energy_delivered_kwh_per_ev, 1e-9), 0),
            "energy_kwh_per_ev_per_year": round(r.energy_delivered_kwh_per_ev * per_year, 0),
            "unserved_kwh": round(r.unserved_kwh, 1),
        }
        for r in inputs.cost
    ]
    return {
        "hosting_capacity": hosting,
        "hosting_by_seed": seeds,
        "intervention": intervention,
        "second_peak": second,
        "cost_carbon": cost,
    }


def _daily_figure(results: Sequence[CaseResult]) -> go.Figure:
    fig = go.Figure()
    marked: set[tuple[float, float]] = set()
    for r in results:
        minute, mean_w = daily_profile(r.time_s, r.total_w)
        fig.add_trace(go.Scatter(x=minute / 60, y=mean_w / 1e3, name=r.case.strategy_label, mode="lines"))
        for tariff in r.case.tariffs:
            for span in cheap_intervals(tariff, r.time_s):
                if span not in marked:
                    marked.add(span)
                    fig.add_vrect(
                        x0=span[0] / 60, x1=span[1] / 60, fillcolor="green", opacity=0.08, line_width=0
                    )
    fig.update_layout(
        xaxis_title="local time (h); shaded: cheap tariff windows", yaxis_title="mean feeder demand (kW)"
    )
    return fig


def _duration_figure(results: Sequence[CaseResult]) -> go.Figure:
    fig = go.Figure()
    for r in results:
        share, kw = load_duration(r.total_w / 1e3)
        fig.add_trace(go.Scatter(x=share, y=kw, name=r.case.strategy_label, mode="lines"))
    fig.update_layout(xaxis_title="share of time (%)", yaxis_title="feeder demand (kW)")
    return fig


def _diversity_figure(results: Sequence[CaseResult]) -> go.Figure:
    fig = go.Figure()
    for r in results:
        n = np.arange(1, r.diversity_kw.size + 1)
        fig.add_trace(go.Scatter(x=n, y=r.diversity_kw, name=r.case.strategy_label, mode="lines"))
    fig.update_layout(
        xaxis_title="number of households", yaxis_title="after-diversity maximum demand (kW/household)"
    )
    return fig


def _hosting_figure(hosting: Sequence[HostingCapacity]) -> go.Figure:
    fig = go.Figure()
    for feeder in dict.fromkeys(h.feeder for h in hosting):
        rows = [h for h in hosting if h.feeder == feeder]
        fig.add_trace(
            go.Bar(
                x=[h.strategy for h in rows],
                y=[h.median_evs for h in rows],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [h.max_evs - h.median_evs for h in rows],
                    "arrayminus": [h.median_evs - h.min_evs for h in rows],
                },
                name=feeder,
            )
        )
    fig.update_layout(
        barmode="group",
        yaxis_title="charge points hosted (median; bars: range over seeds)",
    )
    return fig


def _intervention_figure(shares: Sequence[InterventionShare]) -> go.Figure:
    fig = go.Figure()
    for strategy in dict.fromkeys(s.strategy for s in shares):
        rows = [s for s in shares if s.strategy == strategy]
        fig.add_trace(
            go.Scatter(
                x=[s.penetration * 100 for s in rows],
                y=[s.share * 100 for s in rows],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [(s.high - s.share) * 100 for s in rows],
                    "arrayminus": [(s.share - s.low) * 100 for s in rows],
                },
                name=strategy,
                mode="lines+markers",
            )
        )
    fig.update_layout(
        xaxis_title="homes with an EV (%)",
        yaxis_title="feeders needing intervention (%; bars: range over seeds)",
    )
    return fig


def _envelope_figure(results: Sequence[CaseResult], inputs: ReportInputs) -> go.Figure:
    fig = go.Figure()
    for r in results:
        minute, lo, hi = daily_envelope(r.time_s, r.summary.u_min_v, r.summary.u_max_v)
        fig.add_trace(go.Scatter(x=minute / 60, y=lo, name=f"{r.case.strategy_label} lowest", mode="lines"))
        fig.add_trace(go.Scatter(x=minute / 60, y=hi, name=f"{r.case.strategy_label} highest", mode="lines"))
    fig.add_hline(y=inputs.v_min_v, line_dash="dash", annotation_text="216.2 V (230 V -6 %)")
    fig.add_hline(y=inputs.v_max_v, line_dash="dash", annotation_text="253 V (230 V +10 %)")
    fig.update_layout(xaxis_title="local time (h)", yaxis_title="customer voltage (V)")
    return fig


def _figure(fig: go.Figure) -> str:
    return str(fig.to_html(full_html=False, include_plotlyjs=False))


def _section(key: str, content: str) -> str:
    return f"<section id='{key}'><h2>{html.escape(SECTIONS[key])}</h2>{content}</section>"


def label(key: str) -> str:
    """A readable header with its unit for a table column (issue 14 item 11)."""
    return LABELS.get(key, key.replace("_", " ").capitalize())


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>(no rows)</p>"
    head = "".join(f"<th>{html.escape(label(str(k)))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>" for r in rows
    )
    return f"<div class='table'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        if not rows:
            return
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


_CSS = (
    "body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
    ".table{max-width:100%;overflow-x:auto}"
    "table{border-collapse:collapse;margin:1em 0;font-size:0.85em;max-width:100%}"
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
    "th{white-space:normal;vertical-align:bottom;max-width:9em}"
    ".answer{border-left:4px solid #2a6;padding:0 1em;margin:1em 0}.case{color:#555;font-size:0.9em}"
    ".notice{border:2px solid #c80;background:#fff6e0;padding:0.6em 1em}"
    "pre{background:#f6f6f6;padding:1em;overflow:auto;white-space:pre-wrap}"
)

_DATA = """
<p>EV stays, energies and charger powers come from the fleet simulator and its packaged behaviour tables
(Norwegian home charging, Scottish public AC, US workplaces; see
src/smartcharge/data/behaviour/PROVENANCE.md);
household base load from the Low Carbon London smart-meter trial; carbon intensity from the NESO
national half-hourly series for 2023; tariffs from the packaged GB tariff table. The GB feeder
population is drawn from published statistics of Electricity North West's LV networks (see
grid/population.py and docs/study.md for the figures and their sources).</p>
"""

_METHOD = """
<p>Households and EVs come from the fleet simulator (issue 4), which applies the GB Smart Charge Point
rules (SCP Regs 2021 reg 10 default hours, reg 11 randomised delay) through the same policy functions
as the live charge point. Each household is a single-phase customer on the phase and bus the feeder data
gives it; its charger follows the study file's mix (<code>ev:</code>, per feeder or for the study): a
single-phase charger (up to 7.4 kW) sits on the home's phase, an 11 or 22 kW three-phase charger draws a
third of its power on each phase at the home's bus, and the power flow is given every phase's load.
Every step is an asymmetric (sequence-coupled) Newton-Raphson power flow in power-grid-model on an
exactly reduced feeder (series sections without customers merged, dead-end spurs dropped; the same
customer voltages and section currents as the full feeder), cross-checked against pandapower's
three-phase power flow on sampled steps.</p>
<p>Limits: customer voltage 230 V +10 % / -6 % (ESQCR 2002) at every customer's connection point on its
phase; each cable section's current against its rating in the network data; the transformer's LV phase
current against its rated current. The hosting capacity is the number of charge points at the last
penetration below the first one at which any limit is breached at any step; it is only as fine as the
penetration grid and only as long as the simulated period (a short winter period in the quick study).</p>
<p>Not modelled: the MV network and tap changers, voltage regulation, heat pumps and solar, thermal time
constants (a one-minute overload counts as a breach), household reactive power beyond a fixed 0.95
lagging power factor. See docs/study.md.</p>
"""


__all__ = [
    "CALIBRATION_QUANTITIES",
    "LABELS",
    "SECTIONS",
    "ReportInputs",
    "calibration_html",
    "label",
    "write_report",
]
