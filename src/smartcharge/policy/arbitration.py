"""Limit arbitration (ARB-1…7, report 7.16).

Two steps, both vectorised over N charge points:

1. :func:`arbitrate_layers` combines the limits that bear on each charge point, one column per
   :class:`~smartcharge.core.limit.LimitSource` layer (ARB-5): the effective limit is the minimum
   over the layers that apply; a consumer override (layer 4) sets aside layers 5 and 6; the result
   names the binding layer (ties go to the stronger layer, so the report names the rule that
   cannot be argued with).
2. :func:`allocate_tree` shares the capacity of the tree site → circuit → charge point: each node's
   limit bounds the sum of what its descendants draw (ARB-3). Where a node binds, every charge
   point below it is scaled down in proportion and that node's source becomes its binding source.
"""

from __future__ import annotations

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.limit import N_LAYERS, LimitSource
from smartcharge.core.units import BoolArray, FloatArray, IntArray

#: Binding layer reported when nothing limits a charge point.
UNCONSTRAINED = 0

_OVERRIDE_COLUMN = LimitSource.CONSUMER_OVERRIDE - 1


def _check_limits(limit_w: FloatArray) -> FloatArray:
    limits = np.asarray(limit_w, dtype=np.float64)
    if limits.ndim != 2 or limits.shape[1] != N_LAYERS:
        raise ValidationError(
            "limit_w", limits.shape, f"expected shape (N, {N_LAYERS}), one column per layer"
        )
    if np.any(~(limits >= 0)):  # one pass catches nan and negatives alike
        raise ValidationError("limit_w", "nan or negative", "limits are >= 0 W; use inf for no limit")
    return limits


def arbitrate_layers(limit_w: FloatArray, override_active: BoolArray) -> tuple[FloatArray, IntArray]:
    """Effective limit and binding layer (1-6, 0 when unconstrained) per charge point (ARB-5).

    ``limit_w`` has shape (N, 6): column k holds layer k+1's limit, ``inf`` where that layer says
    nothing. ``override_active`` (N,) marks an owner override in force.
    """
    masked = _check_limits(limit_w).copy()
    override = np.asarray(override_active, dtype=np.bool_)
    masked[override, _OVERRIDE_COLUMN + 1 :] = np.inf  # layers 5 and 6 set aside
    # Without an active override the override column carries no limit of its own.
    masked[:, _OVERRIDE_COLUMN] = np.where(override, masked[:, _OVERRIDE_COLUMN], np.inf)
    binding = np.argmin(masked, axis=1)  # first minimum = strongest layer on ties
    effective = masked.ravel()[np.arange(masked.shape[0]) * N_LAYERS + binding]
    layer = np.where(effective < np.inf, binding + 1, UNCONSTRAINED)
    return effective, layer.astype(np.int64)


def hard_envelope_w(limit_w: FloatArray, override_active: BoolArray) -> FloatArray:
    """The part of the limit that acts at once and is never delayed (layers 1-3, and 4 if active).

    A fall in this envelope (a site or response-DSR cut) bypasses the randomised delay; the
    charge point's output is the lesser of this and the delayed arbitration result.
    """
    limits = _check_limits(limit_w)
    override = np.asarray(override_active, dtype=np.bool_)
    hard = np.minimum(np.minimum(limits[:, 0], limits[:, 1]), limits[:, 2])
    envelope: FloatArray = np.where(override, np.minimum(hard, limits[:, _OVERRIDE_COLUMN]), hard)
    return envelope


def allocate_tree(
    request_w: FloatArray,
    leaf_node: IntArray,
    node_parent: IntArray,
    node_limit_w: FloatArray,
    node_source: IntArray,
    leaf_source: IntArray,
) -> tuple[FloatArray, IntArray]:
    """Share node capacities among charge points in proportion to their requests (ARB-3).

    ``request_w`` (N,) is each charge point's arbitrated request and ``leaf_source`` (N,) its
    binding layer. ``leaf_node`` (N,) names the node each charge point hangs from. Nodes are
    numbered so that a parent comes before its children: ``node_parent[j] < j``, -1 for the root.
    Returns the allocation (N,) and the binding layer (N,) after the tree has been applied.
    """
    request = np.asarray(request_w, dtype=np.float64)
    parent = np.asarray(node_parent, dtype=np.int64)
    limit = np.asarray(node_limit_w, dtype=np.float64)
    m = parent.shape[0]
    if np.any(parent >= np.arange(m)):
        raise ValidationError("node_parent", parent.tolist()[:10], "each parent must come before its child")
    if np.any(np.isnan(limit)) or np.any(limit < 0):
        raise ValidationError("node_limit_w", "nan or negative", "node limits are >= 0 W; inf for none")
    # Ancestor of every node at every depth, on the (few) nodes; node m is a virtual node with no
    # limit standing where a chain is shorter. A node's demand must include every leaf below it.
    depth = np.zeros(m, dtype=np.int64)
    for j in range(m):
        depth[j] = 0 if parent[j] < 0 else depth[parent[j]] + 1
    max_depth = int(depth.max(initial=0))
    ancestor = np.full((m + 1, max_depth + 1), m, dtype=np.int64)
    for j in range(m):
        node = j
        while node >= 0:
            ancestor[j, depth[node]] = node
            node = int(parent[node])
    leaf = np.asarray(leaf_node, dtype=np.int64)
    if np.any((leaf < 0) | (leaf >= m)):
        raise ValidationError("leaf_node", "out of range", f"each charge point hangs from a node 0..{m - 1}")
    alloc = request.copy()
    if np.any(~np.isfinite(alloc)) and np.any(np.isfinite(limit)):
        raise ValidationError("request_w", "inf", "a charge point under a node limit needs a finite request")
    source = np.asarray(leaf_source, dtype=np.int64).copy()
    limit_ext = np.append(limit, np.inf)
    source_ext = np.append(np.asarray(node_source, dtype=np.int64), 0)
    for d in range(max_depth, -1, -1):  # deepest nodes first, root last, so the root's verdict stands
        level = ancestor[:, d][leaf]
        demand = np.bincount(level, weights=alloc, minlength=m + 1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            factor = np.where(demand > limit_ext, np.minimum(limit_ext / demand, 1.0), 1.0)
        if factor.min() >= 1.0:
            continue  # no node at this depth binds
        node_factor = factor[level]
        binds = (node_factor < 1.0) & (alloc > 0)  # a charge point asking for nothing is not bound
        alloc = alloc * node_factor
        source = np.where(binds, source_ext[level], source)
    return alloc, source


__all__ = ["UNCONSTRAINED", "allocate_tree", "arbitrate_layers", "hard_envelope_w"]
