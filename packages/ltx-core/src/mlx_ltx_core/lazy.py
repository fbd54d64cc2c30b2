"""Lazy package exports (PEP 562): a package's names are imported on first use, so a leaf import stays light.

Each package ``__init__`` keeps three views of one list: ``__all__`` (the public API), the ``TYPE_CHECKING``
imports (for type checkers and readers) and the name -> module table passed here (tests/test_lazy_exports.py
checks they agree).
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping


class _Package(types.ModuleType):
    """A package whose exports win over same-named submodules.

    Importing ``pkg.convert`` binds ``pkg.convert`` to the submodule (the import system's setattr); when the
    package exports a ``convert`` defined there, the export is bound instead, whichever import came first.
    """

    def __setattr__(self, name: str, value: object) -> None:
        submodule = isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}"
        if submodule and name in self.__dict__.get("__all__", ()) and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """PEP 562 ``__getattr__`` and ``__dir__`` for ``package``: ``exports`` maps each name to its module."""
    module = sys.modules[package]
    module.__class__ = _Package

    def module_getattr(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], package), name)
        setattr(module, name, value)  # later lookups are plain attribute reads
        return value

    def module_dir() -> list[str]:
        return sorted(module.__dict__.get("__all__", exports))

    return module_getattr, module_dir
