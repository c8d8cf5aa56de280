"""Each public package lists its names in ``__all__`` and every listed name exists (STYLE §13)."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["smartcharge.core", "smartcharge.policy"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__, name
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, missing
    assert sorted(module.__all__) == sorted(set(module.__all__))
