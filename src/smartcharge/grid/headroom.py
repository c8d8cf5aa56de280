"""Network headroom for a charging plan: linear sensitivities and per-phase margins per time slot.

A network-aware plan (issue 14 item 5) has to keep every customer voltage inside the ESQCR band
and every cable section and the transformer, per phase, inside its rating. Around the feeder's
operating point under its base load this is a set of linear constraints on the extra charging
power ``x`` (W) drawn by each customer on its own phase:

- voltage: ``V_b(x) ~ V_b(base) + sum_i dV_b/dP_i x_i`` with ``dV/dP`` (V/W) measured from
  power-grid-model by finite differences (one asymmetric power flow per customer, in one batch).
  Same-phase customers pull each other down; on the other phases the neutral-point shift pushes
  voltages up, which is why overvoltage can bind on an unbalanced feeder. These are linearised:
  the plan is checked by the full power flow afterwards and tightened where a check fails
  (:mod:`smartcharge.study.network_aware`);
- current: a section on phase ``ph`` carries the phasor sum of the currents of the customers below
  it on that phase, each at most ``x_i / v_min``; so ``I_j(x) <= I_j(base) + sum_i x_i / v_min``
  (a bound, never an underestimate), and the same for the transformer's LV phase currents.

:class:`Headroom` holds the constraint matrix ``A`` (R, L) and the margins ``b`` (K, R) for K
slots: a plan is inside the linearised limits when ``A @ x_k <= b_k`` for every slot ``k``.
Row order: undervoltage (L), overvoltage (L), sections x phases (3 J), transformer phases (3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import FloatArray, IntArray
from smartcharge.grid.limits import GridLimits
from smartcharge.grid.network import LVNetwork
from smartcharge.grid.pgm import PGMFeeder
from smartcharge.grid.reduction import tree_order

#: Finite-difference step for the voltage sensitivities: large enough to sit well above the
#: solver's tolerance, small against a charger (a 7.4 kW charger is 7x this).
SENSITIVITY_STEP_W = 1000.0


@dataclass(frozen=True)
class Sensitivity:
    """Linear sensitivities of one feeder around an operating point (``L`` customers, ``J`` sections)."""

    dv_dp_v_per_w: FloatArray  # (L, L): change of customer b's voltage per W drawn by customer i
    line_path: FloatArray  # (L, J): 1 where section j carries customer i's current
    phase: IntArray  # (L,) each customer's phase
    v_min_v: float  # the voltage the current bound divides by

    @property
    def n_load(self) -> int:
        return int(self.phase.size)

    def current_rows_a_per_w(self) -> tuple[FloatArray, FloatArray]:
        """(3 J, L) section-phase and (3, L) transformer-phase current bounds per W of charging."""
        n_line = self.line_path.shape[1]
        line = np.zeros((3, n_line, self.n_load))
        trafo = np.zeros((3, self.n_load))
        for ph in range(3):
            on = self.phase == ph
            line[ph][:, on] = self.line_path[on].T / self.v_min_v
            trafo[ph, on] = 1.0 / self.v_min_v
        return line.reshape(3 * n_line, self.n_load), trafo


def sensitivities(
    pgm: PGMFeeder,
    p_ref_w: FloatArray,
    q_ref_var: FloatArray,
    limits: GridLimits,
    step_w: float = SENSITIVITY_STEP_W,
) -> Sensitivity:
    """Measure ``dV/dP`` by finite differences around ``(p_ref_w, q_ref_var)`` (L,) in one batch.

    Step 0 is the operating point; step ``i + 1`` adds ``step_w`` of active power (unity power
    factor, as EV chargers run) at customer ``i``.
    """
    net = pgm.network
    p_ref = np.asarray(p_ref_w, dtype=np.float64)
    q_ref = np.asarray(q_ref_var, dtype=np.float64)
    if p_ref.shape != (net.n_load,) or q_ref.shape != p_ref.shape:
        raise ValidationError("p_ref_w", p_ref.shape, f"must be ({net.n_load},) with q_ref_var alike")
    if not step_w > 0:
        raise ValidationError("step_w", step_w, "must be > 0 W")
    p = np.tile(p_ref, (net.n_load + 1, 1))
    p[1 + np.arange(net.n_load), np.arange(net.n_load)] += step_w
    q = np.tile(q_ref, (net.n_load + 1, 1))
    u = pgm.run(p, q).u_load_v  # (L + 1, L)
    dv_dp = (u[1:] - u[0][None, :]).T / step_w  # (b, i)
    return Sensitivity(
        dv_dp_v_per_w=dv_dp,
        line_path=line_paths(net),
        phase=net.load_phase.copy(),
        v_min_v=limits.v_min_v,
    )


def line_paths(net: LVNetwork) -> FloatArray:
    """(L, J): 1 where section j lies on the path from the busbar to customer i."""
    _, parent_line, order = tree_order(net)
    on_path = np.zeros((net.n_bus, net.n_line))
    for bus in order[1:].tolist():  # parents come before children in visit order
        j = int(parent_line[bus])
        up = int(net.line_from[j] if net.line_to[j] == bus else net.line_to[j])
        on_path[bus] = on_path[up]
        on_path[bus, j] = 1.0
    return on_path[net.load_bus]


@dataclass(frozen=True)
class Headroom:
    """Linearised limits for K slots: a plan ``x`` (K, L) in W is inside them when ``x @ A.T <= b``."""

    a: FloatArray  # (R, L)
    b: FloatArray  # (K, R)
    n_load: int
    n_line: int

    @property
    def n_rows(self) -> int:
        return int(self.a.shape[0])

    def row_kind(self) -> IntArray:
        """(R,) 0 undervoltage, 1 overvoltage, 2 section current, 3 transformer current."""
        n, j = self.n_load, self.n_line
        return np.concatenate([np.zeros(n), np.ones(n), np.full(3 * j, 2), np.full(3, 3)]).astype(np.int64)

    def slack(self, x_w: FloatArray) -> FloatArray:
        """(K, R) margin left by a plan; negative where the linearised limit is exceeded."""
        return np.asarray(self.b - np.asarray(x_w) @ self.a.T, dtype=np.float64)

    def tightened(self, slots: IntArray, kinds: IntArray, by: FloatArray) -> Headroom:
        """A copy with the margins of rows of ``kinds[n]`` in slot ``slots[n]`` reduced by ``by[n]``."""
        b = self.b.copy()
        kind = self.row_kind()
        for k, kd, amount in zip(np.asarray(slots).tolist(), np.asarray(kinds).tolist(), by, strict=True):
            b[k, kind == kd] -= float(amount)
        return Headroom(self.a, b, self.n_load, self.n_line)


def headroom(
    pgm: PGMFeeder,
    sens: Sensitivity,
    base_p_w: FloatArray,
    base_q_var: FloatArray,
    limits: GridLimits,
    voltage_margin_v: float = 0.5,
) -> Headroom:
    """Margins per slot from a power flow of the base load ``(K, L)`` alone.

    ``voltage_margin_v`` keeps the linearised plan a little inside the band, for the curvature the
    linear model leaves out (the check loop catches the rest). Where the base load alone is outside
    a limit the margin is negative and no charging is planned against that row.
    """
    flow = pgm.run(base_p_w, base_q_var)
    net = pgm.network
    thermal = limits.thermal_fraction
    under = flow.u_load_v - limits.v_min_v - voltage_margin_v
    over = limits.v_max_v - voltage_margin_v - flow.u_load_v
    line = thermal * net.i_max_a[None, None, :] - np.transpose(flow.i_line_a, (0, 2, 1))  # (K, 3, J)
    trafo = thermal * net.transformer.rated_current_lv_a - flow.i_trafo_lv_a  # (K, 3)
    b = np.concatenate([under, over, line.reshape(line.shape[0], -1), trafo], axis=1)
    line_rows, trafo_rows = sens.current_rows_a_per_w()
    a = np.concatenate([-sens.dv_dp_v_per_w, sens.dv_dp_v_per_w, line_rows, trafo_rows], axis=0)
    return Headroom(a=a, b=b, n_load=net.n_load, n_line=net.n_line)


__all__ = ["SENSITIVITY_STEP_W", "Headroom", "Sensitivity", "headroom", "line_paths", "sensitivities"]
