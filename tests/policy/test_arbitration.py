"""Limit arbitration (ARB-1…7): JSON case files plus properties."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from smartcharge.core.errors import ValidationError
from smartcharge.core.limit import LimitSource
from smartcharge.policy.arbitration import allocate_tree, arbitrate_layers, hard_envelope_w

CASES = Path(__file__).parent / "cases"


def _load(path: Path) -> dict[str, Any]:
    """A case file, or a variant naming a ``basefile`` plus ``changes`` (top-level keys replaced)."""
    case = json.loads(path.read_text())
    if "basefile" in case:
        base = _load(CASES / case["basefile"])
        base.update(case["changes"])
        base["description"] = case["description"]
        base["expected"] = case["expected"]
        return base
    return case


def _number(value: Any) -> float:
    return math.inf if value == "inf" else float(value)


@pytest.mark.parametrize("path", sorted(CASES.glob("layers_*.json")), ids=lambda p: p.stem)
def test_layer_case(path: Path) -> None:
    """ARB-5: each layered case gives the expected effective limit and binding layer."""
    case = _load(path)
    row = np.full((1, len(LimitSource)), np.inf)
    for name, value in case["limits_w"].items():
        row[0, LimitSource[name] - 1] = value
    effective, layer = arbitrate_layers(row, np.array([case["override_active"]]))
    assert effective[0] == _number(case["expected"]["effective_w"]), case["description"]
    assert layer[0] == case["expected"]["binding_layer"], case["description"]


@pytest.mark.parametrize("path", sorted(CASES.glob("tree_*.json")), ids=lambda p: p.stem)
def test_tree_case(path: Path) -> None:
    """ARB-3: each node's limit bounds the sum below it; binding source follows the node."""
    case = _load(path)
    nodes, cps = case["tree"]["nodes"], case["tree"]["charge_points"]
    alloc, layer = allocate_tree(
        np.array([c["request_w"] for c in cps], dtype=float),
        np.array([c["node"] for c in cps]),
        np.array([n["parent"] for n in nodes]),
        np.array([n["limit_w"] for n in nodes], dtype=float),
        np.array([LimitSource[n["source"]] for n in nodes]),
        np.array([c["source"] for c in cps]),
    )
    np.testing.assert_allclose(alloc, case["expected"]["alloc_w"], err_msg=case["description"])
    assert layer.tolist() == case["expected"]["binding_layer"], case["description"]


limit_values = st.one_of(st.just(math.inf), st.floats(min_value=0, max_value=50_000))


@given(
    arrays(np.float64, st.tuples(st.integers(1, 40), st.just(6)), elements=limit_values),
    st.data(),
)
def test_effective_never_exceeds_an_applicable_source(limits: np.ndarray, data: st.DataObject) -> None:
    """ARB-5: the effective limit never exceeds any source that applies, and equals the binding one."""
    override = data.draw(arrays(np.bool_, limits.shape[0]))
    effective, layer = arbitrate_layers(limits, override)
    for i in range(limits.shape[0]):
        applies = [0, 1, 2] + ([3] if override[i] else [4, 5])
        assert all(effective[i] <= limits[i, k] for k in applies)
        if layer[i]:
            assert effective[i] == limits[i, layer[i] - 1]
        else:
            assert math.isinf(effective[i])
    assert np.all(hard_envelope_w(limits, override) >= effective)


@given(
    arrays(np.float64, st.integers(1, 30), elements=st.floats(0, 22_000)),
    st.floats(0, 60_000),
    st.floats(0, 30_000),
)
def test_tree_never_exceeds_a_node(requests: np.ndarray, site_w: float, circuit_w: float) -> None:
    """ARB-3: allocations never exceed the request, and every node's sum stays within its limit."""
    n = requests.shape[0]
    leaf_node = np.where(np.arange(n) % 2 == 0, 1, 0)
    alloc, _ = allocate_tree(
        requests,
        leaf_node,
        np.array([-1, 0]),
        np.array([site_w, circuit_w]),
        np.array([2, 1]),
        np.ones(n, int),
    )
    assert np.all(alloc <= requests + 1e-9)
    assert alloc.sum() <= site_w * (1 + 1e-9) + 1e-9
    assert alloc[leaf_node == 1].sum() <= circuit_w * (1 + 1e-9) + 1e-9


def test_wrong_shape_or_negative_limits_refused() -> None:
    with pytest.raises(ValidationError, match=r"limit_w.*one column per layer"):
        arbitrate_layers(np.zeros((2, 5)), np.zeros(2, bool))
    with pytest.raises(ValidationError, match="limit_w"):
        arbitrate_layers(np.full((1, 6), -1.0), np.zeros(1, bool))


def test_tree_with_child_before_parent_refused() -> None:
    with pytest.raises(ValidationError, match="node_parent"):
        allocate_tree(
            np.ones(1), np.zeros(1, int), np.array([1, -1]), np.ones(2), np.ones(2, int), np.ones(1, int)
        )
