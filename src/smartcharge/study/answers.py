"""The answers to the study questions SQ-1 ... SQ-8 in plain words, from a study's results (issue 14 item 11).

Each answer carries its numbers, the interval over the seeds where the study has more than one,
and the case behind it (feeder, share of homes with an EV, tariff), so the report can open with
them. A question the study file gives no case for is answered with what would be needed, never
with a number from elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from smartcharge.study.cases import CaseResult
from smartcharge.study.hosting import HostingCapacity, InterventionShare, same_cell
from smartcharge.study.profile import peak_metrics


@dataclass(frozen=True, slots=True)
class Answer:
    key: str  # "SQ-1"
    question: str
    answer: str  # plain words with the numbers
    case: str  # the case behind it


QUESTIONS = {
    "SQ-1": "Which event must the randomised delay prevent, and does it limit the load that follows?",
    "SQ-2": "How wide a delay window is enough (600 s default, 1800 s capability)?",
    "SQ-3": "How far does simultaneous charging depart from the 50 % diversity design assumption?",
    "SQ-4": "Do cheap-window tariffs create a second peak, and what spreads it?",
    "SQ-5": "How much of grid stability rests on ancillary (response) DSR?",
    "SQ-6": "Are ancillary services cost-effective for the consumer?",
    "SQ-7": "How many smart charge points can a substation take before reinforcement, against dumb ones?",
    "SQ-8": "What is the carbon value of each smart-charging and flexibility model?",
}


def _case_text(r: CaseResult) -> str:
    c = r.case
    seeds = f"seed {c.seed}"
    return (
        f"feeder {c.feeder_key}, {c.penetration:.0%} of {r.n_households} homes with an EV "
        f"({r.n_ev} EVs), tariff {' + '.join(c.tariffs)}, {c.days} day(s) from {c.start:%Y-%m-%d}, {seeds}"
    )


def _by_delay(results: Sequence[CaseResult]) -> dict[int, CaseResult]:
    out: dict[int, CaseResult] = {}
    for r in results:
        cfg = dict(r.case.strategy_config)
        if r.case.strategy_key == "tariff_window_delay" and len(r.case.tariffs) == 1:
            out.setdefault(int(cfg.get("max_delay_s", 600)), r)
    return out


def sq1_sq2(second_peak: Sequence[CaseResult]) -> list[Answer]:
    delays = _by_delay(second_peak)
    if 0 not in delays or len(delays) < 2:
        missing = "the second_peak part needs tariff_window_delay cases with max_delay_s 0 and 600 or 1800"
        return [
            Answer("SQ-1", QUESTIONS["SQ-1"], f"Not studied: {missing}.", "-"),
            Answer("SQ-2", QUESTIONS["SQ-2"], f"Not studied: {missing}.", "-"),
        ]
    m = {d: peak_metrics(r) for d, r in sorted(delays.items())}
    base = m[0]
    others = [d for d in m if d > 0]
    steps = "; ".join(
        f"{d} s: {m[d].max_ramp_kw_per_min:.1f} kW/min "
        f"({m[d].max_ramp_kw_per_min / base.max_ramp_kw_per_min - 1:+.0%})"
        for d in others
    )
    peaks = ", ".join(f"{d} s: {m[d].peak_kw:.0f} kW" for d in m)
    sq1 = (
        f"The event is the step when every charge point switches together at the cheap window's edge: "
        f"with no delay the feeder's demand rises by {base.max_ramp_kw_per_min:.1f} kW in one minute. "
        f"A randomised delay softens that step ({steps}). The load that follows is not held down: the "
        f"peaks are {peaks}, so the delay spreads the edge, not the sustained level."
    )
    best = min(others, key=lambda d: m[d].max_ramp_kw_per_min)
    sq2 = (
        f"Counted events: starts and rises at a tariff edge (reg 11). The steepest one-minute rise falls "
        f"from {base.max_ramp_kw_per_min:.1f} kW/min with no delay to {steps}; the window that helps "
        f"most is {best} s. Overrides and exemptions (SCP-RD-4, SCP-RD-6) are not varied in this "
        f"study: the simulator's owner override applies only when a stay holds no allowed time."
    )
    case = _case_text(delays[0]) + " (one seed)"
    return [Answer("SQ-1", QUESTIONS["SQ-1"], sq1, case), Answer("SQ-2", QUESTIONS["SQ-2"], sq2, case)]


def sq3(profile: Sequence[CaseResult]) -> Answer:
    rows, above = [], []
    for r in profile:
        rated = float(r.extras.get("rated_ev_kw", float("nan")))
        if rated > 0:
            factor = r.ev_total_w.max() / 1e3 / rated
            rows.append(f"{r.case.strategy_label}: {factor:.0%}")
            if factor > 0.5:
                above.append(r.case.strategy_label)
    if not rows:
        return Answer("SQ-3", QUESTIONS["SQ-3"], "Not studied: no case at the highest penetration.", "-")
    verdict = (
        f"It exceeds the 50 % assumption under {', '.join(above)}, where the design assumption is not safe."
        if above
        else "None exceeds the 50 % assumption on this feeder and period; the highest shows how close "
        "a tariff edge brings the cars together."
    )
    text = (
        "The coincidence of EV charging (the EVs' peak over the sum of their chargers' rated power) is "
        f"{'; '.join(rows)}. {verdict}"
    )
    return Answer("SQ-3", QUESTIONS["SQ-3"], text, _case_text(profile[0]))


def sq4(profile: Sequence[CaseResult], second_peak: Sequence[CaseResult]) -> Answer:
    if not profile:
        return Answer("SQ-4", QUESTIONS["SQ-4"], "Not studied.", "-")
    peaks = {r.case.strategy_label: r.total_w.max() / 1e3 for r in profile}
    ref = peaks.get("uncontrolled")
    parts = [
        f"{k}: {v:.0f} kW"
        + (f" ({v / ref - 1:+.0%} against uncontrolled)" if ref and k != "uncontrolled" else "")
        for k, v in peaks.items()
    ]
    stagger = [r for r in second_peak if len(r.case.tariffs) > 1]
    single = _by_delay(second_peak).get(600)
    extra = ""
    if stagger and single is not None:
        a, b = peak_metrics(single), peak_metrics(stagger[0])
        extra = (
            f" Staggering homes across {len(stagger[0].case.tariffs)} tariffs' windows takes the peak from "
            f"{a.peak_kw:.0f} to {b.peak_kw:.0f} kW and the steepest rise from "
            f"{a.max_ramp_kw_per_min:.1f} to {b.max_ramp_kw_per_min:.1f} kW/min (same delay of 600 s)."
        )
    text = f"Feeder peak by strategy: {'; '.join(parts)}.{extra}"
    return Answer("SQ-4", QUESTIONS["SQ-4"], text, _case_text(profile[0]))


def sq5_sq6(second_peak: Sequence[CaseResult], cost: Sequence[CaseResult]) -> list[Answer]:
    dsr = [r for r in list(second_peak) + list(cost) if r.case.strategy_key == "dsr_turndown"]
    if not dsr:
        note = (
            "Not studied in this study file: it holds no dsr_turndown (response DSR) case. "
            "studies/full.yaml adds one; its answer comes from that run."
        )
        return [Answer("SQ-5", QUESTIONS["SQ-5"], note, "-"), Answer("SQ-6", QUESTIONS["SQ-6"], note, "-")]
    r = dsr[0]
    ref = next((x for x in second_peak if x.case.strategy_key == "uncontrolled"), None)
    m = peak_metrics(r)
    sq5 = f"Under a response-DSR turn-down the feeder peak is {m.peak_kw:.0f} kW"
    sq5 += f" against {peak_metrics(ref).peak_kw:.0f} kW uncontrolled." if ref is not None else "."
    sq6 = (
        f"Charging cost per EV under the DSR case: {r.cost_p_per_ev / 100:.2f} GBP over the period; "
        "payments for the service are not modelled, so its value to the consumer is the saving only."
    )
    return [
        Answer("SQ-5", QUESTIONS["SQ-5"], sq5, _case_text(r)),
        Answer("SQ-6", QUESTIONS["SQ-6"], sq6, _case_text(r)),
    ]


def _interval(h: HostingCapacity, grid: bool = False) -> str:
    lo, mid, hi = (
        (h.grid_only_min_evs, h.grid_only_median_evs, h.grid_only_max_evs)
        if grid
        else (h.min_evs, h.median_evs, h.max_evs)
    )
    censored = h.grid_only_censored if grid else h.censored
    prefix = "at least " if censored else ""
    if len(h.seeds) == 1:
        return f"{prefix}{lo}"
    return f"{prefix}{mid:g} (seeds: {lo}-{hi})"


_BASIS_WORDS = {
    "asked": "against the energy asked",
    "deliverable": "against what the stays could take at full charger power",
}


def sq7(
    hosting: Sequence[HostingCapacity],
    shares: Sequence[InterventionShare],
    named: set[str],
    threshold: float,
    other: tuple[str, Sequence[HostingCapacity]] | None = None,
) -> Answer:
    lines = []
    for feeder in dict.fromkeys(h.feeder for h in hosting if h.feeder in named):
        rows = [h for h in hosting if h.feeder == feeder]
        parts = ", ".join(f"{h.strategy} {_interval(h)} ({_beside(h, other)})" for h in rows)
        lines.append(f"{feeder} ({rows[0].n_households} homes): {parts}")
    text = (
        "Charge points hosted before a limit is breached or the cars get less than "
        f"{threshold:.0%} of their energy, median over seeds with the range: " + "; ".join(lines) + "."
    )
    if shares:
        top = max(s.penetration for s in shares)
        mid = sorted({s.penetration for s in shares})[len({s.penetration for s in shares}) // 2]
        cells = [
            f"{s.strategy} at {s.penetration:.0%}: {s.share:.0%} ({s.low:.0%}-{s.high:.0%})"
            for s in shares
            if s.penetration in (mid, top)
        ]
        text += (
            f" Across the {shares[0].n_feeders} drawn GB feeders, the share needing intervention "
            f"(range over seeds): {'; '.join(cells)}."
        )
    case = "every feeder x strategy x seed x penetration of the hosting part"
    return Answer("SQ-7", QUESTIONS["SQ-7"], text, case)


def _beside(h: HostingCapacity, other: tuple[str, Sequence[HostingCapacity]] | None) -> str:
    """The same feeder and strategy on the other service basis and on the network's limits alone."""
    grid = f"network limits alone: {_interval(h, grid=True)}"
    if other is None:
        return grid
    basis, rows = other
    o = same_cell(h, rows)
    return grid if o is None else f"service {_BASIS_WORDS[basis]}: {_interval(o)}; {grid}"


