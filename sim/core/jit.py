"""Compiled modules (numba), loaded when a process first turns to them.

A compiled module gives the same numbers as the numpy code it replaces; where it cannot be
imported (numba missing or broken), the process stays in numpy and says so once."""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

_unavailable: set[str] = set()
_loaded: dict[str, ModuleType] = {}


def load(module: str, what: str) -> ModuleType | None:
    """The compiled `module`, or None (numpy) where it cannot be imported: then a
    RuntimeWarning, once per module, says that `what` run in numpy."""
    found = _loaded.get(module)
    if found is not None or module in _unavailable:
        return found
    try:
        found = _loaded[module] = importlib.import_module(module)
        return found
    except ImportError as exc:
        _unavailable.add(module)
        warnings.warn(
            f"the compiled kernels cannot be loaded ({exc}); {what} run in numpy, with the "
            "same results, slower",
            RuntimeWarning,
            stacklevel=4,
        )
        return None
