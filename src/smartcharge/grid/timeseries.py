"""Run a year (or a week) of customer loads through a feeder, in chunks, keeping only the extremes.

The feeder is first reduced exactly (:mod:`smartcharge.grid.reduction`), which on the IEEE
European LV feeder cuts the buses from 907 to about 110 and the time per asymmetric step by about
seven; the chunks keep memory flat (a year at one minute is 525,600 steps).
"""

from __future__ import annotations

import logging

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import FloatArray, IntArray
from smartcharge.grid.flowmemo import FlowMemo, StepResults
from smartcharge.grid.limits import GridLimits, StepSummary
from smartcharge.grid.network import LVNetwork
from smartcharge.grid.pgm import FlowBatch, PGMFeeder, other_phases, phase_loads
from smartcharge.grid.reduction import reduce_network
from smartcharge.grid.screening import Screen

log = logging.getLogger(__name__)


class FeederSolver:
    """Asymmetric time-series power flow on one feeder, exactly reduced unless ``reduce=False``."""

    def __init__(
        self, network: LVNetwork, reduce: bool = True, threads: int = 1, method: str = "iterative_current"
    ) -> None:
        self.original = network
        self.network = reduce_network(network).network if reduce else network
        self._pgm = PGMFeeder(self.network, threads=threads, method=method)
        self._rated_lv_a = self.network.transformer.rated_current_lv_a

    def solve_batch(self, p_load_w: FloatArray, q_load_var: FloatArray) -> FlowBatch:
        """One batch, full detail (customer voltages, section and transformer currents)."""
        return self._pgm.run(p_load_w, q_load_var)

    def screen(self, limits: GridLimits) -> Screen:
        """A screen for this (reduced) feeder and these limits (see :mod:`~smartcharge.grid.screening`)."""
        return Screen.build(self.network, limits)

    def solve(
        self,
        p_load_w: FloatArray,
        q_load_var: FloatArray,
        chunk_steps: int = 1440,
        screen: Screen | None = None,
        memo: FlowMemo | None = None,
    ) -> StepSummary:
        """Per-step extremes for ``T`` steps of (T, n_load) customer loads, or (T, n_load, 3) per
        phase (a three-phase charger at a home's bus; issue 14 item 3).

        With a ``screen`` (single-phase loads only), steps it proves safe are not solved and
        carry their bounds instead. With a ``memo`` (:mod:`~smartcharge.grid.flowmemo`), steps whose
        loads it has seen solved are taken from it and the rest are solved and kept: the numbers
        are exactly those of solving every step.
        """
        if chunk_steps < 1:
            raise ValidationError("chunk_steps", chunk_steps, "must be >= 1")
        p = np.asarray(p_load_w, dtype=np.float64)
        q = np.asarray(q_load_var, dtype=np.float64)
        if screen is not None and p.ndim != 2:
            raise ValidationError("screen", "per-phase loads", "the screen takes (T, n_load) loads only")
        if screen is not None and memo is not None:
            raise ValidationError("memo", "with a screen", "a screened solve takes no memo")
        if memo is not None:
            if memo.network is not self.network:
                raise ValidationError(
                    "memo", memo.network.name, f"was made for another feeder than {self.network.name}"
                )
            memo.check_steps(p.shape[0])
        parts: list[StepSummary] = []
        for start in range(0, p.shape[0], chunk_steps):
            pc, qc = p[start : start + chunk_steps], q[start : start + chunk_steps]
            if memo is not None:
                parts.append(self._solve_memo(start, pc, qc, memo))
            elif screen is None:
                parts.append(self.summarise(self._pgm.run(pc, qc)))
            else:
                parts.append(self._solve_screened(pc, qc, screen))
            log.debug("solved steps %d..%d on %s", start, start + len(parts[-1].u_min_v), self.network.name)
        return StepSummary.concat(parts)

    def _solve_screened(self, p: FloatArray, q: FloatArray, screen: Screen) -> StepSummary:
        bounds, safe = screen.bounds(p, q)
        out = {
            k: getattr(bounds, k).copy()
            for k in ("u_min_v", "u_max_v", "line_loading_pu", "trafo_loading_pu")
        }
        todo = np.flatnonzero(~safe)
        if todo.size:
            exact = self.summarise(self._pgm.run(p[todo], q[todo]))
            for key, values in out.items():
                values[todo] = getattr(exact, key)
        return StepSummary(**out, screened=safe)

    def _solve_memo(self, start: int, p: FloatArray, q: FloatArray, memo: FlowMemo) -> StepSummary:
        """One chunk through the memo: the same extremes as :meth:`summarise`, over the same
        voltages (each customer's own phase, and the other phases any customer of the chunk
        draws from), whichever steps were solved now."""
        net = self.network
        p3, q3 = phase_loads(net, p, q)
        res = StepResults.empty(p3.shape[0], net.n_load)
        found, on_ref, keys = memo.lookup(start, p3, q3, res)
        todo = np.flatnonzero(~found)
        if todo.size:
            batch = self._pgm.run(p3[todo], q3[todo])
            res.u_bus_phase_v[todo] = batch.u_bus_v[:, net.load_bus, :]
            res.line_loading_pu[todo] = (batch.i_line_a.max(axis=2) / net.i_max_a).max(axis=1)
            res.trafo_loading_pu[todo] = batch.i_trafo_lv_a.max(axis=1) / self._rated_lv_a
            memo.store(start, todo, on_ref, keys, res)
        u = res.u_bus_phase_v[:, np.arange(net.n_load), net.load_phase]
        other = other_phases(net, p3)
        if other is not None:
            u = np.hstack([u, res.u_bus_phase_v[:, other[0], other[1]]])
        return StepSummary(
            u_min_v=u.min(axis=1),
            u_max_v=u.max(axis=1),
            line_loading_pu=res.line_loading_pu,
            trafo_loading_pu=res.trafo_loading_pu,
        )

    def summarise(self, batch: FlowBatch) -> StepSummary:
        """Reduce one batch to the extremes the limits need."""
        loading = batch.i_line_a.max(axis=2) / self.network.i_max_a
        u = batch.u_load_v if batch.u_other_v is None else np.hstack([batch.u_load_v, batch.u_other_v])
        return StepSummary(
            u_min_v=u.min(axis=1),
            u_max_v=u.max(axis=1),
            line_loading_pu=loading.max(axis=1),
            trafo_loading_pu=batch.i_trafo_lv_a.max(axis=1) / self._rated_lv_a,
        )