def sq8(cost: Sequence[CaseResult]) -> Answer:
    if not cost:
        return Answer("SQ-8", QUESTIONS["SQ-8"], "Not studied: the study file has no cost part.", "-")
    per_kwh = {
        r.case.strategy_label: r.carbon_g_per_ev / r.energy_delivered_kwh_per_ev
        for r in cost
        if r.energy_delivered_kwh_per_ev > 0
    }
    best = min(per_kwh, key=per_kwh.__getitem__)
    worst = max(per_kwh, key=per_kwh.__getitem__)
    parts = "; ".join(f"{k}: {v:.0f} g/kWh" for k, v in per_kwh.items())
    text = (
        f"Carbon intensity of the charging energy (GB grid, half-hourly): {parts}. The lowest is {best}, "
        f"{1 - per_kwh[best] / per_kwh[worst]:.0%} below {worst}."
    )
    return Answer("SQ-8", QUESTIONS["SQ-8"], text, _case_text(cost[0]) + " (one seed)")


def study_answers(
    profile: Sequence[CaseResult],
    second_peak: Sequence[CaseResult],
    cost: Sequence[CaseResult],
    hosting: Sequence[HostingCapacity],
    shares: Sequence[InterventionShare],
    named_feeders: set[str],
    threshold: float,
    other_basis: tuple[str, Sequence[HostingCapacity]] | None = None,
) -> list[Answer]:
    out = sq1_sq2(second_peak)
    out += [sq3(profile), sq4(profile, second_peak)]
    out += sq5_sq6(second_peak, cost)
    out += [sq7(hosting, shares, named_feeders, threshold, other_basis), sq8(cost)]
    return out


def median_interval(values: Sequence[float]) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=float)
    return float(np.median(v)), float(v.min()), float(v.max())


__all__ = ["QUESTIONS", "Answer", "median_interval", "study_answers"]
