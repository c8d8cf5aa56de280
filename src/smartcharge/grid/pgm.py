"""Asymmetric time-series power flow with power-grid-model, in batches.

GB homes are single phase, so every step is an asymmetric (three-phase, sequence-coupled) Newton-
Raphson power flow. The model is built once from an :class:`LVNetwork`; each batch updates only
the customer loads. Only what the limits need is asked back (node phase voltages, line sending-end
phase currents, transformer LV phase currents): the full output for 1,440 steps on the 907-bus
feeder is about 170 MB.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from power_grid_model import (
    CalculationMethod,
    ComponentType,
    DatasetType,
    LoadGenType,
    PowerGridModel,
    WindingType,
    initialize_array,
)

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import FloatArray
from smartcharge.grid.network import LVNetwork

log = logging.getLogger(__name__)

_FREQUENCY_HZ = 50.0
#: Iterative current factorises the admittance matrix once per batch and reuses it for every step
#: and iteration; on the reduced IEEE feeder it is ~2.5x faster than Newton-Raphson and agrees with
#: it to ~1e-6 V (benchmarks/bench_powerflow.py). Newton-Raphson stays available.
_METHODS = {
    "iterative_current": CalculationMethod.iterative_current,
    "newton_raphson": CalculationMethod.newton_raphson,
}
_TOLERANCE_PU = 1e-8
_MAX_ITERATIONS = 100


@dataclass(frozen=True, slots=True)
class FlowBatch:
    """Results of one batch of asymmetric power flows; ``T`` steps.

    ``u_load_v`` is the phase-to-neutral voltage at each customer, on that customer's phase.
    ``u_other_v`` holds, for per-phase loads, the voltages on the other phases a customer draws
    from (a three-phase charger at a single-phase home's bus): the limits hold there too.
    """

    u_load_v: FloatArray  # (T, n_load)
    u_bus_v: FloatArray  # (T, n_bus, 3)
    i_line_a: FloatArray  # (T, n_line, 3)
    i_trafo_lv_a: FloatArray  # (T, 3)
    u_other_v: FloatArray | None = None  # (T, K) or None


class PGMFeeder:
    """A power-grid-model model of one feeder, ready for batches of customer loads."""

    def __init__(self, network: LVNetwork, threads: int = 1, method: str = "iterative_current") -> None:
        if method not in _METHODS:
            raise ValidationError("method", method, f"power-flow method must be one of {sorted(_METHODS)}")
        self.network = network
        self.threads = threads
        self.method = _METHODS[method]
        n_bus, n_line, n_load = network.n_bus, network.n_line, network.n_load
        self._line_id0 = n_bus
        self._trafo_id = n_bus + n_line
        self._source_id = self._trafo_id + 1
        self._load_id0 = self._source_id + 1
        self.load_ids = np.arange(self._load_id0, self._load_id0 + n_load, dtype=np.int32)
        self.model = PowerGridModel(self._input(), system_frequency=_FREQUENCY_HZ)

    def _input(self) -> dict[ComponentType, np.ndarray]:
        net = self.network
        node = initialize_array(DatasetType.input, ComponentType.node, net.n_bus)
        node["id"] = np.arange(net.n_bus)
        node["u_rated"] = net.u_rated_v
        line = initialize_array(DatasetType.input, ComponentType.line, net.n_line)
        line["id"] = np.arange(self._line_id0, self._line_id0 + net.n_line)
        line["from_node"] = net.line_from
        line["to_node"] = net.line_to
        line["from_status"] = 1
        line["to_status"] = 1
        line["r1"], line["x1"], line["c1"], line["tan1"] = net.r1_ohm, net.x1_ohm, net.c1_f, 0.0
        line["r0"], line["x0"], line["c0"], line["tan0"] = net.r0_ohm, net.x0_ohm, net.c0_f, 0.0
        line["i_n"] = net.i_max_a
        t = net.transformer
        trafo = initialize_array(DatasetType.input, ComponentType.transformer, 1)
        trafo["id"] = self._trafo_id
        trafo["from_node"], trafo["to_node"] = 0, net.lv_bus
        trafo["from_status"], trafo["to_status"] = 1, 1
        trafo["u1"], trafo["u2"], trafo["sn"] = t.u1_v, t.u2_v, t.sn_va
        trafo["uk"], trafo["pk"], trafo["i0"], trafo["p0"] = t.uk, t.pk_w, 0.0, 0.0
        trafo["winding_from"], trafo["winding_to"] = WindingType.delta, WindingType.wye_n
        trafo["clock"] = t.clock
        trafo["tap_side"], trafo["tap_pos"], trafo["tap_min"], trafo["tap_max"] = 0, 0, 0, 0
        trafo["tap_nom"], trafo["tap_size"] = 0, 0.0
        source = initialize_array(DatasetType.input, ComponentType.source, 1)
        source["id"], source["node"], source["status"] = self._source_id, 0, 1
        source["u_ref"], source["sk"] = net.source.u_ref_pu, net.source.sk_va
        source["rx_ratio"], source["z01_ratio"] = net.source.rx_ratio, net.source.z01_ratio
        load = initialize_array(DatasetType.input, ComponentType.asym_load, net.n_load)
        load["id"] = self.load_ids
        load["node"] = net.load_bus
        load["status"] = 1
        load["type"] = LoadGenType.const_power
        load["p_specified"] = 0.0
        load["q_specified"] = 0.0
        return {
            ComponentType.node: node,
            ComponentType.line: line,
            ComponentType.transformer: trafo,
            ComponentType.source: source,
            ComponentType.asym_load: load,
        }

    def run(self, p_load_w: FloatArray, q_load_var: FloatArray) -> FlowBatch:
        """Solve ``T`` steps; ``p_load_w`` and ``q_load_var`` are (T, n_load) on each load's phase,
        or (T, n_load, 3) per phase (L1, L2, L3) at each load's bus (issue 14 item 3)."""
        net = self.network
        p3, q3 = phase_loads(net, p_load_w, q_load_var)
        steps = p3.shape[0]
        update = initialize_array(DatasetType.update, ComponentType.asym_load, (steps, net.n_load))
        update["id"] = self.load_ids
        update["p_specified"] = p3
        update["q_specified"] = q3
        out = self.model.calculate_power_flow(
            symmetric=False,
            calculation_method=self.method,
            error_tolerance=_TOLERANCE_PU,
            max_iterations=_MAX_ITERATIONS,
            update_data={ComponentType.asym_load: update},
            threading=self.threads,
            output_component_types={
                ComponentType.node: ["u"],
                ComponentType.line: ["i_from"],
                ComponentType.transformer: ["i_to"],
            },
        )
        u_bus = np.asarray(out[ComponentType.node]["u"])
        u_load = u_bus[:, net.load_bus, net.load_phase]
        other = other_phases(net, p3)
        return FlowBatch(
            u_load_v=u_load,
            u_bus_v=u_bus,
            i_line_a=np.asarray(out[ComponentType.line]["i_from"]),
            i_trafo_lv_a=np.asarray(out[ComponentType.transformer]["i_to"])[:, 0, :],
            u_other_v=None if other is None else u_bus[:, net.load_bus[other[0]], other[1]],
        )


def phase_loads(
    net: LVNetwork, p_load_w: FloatArray, q_load_var: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(T, n_load, 3) active and reactive loads per phase from (T, n_load) on each load's own
    phase or from (T, n_load, 3) as given; refuses a wrong shape or a non-finite number."""
    p = np.asarray(p_load_w, dtype=np.float64)
    q = np.asarray(q_load_var, dtype=np.float64)
    per_phase = p.ndim == 3 and p.shape[1:] == (net.n_load, 3)
    if not (per_phase or (p.ndim == 2 and p.shape[1] == net.n_load)) or q.shape != p.shape:
        raise ValidationError(
            "p_load_w",
            p.shape,
            f"must be (T, {net.n_load}) or (T, {net.n_load}, 3) with q_load_var the same shape",
        )
    if not (np.isfinite(p).all() and np.isfinite(q).all()):
        raise ValidationError("p_load_w", "non-finite", "loads must be finite numbers")
    if per_phase:
        return p, q
    p3 = np.zeros((p.shape[0], net.n_load, 3))
    q3 = np.zeros((p.shape[0], net.n_load, 3))
    cols = np.arange(net.n_load)
    p3[:, cols, net.load_phase] = p
    q3[:, cols, net.load_phase] = q
    return p3, q3


def other_phases(net: LVNetwork, p3: FloatArray) -> tuple[np.ndarray, np.ndarray] | None:
    """(loads, phases) off each load's own phase that carry power at some step, or None."""
    drawn = np.any(p3 != 0.0, axis=0)  # (n_load, 3)
    drawn[np.arange(net.n_load), net.load_phase] = False
    loads, phases = np.nonzero(drawn)
    return (loads, phases) if loads.size else None


__all__ = ["FlowBatch", "PGMFeeder", "other_phases", "phase_loads"]
