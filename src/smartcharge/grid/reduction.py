"""Exact reduction of a radial feeder: merge series line sections that carry no customer.

In a radial feeder a bus with no customer and exactly two lines is only a joint: both sections
carry the same phase currents, so with no shunt admittance (``c1 = c0 = 0``) the two sections
are one section whose sequence impedances are the sums. Voltages at every kept bus and currents
in every section are unchanged, so the answers the limits need are unchanged:

- every customer bus, the transformer buses and every branching point are kept;
- a merged section's current flows through each original section, so an original section's
  loading is the merged current divided by its own rating (``line_map`` keeps the link);
- sections with shunt capacitance are never merged (the sum would only be approximate);
- dead-end spurs with no customer carry no current (no shunts) and are dropped; their loading is 0.

On the IEEE European LV feeder this takes 907 buses to a few hundred; see ``tests/grid``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharge.core.units import IntArray
from smartcharge.grid.network import LVNetwork


@dataclass(frozen=True)
class ReducedNetwork:
    """A reduced network and its link to the original.

    ``bus_map[k]`` is the original position of reduced bus ``k``; ``line_map[j]`` is the reduced
    line that carries original line ``j``'s current.
    """

    network: LVNetwork
    original: LVNetwork
    bus_map: IntArray  # (n_bus_reduced,)
    line_map: IntArray  # (n_line_original,)


def reduce_network(net: LVNetwork) -> ReducedNetwork:
    """Merge every chain of customer-free, capacitance-free series sections (exact; see module doc)."""
    n_bus = net.n_bus
    parent, parent_line = _tree(net)
    has_shunt = (net.c1_f > 0) | (net.c0_f > 0)
    live = _live_buses(net, parent, has_shunt)
    live_line = live[net.line_from] & live[net.line_to]
    degree = np.bincount(np.concatenate([net.line_from[live_line], net.line_to[live_line]]), minlength=n_bus)
    keep = live & (degree != 2)
    keep[[0, net.lv_bus]] = True
    keep[net.load_bus] = True
    keep[net.line_from[has_shunt]] = True
    keep[net.line_to[has_shunt]] = True
    new_pos = -np.ones(n_bus, dtype=np.int64)
    kept = np.flatnonzero(keep)
    new_pos[kept] = np.arange(kept.size)
    line_map = -np.ones(net.n_line, dtype=np.int64)
    rows: list[tuple[int, int, list[int]]] = []
    for bus in kept.tolist():
        if bus in (0, net.lv_bus):
            continue
        chain: list[int] = []
        node = bus
        while True:
            chain.append(int(parent_line[node]))
            node = int(parent[node])
            if keep[node]:
                break
        line_map[chain] = len(rows)
        rows.append((int(new_pos[node]), int(new_pos[bus]), chain))

    def total(values: np.ndarray) -> np.ndarray:
        return np.array([values[chain].sum() for _, _, chain in rows])

    reduced = LVNetwork(
        name=f"{net.name} (reduced)",
        bus_name=tuple(net.bus_name[b] for b in kept),
        u_rated_v=net.u_rated_v[kept],
        source=net.source,
        transformer=net.transformer,
        line_from=np.array([r[0] for r in rows], dtype=np.int64),
        line_to=np.array([r[1] for r in rows], dtype=np.int64),
        r1_ohm=total(net.r1_ohm),
        x1_ohm=total(net.x1_ohm),
        r0_ohm=total(net.r0_ohm),
        x0_ohm=total(net.x0_ohm),
        c1_f=total(net.c1_f),
        c0_f=total(net.c0_f),
        i_max_a=np.array([net.i_max_a[chain].min() for _, _, chain in rows]),
        load_bus=new_pos[net.load_bus],
        load_phase=net.load_phase.copy(),
        load_name=net.load_name,
    )
    return ReducedNetwork(network=reduced, original=net, bus_map=kept.astype(np.int64), line_map=line_map)


def _live_buses(net: LVNetwork, parent: IntArray, has_shunt: np.ndarray) -> np.ndarray:
    """Buses on the path from the busbar to a customer, or at either end of a shunt section."""
    live = np.zeros(net.n_bus, dtype=np.bool_)
    live[[0, net.lv_bus]] = True
    seeds = [*net.load_bus.tolist(), *net.line_from[has_shunt].tolist(), *net.line_to[has_shunt].tolist()]
    for bus in seeds:
        node = int(bus)
        while not live[node]:
            live[node] = True
            node = int(parent[node])
    return live


def _tree(net: LVNetwork) -> tuple[IntArray, IntArray]:
    """Parent bus and the line to it, for every LV bus, rooted at the LV busbar."""
    adjacency: list[list[tuple[int, int]]] = [[] for _ in range(net.n_bus)]
    for j, (a, b) in enumerate(zip(net.line_from.tolist(), net.line_to.tolist(), strict=True)):
        adjacency[a].append((b, j))
        adjacency[b].append((a, j))
    parent = -np.ones(net.n_bus, dtype=np.int64)
    parent_line = -np.ones(net.n_bus, dtype=np.int64)
    parent[net.lv_bus] = net.lv_bus
    stack = [net.lv_bus]
    while stack:
        node = stack.pop()
        for nxt, j in adjacency[node]:
            if parent[nxt] < 0:
                parent[nxt], parent_line[nxt] = node, j
                stack.append(nxt)
    return parent, parent_line


def tree_order(net: LVNetwork) -> tuple[IntArray, IntArray, IntArray]:
    """``(parent, parent_line, order)``: the tree rooted at the LV busbar, buses in visit order."""
    parent, parent_line = _tree(net)
    depth = np.zeros(net.n_bus, dtype=np.int64)
    order: list[int] = [net.lv_bus]
    children: list[list[int]] = [[] for _ in range(net.n_bus)]
    for b in range(net.n_bus):
        if b not in (0, net.lv_bus) and parent[b] >= 0:
            children[int(parent[b])].append(b)
    i = 0
    while i < len(order):
        for c in children[order[i]]:
            depth[c] = depth[order[i]] + 1
            order.append(c)
        i += 1
    return parent, parent_line, np.array(order, dtype=np.int64)


__all__ = ["ReducedNetwork", "reduce_network", "tree_order"]
