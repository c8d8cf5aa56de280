"""A population of parametric GB LV feeders, drawn from published GB LV network statistics (issue 14 item 8).

The three shipped real feeders cannot say what share of GB feeders needs intervention. This module
draws as many feeders as a study asks for, each fully determined by ``(population_seed, index)``,
so a study file names them as ``{name: gb_lv, params: {index: 17}}`` or expands a whole
population (``study/config.py: population``). What is drawn, and from what:

- **Customers per feeder and feeders per substation.** 25 real LV networks of Electricity North
  West hold 128 feeders and about 8,500 customers (A. Navarro-Espinosa and L. F. Ochoa,
  "Probabilistic impact assessment of low carbon technologies in LV distribution systems",
  IEEE Trans. Power Systems 31(3), 2016): about 5 feeders per substation and 66 customers per
  feeder. The clustering of 232 residential feeders of the same DNO (V. Rigoni et al.,
  "Representative residential LV feeders: a case study for the North West of England", IEEE
  Trans. Power Systems 31(1), 2016) shows the spread: from a handful to a few hundred customers,
  with total cable length the other main discriminator. Drawn here: customers ~ lognormal with
  median 55 and shape 0.6, clipped to 8..250; feeders per substation 2..8 around 5.
- **Transformer sizes.** GB ground-mounted 11/0.433 kV units come in 315, 500, 800 and 1000 kVA
  (ENA TS 35-1 ratings; the ENWL "Low Voltage Network Solutions" closedown report, 2014, monitored
  ~200 such substations). Each drawn substation gets the smallest of these that carries its
  customers at a design ADMD of 1.5 kVA each, one size larger for 30 % of them (this sizing rule
  is this module's assumption, not a published distribution). Impedance 4.75 % and copper loss
  1 % of rating (typical TS 35-1 values).
  Only the feeder under study is modelled: it gets a *share* of the transformer (same per-unit
  impedance) in proportion to its own coincident peak against the substation's: a group of m
  homes on one phase peaks at m x D(m), with D(m) = 0.561 + 3.712 / sqrt(m) kW per home (a
  Velander-type curve fitted to the packaged Low Carbon London homes' after-diversity maximum
  demand for random groups of 3 to 75, within 0.05 kW). So when the feeder's phases peak, its
  share is loaded as the whole transformer is when the substation peaks. The share once went by
  the customer count alone (the substation's diversity, about 0.85 kW per home at 500 homes, for a
  feeder of 28 homes, about 1.8 kW per home on each phase), so small feeders on large
  substations overloaded their share on base load alone (docs/study.md).
- **Cables and lengths.** GB LV mains are aluminium CNE "Waveform" cables (BS 7870-3.40); the
  sizes drawn are 300, 185 and 95 mm2 with typical manufacturer impedances and buried ratings
  (approximate; see :data:`CABLES`), zero sequence r0 = 4 r1, x0 = 4 x1 as for the other feeders.
  The main runs the first part of the feeder in a larger size, laterals (1..3) in a smaller one.
  Route length ~ lognormal, median 250 m, shape 0.5, clipped to 60..1,200 m; customers are spaced
  evenly along the route; service cables are not modelled.
- **Source voltage.** At no load a GB busbar sits near 433 V line to line (250 V to neutral),
  3 V under the 253 V limit; many DNOs now run lower. Drawn: half at 1.00 pu (250 V), half one
  2.5 % tap lower (243.8 V).

Everything drawn is in :class:`FeederDraw`, and ``smartcharge study feeders`` can print it; the
numbers above are the whole model, to be replaced by a DNO's own statistics when available.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.grid.network import LVNetwork, Source, Transformer

#: (r1 ohm/km, x1 ohm/km, rating A) for Waveform Al CNE cable (typical data-sheet values, approximate)
CABLES: dict[int, tuple[float, float, float]] = {
    300: (0.100, 0.073, 385.0),
    185: (0.164, 0.074, 290.0),
    95: (0.320, 0.076, 200.0),
}
TRANSFORMER_KVA = (315, 500, 800, 1000)
#: Design after-diversity maximum demand per customer used to size the drawn transformer: GB
#: design ADMDs for homes without electric heating are of the order of 1-2 kVA (an assumption here).
DESIGN_ADMD_KVA = 1.5
TRANSFORMER_UK = 0.0475
TRANSFORMER_PK_SHARE = 0.01
#: D(m) = A + B / sqrt(m) kW: after-diversity maximum demand per home of m homes, fitted to the
#: packaged LCL homes (sim/data lcl_base_w.npz; mean over 200 random groups of m = 3..75).
DIVERSITY_A_KW = 0.561
DIVERSITY_B_KW = 3.712
LV_NO_LOAD_V = 433.0
HV_V = 11_000.0
MAX_POPULATION = 10_000


@dataclass(frozen=True, slots=True)
class FeederDraw:
    """The drawn description of one population feeder."""

    index: int
    population_seed: int
    customers: int
    feeders_on_transformer: int
    substation_customers: int
    transformer_kva: int
    route_m: float
    main_mm2: int
    lateral_mm2: int
    n_laterals: int
    main_share: float  # share of the route on the main cable
    u_ref_pu: float
    first_phase: int

    @property
    def transformer_share_va(self) -> float:
        """The feeder's share of its transformer: its coincident per-phase peak against the
        substation's (see the module docstring), at most the whole rating."""
        feeder = self.customers * admd_kw(self.customers / 3)
        substation = self.substation_customers * admd_kw(self.substation_customers / 3)
        return float(self.transformer_kva * 1e3 * min(feeder / substation, 1.0))


