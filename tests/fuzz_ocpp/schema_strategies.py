"""Hypothesis strategies generated from the official OCPP JSON schemas shipped with the ``ocpp``
package (draft-04: objects, arrays, strings with maxLength/enum/date-time, integers, numbers,
booleans, ``$ref`` to ``definitions``), plus values at and beyond the edges the schemas allow
(huge integers, 1e308, odd date-times), so both valid and invalid payloads reach the CEM."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import ocpp
from hypothesis import strategies as st

SCHEMA_DIRS = {"2.0.1": "v201", "1.6": "v16"}

_times = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat().replace("+00:00", "Z")),
    st.sampled_from(["1970-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]),
    st.text(max_size=30),
)


def request_schema(version: str, action: str) -> dict[str, Any]:
    name = f"{action}Request.json" if version == "2.0.1" else f"{action}.json"
    path = Path(ocpp.__file__).parent / SCHEMA_DIRS[version] / "schemas" / name
    return dict(json.loads(path.read_text(encoding="utf-8-sig")))


def from_schema(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        return st.deferred(lambda: from_schema(root["definitions"][schema["$ref"].rsplit("/", 1)[-1]], root))
    if "enum" in schema:
        return st.one_of(st.sampled_from(schema["enum"]), st.text(max_size=12))
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: from_schema(v, root) for k, v in props.items() if k in required},
            optional={k: from_schema(v, root) for k, v in props.items() if k not in required},
        )
    if kind == "array":
        low = int(schema.get("minItems", 0))
        return st.lists(from_schema(schema.get("items", {}), root), min_size=low, max_size=max(low, 3))
    if kind == "string":
        if schema.get("format") == "date-time":
            return _times
        limit = int(schema.get("maxLength", 50))
        return st.text(max_size=limit + 2)  # a little over maxLength too
    if kind == "integer":
        return st.one_of(st.integers(-10, 10**6), st.sampled_from([-(2**63), 2**31, 2**70]))
    if kind == "number":
        return st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([1e308, -0.0]))
    if kind == "boolean":
        return st.booleans()
    return st.none()


def call_frames(version: str, actions: list[str]) -> st.SearchStrategy[tuple[str, str]]:
    """(action, frame text) for CALLs of ``actions`` with schema-shaped payloads."""
    per_action = [
        st.tuples(st.just(a), from_schema(request_schema(version, a), request_schema(version, a)))
        for a in actions
    ]
    return st.one_of(per_action).flatmap(
        lambda ap: st.uuids().map(lambda u, ap=ap: (ap[0], json.dumps([2, str(u), ap[0], ap[1]])))
    )


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)

#: Malformed frames: raw bytes, text, any JSON, arrays with wrong types, ids and message types.
malformed_frames: st.SearchStrategy[str | bytes] = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200),
    _json.map(json.dumps),
    st.tuples(st.integers(-5, 10), _json, _json, _json).map(lambda t: json.dumps(list(t))),
    st.tuples(st.sampled_from([3, 4]), st.text(max_size=40), _json).map(lambda t: json.dumps(list(t))),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
)
