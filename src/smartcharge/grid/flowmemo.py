"""Reuse of solved power-flow steps across study cases that share a feeder and a base load.

The cases of one feeder and seed see the same households' base load at every step (common random
numbers, issue 5 item 6); they differ only where a car charges. At a step where no car draws,
the customer loads are bit for bit the base load's, so the power flow's answer is too: the solver
is deterministic and each step of a batch is solved on its own (``tests/grid`` checks both). A
:class:`FlowMemo` keeps, per step, what :meth:`~smartcharge.grid.timeseries.FeederSolver.solve`
needs (the voltage at every customer's bus on every phase, the highest section and transformer
loading) for

- every step whose loads equal the *reference* (the base load) exactly: a dense table, filled as
  the steps get solved, and
- other steps already solved (e.g. two strategies that charge the same cars the same way at that
  step), keyed by the step and a digest of its exact load bytes, up to ``max_rows`` (oldest out).

Loads are matched by their bits, never by tolerance, so a step taken from the memo carries
exactly the numbers solving it again would give (issue 14 "Speed": no result may change).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import BoolArray, FloatArray
from smartcharge.grid.network import LVNetwork
from smartcharge.grid.pgm import phase_loads

_Key = tuple[int, bytes]

#: other (non-reference) steps kept per memo, about the distinct ones of a task (one feeder, seed
#: and penetration: ~23,000 a week at 100 % on the IEEE feeder); ~1.5 kB each there
DEFAULT_MAX_ROWS = 25_000


@dataclass
class StepResults:
    """What the step summary is made from, for ``n`` steps."""

    u_bus_phase_v: FloatArray  # (n, L, 3) voltage at each customer's bus, on L1..L3
    line_loading_pu: FloatArray  # (n,) highest section current / rating
    trafo_loading_pu: FloatArray  # (n,) highest LV phase current / rated current

    @classmethod
    def empty(cls, n: int, n_load: int) -> StepResults:
        return cls(np.empty((n, n_load, 3)), np.empty(n), np.empty(n))


class FlowMemo:
    """Solved steps of one feeder over one time axis, around one reference (base) load."""

    def __init__(
        self,
        network: LVNetwork,
        reference_p_w: FloatArray,
        reference_q_var: FloatArray,
        max_rows: int = DEFAULT_MAX_ROWS,
    ) -> None:
        if max_rows < 0:
            raise ValidationError("max_rows", max_rows, "must be >= 0")
        self.network = network
        # Validated and kept as given ((T, L) or (T, L, 3)); expanded per chunk when compared.
        phase_loads(network, reference_p_w, reference_q_var)  # refuses a wrong shape or a NaN
        self._ref_p = np.asarray(reference_p_w, dtype=np.float64)
        self._ref_q = np.asarray(reference_q_var, dtype=np.float64)
        self.n_steps = int(self._ref_p.shape[0])
        self.key = digest(self._ref_p, self._ref_q)
        self._base = StepResults.empty(self.n_steps, network.n_load)
        self._known: BoolArray = np.zeros(self.n_steps, dtype=bool)
        self._rows: OrderedDict[_Key, tuple[FloatArray, float, float]] = OrderedDict()
        self.max_rows = max_rows
        self.hits = 0
        self.misses = 0

    def check_steps(self, n_steps: int) -> None:
        if n_steps != self.n_steps:
            raise ValidationError(
                "memo", n_steps, f"the loads must cover the memo's {self.n_steps} steps, one per step"
            )

    def lookup(
        self, start: int, p3: FloatArray, q3: FloatArray, out: StepResults
    ) -> tuple[BoolArray, BoolArray, list[_Key | None]]:
        """Fill ``out`` at the steps ``start + i`` already solved; returns (found, on reference, keys)."""
        n = p3.shape[0]
        on_ref = self._on_reference(start, p3, q3)
        found = on_ref & self._known[start : start + n]
        idx = np.flatnonzero(found)
        out.u_bus_phase_v[idx] = self._base.u_bus_phase_v[start + idx]
        out.line_loading_pu[idx] = self._base.line_loading_pu[start + idx]
        out.trafo_loading_pu[idx] = self._base.trafo_loading_pu[start + idx]
        keys: list[_Key | None] = [None] * n
        if self.max_rows:
            rest = np.flatnonzero(~on_ref)
            for i, key in zip(rest.tolist(), _row_keys(start, rest, p3, q3), strict=True):
                keys[i] = key
                row = self._rows.get(key)
                if row is not None:
                    out.u_bus_phase_v[i], out.line_loading_pu[i], out.trafo_loading_pu[i] = row
                    found[i] = True
        self.hits += int(found.sum())
        self.misses += int(n - found.sum())
        return found, on_ref, keys

    def _on_reference(self, start: int, p3: FloatArray, q3: FloatArray) -> BoolArray:
        """(n,) whether the loads of steps ``start + i`` are the reference's, bit for bit."""
        n = p3.shape[0]
        ref_p, ref_q = self._ref_p[start : start + n], self._ref_q[start : start + n]
        if ref_p.ndim == 3:
            return _same_bits(p3, ref_p) & _same_bits(q3, ref_q)
        # (T, L) reference: each load's own phase equal, and nothing (all bits 0) on the others
        net = self.network
        cols = np.arange(net.n_load)
        same = np.ones(n, dtype=bool)
        for loads, ref in ((p3, ref_p), (q3, ref_q)):
            bits = np.ascontiguousarray(loads).view(np.uint64)
            own = bits[:, cols, net.load_phase]
            same &= _same_bits(own, ref)
            same &= np.count_nonzero(bits.reshape(n, -1), axis=1) == np.count_nonzero(own, axis=1)
        return same

    def store(
        self, start: int, solved: np.ndarray, on_ref: BoolArray, keys: list[_Key | None], res: StepResults
    ) -> None:
        """Keep the steps ``start + solved`` just solved (rows of ``res`` at ``solved``)."""
        for i in solved.tolist():
            if on_ref[i]:
                t = start + i
                self._base.u_bus_phase_v[t] = res.u_bus_phase_v[i]
                self._base.line_loading_pu[t] = res.line_loading_pu[i]
                self._base.trafo_loading_pu[t] = res.trafo_loading_pu[i]
                self._known[t] = True
            elif self.max_rows:
                key = keys[i]
                assert key is not None
                self._rows[key] = (
                    res.u_bus_phase_v[i].copy(),
                    float(res.line_loading_pu[i]),
                    float(res.trafo_loading_pu[i]),
                )
                if len(self._rows) > self.max_rows:
                    self._rows.popitem(last=False)


