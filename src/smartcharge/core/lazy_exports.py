"""Lazy re-exports for package ``__init__`` files (PEP 562).

A package lists ``name -> (module, attribute)``; a name is imported on first use and then kept
in the package's namespace, so importing one light submodule does not load every library the
package uses (the command line's start-up, issue 15).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, exports: Mapping[str, tuple[str, str]]) -> Callable[[str], Any]:
    """The module-level ``__getattr__`` of ``package`` for its ``exports``."""

    def __getattr__(name: str) -> Any:
        try:
            module, attribute = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), attribute)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__


__all__ = ["lazy_getattr"]
