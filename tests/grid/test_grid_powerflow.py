"""Power flow against hand calculations, against pandapower, and through the exact reduction (issue 5)."""

from __future__ import annotations

import numpy as np
import pytest

from smartcharge.core.errors import ValidationError
from smartcharge.grid.crosscheck import cross_check
from smartcharge.grid.feeders import get_feeder
from smartcharge.grid.network import LVNetwork, Source, Transformer
from smartcharge.grid.pgm import PGMFeeder
from smartcharge.grid.reduction import reduce_network
from smartcharge.grid.timeseries import FeederSolver

U2_V = 400.0
V0 = U2_V / np.sqrt(3.0)
STIFF = Source(u_ref_pu=1.0, sk_va=1e15, rx_ratio=0.1, z01_ratio=1.0)
TRAFO = Transformer(u1_v=11_000.0, u2_v=U2_V, sn_va=400e3, uk=0.04, pk_w=0.0, clock=1)
Z_TRAFO = 1j * 0.04 * U2_V**2 / 400e3  # all reactance: pk = 0


def _chain(
    parents: list[int], z1: list[complex], z0: list[complex], loads: list[tuple[int, int]]
) -> LVNetwork:
    """A feeder whose bus k+2 hangs off bus parents[k] through a section of z1/z0 ohm."""
    n = len(parents)
    return LVNetwork(
        name="hand",
        bus_name=tuple(f"b{i}" for i in range(n + 2)),
        u_rated_v=np.array([11_000.0] + [U2_V] * (n + 1)),
        source=STIFF,
        transformer=TRAFO,
        line_from=np.array(parents, dtype=np.int64),
        line_to=np.arange(2, n + 2, dtype=np.int64),
        r1_ohm=np.array([z.real for z in z1]),
        x1_ohm=np.array([z.imag for z in z1]),
        r0_ohm=np.array([z.real for z in z0]),
        x0_ohm=np.array([z.imag for z in z0]),
        c1_f=np.zeros(n),
        c0_f=np.zeros(n),
        i_max_a=np.full(n, 300.0),
        load_bus=np.array([b for b, _ in loads], dtype=np.int64),
        load_phase=np.array([p for _, p in loads], dtype=np.int64),
    )


def _fixed_point(net: LVNetwork, s_va: np.ndarray) -> np.ndarray:
    """Independent phase-domain solution for a radial, shunt-free feeder and a stiff source.

    Voltage at customer b on phase p: V0_p - sum_i Z(b, i)[p, q_i] * conj(S_i / V_i), where Z(b, i)
    is the transformer plus the sections shared by the paths to b and to i; a section's phase
    impedance is Zs = (2 Z1 + Z0) / 3 on its own phase and Zm = (Z0 - Z1) / 3 between phases.
    """
    z1 = net.r1_ohm + 1j * net.x1_ohm
    z0 = net.r0_ohm + 1j * net.x0_ohm
    path: dict[int, set[int]] = {1: set()}
    for j in range(net.n_line):
        path[int(net.line_to[j])] = path[int(net.line_from[j])] | {j}
    n = net.n_load
    zs = np.empty((n, n), complex)
    zm = np.empty((n, n), complex)
    for b in range(n):
        for i in range(n):
            shared = sorted(path[int(net.load_bus[b])] & path[int(net.load_bus[i])])
            zs[b, i] = Z_TRAFO + ((2 * z1[shared] + z0[shared]) / 3).sum()
            zm[b, i] = ((z0[shared] - z1[shared]) / 3).sum()
    angle = np.exp(-2j * np.pi / 3 * net.load_phase)
    v = V0 * angle
    for _ in range(200):
        current = np.conj(s_va / v)
        same = net.load_phase[:, None] == net.load_phase[None, :]
        v = V0 * angle - (np.where(same, zs, zm) @ current)
    return np.abs(v)


def test_powerflow_two_bus_matches_hand_calculation() -> None:
    """Issue 5: one 5 kW single-phase customer at the end of one section, solved by hand.

    V = V0 - (Zt + Zs) * conj(S / V) with Zs = (2 Z1 + Z0) / 3; the customer draws I = P / |V|.
    """
    z1, z0 = 0.1 + 0.02j, 0.4 + 0.08j
    net = _chain([1], [z1], [z0], [(2, 0)])
    s = 5000.0
    v = complex(V0)
    for _ in range(100):
        v = V0 - (Z_TRAFO + (2 * z1 + z0) / 3) * np.conj(s / v)
    hand_v = abs(v)
    assert 226.0 < hand_v < 227.0  # about 4.3 V of drop through 0.2 ohm at 21.7 A
    batch = PGMFeeder(net).run(np.array([[s]]), np.array([[0.0]]))
    assert batch.u_load_v[0, 0] == pytest.approx(hand_v, abs=1e-4)
    assert batch.i_line_a[0, 0, 0] == pytest.approx(s / hand_v, rel=1e-6)
    assert batch.i_line_a[0, 0, 1:] == pytest.approx([0.0, 0.0], abs=1e-6)