def digest(*arrays: FloatArray) -> bytes:
    """A digest of arrays' exact bytes and shapes (what a memo is keyed by)."""
    h = hashlib.sha1(usedforsecurity=False)  # a fingerprint (see _row_keys), not a security measure
    for a in arrays:
        c = np.ascontiguousarray(a)
        h.update(repr((c.shape, c.dtype.str)).encode())
        h.update(c.tobytes())
    return h.digest()


def _same_bits(a: np.ndarray, b: np.ndarray) -> BoolArray:
    """(n,) whether step i of ``a`` equals step i of ``b`` bit for bit (no tolerance, no -0 == 0)."""
    av = np.ascontiguousarray(a).view(np.uint64).reshape(a.shape[0], -1)
    bv = np.ascontiguousarray(b).view(np.uint64).reshape(b.shape[0], -1)
    return np.asarray((av == bv).all(axis=1))


def _row_keys(start: int, rows: np.ndarray, p3: FloatArray, q3: FloatArray) -> list[_Key]:
    """(step, digest of the step's exact P and Q bytes) for each of ``rows``. SHA-1 here is a
    fingerprint, not a security measure: two different load rows share one by chance with odds
    of about 2**-160."""
    n = rows.size
    if n == 0:
        return []
    block = np.concatenate([p3[rows].reshape(n, -1), q3[rows].reshape(n, -1)], axis=1)
    width = block.shape[1] * block.itemsize
    raw = memoryview(np.ascontiguousarray(block).tobytes())
    return [
        (start + int(i), hashlib.sha1(raw[k * width : (k + 1) * width], usedforsecurity=False).digest())
        for k, i in enumerate(rows.tolist())
    ]


__all__ = ["DEFAULT_MAX_ROWS", "FlowMemo", "StepResults", "digest"]
