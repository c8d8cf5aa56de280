"""Screening: skip the power flow for steps that provably breach no limit.

On a radial feeder with no shunt admittance, loads are the only nonlinearity: the network is
linear, so every customer voltage is exactly ``V_b = V0_b - sum_i Z(b, i) I_i``, where ``V0`` is the
no-load voltage and ``Z(b, i)`` the transfer impedance from customer i's phase to customer b's:
the transformer and source (referred to the LV side) plus the sections shared by the two paths
from the busbar, with self impedance ``Zs = (2 Z1 + Z0) / 3`` between the same phase and mutual
``Zm = (Z0 - Z1) / 3`` between different phases. Each customer draws ``|I_i| = |S_i| / |V_i|``.

If every customer stayed at or above ``v_min`` then ``|I_i| <= |S_i| / v_min``, and:

- drop: ``|V_b| >= |V0_b| - sum_i |Z(b, i)| |S_i| / v_min``; if that is >= v_min for every
  customer the assumption holds (the solution is reached continuously from no load, so no voltage
  can cross v_min without the bound crossing it first) and no undervoltage occurs;
- rise: same-phase terms whose phasor leans into ``V0`` (their angle stays within 90 degrees once
  the angle of ``Z``, the load's power-factor angle and the voltage's own angle shift are counted)
  can only raise ``|V|`` to ``sqrt(|V0|^2 + |W|^2)``; the rest count in full;
- currents: each section carries exactly the sum of the same-phase currents below it, so its
  current is at most the sum of their bounds; the transformer likewise.

A step is screened out only if every bound is inside every limit; it is then reported with its
bounds, which lie inside the limits, so no breach answer changes (``tests/grid``). Feeders with
shunt capacitance, and steps with generation (P or Q < 0), are never screened.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import BoolArray, FloatArray
from smartcharge.grid.limits import GridLimits, StepSummary
from smartcharge.grid.network import LVNetwork
from smartcharge.grid.pgm import PGMFeeder
from smartcharge.grid.reduction import tree_order


@dataclass(frozen=True)
class Screen:
    """Precomputed transfer impedances and no-load voltages of one feeder, for one set of limits."""

    limits: GridLimits
    v0_v: FloatArray  # (L,) no-load customer voltage
    zs_abs: FloatArray  # (L, L) |Zs(b, i)| between same-phase customers, 0 otherwise
    zs_angle_rad: FloatArray  # (L, L)
    zm_abs: FloatArray  # (L, L) |Zm(b, i)| between customers on different phases, 0 otherwise
    downstream: FloatArray  # (L, J) 1 where section j carries customer i's current
    phase: np.ndarray  # (L,)
    i_max_a: FloatArray  # (J,)
    rated_lv_a: float

    @classmethod
    def build(cls, net: LVNetwork, limits: GridLimits) -> Screen:
        if (net.c1_f > 0).any() or (net.c0_f > 0).any():
            raise ValidationError(
                f"{net.name}.c1_f", "> 0", "screening needs a feeder without shunt capacitance"
            )
        _, parent_line, order = tree_order(net)
        on_path = np.zeros((net.n_bus, net.n_line))
        for bus in order[1:].tolist():  # parents come before children in visit order
            j = int(parent_line[bus])
            up = int(net.line_from[j] if net.line_to[j] == bus else net.line_to[j])
            on_path[bus] = on_path[up]
            on_path[bus, j] = 1.0
        a = on_path[net.load_bus]  # (L, J)
        z1 = net.r1_ohm + 1j * net.x1_ohm
        z0 = net.r0_ohm + 1j * net.x0_ohm
        t, s = net.transformer, net.source
        zt_abs = t.uk * t.u2_v**2 / t.sn_va
        rt = t.pk_w * t.u2_v**2 / t.sn_va**2
        zt = rt + 1j * np.sqrt(zt_abs**2 - rt**2)
        zsrc_abs = t.u2_v**2 / s.sk_va
        zsrc = zsrc_abs * (s.rx_ratio + 1j) / np.hypot(s.rx_ratio, 1.0)
        zs = zt + 2 * zsrc / 3 + (a * ((2 * z1 + z0) / 3)) @ a.T
        zm = -zsrc / 3 + (a * ((z0 - z1) / 3)) @ a.T
        same = net.load_phase[:, None] == net.load_phase[None, :]
        zero = np.zeros((net.n_load, net.n_load))
        v0 = PGMFeeder(net).run(zero[:1], zero[:1]).u_load_v[0]
        return cls(
            limits=limits,
            v0_v=v0,
            zs_abs=np.where(same, np.abs(zs), 0.0),
            zs_angle_rad=np.angle(zs),
            zm_abs=np.where(same, 0.0, np.abs(zm)),
            downstream=a,
            phase=net.load_phase.copy(),
            i_max_a=net.i_max_a.copy(),
            rated_lv_a=t.rated_current_lv_a,
        )

    def bounds(self, p_load_w: FloatArray, q_load_var: FloatArray) -> tuple[StepSummary, BoolArray]:
        """Per-step bounds on the extremes, and which steps they prove safe."""
        p = np.asarray(p_load_w, dtype=np.float64)
        q = np.asarray(q_load_var, dtype=np.float64)
        lim = self.limits
        current = np.hypot(p, q) / lim.v_min_v  # (T, L) bound on each customer's current
        v0_min = float(self.v0_v.min())
        delta = np.arcsin(np.clip((v0_min - lim.v_min_v) / v0_min, 0.0, 1.0))
        phi = np.arctan2(q, np.maximum(p, 1e-300)).max() if p.size else 0.0
        leans = (self.zs_angle_rad + delta <= np.pi / 2) & (self.zs_angle_rad - phi - delta >= -np.pi / 2)
        a_same = current @ np.where(leans, self.zs_abs, 0.0).T  # (T, L): sum_i |Zs(b,i)| I_i
        c_same = current @ np.where(leans, 0.0, self.zs_abs).T
        u_other = current @ self.zm_abs.T
        lower = self.v0_v - a_same - c_same - u_other
        upper = np.sqrt(self.v0_v**2 + a_same**2) + c_same + u_other
        line = np.zeros((p.shape[0], self.i_max_a.size))
        trafo = np.zeros(p.shape[0])
        for ph in range(3):
            on_phase = current * (self.phase == ph)
            line = np.maximum(line, on_phase @ self.downstream)
            trafo = np.maximum(trafo, on_phase.sum(axis=1))
        summary = StepSummary(
            u_min_v=lower.min(axis=1),
            u_max_v=upper.max(axis=1),
            line_loading_pu=(line / self.i_max_a).max(axis=1),
            trafo_loading_pu=trafo / self.rated_lv_a,
        )
        safe = np.asarray(~summary.breaches(lim).any(axis=1) & (p >= 0).all(axis=1) & (q >= 0).all(axis=1))
        return summary, safe


__all__ = ["Screen"]