def test_powerflow_small_radial_matches_fixed_point() -> None:
    """Issue 5: a branched five-section feeder, customers on all phases, against a phase-domain solution."""
    z1 = [0.02 + 0.004j, 0.03 + 0.005j, 0.05 + 0.006j, 0.04 + 0.005j, 0.06 + 0.008j]
    z0 = [4 * z for z in z1]
    net = _chain([1, 2, 3, 3, 2], z1, z0, [(3, 0), (4, 1), (5, 2), (6, 0), (4, 0)])
    s_va = np.array([7000 + 700j, 3000 + 300j, 5000, 2000 + 200j, 4000])
    batch = PGMFeeder(net).run(s_va.real[None, :], s_va.imag[None, :])
    assert batch.u_load_v[0] == pytest.approx(_fixed_point(net, s_va), abs=1e-4)


@pytest.mark.parametrize("feeder", ["simbench_lv_rural1", "simbench_lv_semiurb4", "radial"])
def test_pgm_matches_pandapower_within_0_1_percent(feeder: str) -> None:
    """Issue 5: power-grid-model and pandapower agree within 0.1 % on customer voltage (shipped feeders)."""
    net = get_feeder(feeder)
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 7400, (2, net.n_load))
    check = cross_check(net, p, 0.2 * p, np.arange(2))
    assert check.u_pgm_v.min() < 0.995 * check.u_pgm_v.max()  # the loads really move the voltages
    assert check.max_rel_diff < 1e-3


def test_pgm_matches_pandapower_on_ieee_feeder(ieee: LVNetwork) -> None:
    """Issue 5: the full 907-bus IEEE European LV feeder agrees with pandapower within 0.1 % on voltage."""
    rng = np.random.default_rng(6)
    p = rng.uniform(0, 7400, (1, ieee.n_load))
    check = cross_check(ieee, p, 0.2 * p, np.arange(1))
    assert check.u_pandapower_v.min() < 240.0  # loaded well below the no-load 252 V
    assert check.max_rel_diff < 1e-3


def test_reduction_keeps_customer_voltages_and_section_currents(ieee: LVNetwork) -> None:
    """Issue 5 speed: the exact reduction changes no customer voltage and no section current."""
    reduced = reduce_network(ieee)
    assert reduced.network.n_bus < ieee.n_bus / 5
    rng = np.random.default_rng(7)
    p = rng.uniform(0, 9000, (40, ieee.n_load))
    full = PGMFeeder(ieee).run(p, 0.3 * p)
    small = PGMFeeder(reduced.network).run(p, 0.3 * p)
    assert small.u_load_v == pytest.approx(full.u_load_v, abs=1e-6)
    carried = reduced.line_map >= 0
    assert small.i_line_a[:, reduced.line_map[carried]] == pytest.approx(full.i_line_a[:, carried], abs=1e-5)
    assert np.abs(full.i_line_a[:, ~carried]).max() < 1e-6  # dropped spurs carry nothing
    assert small.i_trafo_lv_a == pytest.approx(full.i_trafo_lv_a, abs=1e-5)


def test_reduction_keeps_limit_answers(ieee: LVNetwork) -> None:
    """Issue 5 speed: per-step extremes (and so every breach) are the same on the full and reduced feeder."""
    rng = np.random.default_rng(8)
    p = rng.uniform(0, 12_000, (30, ieee.n_load))
    full = FeederSolver(ieee, reduce=False).solve(p, 0.2 * p, chunk_steps=7)
    fast = FeederSolver(ieee).solve(p, 0.2 * p, chunk_steps=7)
    for name in ("u_min_v", "u_max_v", "line_loading_pu", "trafo_loading_pu"):
        assert getattr(fast, name) == pytest.approx(getattr(full, name), abs=1e-6)
    assert full.u_min_v.min() < 216.2  # this load does breach the statutory minimum


def test_iterative_current_matches_newton_raphson(ieee: LVNetwork) -> None:
    """Issue 5 speed: the faster iterative-current method gives Newton-Raphson's answers (to 1e-4 V)."""
    reduced = reduce_network(ieee).network
    rng = np.random.default_rng(9)
    p = rng.uniform(0, 9000, (20, ieee.n_load))
    fast = PGMFeeder(reduced, method="iterative_current").run(p, 0.3 * p)
    newton = PGMFeeder(reduced, method="newton_raphson").run(p, 0.3 * p)
    assert fast.u_load_v == pytest.approx(newton.u_load_v, abs=1e-4)
    assert fast.i_line_a == pytest.approx(newton.i_line_a, abs=1e-3)


def test_powerflow_unknown_method_refused() -> None:
    """Bad input: an unknown power-flow method is refused by name."""
    net = get_feeder("radial", n_households=3)
    with pytest.raises(ValidationError, match="method='gauss'"):
        PGMFeeder(net, method="gauss")
