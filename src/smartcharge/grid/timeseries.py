"""Run a year (or a week) of customer loads through a feeder, in chunks, keeping only the extremes.

The feeder is first reduced exactly (:mod:`smartcharge.grid.reduction`), which on the IEEE
European LV feeder cuts the buses from 907 to about 110 and the time per asymmetric step by about
seven; the chunks keep memory flat (a year at one minute is 525,600 steps).
"""

from __future__ import annotations

import logging

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import FloatArray
from smartcharge.grid.limits import GridLimits, StepSummary
from smartcharge.grid.network import LVNetwork
from smartcharge.grid.pgm import FlowBatch, PGMFeeder
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
    ) -> StepSummary:
        """Per-step extremes for ``T`` steps of (T, n_load) customer loads.

        With a ``screen``, steps it proves safe are not solved and carry their bounds instead.
        """
        if chunk_steps < 1:
            raise ValidationError("chunk_steps", chunk_steps, "must be >= 1")
        p = np.asarray(p_load_w, dtype=np.float64)
        q = np.asarray(q_load_var, dtype=np.float64)
        parts: list[StepSummary] = []
        for start in range(0, p.shape[0], chunk_steps):
            pc, qc = p[start : start + chunk_steps], q[start : start + chunk_steps]
            if screen is None:
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

    def summarise(self, batch: FlowBatch) -> StepSummary:
        """Reduce one batch to the extremes the limits need."""
        loading = batch.i_line_a.max(axis=2) / self.network.i_max_a
        return StepSummary(
            u_min_v=batch.u_load_v.min(axis=1),
            u_max_v=batch.u_load_v.max(axis=1),
            line_loading_pu=loading.max(axis=1),
            trafo_loading_pu=batch.i_trafo_lv_a.max(axis=1) / self._rated_lv_a,
        )


def customer_loads(household_w: FloatArray, n_load: int) -> FloatArray:
    """Sum (T, H) household loads onto (T, n_load) connection points, household h on point h % n_load."""
    hh = np.asarray(household_w, dtype=np.float64)
    if hh.ndim != 2:
        raise ValidationError("household_w", hh.shape, "must be (T, H)")
    if n_load < 1:
        raise ValidationError("n_load", n_load, "a feeder needs at least one connection point")
    out = np.zeros((hh.shape[0], n_load))
    np.add.at(out.T, np.arange(hh.shape[1]) % n_load, hh.T)
    return out


__all__ = ["FeederSolver", "customer_loads"]
