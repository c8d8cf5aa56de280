"""The shipped LV feeders, by name.

- ``ieee_european_lv``: the IEEE European Low Voltage Test Feeder, a real GB suburban feeder
  (907 buses, 55 single-phase customers, 800 kVA 11/0.416 kV Dyn1), as pandapower ships it.
- ``simbench_lv_rural1``, ``simbench_lv_semiurb4``: the SimBench ``1-LV-<grid>--0-no_sw`` grids
  (rural: 14 LV buses, 13 connection points, 160 kVA 20/0.4 kV; semi-urban: 43 buses, 41
  points, 400 kVA; each takes ~7 s to read, as SimBench parses its whole data set). SimBench
  gives only positive-sequence cable data, so the zero sequence is taken as four times the
  positive one (four-core cable, neutral the same size as a phase); its upstream grid has no fault
  level, so it is taken as stiff (10 GVA, as the IEEE feeder's data has it; pandapower's
  three-phase power flow treats the external grid as stiff in positive sequence anyway).
  Customers are spread over the phases a, b, c in turn.
- ``radial``: a parametric feeder: ``n_branches`` cables from the busbar, ``n_households``
  connection points spaced ``span_m`` apart, on phases a, b, c in turn along each cable. The cable
  and transformer data come from pandapower's standard-type library (``NAYY 4x150 SE``,
  ``0.4 MVA 10/0.4 kV``); zero sequence r0 = 4 r1, x0 = 4 x1 (neutral the size of a phase). The
  source holds 1.05 pu at no load (420 V line to line, 242.5 V to neutral), as GB distribution
  transformers are set a little above nominal to leave room for the voltage drop.

An unknown name is refused with the list of known ones (issue 5, "Bad input").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.grid.network import LVNetwork, Source, Transformer
from smartcharge.grid.population import gb_lv

log = logging.getLogger(__name__)


class UnknownFeederError(ValidationError):
    """The feeder name is not in :data:`FEEDERS`."""


def _source_from_ext_grid(eg: Any, default_sk_va: float) -> Source:
    sk_mva = float(eg.get("s_sc_max_mva", np.nan))
    rx = float(eg.get("rx_max", np.nan))
    x0x = float(eg.get("x0x_max", np.nan))
    r0x0 = float(eg.get("r0x0_max", np.nan))
    rx = rx if np.isfinite(rx) else 0.1
    z01 = x0x * np.hypot(1.0, r0x0) / np.hypot(1.0, rx) if np.isfinite(x0x) and np.isfinite(r0x0) else 1.0
    return Source(
        u_ref_pu=float(eg["vm_pu"]),
        sk_va=sk_mva * 1e6 if np.isfinite(sk_mva) else default_sk_va,
        rx_ratio=rx,
        z01_ratio=float(z01),
    )


def from_pandapower(
    pp_net: Any,
    name: str,
    load_buses: list[int],
    load_phases: list[int],
    load_names: list[str],
    zero_seq_factor: float | None = None,
    default_sk_va: float = 10e9,
) -> LVNetwork:
    """Read a radial pandapower net with one transformer and one external grid into an LVNetwork.

    ``zero_seq_factor`` sets r0 = f * r1, x0 = f * x1, c0 = c1 when the data has no zero sequence.
    """
    if len(pp_net.trafo) != 1 or len(pp_net.ext_grid) != 1:
        raise ValidationError(
            f"{name}.trafo", len(pp_net.trafo), "a feeder has one transformer and one source"
        )
    tr = pp_net.trafo.iloc[0]
    hv, lv = int(tr["hv_bus"]), int(tr["lv_bus"])
    others = [int(b) for b in pp_net.bus.index if int(b) not in (hv, lv)]
    order = [hv, lv, *others]
    pos = {b: i for i, b in enumerate(order)}
    line = pp_net.line[pp_net.line["in_service"]]
    length = line["length_km"].to_numpy(float)
    par = line["parallel"].to_numpy(float)
    r1 = line["r_ohm_per_km"].to_numpy(float) * length / par
    x1 = line["x_ohm_per_km"].to_numpy(float) * length / par
    c1 = line["c_nf_per_km"].to_numpy(float) * 1e-9 * length * par
    if zero_seq_factor is None:
        r0 = line["r0_ohm_per_km"].to_numpy(float) * length / par
        x0 = line["x0_ohm_per_km"].to_numpy(float) * length / par
        c0 = line["c0_nf_per_km"].to_numpy(float) * 1e-9 * length * par
    else:
        r0, x0, c0 = r1 * zero_seq_factor, x1 * zero_seq_factor, c1.copy()
    i_max = line["max_i_ka"].to_numpy(float) * 1e3 * par * line["df"].to_numpy(float)
    sn_va = float(tr["sn_mva"]) * 1e6
    transformer = Transformer(
        u1_v=float(tr["vn_hv_kv"]) * 1e3,
        u2_v=float(tr["vn_lv_kv"]) * 1e3,
        sn_va=sn_va,
        uk=float(tr["vk_percent"]) / 100,
        pk_w=float(tr["vkr_percent"]) / 100 * sn_va,
        clock=int(round(float(tr["shift_degree"]) / 30)) % 12,
    )
    return LVNetwork(
        name=name,
        bus_name=tuple(str(pp_net.bus.at[b, "name"]) for b in order),
        u_rated_v=np.array([float(pp_net.bus.at[b, "vn_kv"]) * 1e3 for b in order]),
        source=_source_from_ext_grid(pp_net.ext_grid.iloc[0], default_sk_va),
        transformer=transformer,
        line_from=np.array([pos[int(b)] for b in line["from_bus"]], dtype=np.int64),
        line_to=np.array([pos[int(b)] for b in line["to_bus"]], dtype=np.int64),
        r1_ohm=r1,
        x1_ohm=x1,
        r0_ohm=r0,
        x0_ohm=x0,
        c1_f=c1,
        c0_f=c0,
        i_max_a=i_max,
        load_bus=np.array([pos[b] for b in load_buses], dtype=np.int64),
        load_phase=np.array(load_phases, dtype=np.int64),
        load_name=tuple(load_names),
    )


def ieee_european_lv(u_ref_pu: float | None = None) -> LVNetwork:
    """The IEEE European LV Test Feeder; each customer keeps the phase the data puts it on.

    ``u_ref_pu`` overrides the data's 1.05 pu at the 11 kV source (a lower tap setting).
    """
    import pandapower.networks as pn

    net = pn.ieee_european_lv_asymmetric()
    if u_ref_pu is not None:
        net.ext_grid["vm_pu"] = u_ref_pu
    loads = net.asymmetric_load
    phase_cols = loads[["p_a_mw", "p_b_mw", "p_c_mw"]].to_numpy(float)
    phases = np.argmax(phase_cols != 0, axis=1).tolist()
    return from_pandapower(
        net, "ieee_european_lv", [int(b) for b in loads["bus"]], phases, [str(n) for n in loads["name"]]
    )


def simbench_lv(code: str, name: str) -> LVNetwork:
    """A SimBench LV grid with assumed zero sequence (see the module docstring)."""
    import simbench

    net = simbench.get_simbench_net(code)
    buses = [int(b) for b in net.load["bus"]]
    return from_pandapower(
        net,
        name,
        buses,
        [i % 3 for i in range(len(buses))],
        [str(n) for n in net.load["name"]],
        zero_seq_factor=4.0,
    )


def simbench_lv_rural1() -> LVNetwork:
    """SimBench ``1-LV-rural1--0-no_sw``: 14 LV buses, 13 connection points, 160 kVA."""
    return simbench_lv("1-LV-rural1--0-no_sw", "simbench_lv_rural1")


def simbench_lv_semiurb4() -> LVNetwork:
    """SimBench ``1-LV-semiurb4--0-no_sw``: 43 LV buses, 41 connection points, 400 kVA."""
    return simbench_lv("1-LV-semiurb4--0-no_sw", "simbench_lv_semiurb4")


#: Bounds of the parametric feeder. A GB secondary substation serves some hundreds of customers
#: over up to about eight LV feeders; 1,000 households on one feeder is already far past any real
#: one, and the bound stops a typo (``n_households: 10000000000``) from building for hours.
MAX_RADIAL_HOUSEHOLDS = 1000
MAX_RADIAL_BRANCHES = 16
MAX_RADIAL_SPAN_M = 500.0


def radial(
    n_households: int = 30, n_branches: int = 3, span_m: float = 25.0, u_ref_pu: float = 1.05
) -> LVNetwork:
    """A parametric radial feeder (see the module docstring); one connection point per household."""
    for key, value, low, high in (
        ("n_households", n_households, 1, MAX_RADIAL_HOUSEHOLDS),
        ("n_branches", n_branches, 1, MAX_RADIAL_BRANCHES),
    ):
        if not low <= value <= high:
            raise ValidationError(f"radial.{key}", value, f"must be {low}..{high}")
    if not 0 < span_m <= MAX_RADIAL_SPAN_M:
        raise ValidationError("radial.span_m", span_m, f"must be > 0 and <= {MAX_RADIAL_SPAN_M:g} m")
    import pandapower as pp

    cable = pp.load_std_type(pp.create_empty_network(), "NAYY 4x150 SE", "line")
    trafo = pp.load_std_type(pp.create_empty_network(), "0.4 MVA 10/0.4 kV", "trafo")
    km = span_m / 1000
    bus_name = ["HV", "LV busbar"]
    line_from: list[int] = []
    line_to: list[int] = []
    load_bus: list[int] = []
    for h in range(n_households):
        branch = h % n_branches
        parent = 1 if h < n_branches else load_bus[h - n_branches]
        bus_name.append(f"branch{branch}-house{h // n_branches}")
        line_from.append(parent)
        line_to.append(len(bus_name) - 1)
        load_bus.append(len(bus_name) - 1)
    n_line = len(line_from)
    ones = np.ones(n_line)
    sn_va = float(trafo["sn_mva"]) * 1e6
    return LVNetwork(
        name=f"radial_{n_households}x{n_branches}",
        bus_name=tuple(bus_name),
        u_rated_v=np.array(
            [float(trafo["vn_hv_kv"]) * 1e3] + [float(trafo["vn_lv_kv"]) * 1e3] * (len(bus_name) - 1)
        ),
        source=Source(u_ref_pu=u_ref_pu, sk_va=10e9, rx_ratio=0.1, z01_ratio=1.0),
        transformer=Transformer(
            u1_v=float(trafo["vn_hv_kv"]) * 1e3,
            u2_v=float(trafo["vn_lv_kv"]) * 1e3,
            sn_va=sn_va,
            uk=float(trafo["vk_percent"]) / 100,
            pk_w=float(trafo["vkr_percent"]) / 100 * sn_va,
            clock=int(round(float(trafo["shift_degree"]) / 30)) % 12,
        ),
        line_from=np.array(line_from, dtype=np.int64),
        line_to=np.array(line_to, dtype=np.int64),
        r1_ohm=ones * float(cable["r_ohm_per_km"]) * km,
        x1_ohm=ones * float(cable["x_ohm_per_km"]) * km,
        r0_ohm=ones * 4 * float(cable["r_ohm_per_km"]) * km,
        x0_ohm=ones * 4 * float(cable["x_ohm_per_km"]) * km,
        c1_f=ones * 0.0,
        c0_f=ones * 0.0,
        i_max_a=ones * float(cable["max_i_ka"]) * 1e3,
        load_bus=np.array(load_bus, dtype=np.int64),
        load_phase=(np.arange(n_households, dtype=np.int64) // n_branches) % 3,
        load_name=tuple(f"house{h}" for h in range(n_households)),
    )


FEEDERS: dict[str, Callable[..., LVNetwork]] = {
    "gb_lv": gb_lv,  # the parametric GB population (grid/population.py)
    "ieee_european_lv": ieee_european_lv,
    "simbench_lv_rural1": simbench_lv_rural1,
    "simbench_lv_semiurb4": simbench_lv_semiurb4,
    "radial": radial,
}


def get_feeder(name: str, **params: Any) -> LVNetwork:
    """Build a shipped feeder by name; an unknown name lists the known ones."""
    try:
        build = FEEDERS[name]
    except KeyError:
        raise UnknownFeederError(
            "feeder", name, f"unknown feeder; known: {', '.join(sorted(FEEDERS))}"
        ) from None
    try:
        return build(**params)
    except TypeError as exc:
        raise ValidationError(f"feeder.{name}", params, f"bad parameters: {exc}") from None


__all__ = ["FEEDERS", "UnknownFeederError", "from_pandapower", "get_feeder", "ieee_european_lv", "radial"]