def admd_kw(homes: float) -> float:
    """After-diversity maximum demand per home of a group of ``homes`` (kW, the fitted D(m))."""
    return DIVERSITY_A_KW + DIVERSITY_B_KW / float(np.sqrt(max(homes, 1.0)))


def draw_feeder(index: int, population_seed: int = 1) -> FeederDraw:
    """Draw feeder ``index`` of population ``population_seed`` (the same on every machine)."""
    if not 0 <= index < MAX_POPULATION:
        raise ValidationError("gb_lv.index", index, f"must be 0..{MAX_POPULATION - 1}")
    rng = np.random.default_rng([int(population_seed), int(index), 20_14])
    customers = int(np.clip(round(55 * np.exp(0.6 * rng.standard_normal())), 8, 250))
    feeders = int(np.clip(rng.poisson(5.0), 2, 8))
    siblings = np.clip(np.round(55 * np.exp(0.6 * rng.standard_normal(feeders - 1))), 8, 250)
    substation = customers + int(siblings.sum())
    # Sized to the substation's customers at a design ADMD, then one size up for 30 % of them.
    fits = [k for k in TRANSFORMER_KVA if k >= substation * DESIGN_ADMD_KVA]
    step = int(rng.random() < 0.3)
    choice = TRANSFORMER_KVA.index(fits[0]) + step if fits else len(TRANSFORMER_KVA) - 1
    kva = TRANSFORMER_KVA[min(choice, len(TRANSFORMER_KVA) - 1)]
    route = float(np.clip(250 * np.exp(0.5 * rng.standard_normal()), 60.0, 1200.0))
    main = int(rng.choice((300, 185), p=(0.6, 0.4)))
    lateral = 185 if main == 300 and rng.random() < 0.5 else 95
    return FeederDraw(
        index=int(index),
        population_seed=int(population_seed),
        customers=customers,
        feeders_on_transformer=feeders,
        substation_customers=substation,
        transformer_kva=kva,
        route_m=round(route, 1),
        main_mm2=main,
        lateral_mm2=lateral,
        n_laterals=int(rng.integers(1, 4)),
        main_share=float(rng.uniform(0.3, 0.7)),
        u_ref_pu=float(rng.choice((1.0, 0.975))),
        first_phase=int(rng.integers(0, 3)),
    )


