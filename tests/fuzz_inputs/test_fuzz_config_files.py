"""Fuzzing the files a person hands the product (scenarios and studies), bounded in time.

Whatever the bytes, loading a file ends in a one-line :class:`SmartchargeError` naming the file or
field, or in a valid model: never another exception, never a hang (SEC-S-*: every input
validated). Each run prints how many inputs it tried.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcharge.core.errors import SmartchargeError
from smartcharge.sim.scenario import load_scenario
from smartcharge.study.config import load_study

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [
    (ROOT / "scenarios" / "demo.yaml").read_text(),
    (ROOT / "studies" / "quick.yaml").read_text(),
]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TRIED: dict[str, int] = {}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A shipped file with one line cut, doubled, or its value replaced by a random one."""
    lines = draw(st.sampled_from(SEEDS)).splitlines()
    index = draw(st.integers(0, len(lines) - 1))
    action = draw(st.sampled_from(["cut", "double", "value", "garbage"]))
    if action == "cut":
        del lines[index]
    elif action == "double":
        lines.insert(index, lines[index])
    elif action == "value" and ":" in lines[index]:
        key = lines[index].split(":", 1)[0]
        lines[index] = f"{key}: {yaml.safe_dump(draw(values), default_flow_style=True).strip()}"
    else:
        lines[index] = draw(st.text(max_size=30))
    return "\n".join(lines) + "\n"


def _load_each(tmp_path: Path, text: str | bytes, name: str) -> None:
    path = tmp_path / "input.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for loader in (load_scenario, load_study):
        try:
            loader(path)
        except SmartchargeError as exc:
            assert "\n" not in str(exc), str(exc)  # one line
            assert len(str(exc)) < 2000, str(exc)[:200]
    TRIED[name] = TRIED.get(name, 0) + 1


@FUZZ
@given(text=mutated())
def test_mutated_shipped_files(tmp_path: Path, text: str) -> None:
    _load_each(tmp_path, text, "mutated shipped files")


@FUZZ
@given(data=values)
def test_random_yaml_documents(tmp_path: Path, data: object) -> None:
    _load_each(tmp_path, yaml.safe_dump(data), "random YAML documents")


@FUZZ
@given(raw=st.binary(max_size=400))
def test_random_bytes(tmp_path: Path, raw: bytes) -> None:
    _load_each(tmp_path, raw, "random bytes")


def test_zz_report_what_was_tried() -> None:
    print("config-file fuzzing tried:", ", ".join(f"{n} {k}" for k, n in TRIED.items()))
    assert sum(TRIED.values()) > 0


def test_a_mapping_key_with_a_newline_is_named_on_one_line(tmp_path: Path) -> None:
    """Found by the fuzzer in CI: a charger-mix key of "\\n" put a newline in the field's name."""
    path = tmp_path / "input.yaml"
    demo = (ROOT / "scenarios" / "demo.yaml").read_text(encoding="utf-8")
    mix = "charger_power_mix_kw: {3.7: 0.3, 7.4: 0.7}"
    assert mix in demo
    path.write_text(demo.replace(mix, 'charger_power_mix_kw: {"\\n": 1.0}'), encoding="utf-8")
    with pytest.raises(SmartchargeError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "\n" not in message and "charger_power_mix_kw" in message, message
