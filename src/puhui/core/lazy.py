"""Lazy package exports (PEP 562): a package names its public surface without importing it up front.

Capability packages whose modules pull in heavy libraries (scikit-learn, LightGBM, optbinning, polars)
use `lazy_exports` in their `__init__` so that `puhui --help` and unrelated commands start fast, while
`from puhui.models import Scorecard` still works as usual.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], list[str]]:
    """`__getattr__` and `__all__` for `package`, where `exports` maps a public name to its module.

    The module is relative to the package (`"avm"` → `package.avm`); a name mapped to `""` is the
    submodule of that name itself.
    """

    def getattr_(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if module == "":
            return importlib.import_module(f"{package}.{name}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return getattr_, sorted(exports)