def gb_lv(index: int = 0, population_seed: int = 1, u_ref_pu: float | None = None) -> LVNetwork:
    """Build population feeder ``index``; ``u_ref_pu`` overrides the drawn source voltage."""
    d = draw_feeder(index, population_seed)
    n = d.customers
    # Customers evenly along the route; the first main_share of them on the main, the rest split
    # over the laterals, each lateral leaving the main at its far end.
    span_km = d.route_m / n / 1000
    n_main = max(1, int(round(n * d.main_share)))
    bus_name = ["HV", "LV busbar"]
    line_from: list[int] = []
    line_to: list[int] = []
    size: list[int] = []
    load_bus: list[int] = []
    parent = 1
    for c in range(n_main):
        bus_name.append(f"main-{c}")
        line_from.append(parent)
        line_to.append(len(bus_name) - 1)
        size.append(d.main_mm2)
        parent = len(bus_name) - 1
        load_bus.append(parent)
    junction = parent
    rest = np.array_split(np.arange(n - n_main), d.n_laterals)
    for k, members in enumerate(rest):
        parent = junction
        for c in members.tolist():
            bus_name.append(f"lateral{k}-{c}")
            line_from.append(parent)
            line_to.append(len(bus_name) - 1)
            size.append(d.lateral_mm2)
            parent = len(bus_name) - 1
            load_bus.append(parent)
    r1 = np.array([CABLES[s][0] for s in size]) * span_km
    x1 = np.array([CABLES[s][1] for s in size]) * span_km
    share_va = d.transformer_share_va
    return LVNetwork(
        name=f"gb_lv_{d.population_seed}_{d.index}",
        bus_name=tuple(bus_name),
        u_rated_v=np.array([HV_V] + [LV_NO_LOAD_V] * (len(bus_name) - 1)),
        source=Source(
            u_ref_pu=d.u_ref_pu if u_ref_pu is None else u_ref_pu, sk_va=10e9, rx_ratio=0.1, z01_ratio=1.0
        ),
        transformer=Transformer(
            u1_v=HV_V,
            u2_v=LV_NO_LOAD_V,
            sn_va=share_va,
            uk=TRANSFORMER_UK,
            pk_w=TRANSFORMER_PK_SHARE * share_va,
            clock=11,
        ),
        line_from=np.array(line_from, dtype=np.int64),
        line_to=np.array(line_to, dtype=np.int64),
        r1_ohm=r1,
        x1_ohm=x1,
        r0_ohm=4 * r1,
        x0_ohm=4 * x1,
        c1_f=np.zeros(len(size)),
        c0_f=np.zeros(len(size)),
        i_max_a=np.array([CABLES[s][2] for s in size]),
        load_bus=np.array(load_bus, dtype=np.int64),
        load_phase=(np.arange(n, dtype=np.int64) + d.first_phase) % 3,
        load_name=tuple(f"customer{c}" for c in range(n)),
    )


def population_summary(count: int, population_seed: int = 1) -> dict[str, float]:
    """Medians and ranges of a drawn population, for the report and the docs."""
    draws = [draw_feeder(i, population_seed) for i in range(count)]
    customers = np.array([d.customers for d in draws])
    route = np.array([d.route_m for d in draws])
    kva = np.array([d.transformer_kva for d in draws])
    return {
        "feeders": float(count),
        "customers_median": float(np.median(customers)),
        "customers_min": float(customers.min()),
        "customers_max": float(customers.max()),
        "route_m_median": float(np.median(route)),
        "route_m_max": float(route.max()),
        "transformer_kva_median": float(np.median(kva)),
        "feeders_per_substation_mean": float(np.mean([d.feeders_on_transformer for d in draws])),
    }


__all__ = ["CABLES", "FeederDraw", "admd_kw", "draw_feeder", "gb_lv", "population_summary"]