def customer_phase_loads(
    base_w: FloatArray, ev_w: FloatArray, ev_phase_share: FloatArray | None, load_phase: IntArray
) -> FloatArray:
    """(T, n_load, 3): each household's base load on its home's phase and its EV load spread as
    ``ev_phase_share`` (H, 3) gives (a single-phase charger on one phase, a three-phase one a third
    on each; None: on the home's phase), household h on point h % n_load (issue 14 item 3)."""
    base = np.asarray(base_w, dtype=np.float64)
    ev = np.asarray(ev_w, dtype=np.float64)
    if base.ndim != 2 or ev.shape != base.shape:
        raise ValidationError("ev_w", ev.shape, f"must be (T, H) like base_w {base.shape}")
    phase = np.asarray(load_phase, dtype=np.int64)
    n_load, (steps, h) = phase.size, base.shape
    point = np.arange(h) % n_load
    home = np.zeros((h, 3))
    home[np.arange(h), phase[point]] = 1.0
    share = home if ev_phase_share is None else np.asarray(ev_phase_share, dtype=np.float64)
    if share.shape != (h, 3):
        raise ValidationError("ev_phase_share", share.shape, f"must be ({h}, 3)")
    has_ev = share.sum(axis=1) > 0
    share = np.where(has_ev[:, None], share, home)  # no EV: nothing to spread, keep the home's phase
    # base x home + ev x share, one phase at a time (the same products and sums, long inner loops)
    per_household: FloatArray = np.empty((steps, h, 3))
    for k in range(3):
        np.multiply(base, home[:, k], out=per_household[:, :, k])
        per_household[:, :, k] += ev * share[:, k]
    if h == n_load:  # one household per connection point, in order (the study's case)
        return per_household
    out = np.zeros((steps, n_load, 3))
    np.add.at(out.transpose(1, 0, 2), point, per_household.transpose(1, 0, 2))
    return out


def customer_loads(household_w: FloatArray, n_load: int) -> FloatArray:
    """Sum (T, H) household loads onto (T, n_load) connection points, household h on point h % n_load."""
    hh = np.asarray(household_w, dtype=np.float64)
    if hh.ndim != 2:
        raise ValidationError("household_w", hh.shape, "must be (T, H)")
    if n_load < 1:
        raise ValidationError("n_load", n_load, "a feeder needs at least one connection point")
    out = np.zeros((hh.shape[0], n_load))
    if hh.shape[1] == n_load:  # one household per point (the study's case): the same sums, at once
        out += hh
        return out
    np.add.at(out.T, np.arange(hh.shape[1]) % n_load, hh.T)
    return out


__all__ = ["FeederSolver", "customer_loads", "customer_phase_loads"]
