"""The grid and study packages list their public names, and every listed name exists (STYLE §13)."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["smartcharge.grid", "smartcharge.study"])
def test_public_api_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert module.__all__ and not missing, missing
    assert sorted(module.__all__) == sorted(set(module.__all__))
